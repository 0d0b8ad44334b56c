"""Resize kernels over the last two axes of float32 tensors viewed as (planes, H, W).

The geometry arrives as per-axis tables built at plan time: source index (and, for interpolating modes,
weights) of every output row and column. Work is split over output rows of all planes, so one large image
still spreads over the threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, nogil=True)
def resize_nearest_hw_f32(x, iy, ix, out):
    """out[p, oy, ox] = x[p, iy[oy], ix[ox]]; x (P, H, W), out (P, OH, OW) C-contiguous."""
    p_, oh, ow = out.shape
    for r in prange(p_ * oh):
        p = r // oh
        oy = r - p * oh
        src = x[p, iy[oy]]
        dst = out[p, oy]
        for ox in range(ow):
            dst[ox] = src[ix[ox]]


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def resize_taps_hw_f32(x, iy, wy, ix, wx, out):
    """out[p, oy, ox] = sum_a sum_b wy[oy, a] * wx[ox, b] * x[p, iy[oy, a], ix[ox, b]].

    Separable: each output row first blends its KY source rows into one row of W floats (contiguous, so it
    vectorises), then every output column blends KX taps of that row.
    """
    p_, h, w = x.shape
    _, oh, ow = out.shape
    ky = iy.shape[1]
    kx = ix.shape[1]
    for r in prange(p_ * oh):
        p = r // oh
        oy = r - p * oh
        row = np.zeros(w, np.float32)
        for a in range(ky):
            wgt = wy[oy, a]
            src = x[p, iy[oy, a]]
            for j in range(w):
                row[j] += wgt * src[j]
        dst = out[p, oy]
        for ox in range(ow):
            acc = np.float32(0.0)
            for b in range(kx):
                acc += wx[ox, b] * row[ix[ox, b]]
            dst[ox] = acc
