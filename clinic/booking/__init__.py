"""Booking: the one home of a consult's life, from a held time to its outcome.

``services`` books, ``lifecycle`` reschedules, cancels and records what happened (for the
patient's link and for staff alike); ``routes`` and ``manage`` are the patient's pages.
"""
