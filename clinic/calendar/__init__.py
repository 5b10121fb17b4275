"""Calendars: the invite files (``ics``), what a consult looks like as an event (``events``),
and each practitioner's subscribable feed (``feed``, served by ``routes``)."""
