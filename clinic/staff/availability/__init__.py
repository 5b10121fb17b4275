"""Working hours, time off, date overrides and clinic closures."""

from clinic.staff.availability import closures, views  # noqa: F401 - registers the routes
