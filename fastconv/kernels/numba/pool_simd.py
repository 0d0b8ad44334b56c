"""Pooling on the explicit-SIMD layer: 2-D MaxPool (without Indices) and AveragePool over NCHW and over NCHWc,
GlobalAveragePool and GlobalMaxPool over both. Registered in fastconv/ops/pool.py; 1-D pools run here as 2-D
pools with one row, 3-D pools and MaxPool with Indices keep the scalar kernels of kernels/numba/pool.py.

NCHW (the layout pools see until the layout pass hands them blocked buffers). Vectors run along rows. Thread
`ch` owns a contiguous run of output rows over all (image, channel) planes, so both threads get equal work at
any batch or channel count, and stages BAND output rows at a time in its own scratch buffer:
  1. column pass: for each output row, the fold (max or sum) over the window's valid input rows of every input
     column, W columns per step straight from the input (the last step masked), stored into a padded row whose
     borders hold the fill (the lowest float for MaxPool, 0 for AveragePool) from the start;
  2. stride split: for a width stride s > 1 the padded row is dealt into s phase rows (phase r, element j =
     padded column j*s + r; stride 2 with two shuffles per 2W columns), so that tap e of W consecutive outputs
     is one unit-stride load;
  3. row pass: per W outputs, the fold over the kw taps (each one load), the AveragePool division by the
     per-row x per-column tap counts, one store (the row's last vector masked).
Staging a band before reading it back keeps the row pass's loads (at other offsets than the column pass's
stores) off stores still in flight, which would stall store-to-load forwarding.

NCHWc: the vector is a channel block, so every tap of every output pixel is one aligned load; windows are
clipped to the input with plan-time tables (no padded copy). Four neighbouring pixels with whole windows fold
together: one pixel's taps form a dependent chain (max = compare + blend) that bounds it at ~5 cycles a tap.

Semantics (all kernels, tested against onnxruntime and a float64 numpy reference):
- MaxPool: the max over the window's taps inside the input, never below the lowest float (a window made only of
  padding, or only of -inf, gives the lowest float: onnxruntime's result). A NaN anywhere in the window gives
  NaN (vmax_nan). onnxruntime's vectorised MaxPool returns NaN only when the NaN is folded last (it depends on
  the lane layout of its loops); fastconv does not reproduce that, by design: a NaN input is never hidden.
- AveragePool: the sum over the taps inside the input (the last -q positions dropped for a negative end pad q)
  divided by the tap count (count_include_pad: the taps inside the padded input). Summation order differs from
  onnxruntime's: results agree to float32 rounding (rtol 1e-5).
- Global pools: mean = sum / positions; max propagates NaN.
"""
from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, njit, prange

from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.pool import _counts, _taps
from fastconv.kernels.numba.simd import (
    lanes,
    vadd,
    vblend_n,
    vbroadcast,
    vdiv,
    veven,
    vload,
    vload_n,
    vmax_nan,
    vmul,
    vodd,
    vreduce_add,
    vreduce_max,
    vstore,
    vstore_n,
    vzero,
    width_token,
)

MAX, AVG = 0, 1
LOWEST = float(np.finfo(np.float32).min)
BAND = 4                   # output rows staged per column pass (see the module docstring)
PARALLEL_FLOATS = 200_000  # floats moved (input + output) below which a pool runs on the calling thread


# ---- NCHW ---------------------------------------------------------------------------------------------------
# prm (int64): 0 H, 1 W, 2 OH, 3 OW, 4 kw, 5 sw, 6 dh, 7 pw, 8 Wr (input columns read), 9 L (padded row length),
# 10 PL (phase row length, 0 at stride 1), 11 RS (a staged row + its phases), 12 scratch floats per thread.
# rows (int64[OH, 2]): first valid input row of each output row's window and the number of valid rows (step dh).
# taps (int64[kw]): offset of tap e of output 0 from the start of a staged row (phase rows included).


@njit(cache=True, nogil=True, inline="always")
def _fold(acc, v, op):
    if op == MAX:
        return vmax_nan(acc, v)
    return vadd(acc, v)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _work_nchw(x, out, buf, prm, rows, taps, cyf, cxf, g0, g1, op, w):
    """Output rows g0 <= g < g1 (g = plane * OH + oy) of x (planes, H, W) -> out (planes, OH, OW), flattened."""
    n = lanes(w)
    H, W, OH, OW, kw, sw, dh, pw, Wr, L, PL, RS = (prm[0], prm[1], prm[2], prm[3], prm[4], prm[5], prm[6],
                                                  prm[7], prm[8], prm[9], prm[10], prm[11])
    fill = vbroadcast(LOWEST, w) if op == MAX else vzero(w)
    c0 = max(0, -pw)
    oend = g1 * OW
    p = g0 // OH
    oy0 = g0 - p * OH
    g = g0
    while g < g1:
        nr = min(BAND, g1 - g, OH - oy0)      # a band stays inside one plane
        # 1. column pass
        for r in range(nr):
            base = r * RS
            y = rows[oy0 + r, 0]
            nb = rows[oy0 + r, 1]
            src = (p * H + y) * W
            c = c0
            while c < Wr:
                cnt = Wr - c
                if nb == 0:
                    vstore(buf, base + pw + c, fill)
                elif cnt >= n:
                    acc = vload(x, src + c, w)
                    for b in range(1, nb):
                        acc = _fold(acc, vload(x, src + b * dh * W + c, w), op)
                    vstore(buf, base + pw + c, acc)
                else:   # the row's last columns: the lanes past it keep the fill (no masked store: slow)
                    acc = vload_n(x, src + c, cnt, w)
                    for b in range(1, nb):
                        acc = _fold(acc, vload_n(x, src + b * dh * W + c, cnt, w), op)
                    vstore(buf, base + pw + c, vblend_n(acc, fill, cnt))
                c += n
        # 2. stride split, once the band's rows are all stored (a load overlapping a store still in flight
        # stalls; a masked store never forwards)
        for r in range(nr):
            base = r * RS
            if sw == 2:
                for j in range(0, PL, n):
                    lo = vload(buf, base + 2 * j, w)
                    hi = vload(buf, base + 2 * j + n, w)
                    vstore(buf, base + L + j, veven(lo, hi))
                    vstore(buf, base + L + PL + j, vodd(lo, hi))
            elif sw > 2:
                for ph in range(sw):
                    for j in range(PL):
                        buf[base + L + ph * PL + j] = buf[base + j * sw + ph]
        # 3. row pass
        for r in range(nr):
            base = r * RS
            oy = oy0 + r
            obase = (g + r) * OW
            for ox in range(0, OW, n):
                acc = fill
                for e in range(kw):
                    acc = _fold(acc, vload(buf, base + taps[e] + ox, w), op)
                if op == AVG:
                    acc = vdiv(acc, vmul(vbroadcast(cyf[oy], w), vload(cxf, ox, w)))
                if obase + ox + n <= oend:  # a row's last vector may spill into the next row, written later
                    vstore(out, obase + ox, acc)
                else:
                    vstore_n(out, obase + ox, acc, OW - ox)
        g += nr
        oy0 += nr
        if oy0 == OH:
            oy0 = 0
            p += 1


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _fill_scratch(buf, op, w):
    fill = vbroadcast(LOWEST, w) if op == MAX else vzero(w)
    for i in range(0, buf.size - lanes(w) + 1, lanes(w)):
        vstore(buf, i, fill)


# The row loops are compiled once per op as functions of their own, called from the drivers: inlined into a
# prange body they measured 1.3-1.7x slower (the parallel outlining loses the constant geometry / register use).
@njit(cache=True, nogil=True, _nrt=False)
def _max_rows(x, out, buf, prm, rows, taps, g0, g1, w):
    _fill_scratch(buf, MAX, w)
    _work_nchw(x, out, buf, prm, rows, taps, buf, buf, g0, g1, MAX, w)


@njit(cache=True, nogil=True, _nrt=False)
def _avg_rows(x, out, buf, prm, rows, taps, cyf, cxf, g0, g1, w):
    _fill_scratch(buf, AVG, w)
    _work_nchw(x, out, buf, prm, rows, taps, cyf, cxf, g0, g1, AVG, w)


@njit(cache=True, parallel=True, nogil=True)
def maxpool2d_nchw_f32(x, out, prm, rows, taps, chunks, w):
    """Max over 2-D windows: x (planes, H, W) -> out (planes, OH, OW), C-contiguous float32; geometry from
    `nchw_plan`; `chunks` equal runs of output rows in parallel, each with its own scratch."""
    g = out.shape[0] * prm[2]
    for ch in prange(chunks):
        buf = np.empty(prm[12], np.float32)
        _max_rows(x.reshape(-1), out.reshape(-1), buf, prm, rows, taps, ch * g // chunks, (ch + 1) * g // chunks, w)


@njit(cache=True, nogil=True)
def maxpool2d_nchw_serial_f32(x, out, prm, rows, taps, w):
    """maxpool2d_nchw_f32 on the calling thread."""
    buf = np.empty(prm[12], np.float32)
    _max_rows(x.reshape(-1), out.reshape(-1), buf, prm, rows, taps, 0, out.shape[0] * prm[2], w)


@njit(cache=True, parallel=True, nogil=True)
def avgpool2d_nchw_f32(x, out, prm, rows, taps, cyf, cxf, chunks, w):
    """Mean over 2-D windows: window sums divided by cyf[oy] * cxf[ox] (tap counts per axis)."""
    g = out.shape[0] * prm[2]
    for ch in prange(chunks):
        buf = np.empty(prm[12], np.float32)
        _avg_rows(x.reshape(-1), out.reshape(-1), buf, prm, rows, taps, cyf, cxf, ch * g // chunks,
                  (ch + 1) * g // chunks, w)


@njit(cache=True, nogil=True)
def avgpool2d_nchw_serial_f32(x, out, prm, rows, taps, cyf, cxf, w):
    """avgpool2d_nchw_f32 on the calling thread."""
    buf = np.empty(prm[12], np.float32)
    _avg_rows(x.reshape(-1), out.reshape(-1), buf, prm, rows, taps, cyf, cxf, 0, out.shape[0] * prm[2], w)


def _round_up(v: int, m: int) -> int:
    return -(-v // m) * m


def _window_table(out_size, k, stride, dil, pad, size):
    """int64[out_size, 2]: first valid input position of each output's window and how many valid taps."""
    t = np.zeros((out_size, 2), np.int64)
    for o in range(out_size):
        start = o * stride - pad
        a0, a1 = _taps(start, k, dil, 0, size)
        t[o] = (start + a0 * dil, a1 - a0) if a1 > a0 else (0, 0)
    return t


def _geometry(cfg, avg: bool):
    """(H, W, OH, OW, kh, kw, sh, sw, dh, dw, ph, pw, Hr, Wr) of a 2-D (or 1-D) PoolConfig. AveragePool reads
    size + min(end pad, 0) positions per axis (a negative end pad drops the last ones from the mean)."""
    (_, h, wd), (_, oh, ow) = cfg.in_spatial, cfg.out_spatial
    (_, kh, kw), (_, sh, sw), (_, dh, dw) = cfg.kernel, cfg.strides, cfg.dilations
    (_, ph, pw), (_, qh, qw) = cfg.pads_begin, cfg.pads_end
    hr = h + min(qh, 0) if avg else h
    wr = wd + min(qw, 0) if avg else wd
    return h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, hr, wr


def _divisors(cfg, width: int):
    """Per-axis tap counts as float32 (at least 1: a window without taps sums to 0 and gives 0); the column
    counts padded to whole vectors."""
    h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, _, _ = _geometry(cfg, avg=True)
    (_, qh, qw) = cfg.pads_end
    cy = np.maximum(_counts(kh, dh, sh, ph, qh, h, oh, cfg.count_include_pad), 1).astype(np.float32)
    cx = np.ones(_round_up(ow, width), np.float32)
    cx[:ow] = np.maximum(_counts(kw, dw, sw, pw, qw, wd, ow, cfg.count_include_pad), 1)
    return cy, cx


def nchw_plan(cfg, width: int, avg: bool):
    """(prm, rows, taps) of `_work_nchw` for a 2-D or 1-D PoolConfig at SIMD width `width`."""
    h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, hr, wr = _geometry(cfg, avg)
    ovec = _round_up(ow, width)
    reach = (kw - 1) * dw                      # padded columns a window spans after its first
    if sw == 1:
        pl = 0
        length = max(ovec + reach, pw + wr)
    else:
        pl = _round_up(ovec + reach // sw, width)
        length = max(sw * pl + width, pw + wr)  # stride 2 reads up to 2 * PL + W while dealing
    length = _round_up(length + width, width)
    rs = length + sw * pl
    taps = np.array([t if sw == 1 else length + (t % sw) * pl + t // sw for t in (e * dw for e in range(kw))],
                    np.int64)
    prm = np.array([h, wd, oh, ow, kw, sw, dh, pw, wr, length, pl, rs, BAND * rs + width], np.int64)
    return prm, _window_table(oh, kh, sh, dh, ph, hr), taps


def _chunks(floats: int, tasks: int) -> int:
    """Threads worth starting for `tasks` independent tasks moving `floats` floats: 1 (the serial driver)
    below PARALLEL_FLOATS, else the session's thread count (numba's, read at run time)."""
    return 1 if floats < PARALLEL_FLOATS else max(1, min(get_num_threads(), tasks))


def _moved(cfg, planes: int) -> int:
    return planes * (math.prod(cfg.in_spatial) + math.prod(cfg.out_spatial))


def make_pool2d_nchw(cfg, width: int, avg: bool):
    """Runner x (N, C, [H,] W) float32 -> (y,) for a 1-D or 2-D MaxPool (no Indices) or AveragePool."""
    if avg and cfg.kernel == cfg.in_spatial and cfg.out_spatial == (1, 1, 1) and not any(cfg.pads_begin) \
            and not any(cfg.pads_end) and cfg.dilations == (1, 1, 1):
        return make_global_pool_nchw(width, is_max=False)    # a window over the whole plane (ResNet's 7x7)
    prm, rows, taps = nchw_plan(cfg, width, avg)
    tok = width_token(width)
    cy, cx = _divisors(cfg, width) if avg else (None, None)
    oh, ow = cfg.out_spatial[1:]
    if avg:
        par, ser = bound(avgpool2d_nchw_f32), bound(avgpool2d_nchw_serial_f32)
    else:
        par, ser = bound(maxpool2d_nchw_f32), bound(maxpool2d_nchw_serial_f32)

    @accepts_out
    def run(x, *_, out=None):
        n_, c_ = x.shape[:2]
        xs = np.ascontiguousarray(x).reshape(n_ * c_, *cfg.in_spatial[1:])
        y = output(out, cfg.shape(x.shape))
        y3 = y.reshape(n_ * c_, oh, ow)
        chunks = _chunks(_moved(cfg, n_ * c_), n_ * c_ * oh)
        if avg and chunks > 1:
            par(xs, y3, prm, rows, taps, cy, cx, chunks, tok)
        elif avg:
            ser(xs, y3, prm, rows, taps, cy, cx, tok)
        elif chunks > 1:
            par(xs, y3, prm, rows, taps, chunks, tok)
        else:
            ser(xs, y3, prm, rows, taps, tok)
        return (y,)

    return run


# ---- NCHWc --------------------------------------------------------------------------------------------------
# x (planes, H, W, c), out (planes, OH, OW, c) with planes = N * C/c; rows / cols: `_window_table`s.


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _work_nchwc(x, out, h, wd, oh, ow, dh, dw, sw, rows, cols, cyf, cxf, g0, g1, op, w):
    """Output rows g0..g1 (over all planes). Four neighbouring output pixels whose windows are whole in x
    (same tap count, starts sw apart) fold together: four independent chains hide the latency of the max
    (compare + blend) / add that a single pixel's chain of taps is bound by."""
    n = lanes(w)
    fill = vbroadcast(LOWEST, w) if op == MAX else vzero(w)
    step = sw * n
    for g in range(g0, g1):
        p = g // oh
        oy = g - p * oh
        y, nb = rows[oy, 0], rows[oy, 1]
        row0 = (p * h + y) * wd * n
        ox = 0
        while ox < ow:
            xs, nx = cols[ox, 0], cols[ox, 1]
            if ox + 4 <= ow and cols[ox + 3, 1] == nx and cols[ox + 3, 0] == xs + 3 * sw:
                a0 = fill
                a1 = fill
                a2 = fill
                a3 = fill
                for b in range(nb):
                    src = row0 + (b * dh * wd + xs) * n
                    for e in range(nx):
                        t = src + e * dw * n
                        a0 = _fold(a0, vload(x, t, w), op)
                        a1 = _fold(a1, vload(x, t + step, w), op)
                        a2 = _fold(a2, vload(x, t + 2 * step, w), op)
                        a3 = _fold(a3, vload(x, t + 3 * step, w), op)
                dst = (g * ow + ox) * n
                if op == AVG:
                    a0 = vdiv(a0, vbroadcast(cyf[oy] * cxf[ox], w))
                    a1 = vdiv(a1, vbroadcast(cyf[oy] * cxf[ox + 1], w))
                    a2 = vdiv(a2, vbroadcast(cyf[oy] * cxf[ox + 2], w))
                    a3 = vdiv(a3, vbroadcast(cyf[oy] * cxf[ox + 3], w))
                vstore(out, dst, a0)
                vstore(out, dst + n, a1)
                vstore(out, dst + 2 * n, a2)
                vstore(out, dst + 3 * n, a3)
                ox += 4
            else:
                acc = fill
                for b in range(nb):
                    src = row0 + (b * dh * wd + xs) * n
                    for e in range(nx):
                        acc = _fold(acc, vload(x, src + e * dw * n, w), op)
                if op == AVG:
                    acc = vdiv(acc, vbroadcast(cyf[oy] * cxf[ox], w))
                vstore(out, (g * ow + ox) * n, acc)
                ox += 1


@njit(cache=True, nogil=True, _nrt=False)
def _max_blocks(x, out, h, wd, oh, ow, dh, dw, sw, rows, cols, g0, g1, w):
    _work_nchwc(x, out, h, wd, oh, ow, dh, dw, sw, rows, cols, rows, rows, g0, g1, MAX, w)


@njit(cache=True, nogil=True, _nrt=False)
def _avg_blocks(x, out, h, wd, oh, ow, dh, dw, sw, rows, cols, cyf, cxf, g0, g1, w):
    _work_nchwc(x, out, h, wd, oh, ow, dh, dw, sw, rows, cols, cyf, cxf, g0, g1, AVG, w)


@njit(cache=True, parallel=True, nogil=True)
def maxpool2d_nchwc_f32(x, out, dh, dw, sw, rows, cols, chunks, w):
    """Max over 2-D windows in NCHWc: x (planes, H, W, c) -> out (planes, OH, OW, c)."""
    planes, h, wd = x.shape[:3]
    oh, ow = out.shape[1:3]
    for ch in prange(chunks):
        _max_blocks(x.reshape(-1), out.reshape(-1), h, wd, oh, ow, dh, dw, sw, rows, cols,
                    ch * planes * oh // chunks, (ch + 1) * planes * oh // chunks, w)


@njit(cache=True, parallel=True, nogil=True)
def avgpool2d_nchwc_f32(x, out, dh, dw, sw, rows, cols, cyf, cxf, chunks, w):
    """Mean over 2-D windows in NCHWc: window sums divided by cyf[oy] * cxf[ox]."""
    planes, h, wd = x.shape[:3]
    oh, ow = out.shape[1:3]
    for ch in prange(chunks):
        _avg_blocks(x.reshape(-1), out.reshape(-1), h, wd, oh, ow, dh, dw, sw, rows, cols, cyf, cxf,
                    ch * planes * oh // chunks, (ch + 1) * planes * oh // chunks, w)


def make_pool2d_nchwc_core(cfg, width: int, avg: bool):
    """Runner on blocked buffers (the layout pass's, fastconv/plan/layout.py): xb (N, C/c, H, W, c) ->
    (yb (N, C/c, OH, OW, c),), written into `out` when given (lanes past C pool the padding channels: never read
    as channels)."""
    h, wd, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, hr, wr = _geometry(cfg, avg)
    rows = _window_table(oh, kh, sh, dh, ph, hr)
    cols = _window_table(ow, kw, sw, dw, pw, wr)
    tok = width_token(width)
    cy, cx = _divisors(cfg, width) if avg else (None, None)
    kernel = bound(avgpool2d_nchwc_f32 if avg else maxpool2d_nchwc_f32)

    @accepts_out
    def run(xb, *_, out=None):
        n_, cb = xb.shape[:2]
        xs = xb.reshape(n_ * cb, h, wd, width)
        y = output(out, (n_, cb, oh, ow, width))
        ys = y.reshape(n_ * cb, oh, ow, width)
        chunks = _chunks(_moved(cfg, n_ * cb * width), n_ * cb * oh)
        if avg:
            kernel(xs, ys, dh, dw, sw, rows, cols, cy, cx, chunks, tok)
        else:
            kernel(xs, ys, dh, dw, sw, rows, cols, chunks, tok)
        return (y,)

    return run


def make_pool2d_nchwc(cfg, width: int, avg: bool):
    """The NCHWc core behind reorders: x (N, C, [H,] W) -> NCHWc -> pool -> NCHW (y,)."""
    core = make_pool2d_nchwc_core(cfg, width, avg)

    def run(x, *_):
        c_ = x.shape[1]
        xb = layout.reorder_nchw_to_nchwc(np.ascontiguousarray(x).reshape(*x.shape[:2], *cfg.in_spatial[1:]),
                                          width)
        y = layout.reorder_nchwc_to_nchw(core(xb)[0], c_)
        return (y.reshape(cfg.shape(x.shape)),)

    return run


# ---- global pools -------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _global_plane(x, base, size, is_max, w):
    """Mean or max of x.flat[base : base + size]: two accumulators, then a masked tail (sum) or one last
    vector overlapping the previous ones (max: idempotent), then the horizontal reduction."""
    n = lanes(w)
    if is_max:
        if size < n:
            m = x[base]
            for i in range(1, size):
                v = x[base + i]
                if not np.isnan(m) and (v > m or np.isnan(v)):   # a NaN, once in m, stays
                    m = v
            return m
        a = vload(x, base, w)
        b = vload(x, base + size - n, w)
        i = n
        while i + 2 * n <= size:
            a = vmax_nan(a, vload(x, base + i, w))
            b = vmax_nan(b, vload(x, base + i + n, w))
            i += 2 * n
        while i + n <= size:
            a = vmax_nan(a, vload(x, base + i, w))
            i += n
        return vreduce_max(vmax_nan(a, b))
    a = vzero(w)
    b = vzero(w)
    i = 0
    while i + 2 * n <= size:
        a = vadd(a, vload(x, base + i, w))
        b = vadd(b, vload(x, base + i + n, w))
        i += 2 * n
    if i < size:
        a = vadd(a, vload_n(x, base + i, size - i, w))
        if i + n < size:
            b = vadd(b, vload_n(x, base + i + n, size - i - n, w))
    return vreduce_add(vadd(a, b)) / size


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _global_planes(xf, out, size, p0, p1, is_max, w):
    for p in range(p0, p1):
        out[p] = _global_plane(xf, p * size, size, is_max, w)


@njit(cache=True, parallel=True, nogil=True)
def global_pool_nchw_f32(x, out, is_max, chunks, w):
    """out[p] = mean or max of the plane x[p] for x (planes, size)."""
    planes, size = x.shape
    for ch in prange(chunks):
        _global_planes(x.reshape(-1), out, size, ch * planes // chunks, (ch + 1) * planes // chunks, is_max, w)


@njit(cache=True, nogil=True)
def global_pool_nchw_serial_f32(x, out, is_max, w):
    """global_pool_nchw_f32 on the calling thread."""
    _global_planes(x.reshape(-1), out, x.shape[1], 0, x.shape[0], is_max, w)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _global_blocks(xf, of, size, p0, p1, is_max, w):
    n = lanes(w)
    for p in range(p0, p1):
        base = p * size * n
        acc = vload(xf, base, w)
        for i in range(1, size):
            v = vload(xf, base + i * n, w)
            acc = vmax_nan(acc, v) if is_max else vadd(acc, v)
        if not is_max:
            acc = vdiv(acc, vbroadcast(size, w))
        vstore(of, p * n, acc)


@njit(cache=True, parallel=True, nogil=True)
def global_pool_nchwc_f32(x, out, is_max, chunks, w):
    """out[p] = mean or max over the positions of x[p], per lane, for x (planes, size, c) -> out (planes, c)."""
    planes, size, _ = x.shape
    for ch in prange(chunks):
        _global_blocks(x.reshape(-1), out.reshape(-1), size, ch * planes // chunks, (ch + 1) * planes // chunks,
                       is_max, w)


def make_global_pool_nchw(width: int, is_max: bool):
    """Runner x (N, C, spatial...) float32 -> (N, C, 1, ...)."""
    tok = width_token(width)
    par, ser = bound(global_pool_nchw_f32), bound(global_pool_nchw_serial_f32)

    @accepts_out
    def run(x, *_, out=None):
        n_, c_ = x.shape[:2]
        xs = np.ascontiguousarray(x).reshape(n_ * c_, -1)
        y = output(out, (n_, c_, *([1] * (x.ndim - 2))))
        chunks = _chunks(xs.size, n_ * c_)
        if chunks > 1:
            par(xs, y.reshape(-1), is_max, chunks, tok)
        else:
            ser(xs, y.reshape(-1), is_max, tok)
        return (y,)

    return run


def make_global_pool_nchwc_core(width: int, is_max: bool):
    """Runner on blocked buffers (the layout pass's): xb (N, Cb, spatial..., c) -> (N, Cb, 1, ..., c)."""
    tok = width_token(width)
    kernel = bound(global_pool_nchwc_f32)

    @accepts_out
    def run(xb, *_, out=None):
        n_, cb = xb.shape[:2]
        y = output(out, (n_, cb, *([1] * (xb.ndim - 3)), width))
        chunks = _chunks(xb.size, n_ * cb)
        kernel(xb.reshape(n_ * cb, -1, width), y.reshape(n_ * cb, width), is_max, chunks, tok)
        return (y,)

    return run


def make_global_pool_nchwc(width: int, is_max: bool):
    """The NCHWc global-pool core behind reorders: x (N, C, spatial...) -> (N, C, 1, ...)."""
    core = make_global_pool_nchwc_core(width, is_max)

    def run(x, *_):
        n_, c_ = x.shape[:2]
        xb = layout.reorder_nchw_to_nchwc(np.ascontiguousarray(x).reshape(n_, c_, 1, -1), width)
        cb = xb.shape[1]
        y = core(xb)[0].reshape(n_, cb * width)[:, :c_]
        return (np.ascontiguousarray(y).reshape(n_, c_, *([1] * (x.ndim - 2))),)

    return run
