"""Clinic administration: settings, practitioners, crisis lines, the outbox and the audit log."""

from clinic.staff.admin import audit_log, crisis_lines, outbox, settings  # noqa: F401 - registers the routes
