"""The machine's float32 FMA peak (GFLOP/s), the yardstick for "fraction of peak" in `fastconv bench`.

14 independent vector FMA chains per thread built with fastconv's SIMD layer at the platform's width (14
accumulators plus two operands fill 16 registers without spills), about 0.1 s per measurement; the best of a
few repetitions, since other processes only ever make it slower. bench/ceiling.py measures the same and more
(bandwidth, sgemm) for the benchmark records.
"""
from __future__ import annotations

import functools
import time

import numba
import numpy as np
from numba import njit, prange

from fastconv.kernels.numba.simd import vadd, vbroadcast, vfma, vreduce_add, width_token
from fastconv.platform import Platform

ACCUMULATORS = 14
SECONDS = 0.1


@njit(cache=True)
def _fma_chains_f32(seed, n, w):
    """ACCUMULATORS independent chains a = a * m + c of n steps; returns their sum (nothing is dead code)."""
    m = vbroadcast(seed[0], w)
    c = vbroadcast(seed[1], w)
    a0 = vbroadcast(seed[2], w)
    a1 = vadd(a0, c)
    a2 = vadd(a1, c)
    a3 = vadd(a2, c)
    a4 = vadd(a3, c)
    a5 = vadd(a4, c)
    a6 = vadd(a5, c)
    a7 = vadd(a6, c)
    a8 = vadd(a7, c)
    a9 = vadd(a8, c)
    a10 = vadd(a9, c)
    a11 = vadd(a10, c)
    a12 = vadd(a11, c)
    a13 = vadd(a12, c)
    for _ in range(n):
        a0 = vfma(a0, m, c)
        a1 = vfma(a1, m, c)
        a2 = vfma(a2, m, c)
        a3 = vfma(a3, m, c)
        a4 = vfma(a4, m, c)
        a5 = vfma(a5, m, c)
        a6 = vfma(a6, m, c)
        a7 = vfma(a7, m, c)
        a8 = vfma(a8, m, c)
        a9 = vfma(a9, m, c)
        a10 = vfma(a10, m, c)
        a11 = vfma(a11, m, c)
        a12 = vfma(a12, m, c)
        a13 = vfma(a13, m, c)
    s = vadd(vadd(vadd(a0, a1), vadd(a2, a3)), vadd(vadd(a4, a5), vadd(a6, a7)))
    s = vadd(s, vadd(vadd(vadd(a8, a9), vadd(a10, a11)), vadd(a12, a13)))
    return vreduce_add(s)


@njit(cache=True, parallel=True)
def _fma_chains_par_f32(seed, n, out, w):
    for t in prange(out.size):
        out[t] = _fma_chains_f32(seed, n, w)


@functools.cache
def peak_gflops(threads: int, width: int | None = None, reps: int = 5) -> float:
    """Best of `reps` measurements of `threads` threads each running the FMA chains at `width` lanes (default:
    the platform's SIMD width). Cached per process."""
    width = width or Platform.detect().simd_width
    w = width_token(width)
    seed = np.array([0.9999999, 1e-7, 0.5], np.float32)      # converges to ~1: no overflow, no denormals
    n = max(1000, int(SECONDS * 100e9 / (2 * ACCUMULATORS * width)))
    out = np.zeros(threads, np.float32)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        _fma_chains_par_f32(seed, 10, out, w)                  # compile / load, wake the pool
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            _fma_chains_par_f32(seed, n, out, w)
            best = min(best, time.perf_counter() - t0)
    finally:
        numba.set_num_threads(previous)
    return 2.0 * ACCUMULATORS * width * n * threads / best / 1e9
