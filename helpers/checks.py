"""Argument checks shared by the helpers (bool is an int subclass in Python; True is not a layer)."""

from __future__ import annotations


def int_in(value, lo: int, hi: int | None = None) -> bool:
    """True for a real int (not a bool) with lo <= value <= hi. Example: int_in(True, 0, 5) -> False."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= lo and (hi is None or value <= hi)


def is_number(value) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
