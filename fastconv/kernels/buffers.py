"""Buffers of kernel runners: planned outputs (`output`, `accepts_out`) and per-thread scratch (`take`).

Outputs. The executor may hand a runner `out=(array, ...)`: buffers in the session's arena, placed by the
memory plan (fastconv/plan/memory.py). A runner marked `accepts_out` writes each output into out[k] and
returns exactly those arrays; `output(out, shape)` gives the buffer to write (a fresh array when no plan
gave one: constant folding, tests, sessions with arena=False).

Scratch. Work buffers that kernels reuse across calls instead of allocating per call.

Why: a fresh multi-megabyte numpy array is mmapped by the C library and every 4 KiB page faults on first
touch; on the dev VM that cost ~1.1 ms for the 3.2 MB output of ResNet-50's stem (0.9 ms of compute), per
run. A kernel's intermediate buffers (a padded NCHWc copy of its input, its NCHWc result before the reorder
back) live only during the call, so one set per thread, shared by every kernel and session on that thread,
is enough: steps on one thread run one after another.

Rules for kernels: `take(name, n)` returns a float32 (or `dtype`) array of n elements, valid until the next
`take` of the same name on this thread; never return it (or a view of it) as an output, and use distinct
names for buffers needed at the same time. Buffers only grow: the largest request per name stays allocated.
"""
from __future__ import annotations

import math
import threading

import numpy as np

_local = threading.local()


def accepts_out(run):
    """Mark a runner as taking `out=` (see the module docstring)."""
    run.accepts_out = True
    return run


def output(out, shape, dtype=np.float32, index: int = 0) -> np.ndarray:
    """out[index] when the executor planned it, else a fresh array of shape and dtype."""
    if out is None or out[index] is None:
        return np.empty(shape, dtype)
    return out[index]


def take(name: str, n: int, dtype=np.float32) -> np.ndarray:
    """A 1-D array of n elements of dtype (contents undefined): this thread's buffer `name`, grown if needed."""
    dtype = np.dtype(dtype)
    bufs = _local.__dict__
    key = (name, dtype.str)
    buf = bufs.get(key)
    if buf is None or buf.size < n:
        buf = bufs[key] = np.empty(max(n, 1), dtype)
    return buf[:n]


def take_shaped(name: str, shape: tuple, dtype=np.float32) -> np.ndarray:
    """take(name, prod(shape)) reshaped (C order)."""
    return take(name, math.prod(shape), dtype).reshape(shape)   # math.prod: np.prod costs ~3.5 us a call


def held_bytes() -> int:
    """Bytes of scratch this thread holds (reported with a session's memory use)."""
    return sum(b.nbytes for b in _local.__dict__.values())
