"""The benchmark suite behind ``make bench``: ``python -m bench`` prints one table.

Each part lives in a module of its own with a ``run(context) -> list[Row]``. Figures that have a
target are ratios or rates measured within one run, since the machine is shared and noisy.
"""
