"""Pooling kernels over NCDHW float32 (1-D and 2-D pools are viewed as 3-D with unit axes).

One parallel task per (image, channel) plane; windows are clipped to the input, padded taps never read.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, nogil=True)
def maxpool_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, out, idx, want_idx, col_major):
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        base = t * d * h * w
        for oz in range(od):
            for oy in range(oh):
                for ox in range(ow):
                    best = -np.inf
                    bz, by, bx = -1, -1, -1
                    for a in range(kd):
                        iz = oz * sd - pd + a * dd
                        if iz < 0 or iz >= d:
                            continue
                        for b in range(kh):
                            iy = oy * sh - ph + b * dh
                            if iy < 0 or iy >= h:
                                continue
                            for e in range(kw):
                                ix = ox * sw - pw + e * dw
                                if ix < 0 or ix >= w:
                                    continue
                                v = x[n, c, iz, iy, ix]
                                if v > best or bz < 0:
                                    best = v
                                    bz, by, bx = iz, iy, ix
                    out[n, c, oz, oy, ox] = best
                    if want_idx:
                        if col_major:
                            idx[n, c, oz, oy, ox] = base + bz + d * (by + h * bx)
                        else:
                            idx[n, c, oz, oy, ox] = base + (bz * h + by) * w + bx


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def avgpool_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, qd, qh, qw, include_pad, out):
    """q*: end pads. With include_pad, the divisor counts taps inside the padded input [-p, size + q)."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        for oz in range(od):
            for oy in range(oh):
                for ox in range(ow):
                    acc = 0.0
                    cnt = 0
                    for a in range(kd):
                        iz = oz * sd - pd + a * dd
                        if iz < -pd or iz >= d + qd:
                            continue
                        zin = 0 <= iz < d
                        for b in range(kh):
                            iy = oy * sh - ph + b * dh
                            if iy < -ph or iy >= h + qh:
                                continue
                            yin = 0 <= iy < h
                            for e in range(kw):
                                ix = ox * sw - pw + e * dw
                                if ix < -pw or ix >= w + qw:
                                    continue
                                if zin and yin and 0 <= ix < w:
                                    acc += x[n, c, iz, iy, ix]
                                    cnt += 1
                                elif include_pad:
                                    cnt += 1
                    out[n, c, oz, oy, ox] = acc / cnt if cnt > 0 else 0.0


@njit(cache=True, parallel=True, nogil=True)
def lppool_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, p, out):
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        for oz in range(od):
            for oy in range(oh):
                for ox in range(ow):
                    acc = 0.0
                    for a in range(kd):
                        iz = oz * sd - pd + a * dd
                        if iz < 0 or iz >= d:
                            continue
                        for b in range(kh):
                            iy = oy * sh - ph + b * dh
                            if iy < 0 or iy >= h:
                                continue
                            for e in range(kw):
                                ix = ox * sw - pw + e * dw
                                if 0 <= ix < w:
                                    acc += abs(x[n, c, iz, iy, ix]) ** p
                    out[n, c, oz, oy, ox] = acc ** (1.0 / p)
