"""Practitioners' own calendars (Google, Outlook, iCloud, any CalDAV server or ICS feed):
read for the times they are busy, and, where a CalDAV calendar is chosen for it, written
with their consults. Only a busy time's start, end and an opaque id are ever stored."""
