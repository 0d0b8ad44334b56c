"""Depthwise convolution (group == C_in, any channel multiplier), 1-D and 2-D, any kernel, stride, dilation and
padding, float32 NCHW in and out, bias and epilogue (residual, activation) fused: Conv kernel
"conv_depthwise_nchw_f32" (fastconv/ops/conv.py). Also the NCHWc core `conv_depthwise_nchwc_f32` for blocked
buffers (multiplier 1), the entry point for the graph-level layout pass.

Why NCHW. Depthwise work is small (9 MACs per output for 3x3): the kernel is bound by moving data, and a
reorder NCHW -> NCHWc -> NCHW around an NCHWc kernel moves every tensor two more times: the NCHWc core behind
`layout` reorders (make_runner_nchwc) measured 2.5-3.4x onnxruntime's time on MobileNetV2's layers at 1 thread
(the core alone: 17-139 us, better than this kernel at stride 2, worse at stride 1: it has no vertical reuse
and no 3x3 specialisation yet). So the work is per channel plane, vectors along output rows.

Tasks: (image, input channel, band of output rows). A task
  1. fills column-phase planes in an L1 scratch (`_fill`): rows of the band's padded input, pq floats apart (a
     multiple of W: aligned rows), split by column phase for strides > 1 (stride 2: even and odd columns from
     one pair of loads and two vpermt2ps), so that every tap of every output vector is a unit-stride load. Only
     the image's columns are written (exact masked stores); the zero borders are written once, by the
     allocation. The planes are double-buffered: task t + 1 is filled while task t is computed (loads that
     overlap stores still in flight stall);
  2. computes, for each output channel of the input channel, columns of one vector (W outputs) x steps of 8
     output rows: 8 accumulators from the bias. Generated step kernels for 3x3 stride 1 and stride 2 keep the
     9 weights in registers and load each input row once (two aligned loads, the three taps as lane shifts:
     valignd) for the up to 3 output rows it feeds: 20 loads + 20 shifts per 72 FMAs (stride 1). Other
     kernels take a generic step (tap offset table, weight broadcast per tap). The last column is masked, the
     last step of a band moves back to end at the edge (rows computed twice, no remainder code); planes of
     4-7 rows take one 8-row step storing their rows only (4 chains of 9 dependent FMAs were latency-bound);
  3. adds the residual, applies the activation and stores each output vector once.
Planes of at most 8 rows (7x7; 14 -> 7 at stride 2) put two channels side by side in each vector (W = 16, even
C, `_pairs_fit`): lanes 0-6 and 8-14 useful instead of 0-6 only. Every hot helper is inlined into its task
loop and compiled with `_nrt=False` (see below); the drivers are per configuration, step height and width.

Measured on the shared 2-vCPU AMD EPYC (Zen 5) dev VM, bench/kernels.py --groups depthwise, W = 16,
fastconv time / onnxruntime time (medians; < 1: fastconv faster), 2026-11-24, one run (others: geometric
means 0.85-0.88 at 1 thread, 0.77-0.83 at 2 threads; single layers move by up to 15% between runs):

    layer (MobileNetV2)     before (conv_depthwise_direct_f32)   1 thread, ms             2 threads
    32x112x112 s1           2.12                                 0.074/0.102 = 0.73       0.76
    96x112x112 s2           2.29                                 0.157/0.160 = 0.98       0.67
    144x56x56 s1            1.83                                 0.087/0.124 = 0.70       0.63
    144x56x56 s2            3.71                                 0.064/0.073 = 0.88       0.68
    192x28x28 s1            2.51                                 0.040/0.052 = 0.77       0.78
    384x14x14 s1            3.44                                 0.025/0.032 = 0.77       0.76
    576x14x14 s1            3.46                                 0.033/0.046 = 0.71       0.70
    576x14x14 s2 (pairs)    7.75                                 0.039/0.021 = 1.83 (*)   1.70 (*)
    960x7x7 s1 (pairs)      6.84                                 0.020/0.021 = 0.97       0.91
    geometric mean          3.34 / 2.71                          0.88                     0.80
(*) 0.025-0.039 ms across runs: the kernel itself takes 0.017 ms; ~5 us are session overhead.
At 2 threads these layers run on the calling thread (`parallel_pays`): onnxruntime gained 0.90-0.98x from its
second thread here.

Lessons measured on the way (each cost 1.3-8x somewhere):
- Numba keeps an NRT incref/decref pair (atomics on a refcount shared between threads, vzeroupper around the
  calls) in a callee that uses an array argument under a branch: 8x slower tiles. Hot helpers are compiled
  with _nrt=False (they allocate nothing; their callers own the arrays).
- A Numba call passes every array as 7 words on the stack: as much as a 7x7 channel's convolution. Steps and
  the fill are inlined (inline="always"); one task loop per step height keeps LLVM from spilling the weights.
- LLVM turns a loop of zero stores into a memset call, which clobbers every vector register: zeroing uses
  masked stores with a count LLVM cannot fold.
- Unaligned 512-bit loads that cross cache lines: ~1 per cycle against ~2 aligned; hence aligned rows and
  lane shifts.
- Integer divisions per task (floor division in Python semantics) cost ~100 cycles per 7x7 channel: the task
  loop keeps counters, the fill reads plan-time tables.
- A width token (simd.W16) argument costs 2.3 us per call to unbox in the dispatcher (0.2 us for three arrays):
  the drivers called from Python have the width as a constant.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core.errors import TypingError
from numba.extending import intrinsic

from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.codegen import regenerate
from fastconv.kernels.numba.conv_nchwc import _bload
from fastconv.kernels.numba.epilogue import (
    CHEAP,
    CLIP,
    NO_EPILOGUE,
    NO_RESIDUAL,
    RELU,
    activate,
    activate_block,
    activate_cheap,
    activate_rows,
    emit_epilogue,
)
from fastconv.kernels.numba.simd import (
    W4,
    W8,
    W16,
    SimdVec,
    lanes,
    vadd,
    vbroadcast,
    veven,
    vfma,
    vload,
    vload_n,
    vmax,
    vmin,
    vodd,
    vstore,
    vstore_n,
    vzero,
    width_token,
)

CTILES = (8, 4, 2, 1)  # NCHWc tiles: pixels per micro-kernel call; a row's tail takes 4 + 2 + 1
SCRATCH_FLOATS = 8192  # target size of one task's planes (32 KiB: two sets stay in L1)
PARALLEL_FLOATS = 3_000_000  # floats moved (input + output) above which the prange driver runs: see parallel_pays
_F32 = ir.FloatType()
_I32 = ir.IntType(32)


def _make_shift(k):
    def typer(typingctx, a, b):
        if not (isinstance(a, SimdVec) and a == b):
            raise TypingError(f"_shift{k}: needs two SIMD vectors of one width, got {a}, {b}")
        width = a.width

        def codegen(context, builder, sig, args):
            return builder.shuffle_vector(args[0], args[1], ir.Constant(ir.VectorType(_I32, width),
                                                                          list(range(k, k + width))))

        return a(a, b), codegen

    typer.__name__ = f"_shift{k}"
    typer.__doc__ = f"Lanes {k} .. {k} + W - 1 of the concatenation a ++ b (one valignd on AVX-512)."
    return intrinsic(typer)


# a ++ b shifted left by 1-4 lanes: the taps of one input row from two aligned loads; by 8: the upper half
_shift1, _shift2, _shift3, _shift4, _shift8 = (_make_shift(k) for k in (1, 2, 3, 4, 8))


@intrinsic
def _pair(typingctx, a, b):
    """Lanes 0 .. W/2 - 1 of a, then lanes 0 .. W/2 - 1 of b."""
    if not (isinstance(a, SimdVec) and a == b):
        raise TypingError(f"_pair: needs two SIMD vectors of one width, got {a}, {b}")
    width = a.width

    def codegen(context, builder, sig, args):
        idx = list(range(width // 2)) + list(range(width, width + width // 2))
        return builder.shuffle_vector(args[0], args[1], ir.Constant(ir.VectorType(_I32, width), idx))

    return a(a, b), codegen


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _zero(sf, a, b, w):
    """sf.flat[a:b] = 0. Masked stores with a count LLVM cannot fold: a loop of plain zero stores becomes a
    memset call, and a call clobbers every vector register."""
    z = vzero(w)
    n = lanes(w)
    i = a
    while i < b:
        vstore_n(sf, i, z, b - i)
        i += n


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _fill(xf, xbase, h, wd, sh, sw, pt, oy0, hq, pq, pstride, phases, sf, sbase, zero_rows, w):
    """Column-phase planes of one input channel plane (xf.flat[xbase:], h x wd) for output rows oy0 ...: plane
    rx at sf[sbase + rx * pstride], row i, column j holds the zero-padded input at padded row oy0 * sh + i and
    padded column j * sw + rx (rows 0 <= i < hq, columns 0 <= j < pq). phases[rx] = (used, j0, x0, cnt) from
    `nchw_plan`: columns j0 <= j < j0 + cnt hold input columns x0 + (j - j0) * sw. Only those columns are
    ever written (masked stores of exactly cnt): the border columns are zero from the allocation on and stay
    so, and so do the rows outside the image when every task has the same rows (one band); with several
    bands (zero_rows) they get zeros in the data columns. Stride 2 splits each row into both planes
    with one pair of loads; the loads may read past a row (not past the array): those lanes are not stored."""
    n = lanes(w)
    i_lo = min(hq, max(0, pt - oy0 * sh))
    i_hi = max(i_lo, min(hq, h + pt - oy0 * sh))
    src0 = xbase + (oy0 * sh + i_lo - pt) * wd  # input row of plane row i_lo
    for rx in range(sw):
        if phases[rx, 0] == 0 or phases[rx, 3] == 0:
            continue
        base = sbase + rx * pstride + phases[rx, 1]
        cnt = phases[rx, 3]
        if zero_rows:
            for d in range(base, base + i_lo * pq, pq):
                _zero(sf, d, d + cnt, w)
            for d in range(base + i_hi * pq, base + hq * pq, pq):
                _zero(sf, d, d + cnt, w)
        if sw > 2:
            x0 = phases[rx, 2]
            src = src0 + x0
            for dst in range(base + i_lo * pq, base + i_hi * pq, pq):
                for k in range(cnt):
                    sf[dst + k] = xf[src + k * sw]
                src += wd
    if sw == 1 and phases[0, 3] > 0:
        dst = phases[0, 1] + sbase + i_lo * pq
        cnt = phases[0, 3]
        src = src0 + phases[0, 2]
        if cnt <= n:  # one vector per row (small images): the mask is loop-invariant
            for i in range(i_lo, i_hi):
                if src + n <= xf.size:
                    vstore_n(sf, dst, vload(xf, src, w), cnt)
                else:
                    vstore_n(sf, dst, vload_n(xf, src, cnt, w), cnt)
                src += wd
                dst += pq
        for i in range(i_lo, i_hi if cnt > n else i_lo):
            k = 0
            while k + n <= cnt:
                vstore(sf, dst + k, vload(xf, src + k, w))
                k += n
            if k < cnt:
                if src + k + n <= xf.size:
                    vstore_n(sf, dst + k, vload(xf, src + k, w), cnt - k)
                else:
                    vstore_n(sf, dst + k, vload_n(xf, src + k, cnt - k, w), cnt - k)
            src += wd
            dst += pq
    elif sw == 2:
        # plane e takes the even input columns (x0 == 0), plane 1 - e the odd ones
        e = 0 if phases[0, 2] == 0 else 1
        de = sbase + e * pstride + phases[e, 1] + i_lo * pq
        do = sbase + (1 - e) * pstride + phases[1 - e, 1] + i_lo * pq
        ce = phases[e, 3] if phases[e, 0] else 0
        co = phases[1 - e, 3] if phases[1 - e, 0] else 0
        cm = max(ce, co)
        src = src0
        if cm <= n and wd <= n:  # a row in one vector (small images)
            for i in range(i_lo, i_hi):
                lo = vload(xf, src, w) if src + n <= xf.size else vload_n(xf, src, wd, w)
                vstore_n(sf, de, veven(lo, lo), ce)
                vstore_n(sf, do, vodd(lo, lo), co)
                src += wd
                de += pq
                do += pq
        elif cm <= n:  # one vector pair per row
            for i in range(i_lo, i_hi):
                if src + 2 * n <= xf.size:
                    lo = vload(xf, src, w)
                    hi = vload(xf, src + n, w)
                else:
                    lo = vload_n(xf, src, wd, w)
                    hi = vload_n(xf, src + n, wd - n, w)
                vstore_n(sf, de, veven(lo, hi), ce)
                vstore_n(sf, do, vodd(lo, hi), co)
                src += wd
                de += pq
                do += pq
        for i in range(i_lo, i_hi if cm > n else i_lo):
            for k in range(0, cm, n):
                if src + 2 * k + 2 * n <= xf.size:
                    lo = vload(xf, src + 2 * k, w)
                    hi = vload(xf, src + 2 * k + n, w)
                else:
                    lo = vload_n(xf, src + 2 * k, wd - 2 * k, w)
                    hi = vload_n(xf, src + 2 * k + n, wd - 2 * k - n, w)
                if k < ce:
                    vstore_n(sf, de + k, veven(lo, hi), ce - k)
                if k < co:
                    vstore_n(sf, do + k, vodd(lo, hi), co - k)
            src += wd
            de += pq
            do += pq


@njit(cache=True, nogil=True, inline="always")
def _half(g):
    """Floats per set of column-phase planes, rounded so that the two sets lie 2 KiB apart modulo 4 KiB (loads and
    stores 4 KiB apart look dependent to the CPU)."""
    return (g[7] * g[13] + 1023) // 1024 * 1024 + 512


# The hot helpers are compiled without Numba's reference counting (_nrt=False: they allocate nothing and their
# callers own every array). With it, an array argument used under a branch (the residual under `if has_res:`)
# keeps an NRT incref/decref pair (atomics on a refcount shared between threads, vzeroupper around each call)
# in every call: measured 8x slower row tiles. Step kernels, the fill and the NCHWc tiles are inlined into
# their task loops (inline="always"): a Numba call passes each array as 7 words on the stack, which cost as
# much as a 7x7 channel's whole convolution.
_INLINE = '@njit(cache=True, nogil=True, _nrt=False, inline="always")'

# Kernels with their own generated step kernels: name -> (kh, kw, sh, sw), dilation 1. Everything else runs the
# generic step (tap offsets from a table, weight broadcast per tap, no reuse of loads across rows).
SPECIALIZED = {"k3s1": (3, 3, 1, 1), "k3s2": (3, 3, 2, 2)}  # name -> (kh, kw, sh, sw)
# Output rows per step: 8 accumulators hide the FMA latency (4 cycles, 2 FMA units); planes of 4-7 rows take
# one 8-row step that stores only their rows (4 chains of 9 dependent FMAs measured 1.8x slower); 1-3 rows
# (1-D convs) take 1-row steps.
STEP_ROWS = (8, 1)


def phase_taps(kh, kw, sw, dh=1, dw=1):
    """Tap b * kw + e of a (kh, kw) kernel -> (column-phase plane, row offset, column offset) in the planes."""
    return [((e * dw) % sw, b * dh, (e * dw) // sw) for b in range(kh) for e in range(kw)]


def _plus(*terms):
    t = [x for x in terms if x != "0"]
    return " + ".join(t) if t else "0"


def _mul(k, name):
    return "0" if k == 0 else (name if k == 1 else f"{k} * {name}")


def _emit_step_epilogue(a, rr):
    # Rows i >= nst (a plane with fewer rows than a step) are computed but not kept: row i goes to row
    # min(i, nst - 1), and rows are stored last first, so row nst - 1 is written last. No branches: they cost
    # the step's code 1.5x.
    for i in range(rr):
        a(f"    p{i} = {_plus('o', _mul(i, 'ow'))}" if i == 0 else f"    p{i} = o + min({i}, nst - 1) * ow")
    a("    if has_res:")
    for i in range(rr):
        a(f"        a{i} = vadd(a{i}, vload_n(rf, p{i}, last, w))")
    for i in range(rr):
        a(f"    a{i} = activate_cheap(a{i}, kind, alpha, beta)")
    for i in reversed(range(rr)):
        a(f"    vstore_n(of, p{i}, a{i}, last)")
    a("    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time")
    a(f"        activate_rows(of, o, ow, min({rr}, nst), last, kind, alpha, beta, w)")


def _emit_pair_epilogue(a, rr):
    # lanes 0..7: channel c at o, lanes 8..15: channel c + 1 at o + cstep; rows i >= nst as in _emit_step_epilogue
    for i in range(rr):
        a(f"    p{i} = {_plus('o', _mul(i, 'ow'))}" if i == 0 else f"    p{i} = o + min({i}, nst - 1) * ow")
    a("    if has_res:")
    for i in range(rr):
        a(f"        a{i} = vadd(a{i}, _pair(vload_n(rf, p{i}, ow, w), vload_n(rf, p{i} + cstep, ow, w)))")
    for i in range(rr):
        a(f"    a{i} = activate_cheap(a{i}, kind, alpha, beta)")
    for i in reversed(range(rr)):
        a(f"    vstore_n(of, p{i}, a{i}, ow)")
        a(f"    vstore_n(of, p{i} + cstep, _shift8(a{i}, a{i}), ow)")
    a("    if kind > CHEAP:")
    a(f"        activate_rows(of, o, ow, min({rr}, nst), ow, kind, alpha, beta, w)")
    a(f"        activate_rows(of, o + cstep, ow, min({rr}, nst), ow, kind, alpha, beta, w)")


def emit_step(name, taps, rr, sh=1, pair=False):
    """`_step_{name}_r{rr}`: rr output rows x one vector of W outputs of one channel, whose top-left output is
    at flat position s of the column-phase planes `sf` (output rows rs = sh * pq floats apart, planes pstride
    apart) and at o of `of` (rows ow apart); stores `last` lanes per row. Specialised (taps given, row stride
    sh): the weights arrive as vectors wt0..., and every input vector is loaded once and used for all the
    output rows it feeds. Generic (taps None): taps from offs, weight broadcast per tap."""
    L = []
    a = L.append
    a(_INLINE)
    if taps is None:
        a(f"def _step_{name}_r{rr}(sf, s, pq, rs, pstride, offs, wk, w0, bv, of, o, ow, rf, has_res, kind, alpha, "
          "beta, last, nst, w):")
    elif pair:
        wts = ", ".join(f"wt{t}" for t in range(len(taps)))
        a(f"def _step_{name}_pair(sf, s, pq, rs, pstride, {wts}, bv, of, o, ow, cstep, rf, has_res, kind, alpha, "
          "beta, nst, w):")
    else:
        wts = ", ".join(f"wt{t}" for t in range(len(taps)))
        a(f"def _step_{name}_r{rr}(sf, s, pq, rs, pstride, {wts}, bv, of, o, ow, rf, has_res, kind, alpha, beta, "
          "last, nst, w):")
    a(f'    """{rr} output row(s) x W outputs: {rr} accumulator(s) from the bias vector bv; fused epilogue."""')
    if taps is not None:
        a("    n = lanes(w)")
    for i in range(rr):
        a(f"    a{i} = bv")
    if taps is None:
        a("    for t in range(offs.size):")
        a("        wv = _bload(wk, w0 + t, w)")
        a("        x = s + offs[t]")
        for i in range(rr):
            a(f"        a{i} = vfma(vload(sf, {_plus('x', _mul(i, 'rs'))}, w), wv, a{i})")
    else:
        # s, pq and pstride are multiples of W: each input row is two aligned loads, its taps a ++ b shifted
        # (split loads across cache lines measured 1.3x slower)
        for plane in sorted({t[0] for t in taps}):
            ptaps = [(t, qy, qx) for t, (pl_, qy, qx) in enumerate(taps) if pl_ == plane]
            for ir in range((rr - 1) * sh + max(qy for _, qy, _ in ptaps) + 1):
                uses = {qx: [(t, (ir - qy) // sh) for t, qy, q in ptaps
                             if q == qx and ir >= qy and (ir - qy) % sh == 0 and (ir - qy) // sh < rr]
                        for qx in sorted({qx for _, _, qx in ptaps})}
                uses = {qx: u for qx, u in uses.items() if u}
                if not uses:
                    continue
                at = _plus('s', _mul(plane, 'pstride'), _mul(ir, 'pq'))
                a(f"    va = vload(sf, {at}, w)")
                if max(uses) > 0:
                    a(f"    vb = vload(sf, {at} + n, w)")
                for qx, u in uses.items():
                    a(f"    v = {'va' if qx == 0 else f'_shift{qx}(va, vb)'}")
                    for t, i in u:
                        a(f"    a{i} = vfma(v, wt{t}, a{i})")
    (_emit_pair_epilogue if pair else _emit_step_epilogue)(a, rr)
    return "\n".join(L) + "\n"


_CONFIG_TEMPLATE = '''
@njit(cache=True, nogil=True, _nrt=False)
def _work_NAME_rR(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than R rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, sh, sw, pt, _, band, hq, pq, pstride = g
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
WEIGHTS            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + R > band:
                        r0 = max(0, band - R)
                    _step_NAME_rR(sf, cur + r0 * rs + col, pq, rs, pstride, ARGS, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(R, band - r0), w)
                    r0 += R
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur
'''
_DRIVER_TEMPLATE = '''
@njit(cache=True, parallel=True, nogil=True)
def conv_dw_NAME_rR_wW_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), NAME taps, R-row steps,
    SIMD width W; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_NAME_rR(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, WTOK)


@njit(cache=True, nogil=True)
def conv_dw_NAME_rR_wW_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_NAME_rR_wW_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_NAME_rR(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, WTOK)
'''


_PAIR_TEMPLATE = '''
@njit(cache=True, nogil=True, _nrt=False)
def _work_NAME_pair(xf, wp, bp, rf, of, g, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1 of a plane of at most 8 output rows, two channels per vector: task t = channels 2t
    and 2t + 1 of the flattened (image, channel) list, side by side in the planes (lanes 0..W/2 - 1 and
    W/2..W - 1 of every row, each with its own zero border); weights and bias are lane pairs (wp, bp). One
    8-row step per task; double-buffered fill as in the one-channel kernels."""
    n = lanes(w)
    c_, _, h, wd, oh, ow, sh, sw, pt, _, _, hq, pq, pstride = g
    rs = sh * pq
    kvol = wp.shape[1]
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n
    plane = h * wd
    seg = n // 2
    npairs = c_ // 2
    cp = t0 % npairs  # pair index within the image
    if t0 < t1:
        _fill(xf, 2 * t0 * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase, False, w)
        _fill(xf, (2 * t0 + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase + seg, False, w)
    cur = abase
    for t in range(t0, t1):
        nxt = 2 * abase + half - cur
        if t + 1 < t1:
            _fill(xf, 2 * (t + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt, False, w)
            _fill(xf, (2 * t + 3) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt + seg, False, w)
        w0 = cp * kvol * n
        bv = vload(bp, cp * n, w)
WEIGHTS        _step_NAME_pair(sf, cur, pq, rs, pstride, ARGS, bv, of, 2 * t * oh * ow, ow, oh * ow, rf, has_res, kind,
                        alpha, beta, oh, w)
        cp = cp + 1 if cp + 1 < npairs else 0
        cur = nxt
'''
_PAIR_DRIVER_TEMPLATE = '''
@njit(cache=True, parallel=True, nogil=True)
def conv_dw_NAME_pair_wW_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta, chunks):
    """conv_dw_NAME_r8_wW_f32 for planes of at most 8 output rows, two channels per vector (see _work_NAME_pair);
    wp (C/2, KH*KW, W) and bp (C/2, W) hold the two channels' weights and biases in the two vector halves."""
    ntasks = x.shape[0] * g[0] // 2
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_NAME_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                         beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, WTOK)


@njit(cache=True, nogil=True)
def conv_dw_NAME_pair_wW_serial_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta):
    """conv_dw_NAME_pair_wW_f32 on the calling thread."""
    ntasks = x.shape[0] * g[0] // 2
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_NAME_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                     beta, 0, ntasks, sf, WTOK)
'''


def emit_config(name, taps, sh=1, sw=1):
    """Step kernels, task loops and drivers of one kernel configuration (taps None: the generic one), one set
    per step height: a task loop holds one step kernel only, which keeps its weights and accumulators in
    registers (with all three inlined, LLVM spilled the weights). Drivers per SIMD width."""
    parts = []
    for rr in STEP_ROWS:
        src = _CONFIG_TEMPLATE + "\n\n" + "\n\n".join(
            _DRIVER_TEMPLATE.replace("wW", f"w{wd}").replace("WTOK", f"W{wd}").replace("width W", f"width {wd}")
            for wd in (16, 8, 4))
        src = src.replace("NAME", name).replace("_rR", f"_r{rr}").replace("R-row", f"{rr}-row")
        src = src.replace("R rows", f"{rr} rows").replace(">= R", f">= {rr}").replace("+ R", f"+ {rr}")
        src = src.replace("band - R", f"band - {rr}").replace("r0 += R", f"r0 += {rr}")
        src = src.replace("min(R,", f"min({rr},")
        if taps is None:
            src = src.replace("WEIGHTS", "").replace("ARGS", "offs, wk, w0")
        else:  # the strides as constants: the fill's other stride paths drop out (fewer live registers)
            src = src.replace(", oh, ow, sh, sw, pt,", ", oh, ow, _, _, pt,").replace(
                "    rs = sh * pq\n", f"    sh, sw = {sh}, {sw}\n    rs = sh * pq\n")
            src = src.replace("WEIGHTS", "".join(f"            wt{t} = _bload(wk, w0 + {t}, w)\n"
                                                 for t in range(len(taps))))
            src = src.replace("ARGS", ", ".join(f"wt{t}" for t in range(len(taps))))
        parts += [emit_step(name, taps, rr, sh), src]
    if taps is not None:  # two channels per vector for planes of at most 8 output rows (W = 16 only)
        src = _PAIR_TEMPLATE + "\n\n" + _PAIR_DRIVER_TEMPLATE.replace("wW", "w16").replace("WTOK", "W16")
        src = src.replace("NAME", name).replace(", oh, ow, sh, sw, pt,", ", oh, ow, _, _, pt,").replace(
            "    rs = sh * pq\n", f"    sh, sw = {sh}, {sw}\n    rs = sh * pq\n")
        src = src.replace("WEIGHTS", "".join(f"        wt{t} = vload(wp, w0 + {t} * n, w)\n" for t in range(len(taps))))
        src = src.replace("ARGS", ", ".join(f"wt{t}" for t in range(len(taps))))
        parts += [emit_step(name, taps, STEP_ROWS[0], sh, pair=True), src]
    return "\n\n".join(parts)


def emit_ctile(t):
    """`_ctile{t}` (NCHWc): t output pixels of one row x one block of W channels; pixel j reads x0 + j * sxw
    + offs[tap] for the taps t0 <= tap < t1, times the tap's weight vector."""
    L = []
    a = L.append
    a(_INLINE)
    a(f"def _ctile{t}(xf, x0, sxw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):")
    a(f'    """{t} output pixels x W channels (NCHWc): {t} accumulators from the bias vector bv; fused epilogue."""')
    a("    n = lanes(w)")
    for j in range(t):
        a(f"    a{j} = bv")
    a("    for t in range(t0, t1):")
    a("        wv = vload(wf, w0 + t * n, w)")
    a("        xi = x0 + offs[t]")
    for j in range(t):
        a(f"        a{j} = vfma(vload(xf, {_plus('xi', _mul(j, 'sxw'))}, w), wv, a{j})")
    emit_epilogue(a, [f"a{j}" for j in range(t)], [_plus('o0', _mul(j, 'n')) for j in range(t)], 1, "0",
                  f"{t} * n", "o0", "    ")
    return "\n".join(L) + "\n"


def emit_all():
    parts = [emit_config(name, phase_taps(kh, kw, sw), sh, sw) for name, (kh, kw, sh, sw) in SPECIALIZED.items()]
    parts.append(emit_config("generic", None))
    return "\n\n".join(parts + [emit_ctile(t) for t in CTILES])


# ---- generated code (emitted by this module's emit function): do not edit by hand ----
@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s1_r8(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """8 output row(s) x W outputs: 8 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt1, a0)
    v = _shift2(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a1 = vfma(v, wt0, a1)
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a1 = vfma(v, wt1, a1)
    a0 = vfma(v, wt4, a0)
    v = _shift2(va, vb)
    a1 = vfma(v, wt2, a1)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a2 = vfma(v, wt0, a2)
    a1 = vfma(v, wt3, a1)
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a2 = vfma(v, wt1, a2)
    a1 = vfma(v, wt4, a1)
    a0 = vfma(v, wt7, a0)
    v = _shift2(va, vb)
    a2 = vfma(v, wt2, a2)
    a1 = vfma(v, wt5, a1)
    a0 = vfma(v, wt8, a0)
    va = vload(sf, s + 3 * pq, w)
    vb = vload(sf, s + 3 * pq + n, w)
    v = va
    a3 = vfma(v, wt0, a3)
    a2 = vfma(v, wt3, a2)
    a1 = vfma(v, wt6, a1)
    v = _shift1(va, vb)
    a3 = vfma(v, wt1, a3)
    a2 = vfma(v, wt4, a2)
    a1 = vfma(v, wt7, a1)
    v = _shift2(va, vb)
    a3 = vfma(v, wt2, a3)
    a2 = vfma(v, wt5, a2)
    a1 = vfma(v, wt8, a1)
    va = vload(sf, s + 4 * pq, w)
    vb = vload(sf, s + 4 * pq + n, w)
    v = va
    a4 = vfma(v, wt0, a4)
    a3 = vfma(v, wt3, a3)
    a2 = vfma(v, wt6, a2)
    v = _shift1(va, vb)
    a4 = vfma(v, wt1, a4)
    a3 = vfma(v, wt4, a3)
    a2 = vfma(v, wt7, a2)
    v = _shift2(va, vb)
    a4 = vfma(v, wt2, a4)
    a3 = vfma(v, wt5, a3)
    a2 = vfma(v, wt8, a2)
    va = vload(sf, s + 5 * pq, w)
    vb = vload(sf, s + 5 * pq + n, w)
    v = va
    a5 = vfma(v, wt0, a5)
    a4 = vfma(v, wt3, a4)
    a3 = vfma(v, wt6, a3)
    v = _shift1(va, vb)
    a5 = vfma(v, wt1, a5)
    a4 = vfma(v, wt4, a4)
    a3 = vfma(v, wt7, a3)
    v = _shift2(va, vb)
    a5 = vfma(v, wt2, a5)
    a4 = vfma(v, wt5, a4)
    a3 = vfma(v, wt8, a3)
    va = vload(sf, s + 6 * pq, w)
    vb = vload(sf, s + 6 * pq + n, w)
    v = va
    a6 = vfma(v, wt0, a6)
    a5 = vfma(v, wt3, a5)
    a4 = vfma(v, wt6, a4)
    v = _shift1(va, vb)
    a6 = vfma(v, wt1, a6)
    a5 = vfma(v, wt4, a5)
    a4 = vfma(v, wt7, a4)
    v = _shift2(va, vb)
    a6 = vfma(v, wt2, a6)
    a5 = vfma(v, wt5, a5)
    a4 = vfma(v, wt8, a4)
    va = vload(sf, s + 7 * pq, w)
    vb = vload(sf, s + 7 * pq + n, w)
    v = va
    a7 = vfma(v, wt0, a7)
    a6 = vfma(v, wt3, a6)
    a5 = vfma(v, wt6, a5)
    v = _shift1(va, vb)
    a7 = vfma(v, wt1, a7)
    a6 = vfma(v, wt4, a6)
    a5 = vfma(v, wt7, a5)
    v = _shift2(va, vb)
    a7 = vfma(v, wt2, a7)
    a6 = vfma(v, wt5, a6)
    a5 = vfma(v, wt8, a5)
    va = vload(sf, s + 8 * pq, w)
    vb = vload(sf, s + 8 * pq + n, w)
    v = va
    a7 = vfma(v, wt3, a7)
    a6 = vfma(v, wt6, a6)
    v = _shift1(va, vb)
    a7 = vfma(v, wt4, a7)
    a6 = vfma(v, wt7, a6)
    v = _shift2(va, vb)
    a7 = vfma(v, wt5, a7)
    a6 = vfma(v, wt8, a6)
    va = vload(sf, s + 9 * pq, w)
    vb = vload(sf, s + 9 * pq + n, w)
    v = va
    a7 = vfma(v, wt6, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt7, a7)
    v = _shift2(va, vb)
    a7 = vfma(v, wt8, a7)
    p0 = o
    p1 = o + min(1, nst - 1) * ow
    p2 = o + min(2, nst - 1) * ow
    p3 = o + min(3, nst - 1) * ow
    p4 = o + min(4, nst - 1) * ow
    p5 = o + min(5, nst - 1) * ow
    p6 = o + min(6, nst - 1) * ow
    p7 = o + min(7, nst - 1) * ow
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
        a1 = vadd(a1, vload_n(rf, p1, last, w))
        a2 = vadd(a2, vload_n(rf, p2, last, w))
        a3 = vadd(a3, vload_n(rf, p3, last, w))
        a4 = vadd(a4, vload_n(rf, p4, last, w))
        a5 = vadd(a5, vload_n(rf, p5, last, w))
        a6 = vadd(a6, vload_n(rf, p6, last, w))
        a7 = vadd(a7, vload_n(rf, p7, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    a1 = activate_cheap(a1, kind, alpha, beta)
    a2 = activate_cheap(a2, kind, alpha, beta)
    a3 = activate_cheap(a3, kind, alpha, beta)
    a4 = activate_cheap(a4, kind, alpha, beta)
    a5 = activate_cheap(a5, kind, alpha, beta)
    a6 = activate_cheap(a6, kind, alpha, beta)
    a7 = activate_cheap(a7, kind, alpha, beta)
    vstore_n(of, p7, a7, last)
    vstore_n(of, p6, a6, last)
    vstore_n(of, p5, a5, last)
    vstore_n(of, p4, a4, last)
    vstore_n(of, p3, a3, last)
    vstore_n(of, p2, a2, last)
    vstore_n(of, p1, a1, last)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(8, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s1_r8(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 8 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, _, _, pt, _, band, hq, pq, pstride = g
    sh, sw = 1, 1
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            wt0 = _bload(wk, w0 + 0, w)
            wt1 = _bload(wk, w0 + 1, w)
            wt2 = _bload(wk, w0 + 2, w)
            wt3 = _bload(wk, w0 + 3, w)
            wt4 = _bload(wk, w0 + 4, w)
            wt5 = _bload(wk, w0 + 5, w)
            wt6 = _bload(wk, w0 + 6, w)
            wt7 = _bload(wk, w0 + 7, w)
            wt8 = _bload(wk, w0 + 8, w)
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 8 > band:
                        r0 = max(0, band - 8)
                    _step_k3s1_r8(sf, cur + r0 * rs + col, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(8, band - r0), w)
                    r0 += 8
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r8_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 8-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r8_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r8_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r8_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 8-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r8_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r8_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r8_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 8-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r8_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r8_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s1_r1(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """1 output row(s) x W outputs: 1 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt1, a0)
    v = _shift2(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt4, a0)
    v = _shift2(va, vb)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt7, a0)
    v = _shift2(va, vb)
    a0 = vfma(v, wt8, a0)
    p0 = o
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(1, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s1_r1(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 1 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, _, _, pt, _, band, hq, pq, pstride = g
    sh, sw = 1, 1
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            wt0 = _bload(wk, w0 + 0, w)
            wt1 = _bload(wk, w0 + 1, w)
            wt2 = _bload(wk, w0 + 2, w)
            wt3 = _bload(wk, w0 + 3, w)
            wt4 = _bload(wk, w0 + 4, w)
            wt5 = _bload(wk, w0 + 5, w)
            wt6 = _bload(wk, w0 + 6, w)
            wt7 = _bload(wk, w0 + 7, w)
            wt8 = _bload(wk, w0 + 8, w)
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 1 > band:
                        r0 = max(0, band - 1)
                    _step_k3s1_r1(sf, cur + r0 * rs + col, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(1, band - r0), w)
                    r0 += 1
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r1_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 1-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r1_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r1_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r1_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 1-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r1_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r1_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_r1_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s1 taps, 1-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_r1_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_r1_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s1_pair(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, cstep, rf, has_res, kind, alpha, beta, nst, w):
    """8 output row(s) x W outputs: 8 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt1, a0)
    v = _shift2(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a1 = vfma(v, wt0, a1)
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a1 = vfma(v, wt1, a1)
    a0 = vfma(v, wt4, a0)
    v = _shift2(va, vb)
    a1 = vfma(v, wt2, a1)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a2 = vfma(v, wt0, a2)
    a1 = vfma(v, wt3, a1)
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a2 = vfma(v, wt1, a2)
    a1 = vfma(v, wt4, a1)
    a0 = vfma(v, wt7, a0)
    v = _shift2(va, vb)
    a2 = vfma(v, wt2, a2)
    a1 = vfma(v, wt5, a1)
    a0 = vfma(v, wt8, a0)
    va = vload(sf, s + 3 * pq, w)
    vb = vload(sf, s + 3 * pq + n, w)
    v = va
    a3 = vfma(v, wt0, a3)
    a2 = vfma(v, wt3, a2)
    a1 = vfma(v, wt6, a1)
    v = _shift1(va, vb)
    a3 = vfma(v, wt1, a3)
    a2 = vfma(v, wt4, a2)
    a1 = vfma(v, wt7, a1)
    v = _shift2(va, vb)
    a3 = vfma(v, wt2, a3)
    a2 = vfma(v, wt5, a2)
    a1 = vfma(v, wt8, a1)
    va = vload(sf, s + 4 * pq, w)
    vb = vload(sf, s + 4 * pq + n, w)
    v = va
    a4 = vfma(v, wt0, a4)
    a3 = vfma(v, wt3, a3)
    a2 = vfma(v, wt6, a2)
    v = _shift1(va, vb)
    a4 = vfma(v, wt1, a4)
    a3 = vfma(v, wt4, a3)
    a2 = vfma(v, wt7, a2)
    v = _shift2(va, vb)
    a4 = vfma(v, wt2, a4)
    a3 = vfma(v, wt5, a3)
    a2 = vfma(v, wt8, a2)
    va = vload(sf, s + 5 * pq, w)
    vb = vload(sf, s + 5 * pq + n, w)
    v = va
    a5 = vfma(v, wt0, a5)
    a4 = vfma(v, wt3, a4)
    a3 = vfma(v, wt6, a3)
    v = _shift1(va, vb)
    a5 = vfma(v, wt1, a5)
    a4 = vfma(v, wt4, a4)
    a3 = vfma(v, wt7, a3)
    v = _shift2(va, vb)
    a5 = vfma(v, wt2, a5)
    a4 = vfma(v, wt5, a4)
    a3 = vfma(v, wt8, a3)
    va = vload(sf, s + 6 * pq, w)
    vb = vload(sf, s + 6 * pq + n, w)
    v = va
    a6 = vfma(v, wt0, a6)
    a5 = vfma(v, wt3, a5)
    a4 = vfma(v, wt6, a4)
    v = _shift1(va, vb)
    a6 = vfma(v, wt1, a6)
    a5 = vfma(v, wt4, a5)
    a4 = vfma(v, wt7, a4)
    v = _shift2(va, vb)
    a6 = vfma(v, wt2, a6)
    a5 = vfma(v, wt5, a5)
    a4 = vfma(v, wt8, a4)
    va = vload(sf, s + 7 * pq, w)
    vb = vload(sf, s + 7 * pq + n, w)
    v = va
    a7 = vfma(v, wt0, a7)
    a6 = vfma(v, wt3, a6)
    a5 = vfma(v, wt6, a5)
    v = _shift1(va, vb)
    a7 = vfma(v, wt1, a7)
    a6 = vfma(v, wt4, a6)
    a5 = vfma(v, wt7, a5)
    v = _shift2(va, vb)
    a7 = vfma(v, wt2, a7)
    a6 = vfma(v, wt5, a6)
    a5 = vfma(v, wt8, a5)
    va = vload(sf, s + 8 * pq, w)
    vb = vload(sf, s + 8 * pq + n, w)
    v = va
    a7 = vfma(v, wt3, a7)
    a6 = vfma(v, wt6, a6)
    v = _shift1(va, vb)
    a7 = vfma(v, wt4, a7)
    a6 = vfma(v, wt7, a6)
    v = _shift2(va, vb)
    a7 = vfma(v, wt5, a7)
    a6 = vfma(v, wt8, a6)
    va = vload(sf, s + 9 * pq, w)
    vb = vload(sf, s + 9 * pq + n, w)
    v = va
    a7 = vfma(v, wt6, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt7, a7)
    v = _shift2(va, vb)
    a7 = vfma(v, wt8, a7)
    p0 = o
    p1 = o + min(1, nst - 1) * ow
    p2 = o + min(2, nst - 1) * ow
    p3 = o + min(3, nst - 1) * ow
    p4 = o + min(4, nst - 1) * ow
    p5 = o + min(5, nst - 1) * ow
    p6 = o + min(6, nst - 1) * ow
    p7 = o + min(7, nst - 1) * ow
    if has_res:
        a0 = vadd(a0, _pair(vload_n(rf, p0, ow, w), vload_n(rf, p0 + cstep, ow, w)))
        a1 = vadd(a1, _pair(vload_n(rf, p1, ow, w), vload_n(rf, p1 + cstep, ow, w)))
        a2 = vadd(a2, _pair(vload_n(rf, p2, ow, w), vload_n(rf, p2 + cstep, ow, w)))
        a3 = vadd(a3, _pair(vload_n(rf, p3, ow, w), vload_n(rf, p3 + cstep, ow, w)))
        a4 = vadd(a4, _pair(vload_n(rf, p4, ow, w), vload_n(rf, p4 + cstep, ow, w)))
        a5 = vadd(a5, _pair(vload_n(rf, p5, ow, w), vload_n(rf, p5 + cstep, ow, w)))
        a6 = vadd(a6, _pair(vload_n(rf, p6, ow, w), vload_n(rf, p6 + cstep, ow, w)))
        a7 = vadd(a7, _pair(vload_n(rf, p7, ow, w), vload_n(rf, p7 + cstep, ow, w)))
    a0 = activate_cheap(a0, kind, alpha, beta)
    a1 = activate_cheap(a1, kind, alpha, beta)
    a2 = activate_cheap(a2, kind, alpha, beta)
    a3 = activate_cheap(a3, kind, alpha, beta)
    a4 = activate_cheap(a4, kind, alpha, beta)
    a5 = activate_cheap(a5, kind, alpha, beta)
    a6 = activate_cheap(a6, kind, alpha, beta)
    a7 = activate_cheap(a7, kind, alpha, beta)
    vstore_n(of, p7, a7, ow)
    vstore_n(of, p7 + cstep, _shift8(a7, a7), ow)
    vstore_n(of, p6, a6, ow)
    vstore_n(of, p6 + cstep, _shift8(a6, a6), ow)
    vstore_n(of, p5, a5, ow)
    vstore_n(of, p5 + cstep, _shift8(a5, a5), ow)
    vstore_n(of, p4, a4, ow)
    vstore_n(of, p4 + cstep, _shift8(a4, a4), ow)
    vstore_n(of, p3, a3, ow)
    vstore_n(of, p3 + cstep, _shift8(a3, a3), ow)
    vstore_n(of, p2, a2, ow)
    vstore_n(of, p2 + cstep, _shift8(a2, a2), ow)
    vstore_n(of, p1, a1, ow)
    vstore_n(of, p1 + cstep, _shift8(a1, a1), ow)
    vstore_n(of, p0, a0, ow)
    vstore_n(of, p0 + cstep, _shift8(a0, a0), ow)
    if kind > CHEAP:
        activate_rows(of, o, ow, min(8, nst), ow, kind, alpha, beta, w)
        activate_rows(of, o + cstep, ow, min(8, nst), ow, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s1_pair(xf, wp, bp, rf, of, g, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1 of a plane of at most 8 output rows, two channels per vector: task t = channels 2t
    and 2t + 1 of the flattened (image, channel) list, side by side in the planes (lanes 0..W/2 - 1 and
    W/2..W - 1 of every row, each with its own zero border); weights and bias are lane pairs (wp, bp). One
    8-row step per task; double-buffered fill as in the one-channel kernels."""
    n = lanes(w)
    c_, _, h, wd, oh, ow, _, _, pt, _, _, hq, pq, pstride = g
    sh, sw = 1, 1
    rs = sh * pq
    kvol = wp.shape[1]
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n
    plane = h * wd
    seg = n // 2
    npairs = c_ // 2
    cp = t0 % npairs  # pair index within the image
    if t0 < t1:
        _fill(xf, 2 * t0 * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase, False, w)
        _fill(xf, (2 * t0 + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase + seg, False, w)
    cur = abase
    for t in range(t0, t1):
        nxt = 2 * abase + half - cur
        if t + 1 < t1:
            _fill(xf, 2 * (t + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt, False, w)
            _fill(xf, (2 * t + 3) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt + seg, False, w)
        w0 = cp * kvol * n
        bv = vload(bp, cp * n, w)
        wt0 = vload(wp, w0 + 0 * n, w)
        wt1 = vload(wp, w0 + 1 * n, w)
        wt2 = vload(wp, w0 + 2 * n, w)
        wt3 = vload(wp, w0 + 3 * n, w)
        wt4 = vload(wp, w0 + 4 * n, w)
        wt5 = vload(wp, w0 + 5 * n, w)
        wt6 = vload(wp, w0 + 6 * n, w)
        wt7 = vload(wp, w0 + 7 * n, w)
        wt8 = vload(wp, w0 + 8 * n, w)
        _step_k3s1_pair(sf, cur, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, 2 * t * oh * ow, ow, oh * ow, rf, has_res, kind,
                        alpha, beta, oh, w)
        cp = cp + 1 if cp + 1 < npairs else 0
        cur = nxt



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s1_pair_w16_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta, chunks):
    """conv_dw_k3s1_r8_w16_f32 for planes of at most 8 output rows, two channels per vector (see _work_k3s1_pair);
    wp (C/2, KH*KW, W) and bp (C/2, W) hold the two channels' weights and biases in the two vector halves."""
    ntasks = x.shape[0] * g[0] // 2
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s1_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                         beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s1_pair_w16_serial_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s1_pair_w16_f32 on the calling thread."""
    ntasks = x.shape[0] * g[0] // 2
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s1_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                     beta, 0, ntasks, sf, W16)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s2_r8(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """8 output row(s) x W outputs: 8 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a1 = vfma(v, wt0, a1)
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a1 = vfma(v, wt2, a1)
    a0 = vfma(v, wt8, a0)
    va = vload(sf, s + 3 * pq, w)
    vb = vload(sf, s + 3 * pq + n, w)
    v = va
    a1 = vfma(v, wt3, a1)
    v = _shift1(va, vb)
    a1 = vfma(v, wt5, a1)
    va = vload(sf, s + 4 * pq, w)
    vb = vload(sf, s + 4 * pq + n, w)
    v = va
    a2 = vfma(v, wt0, a2)
    a1 = vfma(v, wt6, a1)
    v = _shift1(va, vb)
    a2 = vfma(v, wt2, a2)
    a1 = vfma(v, wt8, a1)
    va = vload(sf, s + 5 * pq, w)
    vb = vload(sf, s + 5 * pq + n, w)
    v = va
    a2 = vfma(v, wt3, a2)
    v = _shift1(va, vb)
    a2 = vfma(v, wt5, a2)
    va = vload(sf, s + 6 * pq, w)
    vb = vload(sf, s + 6 * pq + n, w)
    v = va
    a3 = vfma(v, wt0, a3)
    a2 = vfma(v, wt6, a2)
    v = _shift1(va, vb)
    a3 = vfma(v, wt2, a3)
    a2 = vfma(v, wt8, a2)
    va = vload(sf, s + 7 * pq, w)
    vb = vload(sf, s + 7 * pq + n, w)
    v = va
    a3 = vfma(v, wt3, a3)
    v = _shift1(va, vb)
    a3 = vfma(v, wt5, a3)
    va = vload(sf, s + 8 * pq, w)
    vb = vload(sf, s + 8 * pq + n, w)
    v = va
    a4 = vfma(v, wt0, a4)
    a3 = vfma(v, wt6, a3)
    v = _shift1(va, vb)
    a4 = vfma(v, wt2, a4)
    a3 = vfma(v, wt8, a3)
    va = vload(sf, s + 9 * pq, w)
    vb = vload(sf, s + 9 * pq + n, w)
    v = va
    a4 = vfma(v, wt3, a4)
    v = _shift1(va, vb)
    a4 = vfma(v, wt5, a4)
    va = vload(sf, s + 10 * pq, w)
    vb = vload(sf, s + 10 * pq + n, w)
    v = va
    a5 = vfma(v, wt0, a5)
    a4 = vfma(v, wt6, a4)
    v = _shift1(va, vb)
    a5 = vfma(v, wt2, a5)
    a4 = vfma(v, wt8, a4)
    va = vload(sf, s + 11 * pq, w)
    vb = vload(sf, s + 11 * pq + n, w)
    v = va
    a5 = vfma(v, wt3, a5)
    v = _shift1(va, vb)
    a5 = vfma(v, wt5, a5)
    va = vload(sf, s + 12 * pq, w)
    vb = vload(sf, s + 12 * pq + n, w)
    v = va
    a6 = vfma(v, wt0, a6)
    a5 = vfma(v, wt6, a5)
    v = _shift1(va, vb)
    a6 = vfma(v, wt2, a6)
    a5 = vfma(v, wt8, a5)
    va = vload(sf, s + 13 * pq, w)
    vb = vload(sf, s + 13 * pq + n, w)
    v = va
    a6 = vfma(v, wt3, a6)
    v = _shift1(va, vb)
    a6 = vfma(v, wt5, a6)
    va = vload(sf, s + 14 * pq, w)
    vb = vload(sf, s + 14 * pq + n, w)
    v = va
    a7 = vfma(v, wt0, a7)
    a6 = vfma(v, wt6, a6)
    v = _shift1(va, vb)
    a7 = vfma(v, wt2, a7)
    a6 = vfma(v, wt8, a6)
    va = vload(sf, s + 15 * pq, w)
    vb = vload(sf, s + 15 * pq + n, w)
    v = va
    a7 = vfma(v, wt3, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt5, a7)
    va = vload(sf, s + 16 * pq, w)
    vb = vload(sf, s + 16 * pq + n, w)
    v = va
    a7 = vfma(v, wt6, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt8, a7)
    va = vload(sf, s + pstride, w)
    v = va
    a0 = vfma(v, wt1, a0)
    va = vload(sf, s + pstride + pq, w)
    v = va
    a0 = vfma(v, wt4, a0)
    va = vload(sf, s + pstride + 2 * pq, w)
    v = va
    a1 = vfma(v, wt1, a1)
    a0 = vfma(v, wt7, a0)
    va = vload(sf, s + pstride + 3 * pq, w)
    v = va
    a1 = vfma(v, wt4, a1)
    va = vload(sf, s + pstride + 4 * pq, w)
    v = va
    a2 = vfma(v, wt1, a2)
    a1 = vfma(v, wt7, a1)
    va = vload(sf, s + pstride + 5 * pq, w)
    v = va
    a2 = vfma(v, wt4, a2)
    va = vload(sf, s + pstride + 6 * pq, w)
    v = va
    a3 = vfma(v, wt1, a3)
    a2 = vfma(v, wt7, a2)
    va = vload(sf, s + pstride + 7 * pq, w)
    v = va
    a3 = vfma(v, wt4, a3)
    va = vload(sf, s + pstride + 8 * pq, w)
    v = va
    a4 = vfma(v, wt1, a4)
    a3 = vfma(v, wt7, a3)
    va = vload(sf, s + pstride + 9 * pq, w)
    v = va
    a4 = vfma(v, wt4, a4)
    va = vload(sf, s + pstride + 10 * pq, w)
    v = va
    a5 = vfma(v, wt1, a5)
    a4 = vfma(v, wt7, a4)
    va = vload(sf, s + pstride + 11 * pq, w)
    v = va
    a5 = vfma(v, wt4, a5)
    va = vload(sf, s + pstride + 12 * pq, w)
    v = va
    a6 = vfma(v, wt1, a6)
    a5 = vfma(v, wt7, a5)
    va = vload(sf, s + pstride + 13 * pq, w)
    v = va
    a6 = vfma(v, wt4, a6)
    va = vload(sf, s + pstride + 14 * pq, w)
    v = va
    a7 = vfma(v, wt1, a7)
    a6 = vfma(v, wt7, a6)
    va = vload(sf, s + pstride + 15 * pq, w)
    v = va
    a7 = vfma(v, wt4, a7)
    va = vload(sf, s + pstride + 16 * pq, w)
    v = va
    a7 = vfma(v, wt7, a7)
    p0 = o
    p1 = o + min(1, nst - 1) * ow
    p2 = o + min(2, nst - 1) * ow
    p3 = o + min(3, nst - 1) * ow
    p4 = o + min(4, nst - 1) * ow
    p5 = o + min(5, nst - 1) * ow
    p6 = o + min(6, nst - 1) * ow
    p7 = o + min(7, nst - 1) * ow
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
        a1 = vadd(a1, vload_n(rf, p1, last, w))
        a2 = vadd(a2, vload_n(rf, p2, last, w))
        a3 = vadd(a3, vload_n(rf, p3, last, w))
        a4 = vadd(a4, vload_n(rf, p4, last, w))
        a5 = vadd(a5, vload_n(rf, p5, last, w))
        a6 = vadd(a6, vload_n(rf, p6, last, w))
        a7 = vadd(a7, vload_n(rf, p7, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    a1 = activate_cheap(a1, kind, alpha, beta)
    a2 = activate_cheap(a2, kind, alpha, beta)
    a3 = activate_cheap(a3, kind, alpha, beta)
    a4 = activate_cheap(a4, kind, alpha, beta)
    a5 = activate_cheap(a5, kind, alpha, beta)
    a6 = activate_cheap(a6, kind, alpha, beta)
    a7 = activate_cheap(a7, kind, alpha, beta)
    vstore_n(of, p7, a7, last)
    vstore_n(of, p6, a6, last)
    vstore_n(of, p5, a5, last)
    vstore_n(of, p4, a4, last)
    vstore_n(of, p3, a3, last)
    vstore_n(of, p2, a2, last)
    vstore_n(of, p1, a1, last)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(8, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s2_r8(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 8 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, _, _, pt, _, band, hq, pq, pstride = g
    sh, sw = 2, 2
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            wt0 = _bload(wk, w0 + 0, w)
            wt1 = _bload(wk, w0 + 1, w)
            wt2 = _bload(wk, w0 + 2, w)
            wt3 = _bload(wk, w0 + 3, w)
            wt4 = _bload(wk, w0 + 4, w)
            wt5 = _bload(wk, w0 + 5, w)
            wt6 = _bload(wk, w0 + 6, w)
            wt7 = _bload(wk, w0 + 7, w)
            wt8 = _bload(wk, w0 + 8, w)
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 8 > band:
                        r0 = max(0, band - 8)
                    _step_k3s2_r8(sf, cur + r0 * rs + col, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(8, band - r0), w)
                    r0 += 8
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r8_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 8-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r8_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r8_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r8_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 8-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r8_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r8_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r8_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 8-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r8_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r8_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s2_r1(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """1 output row(s) x W outputs: 1 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt8, a0)
    va = vload(sf, s + pstride, w)
    v = va
    a0 = vfma(v, wt1, a0)
    va = vload(sf, s + pstride + pq, w)
    v = va
    a0 = vfma(v, wt4, a0)
    va = vload(sf, s + pstride + 2 * pq, w)
    v = va
    a0 = vfma(v, wt7, a0)
    p0 = o
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(1, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s2_r1(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 1 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, _, _, pt, _, band, hq, pq, pstride = g
    sh, sw = 2, 2
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            wt0 = _bload(wk, w0 + 0, w)
            wt1 = _bload(wk, w0 + 1, w)
            wt2 = _bload(wk, w0 + 2, w)
            wt3 = _bload(wk, w0 + 3, w)
            wt4 = _bload(wk, w0 + 4, w)
            wt5 = _bload(wk, w0 + 5, w)
            wt6 = _bload(wk, w0 + 6, w)
            wt7 = _bload(wk, w0 + 7, w)
            wt8 = _bload(wk, w0 + 8, w)
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 1 > band:
                        r0 = max(0, band - 1)
                    _step_k3s2_r1(sf, cur + r0 * rs + col, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(1, band - r0), w)
                    r0 += 1
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r1_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 1-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r1_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r1_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r1_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 1-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r1_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r1_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_r1_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), k3s2 taps, 1-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_r1_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_r1_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_k3s2_pair(sf, s, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, o, ow, cstep, rf, has_res, kind, alpha, beta, nst, w):
    """8 output row(s) x W outputs: 8 accumulator(s) from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    va = vload(sf, s, w)
    vb = vload(sf, s + n, w)
    v = va
    a0 = vfma(v, wt0, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt2, a0)
    va = vload(sf, s + pq, w)
    vb = vload(sf, s + pq + n, w)
    v = va
    a0 = vfma(v, wt3, a0)
    v = _shift1(va, vb)
    a0 = vfma(v, wt5, a0)
    va = vload(sf, s + 2 * pq, w)
    vb = vload(sf, s + 2 * pq + n, w)
    v = va
    a1 = vfma(v, wt0, a1)
    a0 = vfma(v, wt6, a0)
    v = _shift1(va, vb)
    a1 = vfma(v, wt2, a1)
    a0 = vfma(v, wt8, a0)
    va = vload(sf, s + 3 * pq, w)
    vb = vload(sf, s + 3 * pq + n, w)
    v = va
    a1 = vfma(v, wt3, a1)
    v = _shift1(va, vb)
    a1 = vfma(v, wt5, a1)
    va = vload(sf, s + 4 * pq, w)
    vb = vload(sf, s + 4 * pq + n, w)
    v = va
    a2 = vfma(v, wt0, a2)
    a1 = vfma(v, wt6, a1)
    v = _shift1(va, vb)
    a2 = vfma(v, wt2, a2)
    a1 = vfma(v, wt8, a1)
    va = vload(sf, s + 5 * pq, w)
    vb = vload(sf, s + 5 * pq + n, w)
    v = va
    a2 = vfma(v, wt3, a2)
    v = _shift1(va, vb)
    a2 = vfma(v, wt5, a2)
    va = vload(sf, s + 6 * pq, w)
    vb = vload(sf, s + 6 * pq + n, w)
    v = va
    a3 = vfma(v, wt0, a3)
    a2 = vfma(v, wt6, a2)
    v = _shift1(va, vb)
    a3 = vfma(v, wt2, a3)
    a2 = vfma(v, wt8, a2)
    va = vload(sf, s + 7 * pq, w)
    vb = vload(sf, s + 7 * pq + n, w)
    v = va
    a3 = vfma(v, wt3, a3)
    v = _shift1(va, vb)
    a3 = vfma(v, wt5, a3)
    va = vload(sf, s + 8 * pq, w)
    vb = vload(sf, s + 8 * pq + n, w)
    v = va
    a4 = vfma(v, wt0, a4)
    a3 = vfma(v, wt6, a3)
    v = _shift1(va, vb)
    a4 = vfma(v, wt2, a4)
    a3 = vfma(v, wt8, a3)
    va = vload(sf, s + 9 * pq, w)
    vb = vload(sf, s + 9 * pq + n, w)
    v = va
    a4 = vfma(v, wt3, a4)
    v = _shift1(va, vb)
    a4 = vfma(v, wt5, a4)
    va = vload(sf, s + 10 * pq, w)
    vb = vload(sf, s + 10 * pq + n, w)
    v = va
    a5 = vfma(v, wt0, a5)
    a4 = vfma(v, wt6, a4)
    v = _shift1(va, vb)
    a5 = vfma(v, wt2, a5)
    a4 = vfma(v, wt8, a4)
    va = vload(sf, s + 11 * pq, w)
    vb = vload(sf, s + 11 * pq + n, w)
    v = va
    a5 = vfma(v, wt3, a5)
    v = _shift1(va, vb)
    a5 = vfma(v, wt5, a5)
    va = vload(sf, s + 12 * pq, w)
    vb = vload(sf, s + 12 * pq + n, w)
    v = va
    a6 = vfma(v, wt0, a6)
    a5 = vfma(v, wt6, a5)
    v = _shift1(va, vb)
    a6 = vfma(v, wt2, a6)
    a5 = vfma(v, wt8, a5)
    va = vload(sf, s + 13 * pq, w)
    vb = vload(sf, s + 13 * pq + n, w)
    v = va
    a6 = vfma(v, wt3, a6)
    v = _shift1(va, vb)
    a6 = vfma(v, wt5, a6)
    va = vload(sf, s + 14 * pq, w)
    vb = vload(sf, s + 14 * pq + n, w)
    v = va
    a7 = vfma(v, wt0, a7)
    a6 = vfma(v, wt6, a6)
    v = _shift1(va, vb)
    a7 = vfma(v, wt2, a7)
    a6 = vfma(v, wt8, a6)
    va = vload(sf, s + 15 * pq, w)
    vb = vload(sf, s + 15 * pq + n, w)
    v = va
    a7 = vfma(v, wt3, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt5, a7)
    va = vload(sf, s + 16 * pq, w)
    vb = vload(sf, s + 16 * pq + n, w)
    v = va
    a7 = vfma(v, wt6, a7)
    v = _shift1(va, vb)
    a7 = vfma(v, wt8, a7)
    va = vload(sf, s + pstride, w)
    v = va
    a0 = vfma(v, wt1, a0)
    va = vload(sf, s + pstride + pq, w)
    v = va
    a0 = vfma(v, wt4, a0)
    va = vload(sf, s + pstride + 2 * pq, w)
    v = va
    a1 = vfma(v, wt1, a1)
    a0 = vfma(v, wt7, a0)
    va = vload(sf, s + pstride + 3 * pq, w)
    v = va
    a1 = vfma(v, wt4, a1)
    va = vload(sf, s + pstride + 4 * pq, w)
    v = va
    a2 = vfma(v, wt1, a2)
    a1 = vfma(v, wt7, a1)
    va = vload(sf, s + pstride + 5 * pq, w)
    v = va
    a2 = vfma(v, wt4, a2)
    va = vload(sf, s + pstride + 6 * pq, w)
    v = va
    a3 = vfma(v, wt1, a3)
    a2 = vfma(v, wt7, a2)
    va = vload(sf, s + pstride + 7 * pq, w)
    v = va
    a3 = vfma(v, wt4, a3)
    va = vload(sf, s + pstride + 8 * pq, w)
    v = va
    a4 = vfma(v, wt1, a4)
    a3 = vfma(v, wt7, a3)
    va = vload(sf, s + pstride + 9 * pq, w)
    v = va
    a4 = vfma(v, wt4, a4)
    va = vload(sf, s + pstride + 10 * pq, w)
    v = va
    a5 = vfma(v, wt1, a5)
    a4 = vfma(v, wt7, a4)
    va = vload(sf, s + pstride + 11 * pq, w)
    v = va
    a5 = vfma(v, wt4, a5)
    va = vload(sf, s + pstride + 12 * pq, w)
    v = va
    a6 = vfma(v, wt1, a6)
    a5 = vfma(v, wt7, a5)
    va = vload(sf, s + pstride + 13 * pq, w)
    v = va
    a6 = vfma(v, wt4, a6)
    va = vload(sf, s + pstride + 14 * pq, w)
    v = va
    a7 = vfma(v, wt1, a7)
    a6 = vfma(v, wt7, a6)
    va = vload(sf, s + pstride + 15 * pq, w)
    v = va
    a7 = vfma(v, wt4, a7)
    va = vload(sf, s + pstride + 16 * pq, w)
    v = va
    a7 = vfma(v, wt7, a7)
    p0 = o
    p1 = o + min(1, nst - 1) * ow
    p2 = o + min(2, nst - 1) * ow
    p3 = o + min(3, nst - 1) * ow
    p4 = o + min(4, nst - 1) * ow
    p5 = o + min(5, nst - 1) * ow
    p6 = o + min(6, nst - 1) * ow
    p7 = o + min(7, nst - 1) * ow
    if has_res:
        a0 = vadd(a0, _pair(vload_n(rf, p0, ow, w), vload_n(rf, p0 + cstep, ow, w)))
        a1 = vadd(a1, _pair(vload_n(rf, p1, ow, w), vload_n(rf, p1 + cstep, ow, w)))
        a2 = vadd(a2, _pair(vload_n(rf, p2, ow, w), vload_n(rf, p2 + cstep, ow, w)))
        a3 = vadd(a3, _pair(vload_n(rf, p3, ow, w), vload_n(rf, p3 + cstep, ow, w)))
        a4 = vadd(a4, _pair(vload_n(rf, p4, ow, w), vload_n(rf, p4 + cstep, ow, w)))
        a5 = vadd(a5, _pair(vload_n(rf, p5, ow, w), vload_n(rf, p5 + cstep, ow, w)))
        a6 = vadd(a6, _pair(vload_n(rf, p6, ow, w), vload_n(rf, p6 + cstep, ow, w)))
        a7 = vadd(a7, _pair(vload_n(rf, p7, ow, w), vload_n(rf, p7 + cstep, ow, w)))
    a0 = activate_cheap(a0, kind, alpha, beta)
    a1 = activate_cheap(a1, kind, alpha, beta)
    a2 = activate_cheap(a2, kind, alpha, beta)
    a3 = activate_cheap(a3, kind, alpha, beta)
    a4 = activate_cheap(a4, kind, alpha, beta)
    a5 = activate_cheap(a5, kind, alpha, beta)
    a6 = activate_cheap(a6, kind, alpha, beta)
    a7 = activate_cheap(a7, kind, alpha, beta)
    vstore_n(of, p7, a7, ow)
    vstore_n(of, p7 + cstep, _shift8(a7, a7), ow)
    vstore_n(of, p6, a6, ow)
    vstore_n(of, p6 + cstep, _shift8(a6, a6), ow)
    vstore_n(of, p5, a5, ow)
    vstore_n(of, p5 + cstep, _shift8(a5, a5), ow)
    vstore_n(of, p4, a4, ow)
    vstore_n(of, p4 + cstep, _shift8(a4, a4), ow)
    vstore_n(of, p3, a3, ow)
    vstore_n(of, p3 + cstep, _shift8(a3, a3), ow)
    vstore_n(of, p2, a2, ow)
    vstore_n(of, p2 + cstep, _shift8(a2, a2), ow)
    vstore_n(of, p1, a1, ow)
    vstore_n(of, p1 + cstep, _shift8(a1, a1), ow)
    vstore_n(of, p0, a0, ow)
    vstore_n(of, p0 + cstep, _shift8(a0, a0), ow)
    if kind > CHEAP:
        activate_rows(of, o, ow, min(8, nst), ow, kind, alpha, beta, w)
        activate_rows(of, o + cstep, ow, min(8, nst), ow, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_k3s2_pair(xf, wp, bp, rf, of, g, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1 of a plane of at most 8 output rows, two channels per vector: task t = channels 2t
    and 2t + 1 of the flattened (image, channel) list, side by side in the planes (lanes 0..W/2 - 1 and
    W/2..W - 1 of every row, each with its own zero border); weights and bias are lane pairs (wp, bp). One
    8-row step per task; double-buffered fill as in the one-channel kernels."""
    n = lanes(w)
    c_, _, h, wd, oh, ow, _, _, pt, _, _, hq, pq, pstride = g
    sh, sw = 2, 2
    rs = sh * pq
    kvol = wp.shape[1]
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n
    plane = h * wd
    seg = n // 2
    npairs = c_ // 2
    cp = t0 % npairs  # pair index within the image
    if t0 < t1:
        _fill(xf, 2 * t0 * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase, False, w)
        _fill(xf, (2 * t0 + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, abase + seg, False, w)
    cur = abase
    for t in range(t0, t1):
        nxt = 2 * abase + half - cur
        if t + 1 < t1:
            _fill(xf, 2 * (t + 1) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt, False, w)
            _fill(xf, (2 * t + 3) * plane, h, wd, sh, sw, pt, 0, hq, pq, pstride, phases, sf, nxt + seg, False, w)
        w0 = cp * kvol * n
        bv = vload(bp, cp * n, w)
        wt0 = vload(wp, w0 + 0 * n, w)
        wt1 = vload(wp, w0 + 1 * n, w)
        wt2 = vload(wp, w0 + 2 * n, w)
        wt3 = vload(wp, w0 + 3 * n, w)
        wt4 = vload(wp, w0 + 4 * n, w)
        wt5 = vload(wp, w0 + 5 * n, w)
        wt6 = vload(wp, w0 + 6 * n, w)
        wt7 = vload(wp, w0 + 7 * n, w)
        wt8 = vload(wp, w0 + 8 * n, w)
        _step_k3s2_pair(sf, cur, pq, rs, pstride, wt0, wt1, wt2, wt3, wt4, wt5, wt6, wt7, wt8, bv, of, 2 * t * oh * ow, ow, oh * ow, rf, has_res, kind,
                        alpha, beta, oh, w)
        cp = cp + 1 if cp + 1 < npairs else 0
        cur = nxt



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_k3s2_pair_w16_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta, chunks):
    """conv_dw_k3s2_r8_w16_f32 for planes of at most 8 output rows, two channels per vector (see _work_k3s2_pair);
    wp (C/2, KH*KW, W) and bp (C/2, W) hold the two channels' weights and biases in the two vector halves."""
    ntasks = x.shape[0] * g[0] // 2
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_k3s2_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                         beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_k3s2_pair_w16_serial_f32(x, wp, bp, res, out, g, phases, has_res, kind, alpha, beta):
    """conv_dw_k3s2_pair_w16_f32 on the calling thread."""
    ntasks = x.shape[0] * g[0] // 2
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_k3s2_pair(x.reshape(-1), wp, bp, res.reshape(-1), out.reshape(-1), g, phases, has_res, kind, alpha,
                     beta, 0, ntasks, sf, W16)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_generic_r8(sf, s, pq, rs, pstride, offs, wk, w0, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """8 output row(s) x W outputs: 8 accumulator(s) from the bias vector bv; fused epilogue."""
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    for t in range(offs.size):
        wv = _bload(wk, w0 + t, w)
        x = s + offs[t]
        a0 = vfma(vload(sf, x, w), wv, a0)
        a1 = vfma(vload(sf, x + rs, w), wv, a1)
        a2 = vfma(vload(sf, x + 2 * rs, w), wv, a2)
        a3 = vfma(vload(sf, x + 3 * rs, w), wv, a3)
        a4 = vfma(vload(sf, x + 4 * rs, w), wv, a4)
        a5 = vfma(vload(sf, x + 5 * rs, w), wv, a5)
        a6 = vfma(vload(sf, x + 6 * rs, w), wv, a6)
        a7 = vfma(vload(sf, x + 7 * rs, w), wv, a7)
    p0 = o
    p1 = o + min(1, nst - 1) * ow
    p2 = o + min(2, nst - 1) * ow
    p3 = o + min(3, nst - 1) * ow
    p4 = o + min(4, nst - 1) * ow
    p5 = o + min(5, nst - 1) * ow
    p6 = o + min(6, nst - 1) * ow
    p7 = o + min(7, nst - 1) * ow
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
        a1 = vadd(a1, vload_n(rf, p1, last, w))
        a2 = vadd(a2, vload_n(rf, p2, last, w))
        a3 = vadd(a3, vload_n(rf, p3, last, w))
        a4 = vadd(a4, vload_n(rf, p4, last, w))
        a5 = vadd(a5, vload_n(rf, p5, last, w))
        a6 = vadd(a6, vload_n(rf, p6, last, w))
        a7 = vadd(a7, vload_n(rf, p7, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    a1 = activate_cheap(a1, kind, alpha, beta)
    a2 = activate_cheap(a2, kind, alpha, beta)
    a3 = activate_cheap(a3, kind, alpha, beta)
    a4 = activate_cheap(a4, kind, alpha, beta)
    a5 = activate_cheap(a5, kind, alpha, beta)
    a6 = activate_cheap(a6, kind, alpha, beta)
    a7 = activate_cheap(a7, kind, alpha, beta)
    vstore_n(of, p7, a7, last)
    vstore_n(of, p6, a6, last)
    vstore_n(of, p5, a5, last)
    vstore_n(of, p4, a4, last)
    vstore_n(of, p3, a3, last)
    vstore_n(of, p2, a2, last)
    vstore_n(of, p1, a1, last)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(8, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_generic_r8(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 8 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, sh, sw, pt, _, band, hq, pq, pstride = g
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 8 > band:
                        r0 = max(0, band - 8)
                    _step_generic_r8(sf, cur + r0 * rs + col, pq, rs, pstride, offs, wk, w0, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(8, band - r0), w)
                    r0 += 8
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r8_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 8-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_generic_r8_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r8_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r8_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 8-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_generic_r8_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r8_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r8_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 8-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_generic_r8_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r8_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r8(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _step_generic_r1(sf, s, pq, rs, pstride, offs, wk, w0, bv, of, o, ow, rf, has_res, kind, alpha, beta, last, nst, w):
    """1 output row(s) x W outputs: 1 accumulator(s) from the bias vector bv; fused epilogue."""
    a0 = bv
    for t in range(offs.size):
        wv = _bload(wk, w0 + t, w)
        x = s + offs[t]
        a0 = vfma(vload(sf, x, w), wv, a0)
    p0 = o
    if has_res:
        a0 = vadd(a0, vload_n(rf, p0, last, w))
    a0 = activate_cheap(a0, kind, alpha, beta)
    vstore_n(of, p0, a0, last)
    if kind > CHEAP:  # the exp-based activations over the stored rows: inlined, 2x compile time
        activate_rows(of, o, ow, min(1, nst), last, kind, alpha, beta, w)



@njit(cache=True, nogil=True, _nrt=False)
def _work_generic_r1(xf, wk, bias, rf, of, g, offs, phases, has_res, kind, alpha, beta, t0, t1, sf, w):
    """Tasks t0 <= t < t1, a task = (image, input channel, band of output rows): fill the band's planes,
    then for each of the channel's output channels, columns of one vector (the last one masked) x steps of R
    rows. All bands have `band` rows (the last one starts at oh - band) and the last step of a band moves back
    to end at the edge: a few rows are computed twice, no remainder code (a band of fewer than 1 rows takes
    one step storing its rows only). Planes start at 64-byte boundaries (abase).
    sf holds two sets of planes: task t + 1 is filled into one while task t is computed from the other, so
    that the fill's stores retire before they are read (loads that overlap stores still in flight stall)."""
    n = lanes(w)
    c_, mult, h, wd, oh, ow, sh, sw, pt, _, band, hq, pq, pstride = g
    rs = sh * pq
    kvol = offs.size
    nbands = (oh + band - 1) // band
    ncv = (ow + n - 1) // n
    half = _half(g)
    abase = (-(sf.ctypes.data // 4)) % n  # first 64-byte aligned float of sf
    plane = h * wd
    # task t = (img * c_ + c) * nbands + bi: counters instead of divisions per task
    bi = t0 % nbands
    ic = t0 // nbands  # img * c_ + c
    c = ic % c_
    if t0 < t1:
        _fill(xf, ic * plane, h, wd, sh, sw, pt, min(bi * band, oh - band), hq, pq, pstride, phases, sf, abase,
              nbands > 1, w)
    cur = abase
    for t in range(t0, t1):
        nbi, nic, nc = (bi + 1, ic, c) if bi + 1 < nbands else (0, ic + 1, c + 1 if c + 1 < c_ else 0)
        if t + 1 < t1:
            _fill(xf, nic * plane, h, wd, sh, sw, pt, min(nbi * band, oh - band), hq, pq, pstride, phases, sf,
                  2 * abase + half - cur, nbands > 1, w)
        oy0 = min(bi * band, oh - band)
        for j in range(mult):
            m = ic * mult + j  # img * m_ + output channel
            mc = c * mult + j
            bv = _bload(bias, mc, w)
            w0 = mc * kvol
            obase = (m * oh + oy0) * ow
            for cv in range(ncv):
                col = cv * n
                last = min(n, ow - col)
                r0 = 0
                while r0 < band:
                    if r0 + 1 > band:
                        r0 = max(0, band - 1)
                    _step_generic_r1(sf, cur + r0 * rs + col, pq, rs, pstride, offs, wk, w0, bv, of, obase + r0 * ow + col,
                                   ow, rf, has_res, kind, alpha, beta, last, min(1, band - r0), w)
                    r0 += 1
        bi, ic, c = nbi, nic, nc
        cur = 2 * abase + half - cur



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r1_w16_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 1-row steps,
    SIMD width 16; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W16)


@njit(cache=True, nogil=True)
def conv_dw_generic_r1_w16_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r1_w16_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W16)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r1_w8_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 1-row steps,
    SIMD width 8; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W8)


@njit(cache=True, nogil=True)
def conv_dw_generic_r1_w8_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r1_w8_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W8)



@njit(cache=True, parallel=True, nogil=True)
def conv_dw_generic_r1_w4_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta, chunks):
    """out (N, C*mult, OH, OW) = act(depthwise_conv(x (N, C, H, W)) + bias [+ res]), generic taps, 1-row steps,
    SIMD width 4; geometry g, tap offsets offs and phase table phases from `nchw_plan`, weights wk
    (C*mult*KH*KW,) tap-major per channel. prange over `chunks` equal runs of tasks, each with its own
    scratch. The width is a constant here, not an argument: a width token costs 2.3 us per call to unbox."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    for ch in prange(chunks):
        sf = np.zeros(2 * _half(g) + 16, np.float32)
        _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                       alpha, beta, ch * ntasks // chunks, (ch + 1) * ntasks // chunks, sf, W4)


@njit(cache=True, nogil=True)
def conv_dw_generic_r1_w4_serial_f32(x, wk, bias, res, out, g, offs, phases, has_res, kind, alpha, beta):
    """conv_dw_generic_r1_w4_f32 on the calling thread (no parallel region to start)."""
    ntasks = x.shape[0] * g[0] * ((g[4] + g[10] - 1) // g[10])
    sf = np.zeros(2 * _half(g) + 16, np.float32)
    _work_generic_r1(x.reshape(-1), wk, bias, res.reshape(-1), out.reshape(-1), g, offs, phases, has_res, kind,
                   alpha, beta, 0, ntasks, sf, W4)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _ctile8(xf, x0, sxw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):
    """8 output pixels x W channels (NCHWc): 8 accumulators from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    a4 = bv
    a5 = bv
    a6 = bv
    a7 = bv
    for t in range(t0, t1):
        wv = vload(wf, w0 + t * n, w)
        xi = x0 + offs[t]
        a0 = vfma(vload(xf, xi, w), wv, a0)
        a1 = vfma(vload(xf, xi + sxw, w), wv, a1)
        a2 = vfma(vload(xf, xi + 2 * sxw, w), wv, a2)
        a3 = vfma(vload(xf, xi + 3 * sxw, w), wv, a3)
        a4 = vfma(vload(xf, xi + 4 * sxw, w), wv, a4)
        a5 = vfma(vload(xf, xi + 5 * sxw, w), wv, a5)
        a6 = vfma(vload(xf, xi + 6 * sxw, w), wv, a6)
        a7 = vfma(vload(xf, xi + 7 * sxw, w), wv, a7)
    if has_res:
        a0 = vadd(a0, vload(rf, o0, w))
        a1 = vadd(a1, vload(rf, o0 + n, w))
        a2 = vadd(a2, vload(rf, o0 + 2 * n, w))
        a3 = vadd(a3, vload(rf, o0 + 3 * n, w))
        a4 = vadd(a4, vload(rf, o0 + 4 * n, w))
        a5 = vadd(a5, vload(rf, o0 + 5 * n, w))
        a6 = vadd(a6, vload(rf, o0 + 6 * n, w))
        a7 = vadd(a7, vload(rf, o0 + 7 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0 = vmax(a0, z)
        a1 = vmax(a1, z)
        a2 = vmax(a2, z)
        a3 = vmax(a3, z)
        a4 = vmax(a4, z)
        a5 = vmax(a5, z)
        a6 = vmax(a6, z)
        a7 = vmax(a7, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0 = vmin(vmax(a0, lo), hi)
        a1 = vmin(vmax(a1, lo), hi)
        a2 = vmin(vmax(a2, lo), hi)
        a3 = vmin(vmax(a3, lo), hi)
        a4 = vmin(vmax(a4, lo), hi)
        a5 = vmin(vmax(a5, lo), hi)
        a6 = vmin(vmax(a6, lo), hi)
        a7 = vmin(vmax(a7, lo), hi)
    vstore(of, o0, a0)
    vstore(of, o0 + n, a1)
    vstore(of, o0 + 2 * n, a2)
    vstore(of, o0 + 3 * n, a3)
    vstore(of, o0 + 4 * n, a4)
    vstore(of, o0 + 5 * n, a5)
    vstore(of, o0 + 6 * n, a6)
    vstore(of, o0 + 7 * n, a7)
    if kind > CLIP:
        activate_block(of, o0, 0, 1, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _ctile4(xf, x0, sxw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):
    """4 output pixels x W channels (NCHWc): 4 accumulators from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    a2 = bv
    a3 = bv
    for t in range(t0, t1):
        wv = vload(wf, w0 + t * n, w)
        xi = x0 + offs[t]
        a0 = vfma(vload(xf, xi, w), wv, a0)
        a1 = vfma(vload(xf, xi + sxw, w), wv, a1)
        a2 = vfma(vload(xf, xi + 2 * sxw, w), wv, a2)
        a3 = vfma(vload(xf, xi + 3 * sxw, w), wv, a3)
    if has_res:
        a0 = vadd(a0, vload(rf, o0, w))
        a1 = vadd(a1, vload(rf, o0 + n, w))
        a2 = vadd(a2, vload(rf, o0 + 2 * n, w))
        a3 = vadd(a3, vload(rf, o0 + 3 * n, w))
    if kind == RELU:
        z = vzero(w)
        a0 = vmax(a0, z)
        a1 = vmax(a1, z)
        a2 = vmax(a2, z)
        a3 = vmax(a3, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0 = vmin(vmax(a0, lo), hi)
        a1 = vmin(vmax(a1, lo), hi)
        a2 = vmin(vmax(a2, lo), hi)
        a3 = vmin(vmax(a3, lo), hi)
    vstore(of, o0, a0)
    vstore(of, o0 + n, a1)
    vstore(of, o0 + 2 * n, a2)
    vstore(of, o0 + 3 * n, a3)
    if kind > CLIP:
        activate_block(of, o0, 0, 1, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _ctile2(xf, x0, sxw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):
    """2 output pixels x W channels (NCHWc): 2 accumulators from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    a1 = bv
    for t in range(t0, t1):
        wv = vload(wf, w0 + t * n, w)
        xi = x0 + offs[t]
        a0 = vfma(vload(xf, xi, w), wv, a0)
        a1 = vfma(vload(xf, xi + sxw, w), wv, a1)
    if has_res:
        a0 = vadd(a0, vload(rf, o0, w))
        a1 = vadd(a1, vload(rf, o0 + n, w))
    if kind == RELU:
        z = vzero(w)
        a0 = vmax(a0, z)
        a1 = vmax(a1, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0 = vmin(vmax(a0, lo), hi)
        a1 = vmin(vmax(a1, lo), hi)
    vstore(of, o0, a0)
    vstore(of, o0 + n, a1)
    if kind > CLIP:
        activate_block(of, o0, 0, 1, 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _ctile1(xf, x0, sxw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):
    """1 output pixels x W channels (NCHWc): 1 accumulators from the bias vector bv; fused epilogue."""
    n = lanes(w)
    a0 = bv
    for t in range(t0, t1):
        wv = vload(wf, w0 + t * n, w)
        xi = x0 + offs[t]
        a0 = vfma(vload(xf, xi, w), wv, a0)
    if has_res:
        a0 = vadd(a0, vload(rf, o0, w))
    if kind == RELU:
        z = vzero(w)
        a0 = vmax(a0, z)
    elif kind == CLIP:
        lo = vbroadcast(alpha, w)
        hi = vbroadcast(beta, w)
        a0 = vmin(vmax(a0, lo), hi)
    vstore(of, o0, a0)
    if kind > CLIP:
        activate_block(of, o0, 0, 1, 1 * n, kind, alpha, beta, w)
# ---- end of generated code ----


@njit(cache=True, nogil=True, _nrt=False, inline="always")
def _cpixel(xf, xrow, ix0, wd, dw, kw, offs, t0, t1, wf, w0, bv, of, o0, rf, has_res, kind, alpha, beta, w):
    """One NCHWc output pixel whose taps may fall left or right of the row: out-of-row taps skipped."""
    n = lanes(w)
    a0 = bv
    for t in range(t0, t1):
        ix = ix0 + (t % kw) * dw
        if 0 <= ix < wd:
            a0 = vfma(vload(xf, xrow + ix0 * n + offs[t], w), vload(wf, w0 + t * n, w), a0)
    if has_res:
        a0 = vadd(a0, vload(rf, o0, w))
    if kind != 0:
        a0 = activate(a0, kind, alpha, beta)
    vstore(of, o0, a0)


@njit(cache=True, nogil=True, _nrt=False)
def _nchwc_rows(xf, wf, bias, rf, of, offs, geo, has_res, kind, alpha, beta, t0, t1, w):
    """Tasks t0..t1 of (image x channel block x output row) of the NCHWc core; geo: see nchwc_geometry."""
    n = lanes(w)
    cb, h, wd, oh, ow, kh, kw = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6]
    sh, sw, dh, dw, pt, pl, ox_lo, ox_hi = geo[7], geo[8], geo[9], geo[10], geo[11], geo[12], geo[13], geo[14]
    sxw = sw * n
    for task in range(t0, t1):
        img = task // (cb * oh)
        blk = (task // oh) % cb
        oy = task % oh
        iy0 = oy * sh - pt
        b_lo = 0 if iy0 >= 0 else min(kh, (-iy0 + dh - 1) // dh)
        b_hi = max(b_lo, min(kh, (h - 1 - iy0) // dh + 1)) if h - 1 - iy0 >= 0 else b_lo
        t0_, t1_ = b_lo * kw, b_hi * kw
        xrow = ((img * cb + blk) * h + iy0) * wd * n
        w0 = blk * kh * kw * n
        bv = vload(bias, blk * n, w)
        orow = ((img * cb + blk) * oh + oy) * ow * n
        for ox in range(ox_lo):
            _cpixel(xf, xrow, ox * sw - pl, wd, dw, kw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf, has_res,
                    kind, alpha, beta, w)
        ox = ox_lo
        while ox_hi - ox >= 8:
            _ctile8(xf, xrow + (ox * sw - pl) * n, sxw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf,
                    has_res, kind, alpha, beta, w)
            ox += 8
        if ox_hi - ox >= 4:
            _ctile4(xf, xrow + (ox * sw - pl) * n, sxw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf,
                    has_res, kind, alpha, beta, w)
            ox += 4
        if ox_hi - ox >= 2:
            _ctile2(xf, xrow + (ox * sw - pl) * n, sxw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf,
                    has_res, kind, alpha, beta, w)
            ox += 2
        if ox_hi - ox >= 1:
            _ctile1(xf, xrow + (ox * sw - pl) * n, sxw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf,
                    has_res, kind, alpha, beta, w)
        for ox in range(ox_hi, ow):
            _cpixel(xf, xrow, ox * sw - pl, wd, dw, kw, offs, t0_, t1_, wf, w0, bv, of, orow + ox * n, rf,
                    has_res, kind, alpha, beta, w)


@njit(cache=True, parallel=True, nogil=True)
def conv_depthwise_nchwc_f32(x, wp, bias, offs, geo, res, has_res, kind, alpha, beta, out, chunks, w):
    """NCHWc depthwise core (channel multiplier 1), for blocked buffers: out (N, Cb, OH, OW, W) =
    act(conv(x (N, Cb, H, Wd, W), wp (Cb, KH, KW, W)) + bias (Cb*W,) [+ res (out's shape)]). Pads are not
    materialised: rows outside the image drop their taps, pixels whose taps leave the row go through
    _cpixel, the others through 8/4/2/1-pixel tiles. prange over `chunks` runs of (image x channel block x
    output row) tasks."""
    tasks = x.shape[0] * geo[0] * geo[3]
    for ch in prange(chunks):
        _nchwc_rows(x.reshape(-1), wp.reshape(-1), bias, res.reshape(-1), out.reshape(-1), offs, geo, has_res,
                    kind, alpha, beta, ch * tasks // chunks, (ch + 1) * tasks // chunks, w)


@njit(cache=True, nogil=True)
def conv_depthwise_nchwc_serial_f32(x, wp, bias, offs, geo, res, has_res, kind, alpha, beta, out, w):
    """conv_depthwise_nchwc_f32 on the calling thread."""
    _nchwc_rows(x.reshape(-1), wp.reshape(-1), bias, res.reshape(-1), out.reshape(-1), offs, geo, has_res, kind,
                alpha, beta, 0, x.shape[0] * geo[0] * geo[3], w)


def nchwc_geometry(cfg, width: int):
    """(offs, geo) of the NCHWc core: offs[tap] = flat offset of tap (b, e) from a window's first pixel;
    geo (int64) = Cb, H, W, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, and the output columns [ox_lo, ox_hi)
    whose taps all lie inside the row."""
    _, kh, kw = cfg.kernel
    _, sh, sw = cfg.strides
    _, dh, dw = cfg.dilations
    _, pt, pl = cfg.pads_begin
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    offs = np.array([(b * dh * wd + e * dw) * width for b in range(kh) for e in range(kw)], np.int64)
    ox_lo = min(ow, (pl + sw - 1) // sw)  # first pixel whose leftmost tap is inside the row
    ox_hi = max(ox_lo, min(ow, (wd - 1 - (kw - 1) * dw + pl) // sw + 1))  # past the last with all inside
    geo = np.array([-(-cfg.in_channels // width), h, wd, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, ox_lo, ox_hi],
                   np.int64)
    return offs, geo


def supports(cfg) -> bool:
    """Depthwise (group == C_in, any channel multiplier) 1-D / 2-D convolution."""
    return cfg.depthwise and cfg.rank <= 2


def supports_nchwc(cfg) -> bool:
    """The NCHWc core needs one output channel per input channel (the blocks line up)."""
    return supports(cfg) and cfg.out_channels == cfg.in_channels


def nchw_plan(cfg, width: int):
    """Plan-time geometry of the NCHW kernel: (name, g, offs, phases).

    Column-phase planes (sw of them, stride-2 columns split into even and odd): pq columns (enough for the
    last output's rightmost tap, rounded up to whole vectors), hq padded input rows per band, planes pstride floats apart (a gap of 2 W for
    the reads of lanes past the row's end). A tap (b, e) reads plane (e*dw) % sw at row offset b*dh and column
    offset (e*dw) // sw, output row i of the band starts at row i * sh, so output (i, ox) and tap (b, e) are
    at flat position i * sh * pq + ox + offs[tap]. Bands hold about SCRATCH_FLOATS of planes and at least
    one step of rows; the last band starts at oh - band. name: the generated kernel, by tap pattern and step
    height. phases[rx] = (used, j0, x0, cnt): see _fill."""
    _, kh, kw = cfg.kernel
    _, sh, sw = cfg.strides
    _, dh, dw = cfg.dilations
    _, pt, pl = cfg.pads_begin
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    pq = -(-(ow + (kw - 1) * dw // sw) // width) * width  # whole vectors: aligned rows
    extent = (kh - 1) * dh + 1
    rr = STEP_ROWS[0] if oh >= STEP_ROWS[0] // 2 else STEP_ROWS[-1]  # step height
    band = max(min(rr, oh), min(oh, (SCRATCH_FLOATS // (sw * pq) - extent) // sh + 1))
    nbands = -(-oh // band)
    band = -(-oh // nbands)  # about equal bands
    hq = (max(band, rr) - 1) * sh + extent  # a step reads rr rows, stored or not
    pstride = hq * pq + 2 * width
    taps = phase_taps(kh, kw, sw, dh, dw)
    offs = np.array([p * pstride + qy * pq + qx for p, qy, qx in taps], np.int64)
    phases = np.zeros((sw, 4), np.int64)
    for rx in range(sw):
        j0 = (pl - rx + sw - 1) // sw  # first column inside the image
        x0 = j0 * sw + rx - pl
        cnt = max(0, min(pq - j0, (wd - x0 + sw - 1) // sw))
        phases[rx] = (any(p == rx for p, _, _ in taps), j0, x0, cnt)
    name = next((k for k, v in SPECIALIZED.items() if v == (kh, kw, sh, sw) and (dh, dw) == (1, 1)), "generic")
    if name != "generic" and _pairs_fit(cfg, width, taps):
        # two channels per vector: rows of W floats hold two W/2-float segments
        pq, band = width, oh
        hq = (STEP_ROWS[0] - 1) * sh + extent
        pstride = hq * pq + 2 * width
        phases[:, 3] = np.minimum(phases[:, 3], width // 2 - phases[:, 1])
        name = f"{name}_pair"
    else:
        name = f"{name}_r{rr}"
    g = (cfg.in_channels, cfg.out_channels // cfg.in_channels, h, wd, oh, ow, sh, sw, pt, pl, band, hq, pq,
         pstride)
    return name, g, offs, phases


def _pairs_fit(cfg, width, taps) -> bool:
    """Two channels per vector (a W/2-lane segment each, one 8-row step per pair): W = 16, multiplier 1, an
    even channel count, at most 8 output rows, and each segment's data columns and the columns its valid
    outputs read fit before the next segment's first data column (the zeros between act as both borders).
    The 7x7 and 14 -> 7 (stride 2) planes of MobileNets: 87% of the lanes useful instead of 44%."""
    _, _, sw = cfg.strides
    _, _, pl = cfg.pads_begin
    _, _, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    seg = width // 2
    if width != 16 or cfg.out_channels != cfg.in_channels or cfg.in_channels % 2 or oh > STEP_ROWS[0]:
        return False
    for rx in range(sw):
        qxs = [qx for p, _, qx in taps if p == rx]
        if not qxs:
            continue
        j0 = (pl - rx + sw - 1) // sw
        x0 = j0 * sw + rx - pl
        cnt = max(0, (wd - x0 + sw - 1) // sw)
        if j0 + cnt > seg or ow - 1 + max(qxs) >= seg + j0:
            return False
    return True


def make_runner(cfg, platform, w, b, epilogue=NO_EPILOGUE, parallel=None):
    """run(x NCHW float32, residual NCHW or None) -> (y NCHW,): the NCHW kernel, weights packed once.
    parallel: None = decide from the layer's size (see `parallel_pays`)."""
    width = platform.simd_width
    m = cfg.out_channels
    wk = np.ascontiguousarray(np.asarray(w, np.float32).reshape(-1))
    bias = np.zeros(m, np.float32) if b is None else np.ascontiguousarray(b, np.float32).reshape(m)
    name, g, offs, phases = nchw_plan(cfg, width)
    par_fn = bound(globals()[f"conv_dw_{name}_w{width}_f32"])
    ser_fn = bound(globals()[f"conv_dw_{name}_w{width}_serial_f32"])
    if name.endswith("_pair"):  # weights and biases of channels 2k, 2k + 1 in the two halves of a vector
        kvol = cfg.kvol
        wk = np.ascontiguousarray(np.repeat(wk.reshape(m // 2, 2, kvol).transpose(0, 2, 1), width // 2, axis=2))
        bias = np.ascontiguousarray(np.repeat(bias.reshape(m // 2, 2), width // 2, axis=1))
        offs = None
    kind, alpha, beta = epilogue.args
    kind, alpha, beta = int(kind), float(alpha), float(beta)  # plain Python numbers: cheaper to unbox
    c, h, wd = cfg.in_channels, cfg.in_spatial[1], cfg.in_spatial[2]
    oh, ow = cfg.out_spatial[1], cfg.out_spatial[2]
    threads = platform.num_threads
    if parallel is None:
        parallel = threads > 1 and parallel_pays(cfg)
    ntasks_per_image = c * -(-oh // g[10])

    @accepts_out
    def run(x, residual=None, out=None):
        n_ = x.shape[0]
        x4 = np.ascontiguousarray(x, np.float32).reshape(n_, c, h, wd)
        y = output(out, cfg.output_shape)
        res = NO_RESIDUAL
        if epilogue.residual:
            res = np.ascontiguousarray(residual, np.float32).reshape(-1)
        o4 = y.reshape(n_, m, oh, ow)
        args = (x4, wk, bias, res, o4, g) + ((phases,) if offs is None else (offs, phases))
        if parallel:
            par_fn(*args, epilogue.residual, kind, alpha, beta, min(threads, n_ * ntasks_per_image))
        else:
            ser_fn(*args, epilogue.residual, kind, alpha, beta)
        return (y,)

    return run


def parallel_pays(cfg) -> bool:
    """Use the prange driver only for layers moving more than PARALLEL_FLOATS floats (about 270 us of serial
    work at ~0.09 us per 1000 floats). On the shared 2-vCPU dev VM, 2 threads ran MobileNetV2's three biggest
    depthwise layers (32x112x112, 96x112x112 s2, 144x56x56: 65-145 us serial) 1.6-1.9x faster when the other
    vCPU was free, but an OpenMP parallel region waits for its second thread: with fastconv's
    OMP_WAIT_POLICY=PASSIVE starting it measured ~7 us, ~60 us when the other vCPU was halted, and ~1 ms
    whenever another process held that vCPU (bench/kernels.py: 1.04-1.16 ms instead of 0.05-0.15 ms, while
    onnxruntime's pool, whose calling thread does the work itself, stayed unaffected). Until fastconv's
    threading avoids that wait, layers this small run on the calling thread."""
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    return cfg.batch * (cfg.in_channels * h * wd + cfg.out_channels * oh * ow) > PARALLEL_FLOATS


def make_runner_nchwc(cfg, platform, w, b, epilogue=NO_EPILOGUE, blocked_in=False, blocked_res=False,
                      blocked_out=False):
    """run(x, residual=None, out=None) -> (y,) through the NCHWc core. x, the residual and y are NCHW unless
    blocked_in / blocked_res / blocked_out say they are NCHWc (the layout pass's buffers, fastconv/plan/
    layout.py); plain ones are reordered here."""
    width = platform.simd_width
    tok = width_token(width)
    c = cfg.in_channels
    cb = -(-c // width)
    _, kh, kw = cfg.kernel
    wp = layout.pack_depthwise_to_Chwc(np.asarray(w, np.float32).reshape(c, 1, kh, kw), width)
    bias = np.zeros(cb * width, np.float32)
    if b is not None:
        bias[:c] = np.asarray(b, np.float32).reshape(c)
    offs, geo = nchwc_geometry(cfg, width)
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    kind, alpha, beta = epilogue.args
    kind, alpha, beta = int(kind), float(alpha), float(beta)
    threads = platform.num_threads
    parallel = threads > 1 and parallel_pays(cfg)
    par, ser = bound(conv_depthwise_nchwc_f32), bound(conv_depthwise_nchwc_serial_f32)

    @accepts_out
    def run(x, residual=None, out=None):
        n_ = x.shape[0]
        if blocked_in:
            xc = np.ascontiguousarray(x)
        else:
            xc = layout.reorder_nchw_to_nchwc(np.ascontiguousarray(x, np.float32).reshape(n_, c, h, wd), width)
        res = NO_RESIDUAL
        if epilogue.residual:
            res = np.ascontiguousarray(residual) if blocked_res else layout.reorder_nchw_to_nchwc(
                np.ascontiguousarray(residual, np.float32).reshape(n_, c, oh, ow), width)
            res = res.reshape(-1)   # one kernel specialisation for every residual layout (and NO_RESIDUAL)
        shape = (n_, cb, oh, ow, width)
        yc = output(out, shape) if blocked_out else np.empty(shape, np.float32)
        if parallel:
            par(xc, wp, bias, offs, geo, res, epilogue.residual, kind, alpha, beta, yc,
                min(threads, n_ * cb * oh), tok)
        else:
            ser(xc, wp, bias, offs, geo, res, epilogue.residual, kind, alpha, beta, yc, tok)
        if blocked_out:
            return (yc,)
        y = output(out, (n_, *cfg.output_shape[1:]))
        layout.reorder_nchwc_to_nchw(yc, c, y.reshape(n_, c, oh, ow))
        return (y,)

    return run


if __name__ == "__main__":
    regenerate(__file__, emit_all())
