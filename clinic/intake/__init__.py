"""Symptom intake questionnaire."""
