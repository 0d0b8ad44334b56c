"""General convolution kernels (any rank up to 3, any stride/dilation/padding/group), float32.

Layouts: activations NCDHW (1-D and 2-D convs are viewed as 3-D with unit axes), weights OIDHW.
`im2col_rows_f32` unrolls a band of output rows into a column matrix for a BLAS matmul; the band is chosen
by the caller so the buffer stays within the layer's output size times its kernel volume.
`conv_depthwise_f32` runs group == C_in convolutions directly (im2col + GEMM would have K = kernel volume,
too short for BLAS to pay off).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, nogil=True)
def im2col_rows_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, cols):
    """x: (Cg, D, H, W); cols[(c*kd+a)*kh+b)*kw+e, (r - r0)*ow + ox] for output rows r in [r0, r1),
    where row r = oz*oh + oy."""
    cg, d, h, w = x.shape
    kvol = kd * kh * kw
    for k in prange(cg * kvol):
        c = k // kvol
        rem = k % kvol
        a = rem // (kh * kw)
        b = (rem // kw) % kh
        e = rem % kw
        for r in range(r0, r1):
            oz = r // oh
            oy = r % oh
            iz = oz * sd - pd + a * dd
            iy = oy * sh - ph + b * dh
            base = (r - r0) * ow
            if iz < 0 or iz >= d or iy < 0 or iy >= h:
                for ox in range(ow):
                    cols[k, base + ox] = 0.0
                continue
            for ox in range(ow):
                ix = ox * sw - pw + e * dw
                if 0 <= ix < w:
                    cols[k, base + ox] = x[c, iz, iy, ix]
                else:
                    cols[k, base + ox] = 0.0


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def conv_depthwise_f32(x, wgt, bias, sd, sh, sw, dd, dh, dw, pd, ph, pw, out):
    """x: (N, C, D, H, W); wgt: (C*mult, 1, kd, kh, kw); out: (N, C*mult, od, oh, ow); bias: (C*mult,)."""
    n_, c_, d, h, w = x.shape
    m_, _, kd, kh, kw = wgt.shape
    mult = m_ // c_
    _, _, od, oh, ow = out.shape
    for t in prange(n_ * m_):
        n = t // m_
        m = t % m_
        c = m // mult
        for oz in range(od):
            for oy in range(oh):
                for ox in range(ow):
                    acc = bias[m]
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
                                    acc += x[n, c, iz, iy, ix] * wgt[m, 0, a, b, e]
                    out[n, m, oz, oy, ox] = acc


@njit(cache=True, parallel=True, nogil=True)
def col2im_add_f32(cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, in_d, in_h, in_w, out):
    """ConvTranspose scatter: cols[(m*kd+a)*kh+b)*kw+e, (iz*in_h+iy)*in_w+ix] is added to
    out[m, iz*sd - pd + a*dd, iy*sh - ph + b*dh, ix*sw - pw + e*dw]. Parallel over output channels m, so no
    two threads write the same element."""
    mg, od, oh, ow = out.shape
    kvol = kd * kh * kw
    for m in prange(mg):
        for a in range(kd):
            for b in range(kh):
                for e in range(kw):
                    k = m * kvol + (a * kh + b) * kw + e
                    for iz in range(in_d):
                        oz = iz * sd - pd + a * dd
                        if oz < 0 or oz >= od:
                            continue
                        for iy in range(in_h):
                            oy = iy * sh - ph + b * dh
                            if oy < 0 or oy >= oh:
                                continue
                            row = (iz * in_h + iy) * in_w
                            for ix in range(in_w):
                                ox = ix * sw - pw + e * dw
                                if 0 <= ox < ow:
                                    out[m, oz, oy, ox] += cols[k, row + ix]
