"""Transposed convolution epilogue, float32, NCDHW (1-D and 2-D viewed as 3-D with unit leading axes).

ConvTranspose runs without zero insertion: a BLAS matmul gives, for every input pixel, its contribution to
each (output channel, kernel tap) (`cols`); `col2im_add_f32` then scatter-adds those columns into the
output. Tasks are output channels, so no two threads write the same element.
"""
from __future__ import annotations

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
