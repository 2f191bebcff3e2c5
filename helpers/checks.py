"""Argument checks shared by the helpers (bool is an int subclass in Python; True is not a layer)."""

from __future__ import annotations

import numbers


def int_in(value, lo: int, hi: int | None = None) -> bool:
    """True for a real int (not a bool; numpy ints count) with lo <= value <= hi.

    Example: int_in(True, 0, 5) -> False; int_in(np.int64(3), 0, 5) -> True.
    """
    return (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= lo
            and (hi is None or value <= hi))


def is_number(value) -> bool:
    """True for an int or float that is not a bool (numpy numbers count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
