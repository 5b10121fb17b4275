"""The day and week views, and practitioners' calendar feed addresses."""

from clinic.staff.schedule import calendars, views  # noqa: F401 - registers the routes
