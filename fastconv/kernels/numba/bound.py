"""Calling a compiled Numba kernel without the dispatcher's per-call type resolution.

A Numba dispatcher types every argument on every call (`typeof`, then a signature lookup) before it enters
the machine code: 4-6 us for a kernel of ~15 arguments (a SIMD width token, a custom type, costs ~2 us
alone), more than the compute of a small layer; measured 5.7 us -> 1.6 us for `conv_nchwc_direct_f32` on a
7-pixel row through the compiled specialisation's own entry point. Runners are built per plan, for fixed
dtypes, ranks and layouts, so each call site resolves its specialisation once, on its first call (which goes
through the dispatcher, compiling if needed), and then calls that entry point directly.

Contract: every call of one `bound(kernel)` caller passes arguments of the same Numba types as its first call
(arrays of one dtype, rank and layout; the same scalar kinds; the same width token). Runners guarantee it by
making their arrays themselves (np.ascontiguousarray, reshape to a fixed rank, arena or scratch buffers) and
fixing every scalar at plan time.
"""
from __future__ import annotations


def bound(dispatcher):
    """A caller of `dispatcher` that skips type dispatch after its first call (see the module docstring)."""
    entry = None

    def call(*args):
        nonlocal entry
        if entry is not None:
            return entry(*args)
        result = dispatcher(*args)
        cres = dispatcher.overloads.get(tuple(dispatcher.typeof_pyval(a) for a in args))
        entry = cres.entry_point if cres is not None else dispatcher
        return result

    call.__wrapped__ = dispatcher
    return call
