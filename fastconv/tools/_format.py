"""Text formatting shared by the tools' reports: aligned tables and compact numbers."""
from __future__ import annotations


def table(rows, right=frozenset()) -> list[str]:
    """Rows of strings as aligned lines (column indexes in `right` right-aligned)."""
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


def shorten(s: str, n: int) -> str:
    """`s`, or its last n - 1 characters after an ellipsis (names differ at their end)."""
    return s if len(s) <= n else "…" + s[-(n - 1):]


def si(x: float) -> str:
    """3 significant digits with a k / M / G suffix, e.g. '4.09 G'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g} "


def human_bytes(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def dims(shape) -> str:
    if shape is None:
        return "?"
    return "x".join(map(str, shape)) or "scalar"
