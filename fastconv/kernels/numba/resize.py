"""Resize kernels over the last two axes of float32 tensors viewed as (planes, H, W).

The geometry arrives as per-axis tables built at plan time: source index (and, for interpolating modes,
weights) of every output row and column. Parallel tasks are (plane, band of output rows), so one large
image still spreads over the threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from fastconv.kernels.numba.simd import lanes, vbroadcast, vfma, vload, vstore, vzero


@njit(cache=True, parallel=True, nogil=True)
def resize_nearest_hw_f32(x, iy, ix, run_starts, col_repeat, out):
    """out[p, oy, ox] = x[p, iy[oy], ix[ox]]; x (P, H, W), out (P, OH, OW) C-contiguous.

    run_starts (R + 1,): output rows [run_starts[r], run_starts[r + 1]) share one source row, which is
    gathered once and copied to the others. col_repeat > 0 says ix[ox] == ox // col_repeat (integer
    upsampling: each source pixel is written col_repeat times, no gather).
    """
    p_, oh, ow = out.shape
    w = x.shape[2]
    runs = run_starts.shape[0] - 1
    for t in prange(p_ * runs):
        p = t // runs
        r = t - p * runs
        first = run_starts[r]
        src = x[p, iy[first]]
        dst = out[p, first]
        if col_repeat == 2:  # the common 2x upsample, spelled out so that it vectorises
            for j in range(w):
                v = src[j]
                dst[2 * j] = v
                dst[2 * j + 1] = v
        elif col_repeat > 0:
            for j in range(w):
                v = src[j]
                for k in range(col_repeat):
                    dst[j * col_repeat + k] = v
        else:
            for ox in range(ow):
                dst[ox] = src[ix[ox]]
        for oy in range(first + 1, run_starts[r + 1]):
            out[p, oy, :] = dst


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def resize_taps_hw_f32(x, iy, wy, ix, wx, band, out):
    """out[p, oy, ox] = sum_a sum_b wy[oy, a] * wx[ox, b] * x[p, iy[oy, a], ix[ox, b]].

    Separable, horizontal pass first: a task (plane, band of `band` output rows) blends the KX taps of
    each source row it needs into a (rows, OW) buffer, then every output row is a contiguous blend of KY
    buffer rows (vectorised). Upsampling thus gathers once per source row, not once per output row.
    """
    p_, h, w = x.shape
    _, oh, ow = out.shape
    ky = iy.shape[1]
    kx = ix.shape[1]
    bands = (oh + band - 1) // band
    for t in prange(p_ * bands):
        p = t // bands
        oy0 = (t - p * bands) * band
        oy1 = min(oy0 + band, oh)
        lo = h
        hi = -1
        for oy in range(oy0, oy1):
            for a in range(ky):
                lo = min(lo, iy[oy, a])
                hi = max(hi, iy[oy, a])
        need = np.zeros(hi - lo + 1, np.bool_)  # downsampling skips source rows
        for oy in range(oy0, oy1):
            for a in range(ky):
                need[iy[oy, a] - lo] = True
        tmp = np.empty((hi - lo + 1, ow), np.float32)
        for r in range(hi - lo + 1):
            if not need[r]:
                continue
            src = x[p, lo + r]
            row = tmp[r]
            for ox in range(ow):
                acc = np.float32(0.0)
                for b in range(kx):
                    acc += wx[ox, b] * src[ix[ox, b]]
                row[ox] = acc
        for oy in range(oy0, oy1):
            dst = out[p, oy]
            wgt = wy[oy, 0]
            row = tmp[iy[oy, 0] - lo]
            for j in range(ow):
                dst[j] = wgt * row[j]
            for a in range(1, ky):
                wgt = wy[oy, a]
                row = tmp[iy[oy, a] - lo]
                for j in range(ow):
                    dst[j] += wgt * row[j]


# ---- NCHWc (the layout pass's blocked buffers, fastconv/plan/layout.py) ----------------------------------------
# x (P, H, W, c), out (P, OH, OW, c) with P = N * ceil(C/c): every pixel is one vector of c channels, so a
# resized pixel is a gather (nearest) or a weighted sum (linear, cubic) of whole vectors. Tasks: output rows.


@njit(cache=True, nogil=True, _nrt=False)
def _nearest_rows_nchwc(xf, of, h, wd, oh, ow, iy, ix, g0, g1, w):
    n = lanes(w)
    for g in range(g0, g1):
        p = g // oh
        src = (p * h + iy[g - p * oh]) * wd * n
        dst = g * ow * n
        for ox in range(ow):
            vstore(of, dst + ox * n, vload(xf, src + ix[ox] * n, w))


@njit(cache=True, nogil=True, _nrt=False)
def _taps_rows_nchwc(xf, of, h, wd, oh, ow, iy, wy, ix, wx, g0, g1, w):
    n = lanes(w)
    ky = iy.shape[1]
    kx = ix.shape[1]
    for g in range(g0, g1):
        p = g // oh
        oy = g - p * oh
        plane = p * h
        dst = g * ow * n
        for ox in range(ow):
            acc = vzero(w)
            for a in range(ky):
                row = (plane + iy[oy, a]) * wd
                for b in range(kx):
                    acc = vfma(vload(xf, (row + ix[ox, b]) * n, w), vbroadcast(wy[oy, a] * wx[ox, b], w), acc)
            vstore(of, dst + ox * n, acc)


@njit(cache=True, parallel=True, nogil=True)
def resize_nearest_nchwc_f32(x, iy, ix, out, chunks, w):
    """out[p, oy, ox, :] = x[p, iy[oy], ix[ox], :]."""
    p_, h, wd = x.shape[:3]
    oh, ow = out.shape[1:3]
    rows = p_ * oh
    for ch in prange(chunks):
        _nearest_rows_nchwc(x.reshape(-1), out.reshape(-1), h, wd, oh, ow, iy, ix, ch * rows // chunks,
                            (ch + 1) * rows // chunks, w)


@njit(cache=True, parallel=True, nogil=True)
def resize_taps_nchwc_f32(x, iy, wy, ix, wx, out, chunks, w):
    """out[p, oy, ox, :] = sum_a sum_b wy[oy, a] * wx[ox, b] * x[p, iy[oy, a], ix[ox, b], :]."""
    p_, h, wd = x.shape[:3]
    oh, ow = out.shape[1:3]
    rows = p_ * oh
    for ch in prange(chunks):
        _taps_rows_nchwc(x.reshape(-1), out.reshape(-1), h, wd, oh, ow, iy, wy, ix, wx, ch * rows // chunks,
                         (ch + 1) * rows // chunks, w)
