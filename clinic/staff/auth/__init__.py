"""Signing in and out, and changing one's password."""

from clinic.staff.auth import views  # noqa: F401 - registers the routes
