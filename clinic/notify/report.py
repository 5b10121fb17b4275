"""What one delivery round did, counted by outcome."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Report:
    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for the last time
    dropped: int = 0  # reminders no longer wanted
    logged: int = 0  # no mail server: written to the log

    def add(self, other: Report) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.dropped} dropped, {self.logged} logged (no mail server)"
        )
