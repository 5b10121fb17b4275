"""What every part of the benchmark gets: a scratch folder, the run's size, and databases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.data import migrated
from tests.support.apps import ADMIN_URL, PostgresDatabases


@dataclass
class Context:
    workdir: Path
    quick: bool = False  # small sizes and short runs: checks the bench works, measures little
    _postgres: PostgresDatabases | None = field(default=None, repr=False)

    def database(self, kind: str, name: str) -> str:
        """A new, migrated, empty database: ``kind`` is "sqlite" or "postgresql"."""
        if kind == "sqlite":
            url = f"sqlite:///{self.workdir / name}.db"
        elif kind == "postgresql":
            if self._postgres is None:
                self._postgres = PostgresDatabases(ADMIN_URL)
            url = self._postgres.create(f"bench_{name}")
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        migrated(url)
        return url

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.drop_all()
