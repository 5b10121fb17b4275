"""The consults: the list, one consult's page, what staff do to it, booking by phone."""

from clinic.staff.consults import actions, detail, index, phone_booking  # noqa: F401 - registers the routes
