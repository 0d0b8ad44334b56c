"""Pooling kernels over NCDHW tensors (1-D and 2-D pools are viewed as 3-D with unit leading axes).

One parallel task per (image, channel) plane. For each output position the taps that fall inside the input
are found per axis first (`_taps`), so the innermost loops carry no bounds tests and padded taps are never
read. Pads may be negative (onnxruntime's SAME padding with kernel < stride): windows then start later.
"""
from __future__ import annotations

from numba import njit, prange


@njit(cache=True, inline="always")
def _taps(start, k, dil, lo, hi):
    """[a0, a1): the taps a < k of a window starting at `start` with lo <= start + a * dil < hi."""
    a0 = 0
    while a0 < k and start + a0 * dil < lo:
        a0 += 1
    a1 = k
    while a1 > a0 and start + (a1 - 1) * dil >= hi:
        a1 -= 1
    return a0, a1


@njit(cache=True, parallel=True, nogil=True)
def maxpool_ncdhw(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, rank, lowest, out, idx, want_idx,
                  col_major):
    """Max over each window; the first maximum in row-major tap order wins (as onnxruntime).

    idx (when want_idx) gets the flat index of the maximum in x, row-major or column-major over the spatial
    axes (storage_order 1) plus plane * plane size. A window with no tap inside the input gives `lowest` and
    the index computed from coordinate -1 on each real spatial axis, which is what onnxruntime returns.
    """
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    zmiss = -1 if rank == 3 else 0
    ymiss = -1 if rank >= 2 else 0
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        base = t * d * h * w
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h)
                for ox in range(ow):
                    x0 = ox * sw - pw
                    e0, e1 = _taps(x0, kw, dw, 0, w)
                    best = lowest
                    bz, by, bx = zmiss, ymiss, -1
                    found = False
                    for a in range(a0, a1):
                        iz = z0 + a * dd
                        for b in range(b0, b1):
                            iy = y0 + b * dh
                            for e in range(e0, e1):
                                ix = x0 + e * dw
                                v = x[n, c, iz, iy, ix]
                                if v > best or not found:
                                    best = v
                                    bz, by, bx = iz, iy, ix
                                    found = True
                    out[n, c, oz, oy, ox] = best
                    if want_idx:
                        if col_major:
                            idx[n, c, oz, oy, ox] = base + bz + d * (by + h * bx)
                        else:
                            idx[n, c, oz, oy, ox] = base + (bz * h + by) * w + bx


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def avgpool_ncdhw_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, qd, qh, qw, include_pad, out):
    """Mean over the taps inside the input. q*: end pads. With include_pad the divisor counts every tap inside
    the padded input [-p, size + q) (a ceil_mode window reaching past it is not charged for the overhang).
    A negative end pad also drops the input's last -q positions from the mean, as onnxruntime does."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d + min(qd, 0))
            pa0, pa1 = _taps(z0, kd, dd, -pd, d + qd)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h + min(qh, 0))
                pb0, pb1 = _taps(y0, kh, dh, -ph, h + qh)
                for ox in range(ow):
                    x0 = ox * sw - pw
                    e0, e1 = _taps(x0, kw, dw, 0, w + min(qw, 0))
                    acc = 0.0
                    for a in range(a0, a1):
                        iz = z0 + a * dd
                        for b in range(b0, b1):
                            iy = y0 + b * dh
                            for e in range(e0, e1):
                                acc += x[n, c, iz, iy, x0 + e * dw]
                    if include_pad:
                        pe0, pe1 = _taps(x0, kw, dw, -pw, w + qw)
                        cnt = (pa1 - pa0) * (pb1 - pb0) * (pe1 - pe0)
                    else:
                        cnt = (a1 - a0) * (b1 - b0) * (e1 - e0)
                    out[n, c, oz, oy, ox] = acc / cnt if cnt > 0 else 0.0


@njit(cache=True, parallel=True, nogil=True, fastmath=True)
def lppool_ncdhw_f32(x, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, p, out):
    """(sum over the taps inside the input of |x|^p)^(1/p); padded taps add 0."""
    n_, c_, d, h, w = x.shape
    _, _, od, oh, ow = out.shape
    inv_p = 1.0 / p
    for t in prange(n_ * c_):
        n = t // c_
        c = t % c_
        for oz in range(od):
            z0 = oz * sd - pd
            a0, a1 = _taps(z0, kd, dd, 0, d)
            for oy in range(oh):
                y0 = oy * sh - ph
                b0, b1 = _taps(y0, kh, dh, 0, h)
                for ox in range(ow):
                    x0 = ox * sw - pw
                    e0, e1 = _taps(x0, kw, dw, 0, w)
                    acc = 0.0
                    for a in range(a0, a1):
                        iz = z0 + a * dd
                        for b in range(b0, b1):
                            iy = y0 + b * dh
                            for e in range(e0, e1):
                                v = abs(x[n, c, iz, iy, x0 + e * dw])
                                if p == 1:
                                    acc += v
                                elif p == 2:
                                    acc += v * v
                                else:
                                    acc += v ** p
                    if p == 1:
                        out[n, c, oz, oy, ox] = acc
                    elif p == 2:
                        out[n, c, oz, oy, ox] = acc ** 0.5
                    else:
                        out[n, c, oz, oy, ox] = acc ** inv_p
