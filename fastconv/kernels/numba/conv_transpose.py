"""Transposed convolution epilogue, float32, NCDHW (1-D and 2-D viewed as 3-D with unit leading axes).

ConvTranspose runs without zero insertion: a BLAS matmul gives, for every input pixel, its contribution to
each (output channel, kernel tap) (`cols`); `col2im_add_f32` then scatter-adds those columns into the
output. Tasks are output channels, so no two threads write the same element.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from fastconv.kernels.numba.conv_general import U, _valid_range


@njit(cache=True, parallel=True, nogil=True)
def col2im_add_f32(cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, in_h, in_w, r0, r1, bias, init, out):
    """cols[(m * kd + a) * kh + b) * kw + e, (r - r0) * in_w + ix] holds input row r in [r0, r1)
    (r = iz * in_h + iy) times the weights of output channel m and tap (a, b, e); it is added to
    out[m, iz*sd - pd + a*dd, iy*sh - ph + b*dh, ix*sw - pw + e*dw] when that lies inside out
    (out: (Mg, od, oh, ow)). With init, out[m] is first set to bias[m]."""
    mg, od, oh, ow = out.shape
    kvol = kd * kh * kw
    for m in prange(mg):
        if init:
            bv = bias[m]
            for oz in range(od):
                for oy in range(oh):
                    for ox in range(ow):
                        out[m, oz, oy, ox] = bv
        for a in range(kd):
            for b in range(kh):
                for e in range(kw):
                    k = m * kvol + (a * kh + b) * kw + e
                    off = e * dw - pw
                    lo, hi = _valid_range(off, sw, ow, in_w)
                    crow = cols[k]
                    for r in range(r0, r1):
                        oz = (r // in_h) * sd - pd + a * dd
                        oy = (r % in_h) * sh - ph + b * dh
                        if oz < 0 or oz >= od or oy < 0 or oy >= oh:
                            continue
                        base = (r - r0) * in_w
                        orow = out[m, oz, oy]
                        if sw == 1:
                            for ix in range(lo, hi):
                                orow[U(ix + off)] += crow[U(base + ix)]
                        else:
                            for ix in range(lo, hi):
                                orow[U(ix * sw + off)] += crow[U(base + ix)]


# ---- sub-pixel ConvTranspose -------------------------------------------------------------------------------
# Output phase r = o mod s of a stride-s transposed convolution is an ordinary convolution of the input with
# the taps t = (r + p) mod s + s*j of the kernel: out[s*q + r] = sum_j x[q + (r + p) // s - j] * w[t]. All
# s*s phases (2-D) become ONE dense convolution with s*s*M output channels and a small kernel covering every
# phase's input offsets (1x1 for the common k == s, pads 0 of DBNet / U-Net heads; 2x2 for DCGAN's k=4 s=2
# p=1), run by the NCHWc direct kernel at full FMA rate, then a pixel shuffle interleaves the phases. No zero
# insertion, no scatter-add: each output element is written once.


def subpixel_axis(k: int, s: int, p: int):
    """Per axis: (min_off, kernel', taps) with taps[r] = [(u, t), ...]: phase r reads input q + min_off + u
    with tap t. None when the phases need a negative pad (p >= k: no real model)."""
    taps, offs = [], []
    for r in range(s):
        t0, off = (r + p) % s, (r + p) // s
        lst = [(off - j, t0 + s * j) for j in range((k - t0 + s - 1) // s)] if t0 < k else []
        taps.append(lst)
        offs += [o for o, _ in lst]
    if not offs:
        return None
    lo, hi = min(offs), max(offs)
    if lo > 0:
        return None
    return lo, hi - lo + 1, [[(o - lo, t) for o, t in lst] for lst in taps]


def subpixel_weights(w, sy, sx, ay, ax, mp):
    """W (C, M, kh, kw) -> combined conv weights (sy*sx*mp, C, kh', kw'): channel (ry*sx + rx)*mp + m holds
    the taps of phase (ry, rx) for output channel m (zeros for padding channels m >= M)."""
    c, m = w.shape[:2]
    (_, kh2, ty), (_, kw2, tx) = ay, ax
    out = np.zeros((sy * sx * mp, c, kh2, kw2), np.float32)
    for ry in range(sy):
        for rx in range(sx):
            base = (ry * sx + rx) * mp
            for uy, tyy in ty[ry]:
                for ux, txx in tx[rx]:
                    out[base:base + m, :, uy, ux] = w[:, :, tyy, txx].T
    return out


@njit(cache=True, parallel=True, nogil=True)
def pixel_shuffle_nchwc_f32(t, sy, sx, out):
    """t (N, sy*sx*Mb, Qh, Qw, c) -> out (N, Mb, OH, OW, c): out[n, b, sy*qy + ry, sx*qx + rx] =
    t[n, (ry*sx + rx)*Mb + b, qy, qx] (whole vectors of c channels); OH <= sy*Qh, OW <= sx*Qw crop."""
    n_, mb, oh, ow, c = out.shape
    for task in prange(n_ * mb * oh):
        n = task // (mb * oh)
        b = (task // oh) % mb
        oy = task % oh
        qy, ry = oy // sy, oy % sy
        orow = out[n, b, oy]
        for rx in range(sx):
            src = t[n, (ry * sx + rx) * mb + b, qy]
            for ox in range(rx, ow, sx):
                qx = ox // sx
                for j in range(c):
                    orow[ox, j] = src[qx, j]


@njit(cache=True, parallel=True, nogil=True)
def pixel_shuffle_to_nchw_f32(t, sy, sx, mp, out):
    """t (N, Cb', Qh, Qw, c) blocked, channel (ry*sx + rx)*mp + m -> out (N, M, OH, OW) NCHW (cropped)."""
    n_, m_, oh, ow = out.shape
    c = t.shape[4]
    for task in prange(n_ * m_ * oh):
        n = task // (m_ * oh)
        m = (task // oh) % m_
        oy = task % oh
        qy, ry = oy // sy, oy % sy
        orow = out[n, m, oy]
        for rx in range(sx):
            ch = (ry * sx + rx) * mp + m
            src = t[n, ch // c, qy]
            lane = ch % c
            for ox in range(rx, ow, sx):
                orow[ox] = src[ox // sx, lane]
