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


def int_arg(name: str, value, lo: int, hi: int | None = None, *, example: int | None = None) -> int:
    """`value` as an int, or an error naming the fix: TypeError if it is not an int (bool is not), ValueError
    if it is out of lo..hi. Example: int_arg("decimals", -1, 0, 10, example=2) -> ValueError
    "decimals must be an int from 0 to 10, e.g. decimals=2; got -1"."""
    eg = f", e.g. {name.split()[0]}={example}" if example is not None else ""
    span = f"from {lo:,} to {hi:,}" if hi is not None else f"of {lo:,} or more"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        hint = ": pass int(x)" if hasattr(value, "item") else ""
        raise TypeError(f"{name} must be an int {span}{eg}; got {type(value).__name__} {value!r}{hint}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name} must be an int {span}{eg}; got {value!r}")
    return int(value)


def short_repr(value, limit: int = 80) -> str:
    """repr of a name or path, cut in the middle if long: a 100,000-character mistake stays one line.

    Example: short_repr("a" * 1000) -> "'aaa…aaa' (1,002 characters)".
    """
    text = repr(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else f"{text[:limit // 2]}…{text[-limit // 2:]} ({len(text):,} characters)"
