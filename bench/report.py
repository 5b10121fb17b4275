"""Rows of the benchmark table, and the table itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One figure: ``met`` is None where the figure has no target."""

    part: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "MISSED")


def table(rows: list[Row]) -> str:
    """A Markdown table, readable in a terminal and pasteable into docs/performance.md."""
    header = ("Part", "Measure", "Value", "Target", "")
    lines = [(r.part, r.measure, r.value, r.target, verdict(r.met)) for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]

    def line(cells) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in lines)])


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "n/a"


def millis(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
