"""First-layer ("stem") convolution: dense conv (group 1) with few input channels (C <= 4, e.g. RGB), any kernel,
stride, dilation and asymmetric padding, straight from the NCHW input (no channel padding to the block width,
which wastes 13 of 16 FMAs with 3 channels), fused epilogue (bias, residual, activation).

Input strips. A task is a run of consecutive output rows of one image (`chunk_rows`: up to 16, about 4 tasks
per thread). It keeps a small ring buffer (the strip: per input channel, `slots` input rows, a power of two
covering the dilated kernel height) in which each input row is stored split into its sw stride phases,
x[c, iy, k*sw + p - pl] at element k of phase p, zero-padded (`_load_rows`: deinterleaving shuffles for sw = 2,
a vector copy for sw = 1; the padding is written once per task). Then for every kernel tap (c, i, j) the
pixels of an output row are consecutive elements of one phase row, whatever the stride and dilation, and
consecutive output rows load only their sh new input rows. `xoff[(c*KH + i)*KW + j]` is the tap's strip
offset for the row (`_row_offsets`); the micro-kernels loop over that table.

NCHW output (`conv_stem_nchw_f32`, the registered kernel): register tile `_p4x{V}` = 4 output channels x V
vectors of W consecutive output pixels (V <= 5: 20 accumulators + 5 input vectors + the weight broadcasts
in 32 zmm). Per tap: V vector loads of the strip, 4 broadcast weights (packed [C][KH][KW][4] per group of 4
channels, `pack_weights_nchw`), 4V FMAs; the accumulators are stored straight into the NCHW rows, so no
reorder pass. A row is 5-vector tiles plus a 3/4-vector tail (`emit_prow`), the last tile overlapping the one
before when OW is not a multiple of W; channels past a multiple of 4 take 1-channel tiles; rows narrower than
W go through a W-float scratch.
NCHWc output (`conv_stem_nchwc_f32`, the core for the layout pass; not registered): register tile `_s{B}x{T}` =
T output pixels x B blocks of W output channels (4x6, 3x8, 2x12, 1x24); per tap B weight vectors and T
broadcast loads from the strip. `make_runner(..., mode="nchwc")` puts it behind a reorder to NCHW.

Epilogue: bias starts the accumulators, then + residual, Relu / Clip in registers before the one store; the
other activations run over the tile's just-stored block (L1) by `activate_block` (epilogue.py): inlining every
activation into every tile made each tile compile in 2.7 s instead of 0.5 s (x 20 tiles x 2 widths).

16 vector registers (AVX2, `narrow`): 4 x 6 and 4 x 5 tiles (24 / 20 accumulators) spill there, so rows use
the tiles of TILES[16] / PVECS[16] (test_conv_stem reads their assembly). Measured 2026-11-25 on a 2-core AMD
EPYC with AVX2 (W = 8), ratio to onnxruntime interleaved, NCHWc output, 1 / 2 threads, spilling tiles ->
16-register tiles: 7x7 ResNet stem 1.83 / 1.88 -> 1.01 / 0.91; SqueezeNet 3x3 1.66 / 1.63 -> 0.80 / 0.69;
3x224 -> 32 k3 1.20 / 1.48 -> 0.84 / 0.76; 3x640 -> 16 k3 0.94 / 0.97 -> 0.58 / 0.51. (The NCHW kernel gains
as much on one thread but scales poorly to two: 7x7 0.98 / 1.59.)

Measured (2-core AMD EPYC Zen 5, AVX-512, W = 16, 2026-11-24; fastconv session vs onnxruntime, interleaved,
median of 40-60 runs; ms fastconv / ms onnxruntime = ratio. onnxruntime's 2-thread times vary between runs on
this shared VM, 0.54-0.95 ms on the 7x7 stem: against its best, 0.54 ms, the 2-thread ratio there is 0.95):
                                        1 thread                 2 threads
    3x224x224 -> 64 k7 s2 p3 (ResNet)   0.91 / 0.92 = 0.99       0.51 / 0.91 = 0.56
    3x224x224 -> 64 k3 s2 p0 (Squeeze)  0.22 / 0.23 = 0.93       0.14 / 0.14 = 0.96-1.01 (0.15 / 0.23 = 0.66)
    3x224x224 -> 16 k3 s2 p1            0.087 / 0.078 = 1.11     0.052 / 0.066 = 0.79
    3x224x224 -> 32 k3 s2 p1            0.13 / 0.12 = 1.10       0.076 / 0.085 = 0.90
    3x640x640 -> 16 k3 s2 p1            0.72 / 0.81 = 0.89       0.34 / 0.73 = 0.46
    3x640x640 -> 32 k3 s2 p1            1.45 / 1.52 = 0.96       0.82 / 1.11 = 0.74
    3x640x640 -> 32 k6 s2 p2 (YOLOv5)   3.45 / 3.30 = 1.05       1.76 / 2.01 = 0.88
    3x224x224 -> 96 k4 s4 (ConvNeXt)    0.185 / 0.144 = 1.28     0.114 / 0.116 = 0.98
im2col + BLAS took 2.38 / 2.31 ms (7x7, 1 / 2 threads) and 0.42 / 0.46 ms (Squeeze). The 7x7 stem runs at 255
GFLOP/s on one thread, 89% of the FMA peak; the 3x3 stems are bounded by loading the input rows (the strip
load of a 3->16 row costs 40% of its arithmetic) and per-call overhead (~13 us of numba dispatch and session
at ~90 us). The NCHWc core + reorder is 1.15-1.5x slower than the NCHW kernel behind a reorder (1.04 vs 0.90 ms
on the 7x7, 0.34 vs 0.22 on Squeeze).
Choices measured along the way (1 thread): NCHWc tiles transposed W x W in registers into NCHW rows: 0.49 ms
on Squeeze (vs 0.35 then for the NCHW tiles); one zero-padded phase-split copy of the whole input per call
instead of strips: 85 us at 224x224, 574 us at 640x640; tiles in isolation (GFLOP/s, 7x7 / 3x3): 4x5 277 / 256,
4x6, 6x4, 8x3 the same, 5x5 248 / 245, 3x8 134 (spills), 4x3 265, 4x2 221, 4x1 144 (hence 4+3 tails, not 5+2);
one call per tile instead of one per run of channel groups: 40% slower on 3x3 rows (a call passes ~50
arguments: arrays travel as 7-field structs).

The `_s*` / `_p*` tiles and `_row*` / `_prow*` row loops are generated source (Numba's cache needs real source):
edit `emit_tiles` and rerun `python -m fastconv.kernels.numba.conv_stem` to rewrite the generated section.
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core.errors import TypingError
from numba.extending import intrinsic

from fastconv.kernels.buffers import accepts_out, output, take_shaped
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.codegen import regenerate
from fastconv.kernels.numba.conv_nchwc import _bload
from fastconv.kernels.numba.epilogue import (
    CLIP,
    NO_EPILOGUE,
    NO_RESIDUAL,
    RELU,
    activate,
    activate_block,
    emit_epilogue,
)
from fastconv.kernels.numba.simd import (
    _width_of,
    lanes,
    vadd,
    vbroadcast,
    vfma,
    vload,
    vmax,
    vmin,
    vstore,
    vzero,
    width_token,
)
from fastconv.platform import Platform

MAX_CHANNELS = 4
# NCHWc-output tiles per register file (32 vectors: AVX-512, NEON; 16: AVX2): blocks of W output channels ->
# output pixels per register tile, B*T accumulators + B weight vectors + one broadcast within the registers. A
# row ends with one tile overlapping the previous one.
TILES = {32: {4: 6, 3: 8, 2: 12, 1: 24}, 16: {4: 2, 3: 4, 2: 6, 1: 8}}
# NCHW-output tiles: PCHANNELS output channels x up to PVECS[registers] vectors of W consecutive output pixels
# (4 x 5: 20 accumulators + 5 input vectors + the weight broadcast; 4 x 3 in 16 registers); channels past a
# multiple of 4 go one at a time.
PCHANNELS = (4, 1)
PVECS = {32: 5, 16: 3}
# a row's last two tiles (vectors) where the full tiles would leave 1 or 2 vectors (short tiles run below peak)
PTAILS = {32: {1: (3, 3), 2: (4, 3)}, 16: {1: (2, 2)}}
_F32 = ir.FloatType()

_EPI = "rf, has_res, kind, alpha, beta, w"


def emit_tile(nb, t):
    """Source of `_s{nb}x{t}` (NCHWc output): cnt tiles side by side, each t consecutive output pixels x nb blocks
    of W output channels; accumulators a{b}_{j}; per step (c, kh, kw) nb weight vector loads and t input
    broadcasts. One call does a run of tiles: a call passes ~50 arguments (arrays travel as 7-field structs),
    which cost as much as a 3x3 tile's arithmetic."""
    L = []
    a = L.append
    a("@njit(cache=True, nogil=True)")
    a(f"def _s{nb}x{t}(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, {_EPI}):")
    a(f'    """cnt x {t} output pixels (from strip offset x0, output offset o0) x {nb} block(s) of W output channels,\n'
      '    NCHWc; fused epilogue."""')
    a("    n = lanes(w)")
    a("    for q in range(cnt):")
    a(f"        xq = x0 + q * {t}")
    a(f"        oq = o0 + q * {t} * n")
    for b in range(nb):
        a(f"        a{b}_0 = vload(bf, b0 + {b} * n, w)" if b else "        a0_0 = vload(bf, b0, w)")
        for j in range(1, t):
            a(f"        a{b}_{j} = a{b}_0")
    a("        wi = w0")
    a("        for s in range(xoff.size):")
    a("            xi = xq + xoff[s]")
    for b in range(nb):
        a(f"            v{b} = vload(wf, wi + {b} * n, w)" if b else "            v0 = vload(wf, wi, w)")
    for j in range(t):
        a(f"            x = _bload(xf, xi + {j}, w)" if j else "            x = _bload(xf, xi, w)")
        for b in range(nb):
            a(f"            a{b}_{j} = vfma(x, v{b}, a{b}_{j})")
    a(f"            wi += {nb} * n")
    accs = [f"a{b}_{j}" for b in range(nb) for j in range(t)]
    offs = ["oq" + (f" + {b} * obs" if b else "") + (f" + {j} * n" if j else "") for b in range(nb) for j in range(t)]
    emit_epilogue(a, accs, offs, nb, "obs", f"{t} * n", "oq", "        ")
    return "\n".join(L) + "\n"


def emit_row(nb, regs):
    """Source of `_row{nb}_r{regs}`: one NCHWc output row of nb channel blocks in tiles for `regs` registers."""
    t = TILES[regs][nb]
    L = []
    a = L.append
    a("@njit(cache=True, nogil=True)")
    a(f"def _row{nb}_r{regs}(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, {_EPI}):")
    a(f'    """Output pixels 0..ow-1 of one row, {nb} block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last '
      f'tile\n    overlaps the one before (when ow >= {t})."""')
    a("    n = lanes(w)")
    a(f"    full = ow // {t}")
    a(f"    _s{nb}x{t}(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, {_EPI})")
    a(f"    if full * {t} < ow:")
    a("        if full > 0:")
    a(f"            _s{nb}x{t}(xf, wf, bf, of, xoff, ow - {t}, 1, w0, b0, o0 + (ow - {t}) * n, obs, {_EPI})")
    a("        else:")
    a(f"            _s{nb}x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, {_EPI})")
    return "\n".join(L) + "\n"


def emit_ptile(r, v):
    """Source of `_p{r}x{v}` (NCHW output): r output channels x v vectors of W consecutive output pixels, for
    each group of r channels in [m_lo, m_hi) (one call per tile position: see `emit_tile` on call costs);
    accumulators a{k}_{j}; per step v input vector loads and r weight broadcasts."""
    L = []
    a = L.append
    a("@njit(cache=True, nogil=True)")
    a(f"def _p{r}x{v}(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, {_EPI}):")
    a(f'    """{v} vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels\n'
      f'    m_lo..m_hi-1, {r} at a time, NCHW; fused epilogue."""')
    a("    n = lanes(w)")
    a("    ksteps = xoff.size")
    a(f"    for m0 in range(m_lo, m_hi, {r}):")
    a("        om = o0 + m0 * ocs")
    for k in range(r):
        a(f"        a{k}_0 = vbroadcast(bf[m0 + {k}], w)" if k else "        a0_0 = vbroadcast(bf[m0], w)")
        for j in range(1, v):
            a(f"        a{k}_{j} = a{k}_0")
    a("        wi = (m0 // 4) * 4 * ksteps + m0 % 4")
    a("        for s in range(ksteps):")
    a("            xi = x0 + xoff[s]")
    for j in range(v):
        a(f"            x{j} = vload(xf, xi + {j} * n, w)" if j else "            x0v = vload(xf, xi, w)")
    for k in range(r):
        a(f"            wv = _bload(wf, wi + {k}, w)" if k else "            wv = _bload(wf, wi, w)")
        for j in range(v):
            a(f"            a{k}_{j} = vfma({'x0v' if j == 0 else f'x{j}'}, wv, a{k}_{j})")
    a("            wi += 4")
    accs = [f"a{k}_{j}" for k in range(r) for j in range(v)]
    offs = ["om" + (f" + {k} * ocs" if k else "") + (f" + {j} * n" if j else "") for k in range(r) for j in range(v)]
    emit_epilogue(a, accs, offs, r, "ocs", f"{v} * n", "om", "        ")
    return "\n".join(L) + "\n"


def emit_prow(r, regs):
    """Source of `_prow{r}_r{regs}`: one NCHW output row of r channels, split into tiles of V = PVECS[regs]
    vectors with the tails of PTAILS (5+1 -> 3+3, 5+2 -> 4+3; 3+1 -> 2+2: short tiles run below peak); the last
    tile ends at the row's end, overlapping the one before when ow is not a multiple of W (rows of up to V
    partial vectors: two tiles of about half). Every tile call is a static call site: a call through a run-time
    tile width measured 40% slower (LLVM merges the inlined tiles)."""
    vmax, tails = PVECS[regs], PTAILS[regs]
    (second,) = {b for _, b in tails.values()}
    L = []
    a = L.append

    def call(v, x, indent):
        a(f"{' ' * indent}_p{r}x{v}(xf, wf, bf, of, xoff, {x}, m_lo, m_hi, o0 + {x}, ocs, {_EPI})")

    def by_width(var, x, indent, widths):
        """if/elif on var over widths (the last one the else), calling the tile of that width."""
        if len(widths) == 1:
            call(widths[0], x, indent)
            return
        for k, v in enumerate(widths):
            a(f"{' ' * indent}{'if' if k == 0 else 'elif' if k < len(widths) - 1 else 'else'}"
              f"{f' {var} == {v}' if k < len(widths) - 1 else ''}:")
            call(v, x, indent + 4)

    a("@njit(cache=True, nogil=True)")
    a(f"def _prow{r}_r{regs}(xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, {_EPI}):")
    a(f'    """Output pixels 0..ow-1 (ow >= W) of one row (pixel ox at strip offset ox, at o0 + ox in channel 0),\n'
      f'    channels m_lo..m_hi-1, {r} at a time."""')
    a("    n = lanes(w)")
    a("    nv = (ow + n - 1) // n")
    a(f"    if nv <= {vmax} and nv * n > ow:  # one tile would be wider than the row: two, ceil(nv/2) + floor(nv/2) "
      "vectors")
    shorts = list(range(vmax, 1, -1))
    for k, v in enumerate(shorts):
        head = "if" if k == 0 else "elif" if k < len(shorts) - 1 else "else"
        a(f"        {head}{f' nv == {v}' if k < len(shorts) - 1 else ''}:")
        call((v + 1) // 2, "0", 12)
        a(f"            x = ow - {v // 2} * n")
        call(v // 2, "x", 12)
    a("        return")
    a(f"    q, t1, t2 = nv // {vmax}, nv % {vmax}, 0")
    for k, (t, (first, sec)) in enumerate(sorted(tails.items())):
        a(f"    {'if' if k == 0 else 'elif'} q > 0 and t1 == {t}:")
        a(f"        q, t1, t2 = q - 1, {first}, {sec}")
    a("    ox = 0")
    a("    for k in range(q):")
    a(f"        x = ow - {vmax} * n if t1 == 0 and k == q - 1 else ox")
    call(vmax, "x", 8)
    a(f"        ox += {vmax} * n")
    a("    if t2 > 0:")
    by_width("t1", "ox", 8, sorted({f for f, _ in tails.values()}, reverse=True))
    a(f"        x = ow - {second} * n")
    call(second, "x", 8)
    a("    elif t1 > 0:")
    a("        x = ow - t1 * n")
    by_width("t1", "x", 8, list(range(vmax - 1, 0, -1)))
    return "\n".join(L) + "\n"


def emit_tiles():
    parts = []
    for nb in (1, 2, 3, 4):
        for t in sorted({TILES[regs][nb] for regs in TILES}, reverse=True) + [1]:
            parts.append(emit_tile(nb, t))
        parts += [emit_row(nb, regs) for regs in sorted(TILES, reverse=True)]
    for r in PCHANNELS:
        parts += [emit_ptile(r, v) for v in range(max(PVECS.values()), 0, -1)]
        parts += [emit_prow(r, regs) for regs in sorted(PVECS, reverse=True)]
    return "\n\n".join(parts)


# ---- generated code (emitted by this module's emit function): do not edit by hand ----
@njit(cache=True, nogil=True)
def _s1x24(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 24 output pixels (from strip offset x0, output offset o0) x 1 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 24
        oq = o0 + q * 24 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a0_6 = a0_0
        a0_7 = a0_0
        a0_8 = a0_0
        a0_9 = a0_0
        a0_10 = a0_0
        a0_11 = a0_0
        a0_12 = a0_0
        a0_13 = a0_0
        a0_14 = a0_0
        a0_15 = a0_0
        a0_16 = a0_0
        a0_17 = a0_0
        a0_18 = a0_0
        a0_19 = a0_0
        a0_20 = a0_0
        a0_21 = a0_0
        a0_22 = a0_0
        a0_23 = a0_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            x = _bload(xf, xi + 6, w)
            a0_6 = vfma(x, v0, a0_6)
            x = _bload(xf, xi + 7, w)
            a0_7 = vfma(x, v0, a0_7)
            x = _bload(xf, xi + 8, w)
            a0_8 = vfma(x, v0, a0_8)
            x = _bload(xf, xi + 9, w)
            a0_9 = vfma(x, v0, a0_9)
            x = _bload(xf, xi + 10, w)
            a0_10 = vfma(x, v0, a0_10)
            x = _bload(xf, xi + 11, w)
            a0_11 = vfma(x, v0, a0_11)
            x = _bload(xf, xi + 12, w)
            a0_12 = vfma(x, v0, a0_12)
            x = _bload(xf, xi + 13, w)
            a0_13 = vfma(x, v0, a0_13)
            x = _bload(xf, xi + 14, w)
            a0_14 = vfma(x, v0, a0_14)
            x = _bload(xf, xi + 15, w)
            a0_15 = vfma(x, v0, a0_15)
            x = _bload(xf, xi + 16, w)
            a0_16 = vfma(x, v0, a0_16)
            x = _bload(xf, xi + 17, w)
            a0_17 = vfma(x, v0, a0_17)
            x = _bload(xf, xi + 18, w)
            a0_18 = vfma(x, v0, a0_18)
            x = _bload(xf, xi + 19, w)
            a0_19 = vfma(x, v0, a0_19)
            x = _bload(xf, xi + 20, w)
            a0_20 = vfma(x, v0, a0_20)
            x = _bload(xf, xi + 21, w)
            a0_21 = vfma(x, v0, a0_21)
            x = _bload(xf, xi + 22, w)
            a0_22 = vfma(x, v0, a0_22)
            x = _bload(xf, xi + 23, w)
            a0_23 = vfma(x, v0, a0_23)
            wi += 1 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a0_6 = vadd(a0_6, vload(rf, oq + 6 * n, w))
            a0_7 = vadd(a0_7, vload(rf, oq + 7 * n, w))
            a0_8 = vadd(a0_8, vload(rf, oq + 8 * n, w))
            a0_9 = vadd(a0_9, vload(rf, oq + 9 * n, w))
            a0_10 = vadd(a0_10, vload(rf, oq + 10 * n, w))
            a0_11 = vadd(a0_11, vload(rf, oq + 11 * n, w))
            a0_12 = vadd(a0_12, vload(rf, oq + 12 * n, w))
            a0_13 = vadd(a0_13, vload(rf, oq + 13 * n, w))
            a0_14 = vadd(a0_14, vload(rf, oq + 14 * n, w))
            a0_15 = vadd(a0_15, vload(rf, oq + 15 * n, w))
            a0_16 = vadd(a0_16, vload(rf, oq + 16 * n, w))
            a0_17 = vadd(a0_17, vload(rf, oq + 17 * n, w))
            a0_18 = vadd(a0_18, vload(rf, oq + 18 * n, w))
            a0_19 = vadd(a0_19, vload(rf, oq + 19 * n, w))
            a0_20 = vadd(a0_20, vload(rf, oq + 20 * n, w))
            a0_21 = vadd(a0_21, vload(rf, oq + 21 * n, w))
            a0_22 = vadd(a0_22, vload(rf, oq + 22 * n, w))
            a0_23 = vadd(a0_23, vload(rf, oq + 23 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a0_6 = vmax(a0_6, z)
            a0_7 = vmax(a0_7, z)
            a0_8 = vmax(a0_8, z)
            a0_9 = vmax(a0_9, z)
            a0_10 = vmax(a0_10, z)
            a0_11 = vmax(a0_11, z)
            a0_12 = vmax(a0_12, z)
            a0_13 = vmax(a0_13, z)
            a0_14 = vmax(a0_14, z)
            a0_15 = vmax(a0_15, z)
            a0_16 = vmax(a0_16, z)
            a0_17 = vmax(a0_17, z)
            a0_18 = vmax(a0_18, z)
            a0_19 = vmax(a0_19, z)
            a0_20 = vmax(a0_20, z)
            a0_21 = vmax(a0_21, z)
            a0_22 = vmax(a0_22, z)
            a0_23 = vmax(a0_23, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a0_6 = vmin(vmax(a0_6, lo), hi)
            a0_7 = vmin(vmax(a0_7, lo), hi)
            a0_8 = vmin(vmax(a0_8, lo), hi)
            a0_9 = vmin(vmax(a0_9, lo), hi)
            a0_10 = vmin(vmax(a0_10, lo), hi)
            a0_11 = vmin(vmax(a0_11, lo), hi)
            a0_12 = vmin(vmax(a0_12, lo), hi)
            a0_13 = vmin(vmax(a0_13, lo), hi)
            a0_14 = vmin(vmax(a0_14, lo), hi)
            a0_15 = vmin(vmax(a0_15, lo), hi)
            a0_16 = vmin(vmax(a0_16, lo), hi)
            a0_17 = vmin(vmax(a0_17, lo), hi)
            a0_18 = vmin(vmax(a0_18, lo), hi)
            a0_19 = vmin(vmax(a0_19, lo), hi)
            a0_20 = vmin(vmax(a0_20, lo), hi)
            a0_21 = vmin(vmax(a0_21, lo), hi)
            a0_22 = vmin(vmax(a0_22, lo), hi)
            a0_23 = vmin(vmax(a0_23, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 6 * n, a0_6)
        vstore(of, oq + 7 * n, a0_7)
        vstore(of, oq + 8 * n, a0_8)
        vstore(of, oq + 9 * n, a0_9)
        vstore(of, oq + 10 * n, a0_10)
        vstore(of, oq + 11 * n, a0_11)
        vstore(of, oq + 12 * n, a0_12)
        vstore(of, oq + 13 * n, a0_13)
        vstore(of, oq + 14 * n, a0_14)
        vstore(of, oq + 15 * n, a0_15)
        vstore(of, oq + 16 * n, a0_16)
        vstore(of, oq + 17 * n, a0_17)
        vstore(of, oq + 18 * n, a0_18)
        vstore(of, oq + 19 * n, a0_19)
        vstore(of, oq + 20 * n, a0_20)
        vstore(of, oq + 21 * n, a0_21)
        vstore(of, oq + 22 * n, a0_22)
        vstore(of, oq + 23 * n, a0_23)
        if kind > CLIP:
            activate_block(of, oq, obs, 1, 24 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s1x8(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 8 output pixels (from strip offset x0, output offset o0) x 1 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 8
        oq = o0 + q * 8 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a0_6 = a0_0
        a0_7 = a0_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            x = _bload(xf, xi + 6, w)
            a0_6 = vfma(x, v0, a0_6)
            x = _bload(xf, xi + 7, w)
            a0_7 = vfma(x, v0, a0_7)
            wi += 1 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a0_6 = vadd(a0_6, vload(rf, oq + 6 * n, w))
            a0_7 = vadd(a0_7, vload(rf, oq + 7 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a0_6 = vmax(a0_6, z)
            a0_7 = vmax(a0_7, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a0_6 = vmin(vmax(a0_6, lo), hi)
            a0_7 = vmin(vmax(a0_7, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 6 * n, a0_6)
        vstore(of, oq + 7 * n, a0_7)
        if kind > CLIP:
            activate_block(of, oq, obs, 1, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s1x1(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 1 output pixels (from strip offset x0, output offset o0) x 1 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 1
        oq = o0 + q * 1 * n
        a0_0 = vload(bf, b0, w)
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            wi += 1 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
        vstore(of, oq, a0_0)
        if kind > CLIP:
            activate_block(of, oq, obs, 1, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row1_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 1 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 24)."""
    n = lanes(w)
    full = ow // 24
    _s1x24(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 24 < ow:
        if full > 0:
            _s1x24(xf, wf, bf, of, xoff, ow - 24, 1, w0, b0, o0 + (ow - 24) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s1x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row1_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 1 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 8)."""
    n = lanes(w)
    full = ow // 8
    _s1x8(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 8 < ow:
        if full > 0:
            _s1x8(xf, wf, bf, of, xoff, ow - 8, 1, w0, b0, o0 + (ow - 8) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s1x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s2x12(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 12 output pixels (from strip offset x0, output offset o0) x 2 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 12
        oq = o0 + q * 12 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a0_6 = a0_0
        a0_7 = a0_0
        a0_8 = a0_0
        a0_9 = a0_0
        a0_10 = a0_0
        a0_11 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a1_4 = a1_0
        a1_5 = a1_0
        a1_6 = a1_0
        a1_7 = a1_0
        a1_8 = a1_0
        a1_9 = a1_0
        a1_10 = a1_0
        a1_11 = a1_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            a1_2 = vfma(x, v1, a1_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            a1_3 = vfma(x, v1, a1_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            a1_4 = vfma(x, v1, a1_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            a1_5 = vfma(x, v1, a1_5)
            x = _bload(xf, xi + 6, w)
            a0_6 = vfma(x, v0, a0_6)
            a1_6 = vfma(x, v1, a1_6)
            x = _bload(xf, xi + 7, w)
            a0_7 = vfma(x, v0, a0_7)
            a1_7 = vfma(x, v1, a1_7)
            x = _bload(xf, xi + 8, w)
            a0_8 = vfma(x, v0, a0_8)
            a1_8 = vfma(x, v1, a1_8)
            x = _bload(xf, xi + 9, w)
            a0_9 = vfma(x, v0, a0_9)
            a1_9 = vfma(x, v1, a1_9)
            x = _bload(xf, xi + 10, w)
            a0_10 = vfma(x, v0, a0_10)
            a1_10 = vfma(x, v1, a1_10)
            x = _bload(xf, xi + 11, w)
            a0_11 = vfma(x, v0, a0_11)
            a1_11 = vfma(x, v1, a1_11)
            wi += 2 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a0_6 = vadd(a0_6, vload(rf, oq + 6 * n, w))
            a0_7 = vadd(a0_7, vload(rf, oq + 7 * n, w))
            a0_8 = vadd(a0_8, vload(rf, oq + 8 * n, w))
            a0_9 = vadd(a0_9, vload(rf, oq + 9 * n, w))
            a0_10 = vadd(a0_10, vload(rf, oq + 10 * n, w))
            a0_11 = vadd(a0_11, vload(rf, oq + 11 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, oq + 1 * obs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, oq + 1 * obs + 3 * n, w))
            a1_4 = vadd(a1_4, vload(rf, oq + 1 * obs + 4 * n, w))
            a1_5 = vadd(a1_5, vload(rf, oq + 1 * obs + 5 * n, w))
            a1_6 = vadd(a1_6, vload(rf, oq + 1 * obs + 6 * n, w))
            a1_7 = vadd(a1_7, vload(rf, oq + 1 * obs + 7 * n, w))
            a1_8 = vadd(a1_8, vload(rf, oq + 1 * obs + 8 * n, w))
            a1_9 = vadd(a1_9, vload(rf, oq + 1 * obs + 9 * n, w))
            a1_10 = vadd(a1_10, vload(rf, oq + 1 * obs + 10 * n, w))
            a1_11 = vadd(a1_11, vload(rf, oq + 1 * obs + 11 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a0_6 = vmax(a0_6, z)
            a0_7 = vmax(a0_7, z)
            a0_8 = vmax(a0_8, z)
            a0_9 = vmax(a0_9, z)
            a0_10 = vmax(a0_10, z)
            a0_11 = vmax(a0_11, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a1_4 = vmax(a1_4, z)
            a1_5 = vmax(a1_5, z)
            a1_6 = vmax(a1_6, z)
            a1_7 = vmax(a1_7, z)
            a1_8 = vmax(a1_8, z)
            a1_9 = vmax(a1_9, z)
            a1_10 = vmax(a1_10, z)
            a1_11 = vmax(a1_11, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a0_6 = vmin(vmax(a0_6, lo), hi)
            a0_7 = vmin(vmax(a0_7, lo), hi)
            a0_8 = vmin(vmax(a0_8, lo), hi)
            a0_9 = vmin(vmax(a0_9, lo), hi)
            a0_10 = vmin(vmax(a0_10, lo), hi)
            a0_11 = vmin(vmax(a0_11, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a1_4 = vmin(vmax(a1_4, lo), hi)
            a1_5 = vmin(vmax(a1_5, lo), hi)
            a1_6 = vmin(vmax(a1_6, lo), hi)
            a1_7 = vmin(vmax(a1_7, lo), hi)
            a1_8 = vmin(vmax(a1_8, lo), hi)
            a1_9 = vmin(vmax(a1_9, lo), hi)
            a1_10 = vmin(vmax(a1_10, lo), hi)
            a1_11 = vmin(vmax(a1_11, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 6 * n, a0_6)
        vstore(of, oq + 7 * n, a0_7)
        vstore(of, oq + 8 * n, a0_8)
        vstore(of, oq + 9 * n, a0_9)
        vstore(of, oq + 10 * n, a0_10)
        vstore(of, oq + 11 * n, a0_11)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 1 * obs + 2 * n, a1_2)
        vstore(of, oq + 1 * obs + 3 * n, a1_3)
        vstore(of, oq + 1 * obs + 4 * n, a1_4)
        vstore(of, oq + 1 * obs + 5 * n, a1_5)
        vstore(of, oq + 1 * obs + 6 * n, a1_6)
        vstore(of, oq + 1 * obs + 7 * n, a1_7)
        vstore(of, oq + 1 * obs + 8 * n, a1_8)
        vstore(of, oq + 1 * obs + 9 * n, a1_9)
        vstore(of, oq + 1 * obs + 10 * n, a1_10)
        vstore(of, oq + 1 * obs + 11 * n, a1_11)
        if kind > CLIP:
            activate_block(of, oq, obs, 2, 12 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s2x6(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 6 output pixels (from strip offset x0, output offset o0) x 2 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 6
        oq = o0 + q * 6 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a1_4 = a1_0
        a1_5 = a1_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            a1_2 = vfma(x, v1, a1_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            a1_3 = vfma(x, v1, a1_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            a1_4 = vfma(x, v1, a1_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            a1_5 = vfma(x, v1, a1_5)
            wi += 2 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, oq + 1 * obs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, oq + 1 * obs + 3 * n, w))
            a1_4 = vadd(a1_4, vload(rf, oq + 1 * obs + 4 * n, w))
            a1_5 = vadd(a1_5, vload(rf, oq + 1 * obs + 5 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a1_4 = vmax(a1_4, z)
            a1_5 = vmax(a1_5, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a1_4 = vmin(vmax(a1_4, lo), hi)
            a1_5 = vmin(vmax(a1_5, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 1 * obs + 2 * n, a1_2)
        vstore(of, oq + 1 * obs + 3 * n, a1_3)
        vstore(of, oq + 1 * obs + 4 * n, a1_4)
        vstore(of, oq + 1 * obs + 5 * n, a1_5)
        if kind > CLIP:
            activate_block(of, oq, obs, 2, 6 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s2x1(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 1 output pixels (from strip offset x0, output offset o0) x 2 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 1
        oq = o0 + q * 1 * n
        a0_0 = vload(bf, b0, w)
        a1_0 = vload(bf, b0 + 1 * n, w)
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            wi += 2 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a1_0 = vmax(a1_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * obs, a1_0)
        if kind > CLIP:
            activate_block(of, oq, obs, 2, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row2_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 2 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 12)."""
    n = lanes(w)
    full = ow // 12
    _s2x12(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 12 < ow:
        if full > 0:
            _s2x12(xf, wf, bf, of, xoff, ow - 12, 1, w0, b0, o0 + (ow - 12) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s2x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row2_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 2 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 6)."""
    n = lanes(w)
    full = ow // 6
    _s2x6(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 6 < ow:
        if full > 0:
            _s2x6(xf, wf, bf, of, xoff, ow - 6, 1, w0, b0, o0 + (ow - 6) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s2x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s3x8(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 8 output pixels (from strip offset x0, output offset o0) x 3 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 8
        oq = o0 + q * 8 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a0_6 = a0_0
        a0_7 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a1_4 = a1_0
        a1_5 = a1_0
        a1_6 = a1_0
        a1_7 = a1_0
        a2_0 = vload(bf, b0 + 2 * n, w)
        a2_1 = a2_0
        a2_2 = a2_0
        a2_3 = a2_0
        a2_4 = a2_0
        a2_5 = a2_0
        a2_6 = a2_0
        a2_7 = a2_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            a2_1 = vfma(x, v2, a2_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            a1_2 = vfma(x, v1, a1_2)
            a2_2 = vfma(x, v2, a2_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            a1_3 = vfma(x, v1, a1_3)
            a2_3 = vfma(x, v2, a2_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            a1_4 = vfma(x, v1, a1_4)
            a2_4 = vfma(x, v2, a2_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            a1_5 = vfma(x, v1, a1_5)
            a2_5 = vfma(x, v2, a2_5)
            x = _bload(xf, xi + 6, w)
            a0_6 = vfma(x, v0, a0_6)
            a1_6 = vfma(x, v1, a1_6)
            a2_6 = vfma(x, v2, a2_6)
            x = _bload(xf, xi + 7, w)
            a0_7 = vfma(x, v0, a0_7)
            a1_7 = vfma(x, v1, a1_7)
            a2_7 = vfma(x, v2, a2_7)
            wi += 3 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a0_6 = vadd(a0_6, vload(rf, oq + 6 * n, w))
            a0_7 = vadd(a0_7, vload(rf, oq + 7 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, oq + 1 * obs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, oq + 1 * obs + 3 * n, w))
            a1_4 = vadd(a1_4, vload(rf, oq + 1 * obs + 4 * n, w))
            a1_5 = vadd(a1_5, vload(rf, oq + 1 * obs + 5 * n, w))
            a1_6 = vadd(a1_6, vload(rf, oq + 1 * obs + 6 * n, w))
            a1_7 = vadd(a1_7, vload(rf, oq + 1 * obs + 7 * n, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
            a2_1 = vadd(a2_1, vload(rf, oq + 2 * obs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, oq + 2 * obs + 2 * n, w))
            a2_3 = vadd(a2_3, vload(rf, oq + 2 * obs + 3 * n, w))
            a2_4 = vadd(a2_4, vload(rf, oq + 2 * obs + 4 * n, w))
            a2_5 = vadd(a2_5, vload(rf, oq + 2 * obs + 5 * n, w))
            a2_6 = vadd(a2_6, vload(rf, oq + 2 * obs + 6 * n, w))
            a2_7 = vadd(a2_7, vload(rf, oq + 2 * obs + 7 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a0_6 = vmax(a0_6, z)
            a0_7 = vmax(a0_7, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a1_4 = vmax(a1_4, z)
            a1_5 = vmax(a1_5, z)
            a1_6 = vmax(a1_6, z)
            a1_7 = vmax(a1_7, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a2_3 = vmax(a2_3, z)
            a2_4 = vmax(a2_4, z)
            a2_5 = vmax(a2_5, z)
            a2_6 = vmax(a2_6, z)
            a2_7 = vmax(a2_7, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a0_6 = vmin(vmax(a0_6, lo), hi)
            a0_7 = vmin(vmax(a0_7, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a1_4 = vmin(vmax(a1_4, lo), hi)
            a1_5 = vmin(vmax(a1_5, lo), hi)
            a1_6 = vmin(vmax(a1_6, lo), hi)
            a1_7 = vmin(vmax(a1_7, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a2_3 = vmin(vmax(a2_3, lo), hi)
            a2_4 = vmin(vmax(a2_4, lo), hi)
            a2_5 = vmin(vmax(a2_5, lo), hi)
            a2_6 = vmin(vmax(a2_6, lo), hi)
            a2_7 = vmin(vmax(a2_7, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 6 * n, a0_6)
        vstore(of, oq + 7 * n, a0_7)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 1 * obs + 2 * n, a1_2)
        vstore(of, oq + 1 * obs + 3 * n, a1_3)
        vstore(of, oq + 1 * obs + 4 * n, a1_4)
        vstore(of, oq + 1 * obs + 5 * n, a1_5)
        vstore(of, oq + 1 * obs + 6 * n, a1_6)
        vstore(of, oq + 1 * obs + 7 * n, a1_7)
        vstore(of, oq + 2 * obs, a2_0)
        vstore(of, oq + 2 * obs + 1 * n, a2_1)
        vstore(of, oq + 2 * obs + 2 * n, a2_2)
        vstore(of, oq + 2 * obs + 3 * n, a2_3)
        vstore(of, oq + 2 * obs + 4 * n, a2_4)
        vstore(of, oq + 2 * obs + 5 * n, a2_5)
        vstore(of, oq + 2 * obs + 6 * n, a2_6)
        vstore(of, oq + 2 * obs + 7 * n, a2_7)
        if kind > CLIP:
            activate_block(of, oq, obs, 3, 8 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s3x4(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 4 output pixels (from strip offset x0, output offset o0) x 3 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 4
        oq = o0 + q * 4 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a2_0 = vload(bf, b0 + 2 * n, w)
        a2_1 = a2_0
        a2_2 = a2_0
        a2_3 = a2_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            a2_1 = vfma(x, v2, a2_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            a1_2 = vfma(x, v1, a1_2)
            a2_2 = vfma(x, v2, a2_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            a1_3 = vfma(x, v1, a1_3)
            a2_3 = vfma(x, v2, a2_3)
            wi += 3 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, oq + 1 * obs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, oq + 1 * obs + 3 * n, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
            a2_1 = vadd(a2_1, vload(rf, oq + 2 * obs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, oq + 2 * obs + 2 * n, w))
            a2_3 = vadd(a2_3, vload(rf, oq + 2 * obs + 3 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a2_3 = vmax(a2_3, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a2_3 = vmin(vmax(a2_3, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 1 * obs + 2 * n, a1_2)
        vstore(of, oq + 1 * obs + 3 * n, a1_3)
        vstore(of, oq + 2 * obs, a2_0)
        vstore(of, oq + 2 * obs + 1 * n, a2_1)
        vstore(of, oq + 2 * obs + 2 * n, a2_2)
        vstore(of, oq + 2 * obs + 3 * n, a2_3)
        if kind > CLIP:
            activate_block(of, oq, obs, 3, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s3x1(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 1 output pixels (from strip offset x0, output offset o0) x 3 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 1
        oq = o0 + q * 1 * n
        a0_0 = vload(bf, b0, w)
        a1_0 = vload(bf, b0 + 1 * n, w)
        a2_0 = vload(bf, b0 + 2 * n, w)
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            wi += 3 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a1_0 = vmax(a1_0, z)
            a2_0 = vmax(a2_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 2 * obs, a2_0)
        if kind > CLIP:
            activate_block(of, oq, obs, 3, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row3_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 3 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 8)."""
    n = lanes(w)
    full = ow // 8
    _s3x8(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 8 < ow:
        if full > 0:
            _s3x8(xf, wf, bf, of, xoff, ow - 8, 1, w0, b0, o0 + (ow - 8) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s3x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row3_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 3 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 4)."""
    n = lanes(w)
    full = ow // 4
    _s3x4(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 4 < ow:
        if full > 0:
            _s3x4(xf, wf, bf, of, xoff, ow - 4, 1, w0, b0, o0 + (ow - 4) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s3x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s4x6(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 6 output pixels (from strip offset x0, output offset o0) x 4 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 6
        oq = o0 + q * 6 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a0_5 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a1_4 = a1_0
        a1_5 = a1_0
        a2_0 = vload(bf, b0 + 2 * n, w)
        a2_1 = a2_0
        a2_2 = a2_0
        a2_3 = a2_0
        a2_4 = a2_0
        a2_5 = a2_0
        a3_0 = vload(bf, b0 + 3 * n, w)
        a3_1 = a3_0
        a3_2 = a3_0
        a3_3 = a3_0
        a3_4 = a3_0
        a3_5 = a3_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            v3 = vload(wf, wi + 3 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            a3_0 = vfma(x, v3, a3_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            a2_1 = vfma(x, v2, a2_1)
            a3_1 = vfma(x, v3, a3_1)
            x = _bload(xf, xi + 2, w)
            a0_2 = vfma(x, v0, a0_2)
            a1_2 = vfma(x, v1, a1_2)
            a2_2 = vfma(x, v2, a2_2)
            a3_2 = vfma(x, v3, a3_2)
            x = _bload(xf, xi + 3, w)
            a0_3 = vfma(x, v0, a0_3)
            a1_3 = vfma(x, v1, a1_3)
            a2_3 = vfma(x, v2, a2_3)
            a3_3 = vfma(x, v3, a3_3)
            x = _bload(xf, xi + 4, w)
            a0_4 = vfma(x, v0, a0_4)
            a1_4 = vfma(x, v1, a1_4)
            a2_4 = vfma(x, v2, a2_4)
            a3_4 = vfma(x, v3, a3_4)
            x = _bload(xf, xi + 5, w)
            a0_5 = vfma(x, v0, a0_5)
            a1_5 = vfma(x, v1, a1_5)
            a2_5 = vfma(x, v2, a2_5)
            a3_5 = vfma(x, v3, a3_5)
            wi += 4 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, oq + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, oq + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, oq + 4 * n, w))
            a0_5 = vadd(a0_5, vload(rf, oq + 5 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, oq + 1 * obs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, oq + 1 * obs + 3 * n, w))
            a1_4 = vadd(a1_4, vload(rf, oq + 1 * obs + 4 * n, w))
            a1_5 = vadd(a1_5, vload(rf, oq + 1 * obs + 5 * n, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
            a2_1 = vadd(a2_1, vload(rf, oq + 2 * obs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, oq + 2 * obs + 2 * n, w))
            a2_3 = vadd(a2_3, vload(rf, oq + 2 * obs + 3 * n, w))
            a2_4 = vadd(a2_4, vload(rf, oq + 2 * obs + 4 * n, w))
            a2_5 = vadd(a2_5, vload(rf, oq + 2 * obs + 5 * n, w))
            a3_0 = vadd(a3_0, vload(rf, oq + 3 * obs, w))
            a3_1 = vadd(a3_1, vload(rf, oq + 3 * obs + 1 * n, w))
            a3_2 = vadd(a3_2, vload(rf, oq + 3 * obs + 2 * n, w))
            a3_3 = vadd(a3_3, vload(rf, oq + 3 * obs + 3 * n, w))
            a3_4 = vadd(a3_4, vload(rf, oq + 3 * obs + 4 * n, w))
            a3_5 = vadd(a3_5, vload(rf, oq + 3 * obs + 5 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a0_5 = vmax(a0_5, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a1_4 = vmax(a1_4, z)
            a1_5 = vmax(a1_5, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a2_3 = vmax(a2_3, z)
            a2_4 = vmax(a2_4, z)
            a2_5 = vmax(a2_5, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
            a3_2 = vmax(a3_2, z)
            a3_3 = vmax(a3_3, z)
            a3_4 = vmax(a3_4, z)
            a3_5 = vmax(a3_5, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a0_5 = vmin(vmax(a0_5, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a1_4 = vmin(vmax(a1_4, lo), hi)
            a1_5 = vmin(vmax(a1_5, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a2_3 = vmin(vmax(a2_3, lo), hi)
            a2_4 = vmin(vmax(a2_4, lo), hi)
            a2_5 = vmin(vmax(a2_5, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
            a3_2 = vmin(vmax(a3_2, lo), hi)
            a3_3 = vmin(vmax(a3_3, lo), hi)
            a3_4 = vmin(vmax(a3_4, lo), hi)
            a3_5 = vmin(vmax(a3_5, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 2 * n, a0_2)
        vstore(of, oq + 3 * n, a0_3)
        vstore(of, oq + 4 * n, a0_4)
        vstore(of, oq + 5 * n, a0_5)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 1 * obs + 2 * n, a1_2)
        vstore(of, oq + 1 * obs + 3 * n, a1_3)
        vstore(of, oq + 1 * obs + 4 * n, a1_4)
        vstore(of, oq + 1 * obs + 5 * n, a1_5)
        vstore(of, oq + 2 * obs, a2_0)
        vstore(of, oq + 2 * obs + 1 * n, a2_1)
        vstore(of, oq + 2 * obs + 2 * n, a2_2)
        vstore(of, oq + 2 * obs + 3 * n, a2_3)
        vstore(of, oq + 2 * obs + 4 * n, a2_4)
        vstore(of, oq + 2 * obs + 5 * n, a2_5)
        vstore(of, oq + 3 * obs, a3_0)
        vstore(of, oq + 3 * obs + 1 * n, a3_1)
        vstore(of, oq + 3 * obs + 2 * n, a3_2)
        vstore(of, oq + 3 * obs + 3 * n, a3_3)
        vstore(of, oq + 3 * obs + 4 * n, a3_4)
        vstore(of, oq + 3 * obs + 5 * n, a3_5)
        if kind > CLIP:
            activate_block(of, oq, obs, 4, 6 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s4x2(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 2 output pixels (from strip offset x0, output offset o0) x 4 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 2
        oq = o0 + q * 2 * n
        a0_0 = vload(bf, b0, w)
        a0_1 = a0_0
        a1_0 = vload(bf, b0 + 1 * n, w)
        a1_1 = a1_0
        a2_0 = vload(bf, b0 + 2 * n, w)
        a2_1 = a2_0
        a3_0 = vload(bf, b0 + 3 * n, w)
        a3_1 = a3_0
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            v3 = vload(wf, wi + 3 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            a3_0 = vfma(x, v3, a3_0)
            x = _bload(xf, xi + 1, w)
            a0_1 = vfma(x, v0, a0_1)
            a1_1 = vfma(x, v1, a1_1)
            a2_1 = vfma(x, v2, a2_1)
            a3_1 = vfma(x, v3, a3_1)
            wi += 4 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a0_1 = vadd(a0_1, vload(rf, oq + 1 * n, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a1_1 = vadd(a1_1, vload(rf, oq + 1 * obs + 1 * n, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
            a2_1 = vadd(a2_1, vload(rf, oq + 2 * obs + 1 * n, w))
            a3_0 = vadd(a3_0, vload(rf, oq + 3 * obs, w))
            a3_1 = vadd(a3_1, vload(rf, oq + 3 * obs + 1 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * n, a0_1)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 1 * obs + 1 * n, a1_1)
        vstore(of, oq + 2 * obs, a2_0)
        vstore(of, oq + 2 * obs + 1 * n, a2_1)
        vstore(of, oq + 3 * obs, a3_0)
        vstore(of, oq + 3 * obs + 1 * n, a3_1)
        if kind > CLIP:
            activate_block(of, oq, obs, 4, 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _s4x1(xf, wf, bf, of, xoff, x0, cnt, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w):
    """cnt x 1 output pixels (from strip offset x0, output offset o0) x 4 block(s) of W output channels,
    NCHWc; fused epilogue."""
    n = lanes(w)
    for q in range(cnt):
        xq = x0 + q * 1
        oq = o0 + q * 1 * n
        a0_0 = vload(bf, b0, w)
        a1_0 = vload(bf, b0 + 1 * n, w)
        a2_0 = vload(bf, b0 + 2 * n, w)
        a3_0 = vload(bf, b0 + 3 * n, w)
        wi = w0
        for s in range(xoff.size):
            xi = xq + xoff[s]
            v0 = vload(wf, wi, w)
            v1 = vload(wf, wi + 1 * n, w)
            v2 = vload(wf, wi + 2 * n, w)
            v3 = vload(wf, wi + 3 * n, w)
            x = _bload(xf, xi, w)
            a0_0 = vfma(x, v0, a0_0)
            a1_0 = vfma(x, v1, a1_0)
            a2_0 = vfma(x, v2, a2_0)
            a3_0 = vfma(x, v3, a3_0)
            wi += 4 * n
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, oq, w))
            a1_0 = vadd(a1_0, vload(rf, oq + 1 * obs, w))
            a2_0 = vadd(a2_0, vload(rf, oq + 2 * obs, w))
            a3_0 = vadd(a3_0, vload(rf, oq + 3 * obs, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a1_0 = vmax(a1_0, z)
            a2_0 = vmax(a2_0, z)
            a3_0 = vmax(a3_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
        vstore(of, oq, a0_0)
        vstore(of, oq + 1 * obs, a1_0)
        vstore(of, oq + 2 * obs, a2_0)
        vstore(of, oq + 3 * obs, a3_0)
        if kind > CLIP:
            activate_block(of, oq, obs, 4, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row4_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 4 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 6)."""
    n = lanes(w)
    full = ow // 6
    _s4x6(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 6 < ow:
        if full > 0:
            _s4x6(xf, wf, bf, of, xoff, ow - 6, 1, w0, b0, o0 + (ow - 6) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s4x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _row4_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 of one row, 4 block(s) (pixel ox at strip offset ox, at o0 + ox*W); the last tile
    overlaps the one before (when ow >= 2)."""
    n = lanes(w)
    full = ow // 2
    _s4x2(xf, wf, bf, of, xoff, 0, full, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)
    if full * 2 < ow:
        if full > 0:
            _s4x2(xf, wf, bf, of, xoff, ow - 2, 1, w0, b0, o0 + (ow - 2) * n, obs, rf, has_res, kind, alpha, beta, w)
        else:
            _s4x1(xf, wf, bf, of, xoff, 0, ow, w0, b0, o0, obs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p4x5(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """5 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 4 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 4):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        a1_0 = vbroadcast(bf[m0 + 1], w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a1_4 = a1_0
        a2_0 = vbroadcast(bf[m0 + 2], w)
        a2_1 = a2_0
        a2_2 = a2_0
        a2_3 = a2_0
        a2_4 = a2_0
        a3_0 = vbroadcast(bf[m0 + 3], w)
        a3_1 = a3_0
        a3_2 = a3_0
        a3_3 = a3_0
        a3_4 = a3_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            x3 = vload(xf, xi + 3 * n, w)
            x4 = vload(xf, xi + 4 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            a0_3 = vfma(x3, wv, a0_3)
            a0_4 = vfma(x4, wv, a0_4)
            wv = _bload(wf, wi + 1, w)
            a1_0 = vfma(x0v, wv, a1_0)
            a1_1 = vfma(x1, wv, a1_1)
            a1_2 = vfma(x2, wv, a1_2)
            a1_3 = vfma(x3, wv, a1_3)
            a1_4 = vfma(x4, wv, a1_4)
            wv = _bload(wf, wi + 2, w)
            a2_0 = vfma(x0v, wv, a2_0)
            a2_1 = vfma(x1, wv, a2_1)
            a2_2 = vfma(x2, wv, a2_2)
            a2_3 = vfma(x3, wv, a2_3)
            a2_4 = vfma(x4, wv, a2_4)
            wv = _bload(wf, wi + 3, w)
            a3_0 = vfma(x0v, wv, a3_0)
            a3_1 = vfma(x1, wv, a3_1)
            a3_2 = vfma(x2, wv, a3_2)
            a3_3 = vfma(x3, wv, a3_3)
            a3_4 = vfma(x4, wv, a3_4)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, om + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, om + 4 * n, w))
            a1_0 = vadd(a1_0, vload(rf, om + 1 * ocs, w))
            a1_1 = vadd(a1_1, vload(rf, om + 1 * ocs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, om + 1 * ocs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, om + 1 * ocs + 3 * n, w))
            a1_4 = vadd(a1_4, vload(rf, om + 1 * ocs + 4 * n, w))
            a2_0 = vadd(a2_0, vload(rf, om + 2 * ocs, w))
            a2_1 = vadd(a2_1, vload(rf, om + 2 * ocs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, om + 2 * ocs + 2 * n, w))
            a2_3 = vadd(a2_3, vload(rf, om + 2 * ocs + 3 * n, w))
            a2_4 = vadd(a2_4, vload(rf, om + 2 * ocs + 4 * n, w))
            a3_0 = vadd(a3_0, vload(rf, om + 3 * ocs, w))
            a3_1 = vadd(a3_1, vload(rf, om + 3 * ocs + 1 * n, w))
            a3_2 = vadd(a3_2, vload(rf, om + 3 * ocs + 2 * n, w))
            a3_3 = vadd(a3_3, vload(rf, om + 3 * ocs + 3 * n, w))
            a3_4 = vadd(a3_4, vload(rf, om + 3 * ocs + 4 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a1_4 = vmax(a1_4, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a2_3 = vmax(a2_3, z)
            a2_4 = vmax(a2_4, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
            a3_2 = vmax(a3_2, z)
            a3_3 = vmax(a3_3, z)
            a3_4 = vmax(a3_4, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a1_4 = vmin(vmax(a1_4, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a2_3 = vmin(vmax(a2_3, lo), hi)
            a2_4 = vmin(vmax(a2_4, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
            a3_2 = vmin(vmax(a3_2, lo), hi)
            a3_3 = vmin(vmax(a3_3, lo), hi)
            a3_4 = vmin(vmax(a3_4, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        vstore(of, om + 3 * n, a0_3)
        vstore(of, om + 4 * n, a0_4)
        vstore(of, om + 1 * ocs, a1_0)
        vstore(of, om + 1 * ocs + 1 * n, a1_1)
        vstore(of, om + 1 * ocs + 2 * n, a1_2)
        vstore(of, om + 1 * ocs + 3 * n, a1_3)
        vstore(of, om + 1 * ocs + 4 * n, a1_4)
        vstore(of, om + 2 * ocs, a2_0)
        vstore(of, om + 2 * ocs + 1 * n, a2_1)
        vstore(of, om + 2 * ocs + 2 * n, a2_2)
        vstore(of, om + 2 * ocs + 3 * n, a2_3)
        vstore(of, om + 2 * ocs + 4 * n, a2_4)
        vstore(of, om + 3 * ocs, a3_0)
        vstore(of, om + 3 * ocs + 1 * n, a3_1)
        vstore(of, om + 3 * ocs + 2 * n, a3_2)
        vstore(of, om + 3 * ocs + 3 * n, a3_3)
        vstore(of, om + 3 * ocs + 4 * n, a3_4)
        if kind > CLIP:
            activate_block(of, om, ocs, 4, 5 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p4x4(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """4 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 4 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 4):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a1_0 = vbroadcast(bf[m0 + 1], w)
        a1_1 = a1_0
        a1_2 = a1_0
        a1_3 = a1_0
        a2_0 = vbroadcast(bf[m0 + 2], w)
        a2_1 = a2_0
        a2_2 = a2_0
        a2_3 = a2_0
        a3_0 = vbroadcast(bf[m0 + 3], w)
        a3_1 = a3_0
        a3_2 = a3_0
        a3_3 = a3_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            x3 = vload(xf, xi + 3 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            a0_3 = vfma(x3, wv, a0_3)
            wv = _bload(wf, wi + 1, w)
            a1_0 = vfma(x0v, wv, a1_0)
            a1_1 = vfma(x1, wv, a1_1)
            a1_2 = vfma(x2, wv, a1_2)
            a1_3 = vfma(x3, wv, a1_3)
            wv = _bload(wf, wi + 2, w)
            a2_0 = vfma(x0v, wv, a2_0)
            a2_1 = vfma(x1, wv, a2_1)
            a2_2 = vfma(x2, wv, a2_2)
            a2_3 = vfma(x3, wv, a2_3)
            wv = _bload(wf, wi + 3, w)
            a3_0 = vfma(x0v, wv, a3_0)
            a3_1 = vfma(x1, wv, a3_1)
            a3_2 = vfma(x2, wv, a3_2)
            a3_3 = vfma(x3, wv, a3_3)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, om + 3 * n, w))
            a1_0 = vadd(a1_0, vload(rf, om + 1 * ocs, w))
            a1_1 = vadd(a1_1, vload(rf, om + 1 * ocs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, om + 1 * ocs + 2 * n, w))
            a1_3 = vadd(a1_3, vload(rf, om + 1 * ocs + 3 * n, w))
            a2_0 = vadd(a2_0, vload(rf, om + 2 * ocs, w))
            a2_1 = vadd(a2_1, vload(rf, om + 2 * ocs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, om + 2 * ocs + 2 * n, w))
            a2_3 = vadd(a2_3, vload(rf, om + 2 * ocs + 3 * n, w))
            a3_0 = vadd(a3_0, vload(rf, om + 3 * ocs, w))
            a3_1 = vadd(a3_1, vload(rf, om + 3 * ocs + 1 * n, w))
            a3_2 = vadd(a3_2, vload(rf, om + 3 * ocs + 2 * n, w))
            a3_3 = vadd(a3_3, vload(rf, om + 3 * ocs + 3 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a1_3 = vmax(a1_3, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a2_3 = vmax(a2_3, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
            a3_2 = vmax(a3_2, z)
            a3_3 = vmax(a3_3, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a1_3 = vmin(vmax(a1_3, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a2_3 = vmin(vmax(a2_3, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
            a3_2 = vmin(vmax(a3_2, lo), hi)
            a3_3 = vmin(vmax(a3_3, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        vstore(of, om + 3 * n, a0_3)
        vstore(of, om + 1 * ocs, a1_0)
        vstore(of, om + 1 * ocs + 1 * n, a1_1)
        vstore(of, om + 1 * ocs + 2 * n, a1_2)
        vstore(of, om + 1 * ocs + 3 * n, a1_3)
        vstore(of, om + 2 * ocs, a2_0)
        vstore(of, om + 2 * ocs + 1 * n, a2_1)
        vstore(of, om + 2 * ocs + 2 * n, a2_2)
        vstore(of, om + 2 * ocs + 3 * n, a2_3)
        vstore(of, om + 3 * ocs, a3_0)
        vstore(of, om + 3 * ocs + 1 * n, a3_1)
        vstore(of, om + 3 * ocs + 2 * n, a3_2)
        vstore(of, om + 3 * ocs + 3 * n, a3_3)
        if kind > CLIP:
            activate_block(of, om, ocs, 4, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p4x3(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """3 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 4 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 4):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        a1_0 = vbroadcast(bf[m0 + 1], w)
        a1_1 = a1_0
        a1_2 = a1_0
        a2_0 = vbroadcast(bf[m0 + 2], w)
        a2_1 = a2_0
        a2_2 = a2_0
        a3_0 = vbroadcast(bf[m0 + 3], w)
        a3_1 = a3_0
        a3_2 = a3_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            wv = _bload(wf, wi + 1, w)
            a1_0 = vfma(x0v, wv, a1_0)
            a1_1 = vfma(x1, wv, a1_1)
            a1_2 = vfma(x2, wv, a1_2)
            wv = _bload(wf, wi + 2, w)
            a2_0 = vfma(x0v, wv, a2_0)
            a2_1 = vfma(x1, wv, a2_1)
            a2_2 = vfma(x2, wv, a2_2)
            wv = _bload(wf, wi + 3, w)
            a3_0 = vfma(x0v, wv, a3_0)
            a3_1 = vfma(x1, wv, a3_1)
            a3_2 = vfma(x2, wv, a3_2)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
            a1_0 = vadd(a1_0, vload(rf, om + 1 * ocs, w))
            a1_1 = vadd(a1_1, vload(rf, om + 1 * ocs + 1 * n, w))
            a1_2 = vadd(a1_2, vload(rf, om + 1 * ocs + 2 * n, w))
            a2_0 = vadd(a2_0, vload(rf, om + 2 * ocs, w))
            a2_1 = vadd(a2_1, vload(rf, om + 2 * ocs + 1 * n, w))
            a2_2 = vadd(a2_2, vload(rf, om + 2 * ocs + 2 * n, w))
            a3_0 = vadd(a3_0, vload(rf, om + 3 * ocs, w))
            a3_1 = vadd(a3_1, vload(rf, om + 3 * ocs + 1 * n, w))
            a3_2 = vadd(a3_2, vload(rf, om + 3 * ocs + 2 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a1_2 = vmax(a1_2, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a2_2 = vmax(a2_2, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
            a3_2 = vmax(a3_2, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a1_2 = vmin(vmax(a1_2, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a2_2 = vmin(vmax(a2_2, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
            a3_2 = vmin(vmax(a3_2, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        vstore(of, om + 1 * ocs, a1_0)
        vstore(of, om + 1 * ocs + 1 * n, a1_1)
        vstore(of, om + 1 * ocs + 2 * n, a1_2)
        vstore(of, om + 2 * ocs, a2_0)
        vstore(of, om + 2 * ocs + 1 * n, a2_1)
        vstore(of, om + 2 * ocs + 2 * n, a2_2)
        vstore(of, om + 3 * ocs, a3_0)
        vstore(of, om + 3 * ocs + 1 * n, a3_1)
        vstore(of, om + 3 * ocs + 2 * n, a3_2)
        if kind > CLIP:
            activate_block(of, om, ocs, 4, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p4x2(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """2 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 4 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 4):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a1_0 = vbroadcast(bf[m0 + 1], w)
        a1_1 = a1_0
        a2_0 = vbroadcast(bf[m0 + 2], w)
        a2_1 = a2_0
        a3_0 = vbroadcast(bf[m0 + 3], w)
        a3_1 = a3_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            wv = _bload(wf, wi + 1, w)
            a1_0 = vfma(x0v, wv, a1_0)
            a1_1 = vfma(x1, wv, a1_1)
            wv = _bload(wf, wi + 2, w)
            a2_0 = vfma(x0v, wv, a2_0)
            a2_1 = vfma(x1, wv, a2_1)
            wv = _bload(wf, wi + 3, w)
            a3_0 = vfma(x0v, wv, a3_0)
            a3_1 = vfma(x1, wv, a3_1)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a1_0 = vadd(a1_0, vload(rf, om + 1 * ocs, w))
            a1_1 = vadd(a1_1, vload(rf, om + 1 * ocs + 1 * n, w))
            a2_0 = vadd(a2_0, vload(rf, om + 2 * ocs, w))
            a2_1 = vadd(a2_1, vload(rf, om + 2 * ocs + 1 * n, w))
            a3_0 = vadd(a3_0, vload(rf, om + 3 * ocs, w))
            a3_1 = vadd(a3_1, vload(rf, om + 3 * ocs + 1 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a1_0 = vmax(a1_0, z)
            a1_1 = vmax(a1_1, z)
            a2_0 = vmax(a2_0, z)
            a2_1 = vmax(a2_1, z)
            a3_0 = vmax(a3_0, z)
            a3_1 = vmax(a3_1, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a1_1 = vmin(vmax(a1_1, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a2_1 = vmin(vmax(a2_1, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
            a3_1 = vmin(vmax(a3_1, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 1 * ocs, a1_0)
        vstore(of, om + 1 * ocs + 1 * n, a1_1)
        vstore(of, om + 2 * ocs, a2_0)
        vstore(of, om + 2 * ocs + 1 * n, a2_1)
        vstore(of, om + 3 * ocs, a3_0)
        vstore(of, om + 3 * ocs + 1 * n, a3_1)
        if kind > CLIP:
            activate_block(of, om, ocs, 4, 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p4x1(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """1 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 4 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 4):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a1_0 = vbroadcast(bf[m0 + 1], w)
        a2_0 = vbroadcast(bf[m0 + 2], w)
        a3_0 = vbroadcast(bf[m0 + 3], w)
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            wv = _bload(wf, wi + 1, w)
            a1_0 = vfma(x0v, wv, a1_0)
            wv = _bload(wf, wi + 2, w)
            a2_0 = vfma(x0v, wv, a2_0)
            wv = _bload(wf, wi + 3, w)
            a3_0 = vfma(x0v, wv, a3_0)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a1_0 = vadd(a1_0, vload(rf, om + 1 * ocs, w))
            a2_0 = vadd(a2_0, vload(rf, om + 2 * ocs, w))
            a3_0 = vadd(a3_0, vload(rf, om + 3 * ocs, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a1_0 = vmax(a1_0, z)
            a2_0 = vmax(a2_0, z)
            a3_0 = vmax(a3_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a1_0 = vmin(vmax(a1_0, lo), hi)
            a2_0 = vmin(vmax(a2_0, lo), hi)
            a3_0 = vmin(vmax(a3_0, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * ocs, a1_0)
        vstore(of, om + 2 * ocs, a2_0)
        vstore(of, om + 3 * ocs, a3_0)
        if kind > CLIP:
            activate_block(of, om, ocs, 4, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _prow4_r32(xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 (ow >= W) of one row (pixel ox at strip offset ox, at o0 + ox in channel 0),
    channels m_lo..m_hi-1, 4 at a time."""
    n = lanes(w)
    nv = (ow + n - 1) // n
    if nv <= 5 and nv * n > ow:  # one tile would be wider than the row: two, ceil(nv/2) + floor(nv/2) vectors
        if nv == 5:
            _p4x3(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 2 * n
            _p4x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif nv == 4:
            _p4x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 2 * n
            _p4x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif nv == 3:
            _p4x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p4x1(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        return
    q, t1, t2 = nv // 5, nv % 5, 0
    if q > 0 and t1 == 1:
        q, t1, t2 = q - 1, 3, 3
    elif q > 0 and t1 == 2:
        q, t1, t2 = q - 1, 4, 3
    ox = 0
    for k in range(q):
        x = ow - 5 * n if t1 == 0 and k == q - 1 else ox
        _p4x5(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        ox += 5 * n
    if t2 > 0:
        if t1 == 4:
            _p4x4(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p4x3(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        x = ow - 3 * n
        _p4x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
    elif t1 > 0:
        x = ow - t1 * n
        if t1 == 4:
            _p4x4(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif t1 == 3:
            _p4x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif t1 == 2:
            _p4x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _prow4_r16(xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 (ow >= W) of one row (pixel ox at strip offset ox, at o0 + ox in channel 0),
    channels m_lo..m_hi-1, 4 at a time."""
    n = lanes(w)
    nv = (ow + n - 1) // n
    if nv <= 3 and nv * n > ow:  # one tile would be wider than the row: two, ceil(nv/2) + floor(nv/2) vectors
        if nv == 3:
            _p4x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p4x1(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        return
    q, t1, t2 = nv // 3, nv % 3, 0
    if q > 0 and t1 == 1:
        q, t1, t2 = q - 1, 2, 2
    ox = 0
    for k in range(q):
        x = ow - 3 * n if t1 == 0 and k == q - 1 else ox
        _p4x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        ox += 3 * n
    if t2 > 0:
        _p4x2(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        x = ow - 2 * n
        _p4x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
    elif t1 > 0:
        x = ow - t1 * n
        if t1 == 2:
            _p4x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p4x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p1x5(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """5 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 1 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 1):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        a0_4 = a0_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            x3 = vload(xf, xi + 3 * n, w)
            x4 = vload(xf, xi + 4 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            a0_3 = vfma(x3, wv, a0_3)
            a0_4 = vfma(x4, wv, a0_4)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, om + 3 * n, w))
            a0_4 = vadd(a0_4, vload(rf, om + 4 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
            a0_4 = vmax(a0_4, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
            a0_4 = vmin(vmax(a0_4, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        vstore(of, om + 3 * n, a0_3)
        vstore(of, om + 4 * n, a0_4)
        if kind > CLIP:
            activate_block(of, om, ocs, 1, 5 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p1x4(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """4 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 1 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 1):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        a0_3 = a0_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            x3 = vload(xf, xi + 3 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            a0_3 = vfma(x3, wv, a0_3)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
            a0_3 = vadd(a0_3, vload(rf, om + 3 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
            a0_3 = vmax(a0_3, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
            a0_3 = vmin(vmax(a0_3, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        vstore(of, om + 3 * n, a0_3)
        if kind > CLIP:
            activate_block(of, om, ocs, 1, 4 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p1x3(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """3 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 1 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 1):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        a0_2 = a0_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            x2 = vload(xf, xi + 2 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            a0_2 = vfma(x2, wv, a0_2)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
            a0_2 = vadd(a0_2, vload(rf, om + 2 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
            a0_2 = vmax(a0_2, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
            a0_2 = vmin(vmax(a0_2, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        vstore(of, om + 2 * n, a0_2)
        if kind > CLIP:
            activate_block(of, om, ocs, 1, 3 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p1x2(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """2 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 1 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 1):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        a0_1 = a0_0
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            x1 = vload(xf, xi + 1 * n, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            a0_1 = vfma(x1, wv, a0_1)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
            a0_1 = vadd(a0_1, vload(rf, om + 1 * n, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
            a0_1 = vmax(a0_1, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
            a0_1 = vmin(vmax(a0_1, lo), hi)
        vstore(of, om, a0_0)
        vstore(of, om + 1 * n, a0_1)
        if kind > CLIP:
            activate_block(of, om, ocs, 1, 2 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _p1x1(xf, wf, bf, of, xoff, x0, m_lo, m_hi, o0, ocs, rf, has_res, kind, alpha, beta, w):
    """1 vector(s) of W output pixels (strip offset x0, output offset o0 in channel 0) x output channels
    m_lo..m_hi-1, 1 at a time, NCHW; fused epilogue."""
    n = lanes(w)
    ksteps = xoff.size
    for m0 in range(m_lo, m_hi, 1):
        om = o0 + m0 * ocs
        a0_0 = vbroadcast(bf[m0], w)
        wi = (m0 // 4) * 4 * ksteps + m0 % 4
        for s in range(ksteps):
            xi = x0 + xoff[s]
            x0v = vload(xf, xi, w)
            wv = _bload(wf, wi, w)
            a0_0 = vfma(x0v, wv, a0_0)
            wi += 4
        if has_res:
            a0_0 = vadd(a0_0, vload(rf, om, w))
        if kind == RELU:
            z = vzero(w)
            a0_0 = vmax(a0_0, z)
        elif kind == CLIP:
            lo = vbroadcast(alpha, w)
            hi = vbroadcast(beta, w)
            a0_0 = vmin(vmax(a0_0, lo), hi)
        vstore(of, om, a0_0)
        if kind > CLIP:
            activate_block(of, om, ocs, 1, 1 * n, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _prow1_r32(xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 (ow >= W) of one row (pixel ox at strip offset ox, at o0 + ox in channel 0),
    channels m_lo..m_hi-1, 1 at a time."""
    n = lanes(w)
    nv = (ow + n - 1) // n
    if nv <= 5 and nv * n > ow:  # one tile would be wider than the row: two, ceil(nv/2) + floor(nv/2) vectors
        if nv == 5:
            _p1x3(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 2 * n
            _p1x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif nv == 4:
            _p1x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 2 * n
            _p1x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif nv == 3:
            _p1x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p1x1(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        return
    q, t1, t2 = nv // 5, nv % 5, 0
    if q > 0 and t1 == 1:
        q, t1, t2 = q - 1, 3, 3
    elif q > 0 and t1 == 2:
        q, t1, t2 = q - 1, 4, 3
    ox = 0
    for k in range(q):
        x = ow - 5 * n if t1 == 0 and k == q - 1 else ox
        _p1x5(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        ox += 5 * n
    if t2 > 0:
        if t1 == 4:
            _p1x4(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p1x3(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        x = ow - 3 * n
        _p1x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
    elif t1 > 0:
        x = ow - t1 * n
        if t1 == 4:
            _p1x4(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif t1 == 3:
            _p1x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        elif t1 == 2:
            _p1x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _prow1_r16(xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w):
    """Output pixels 0..ow-1 (ow >= W) of one row (pixel ox at strip offset ox, at o0 + ox in channel 0),
    channels m_lo..m_hi-1, 1 at a time."""
    n = lanes(w)
    nv = (ow + n - 1) // n
    if nv <= 3 and nv * n > ow:  # one tile would be wider than the row: two, ceil(nv/2) + floor(nv/2) vectors
        if nv == 3:
            _p1x2(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p1x1(xf, wf, bf, of, xoff, 0, m_lo, m_hi, o0 + 0, ocs, rf, has_res, kind, alpha, beta, w)
            x = ow - 1 * n
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        return
    q, t1, t2 = nv // 3, nv % 3, 0
    if q > 0 and t1 == 1:
        q, t1, t2 = q - 1, 2, 2
    ox = 0
    for k in range(q):
        x = ow - 3 * n if t1 == 0 and k == q - 1 else ox
        _p1x3(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        ox += 3 * n
    if t2 > 0:
        _p1x2(xf, wf, bf, of, xoff, ox, m_lo, m_hi, o0 + ox, ocs, rf, has_res, kind, alpha, beta, w)
        x = ow - 2 * n
        _p1x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
    elif t1 > 0:
        x = ow - t1 * n
        if t1 == 2:
            _p1x2(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
        else:
            _p1x1(xf, wf, bf, of, xoff, x, m_lo, m_hi, o0 + x, ocs, rf, has_res, kind, alpha, beta, w)
# ---- end of generated code ----


def _deinterleave_codegen(phases):
    def typer(typingctx, src, s0, dst, d0, ds, w):
        for a in (src, dst):
            if not (isinstance(a, types.Array) and a.dtype == types.float32 and a.layout == "C"):
                raise TypingError(f"_deinterleave{phases}: needs C-contiguous float32 arrays, got {a}")
        width = _width_of(w, f"_deinterleave{phases}")

        def codegen(context, builder, sig, args):
            vty = ir.VectorType(_F32, width)
            i64 = ir.IntType(64)

            def ptr(a, off):
                data = context.make_array(sig.args[a])(context, builder, args[a]).data
                return builder.bitcast(builder.gep(data, [off]), vty.as_pointer())

            s = context.cast(builder, args[1], sig.args[1], types.intp)
            d = context.cast(builder, args[3], sig.args[3], types.intp)
            step = context.cast(builder, args[4], sig.args[4], types.intp)
            vecs = [builder.load(ptr(0, builder.add(s, ir.Constant(i64, k * width))), align=4)
                    for k in range(phases)]
            # each level splits every sequence into its even and odd elements: after log2(phases) levels,
            # sequence p holds the elements p, p + phases, p + 2*phases, ... (bit-reversed order of the
            # splits, undone by `order`)
            seqs = [vecs]
            while len(seqs[0]) > 1:
                nxt = []
                for sq in seqs:
                    for par in (0, 1):
                        mask = ir.Constant(ir.VectorType(ir.IntType(32), width), [2 * i + par for i in range(width)])
                        nxt.append([builder.shuffle_vector(sq[k], sq[k + 1], mask) for k in range(0, len(sq), 2)])
                seqs = nxt
            bits = phases.bit_length() - 1
            for idx, sq in enumerate(seqs):
                p = int(format(idx, f"0{bits}b")[::-1], 2) if bits else 0
                builder.store(sq[0], ptr(2, builder.add(d, builder.mul(step, ir.Constant(i64, p)))), align=4)
            return context.get_dummy_value()

        return types.none(src, s0, dst, d0, ds, w), codegen

    typer.__name__ = f"_deinterleave{phases}"
    return intrinsic(typer)


# Lanes src.flat[s0 : s0 + P*W] split into their P phases: element k*P + p stored at dst.flat[d0 + p*ds + k].
_deinterleave2 = _deinterleave_codegen(2)
_deinterleave4 = _deinterleave_codegen(4)


@njit(cache=True, nogil=True)
def _fill(dst, d, cnt, w):
    """dst.flat[d : d + cnt] = 0 (no slices: they cost array-object calls in a per-row helper)."""
    n = lanes(w)
    z = vzero(w)
    k = 0
    while k + n <= cnt:
        vstore(dst, d + k, z)
        k += n
    for j in range(k, cnt):
        dst[d + j] = 0.0


@njit(cache=True, nogil=True)
def _copy(src, s, dst, d, cnt, w):
    """dst.flat[d : d + cnt] = src.flat[s : s + cnt]."""
    n = lanes(w)
    k = 0
    while k + n <= cnt:
        vstore(dst, d + k, vload(src, s + k, w))
        k += n
    for j in range(k, cnt):
        dst[d + j] = src[s + j]


@njit(cache=True, nogil=True)
def _load_rows(xf, x0, h, wd, oy, sh, dh, kh_, pt, pl, sw, wq, spans, c_, cs, strip, slots, loaded, w):
    """Makes the strip hold the input rows oy*sh - pt + [0, (kh_-1)*dh] of output row oy: loads those below
    `loaded` (the last row loaded; rows come in increasing order) into ring slot iy & (slots - 1), for each
    channel, split into its sw phases of wq elements (x[c, iy, k*sw + p - pl] at k of phase p, so that the pixels
    of an output row are consecutive for every kernel column). Only the in-image span [spans[2p], spans[2p+1])
    of each phase is written: the strip starts zeroed, and the padding around that span stays zero. With
    sw = 2 or 4 the span is deinterleaved sw vectors at a time for k in [k0, k1) = spans[2sw:] (the ends
    scalar); other strides copy scalars. x is flat: channel c at x0 + c*cs, rows of wd. Returns the new last
    row loaded."""
    n = lanes(w)
    k0, k1 = spans[2 * sw], spans[2 * sw + 1]
    top = oy * sh - pt
    for iy in range(max(loaded + 1, top), top + (kh_ - 1) * dh + 1):
        for c in range(c_):
            base = (c * slots + (iy & (slots - 1))) * sw * wq
            if iy < 0 or iy >= h:
                for p in range(sw):
                    _fill(strip, base + p * wq + spans[2 * p], spans[2 * p + 1] - spans[2 * p], w)
                continue
            xr = x0 + c * cs + iy * wd
            kv = k0
            if k1 > k0:
                k = k0
                while True:
                    if k >= k1:  # one more, overlapping the last, ends as far right as it can
                        k = k1 - 1
                    if sw == 2:
                        _deinterleave2(xf, xr + 2 * k - pl, strip, base + k, wq, w)
                    else:
                        _deinterleave4(xf, xr + 4 * k - pl, strip, base + k, wq, w)
                    if k == k1 - 1:
                        break
                    k += n
                kv = k1 - 1 + n
            for p in range(sw):
                row = base + p * wq
                lo, hi = spans[2 * p], spans[2 * p + 1]
                if kv > k0:
                    for k in range(lo, k0):
                        strip[row + k] = xf[xr + k * sw + p - pl]
                    for k in range(kv, hi):
                        strip[row + k] = xf[xr + k * sw + p - pl]
                elif sw == 1:
                    _copy(xf, xr + lo - pl, strip, row + lo, hi - lo, w)
                else:
                    for k in range(lo, hi):
                        strip[row + k] = xf[xr + k * sw + p - pl]
    return max(loaded, top + (kh_ - 1) * dh)


@njit(cache=True, nogil=True)
def _row_offsets(oy, sh, dh, kh_, pt, sw, wq, koff, c_, slots, xoff):
    """xoff[(c*kh_ + i)*KW + j] = strip offset of tap (c, i, j) for output pixel 0 of row oy."""
    kw_ = koff.size
    for c in range(c_):
        for i in range(kh_):
            r = (c * slots + ((oy * sh + i * dh - pt) & (slots - 1))) * sw * wq
            for j in range(kw_):
                xoff[(c * kh_ + i) * kw_ + j] = r + koff[j]


def strip_spans(wd: int, pl: int, sw: int, wq: int, width: int) -> np.ndarray:
    """For `_load_rows`: per phase p the range [lo, hi) of k with 0 <= k*sw + p - pl < wd (clipped to wq),
    then [k0, k1): the starts k of whole deinterleaved groups of sw vectors (sw = 2 or 4; 0 <= sw*k - pl and
    sw*k - pl + sw*width <= wd), empty otherwise. Computed once: no divisions per row."""
    out = []
    for p in range(sw):
        lo = min(max(0, -(-(pl - p) // sw)), wq)
        hi = min(max(lo, -(-(wd + pl - p) // sw)), wq)
        out += [lo, hi]
    k0, k1 = 0, 0
    if sw in (2, 4):
        k0, k1 = -(-pl // sw), (wd + pl - sw * width) // sw + 1
        if k1 <= k0:
            k0, k1 = 0, 0
    return np.array(out + [k0, k1], np.int64)


@njit(cache=True, nogil=True)
def _row(nb, narrow, xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w):
    """`_row{nb}_r{16 if narrow else 32}` for a run-time number of channel blocks (1-4)."""
    if narrow:
        if nb == 4:
            _row4_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
        elif nb == 3:
            _row3_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
        elif nb == 2:
            _row2_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
        else:
            _row1_r16(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
    elif nb == 4:
        _row4_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
    elif nb == 3:
        _row3_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
    elif nb == 2:
        _row2_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)
    else:
        _row1_r32(xf, wf, bf, of, xoff, w0, b0, o0, obs, ow, rf, has_res, kind, alpha, beta, w)


@njit(cache=True, nogil=True)
def _prow(narrow, xf, wf, bf, of, xoff, m_lo, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w):
    """`_prow4_r*` for channels m_lo..m4-1 (m4 the last multiple of 4), then `_prow1_r*` for the rest."""
    m4 = m_lo + (m_hi - m_lo) // 4 * 4
    if narrow:
        if m4 > m_lo:
            _prow4_r16(xf, wf, bf, of, xoff, m_lo, m4, o0, ocs, ow, rf, has_res, kind, alpha, beta, w)
        if m4 < m_hi:  # (a call passes ~50 arguments: skip empty ones)
            _prow1_r16(xf, wf, bf, of, xoff, m4, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w)
    else:
        if m4 > m_lo:
            _prow4_r32(xf, wf, bf, of, xoff, m_lo, m4, o0, ocs, ow, rf, has_res, kind, alpha, beta, w)
        if m4 < m_hi:
            _prow1_r32(xf, wf, bf, of, xoff, m4, m_hi, o0, ocs, ow, rf, has_res, kind, alpha, beta, w)


def chunk_rows(n_: int, oh: int, threads: int) -> int:
    """Output rows per task: consecutive rows share input rows (the strip is a ring), so tasks are runs of up to
    16 rows, short enough for about 4 tasks per thread."""
    return max(1, min(16, n_ * oh // (4 * threads)))


@njit(cache=True, parallel=True, nogil=True)
def conv_stem_nchwc_f32(x, kh_, sh, sw, dh, pt, pl, wq, spans, koff, slots, rc, wp, bias, blocks, narrow, res,
                        has_res, kind, alpha, beta, out, w):
    """out (N, OCb, OH, OW, W) NCHWc = act(conv(x) + bias [+ res (out's shape)]) for x (N, C, H, Wd) NCHW.
    Geometry: kernel rows kh_, strides sh/sw, row dilation dh, top/left pads pt/pl (the others follow from out's
    shape); wq, spans, koff and slots from `geometry`; rc output rows per task (`chunk_rows`); wp from
    `pack_weights(w, W, blocks)`; bias (OCb*W,); narrow: the tiles for 16 vector registers (`TILES`). out must
    not alias res (a row's last tile is computed again over the one before). Work: prange over (image x run of
    output rows); per row, every group of `blocks` channel blocks."""
    n = lanes(w)
    n_, c_, h, wd = x.shape
    ocb, oh_, ow_ = out.shape[1], out.shape[2], out.shape[3]
    ng = (ocb + blocks - 1) // blocks
    ksteps = c_ * kh_ * koff.size
    xf = x.reshape(-1)
    of = out.reshape(-1)
    rf = res.reshape(-1)
    obs = oh_ * ow_ * n
    nc = (oh_ + rc - 1) // rc
    for t in prange(n_ * nc):
        b = t // nc
        strip = np.zeros(c_ * slots * sw * wq, np.float32)
        xoff = np.empty(ksteps, np.int64)
        loaded = -(1 << 62)
        for oy in range((t % nc) * rc, min(oh_, (t % nc + 1) * rc)):
            loaded = _load_rows(xf, b * c_ * h * wd, h, wd, oy, sh, dh, kh_, pt, pl, sw, wq, spans, c_, h * wd,
                                strip, slots, loaded, w)
            _row_offsets(oy, sh, dh, kh_, pt, sw, wq, koff, c_, slots, xoff)
            for g in range(ng):
                nb = min(blocks, ocb - g * blocks)
                o0 = ((b * ocb + g * blocks) * oh_ + oy) * ow_ * n
                _row(nb, narrow, strip, wp, bias, of, xoff, g * blocks * ksteps * n, g * blocks * n, o0, obs, ow_, rf,
                     has_res, kind, alpha, beta, w)


@njit(cache=True, parallel=True, nogil=True)
def conv_stem_nchw_f32(x, kh_, sh, sw, dh, pt, pl, wq, spans, koff, slots, rc, wp, bias, narrow, res, has_res, kind,
                       alpha, beta, out, w):
    """out (N, M, OH, OW) NCHW = act(conv(x) + bias [+ res (NCHW, out's shape)]); x (N, C, H, Wd) NCHW; wp from
    `pack_weights_nchw`; other arguments as in `conv_stem_nchwc_f32`. out must not alias x or res. Work:
    prange over (image x run of output rows); per row, every group of 4 output channels."""
    n = lanes(w)
    n_, c_, h, wd = x.shape
    m_, oh_, ow_ = out.shape[1], out.shape[2], out.shape[3]
    ksteps = c_ * kh_ * koff.size
    xf = x.reshape(-1)
    of = out.reshape(-1)
    rf = res.reshape(-1)
    plane = oh_ * ow_
    nc = (oh_ + rc - 1) // rc
    for t in prange(n_ * nc):
        b = t // nc
        strip = np.zeros(c_ * slots * sw * wq, np.float32)
        xoff = np.empty(ksteps, np.int64)
        loaded = -(1 << 62)
        for oy in range((t % nc) * rc, min(oh_, (t % nc + 1) * rc)):
            loaded = _load_rows(xf, b * c_ * h * wd, h, wd, oy, sh, dh, kh_, pt, pl, sw, wq, spans, c_, h * wd,
                                strip, slots, loaded, w)
            _row_offsets(oy, sh, dh, kh_, pt, sw, wq, koff, c_, slots, xoff)
            o0 = b * m_ * plane + oy * ow_
            if ow_ >= n:
                _prow(narrow, strip, wp, bias, of, xoff, 0, m_, o0, plane, ow_, rf, has_res, kind, alpha, beta, w)
            else:  # rows narrower than one vector: through a W-float scratch
                tmp = np.empty(n, np.float32)
                for m0 in range(m_):
                    om = o0 + m0 * plane
                    _p1x1(strip, wp, bias, tmp, xoff, 0, m0, m0 + 1, -m0 * n, n, rf, False, 0, alpha, beta, w)
                    if has_res:
                        for j in range(ow_):
                            tmp[j] += rf[om + j]
                    if kind != 0:
                        vstore(tmp, 0, activate(vload(tmp, 0, w), kind, alpha, beta))
                    for j in range(ow_):
                        of[om + j] = tmp[j]


def pack_weights_nchw(w: np.ndarray) -> np.ndarray:
    """(M, C, KH, KW) -> flat float32 for the NCHW tiles: output channels zero-padded to a multiple of 4, in
    groups of 4 laid out [C][KH][KW][4]; weight (m, step) at (m // 4) * 4 * C*KH*KW + step * 4 + m % 4."""
    m, c, kh, kw = w.shape
    g = -(-m // 4)
    wpad = np.zeros((g * 4, c, kh, kw), np.float32)
    wpad[:m] = w
    return np.ascontiguousarray(wpad.reshape(g, 4, c, kh, kw).transpose(0, 2, 3, 4, 1).ravel())


def pack_weights(w: np.ndarray, width: int, blocks: int) -> np.ndarray:
    """(M, C, KH, KW) -> flat float32 for the NCHWc tiles: output channels zero-padded to blocks of `width`,
    grouped `blocks` at a time (the last group may be smaller); group g at g*blocks*C*KH*KW*width, laid out
    [C][KH][KW][nb][width]."""
    m, c, kh, kw = w.shape
    ocb = -(-m // width)
    wpad = np.zeros((ocb * width, c, kh, kw), np.float32)
    wpad[:m] = w
    wb = wpad.reshape(ocb, width, c, kh, kw)
    parts = [wb[g:g + blocks].transpose(2, 3, 4, 0, 1).ravel() for g in range(0, ocb, blocks)]
    return np.ascontiguousarray(np.concatenate(parts), np.float32)


def geometry(cfg, width):
    """(wq, spans, koff, slots) of the input strips of a 2-D (or 1-D) ConvConfig. A strip holds `slots` (a power
    of two covering the kernel's dilated height) input rows per channel, each split into its sw phases of wq
    elements (at least ceil(padded width / sw), and room for a whole vector of W output pixels); koff[j] =
    offset of kernel column j from pixel 0 in a row's (sw, wq) block."""
    kw = cfg.kernel[2]
    sw = cfg.strides[2]
    _, dh, dw = cfg.dilations
    _, pl = cfg.pads_begin[1:]
    _, pr = cfg.pads_end[1:]
    wd = cfg.in_spatial[2]
    wq = max(-(-(pl + wd + pr) // sw), max(cfg.out_spatial[2], width) + (kw - 1) * dw // sw)
    koff = np.array([((j * dw) % sw) * wq + (j * dw) // sw for j in range(kw)], np.int64)
    slots = 1 << ((cfg.kernel[1] - 1) * dh).bit_length()
    return wq, strip_spans(wd, pl, sw, wq, width), koff, slots


def supports(cfg) -> bool:
    """Dense (group == 1) 1-D / 2-D convolution with at most MAX_CHANNELS input channels."""
    return cfg.group == 1 and cfg.rank <= 2 and cfg.in_channels <= MAX_CHANNELS


def default_blocks(m: int, width: int) -> int:
    return min(-(-m // width), 4)


def make_runner(cfg, width: int, w, b, epilogue=NO_EPILOGUE, blocks=None, mode="nchw", blocked_res=False):
    """run(x NCHW float32, residual or None) -> (y,); weights packed here, once. mode "nchw": NCHW kernel;
    "nchwc": the NCHWc-output core reordered back to NCHW; "blocked": the core writing y in NCHWc
    (N, ceil(M/W), OH, OW, W) for the layout pass, with the residual NCHWc when blocked_res."""
    tok = width_token(width)
    c, m = cfg.in_channels, cfg.out_channels
    ocb = -(-m // width)
    _, kh, kw = cfg.kernel
    _, sh, sw = cfg.strides
    _, dh, _ = cfg.dilations
    _, pt, pl = cfg.pads_begin
    _, h, wd = cfg.in_spatial
    _, oh, ow = cfg.out_spatial
    blocks = blocks or default_blocks(m, width)
    w4 = np.asarray(w, np.float32).reshape(m, c, kh, kw)
    wp = pack_weights(w4, width, blocks) if mode != "nchw" else pack_weights_nchw(w4)
    bias = np.zeros(ocb * width, np.float32)
    if b is not None:
        bias[:m] = np.asarray(b, np.float32)
    geo = geometry(cfg, width)
    kind, alpha, beta = epilogue.args
    # AVX2's 16 ymm hold no 4 x 6 (24 accumulators) or 4 x 5 tile: their spills ran the ResNet-50 stem at
    # 1.8x onnxruntime's time; the 16-register tiles at 0.9x (`TILES`)
    narrow = Platform.detect(simd_width=width).vector_registers < 32
    stem_nchw, stem_nchwc = bound(conv_stem_nchw_f32), bound(conv_stem_nchwc_f32)

    @accepts_out
    def run(x, residual=None, out=None):
        n_ = x.shape[0]
        x4 = np.ascontiguousarray(x, np.float32).reshape(n_, c, h, wd)
        rc = chunk_rows(n_, oh, numba.get_num_threads())
        res = NO_RESIDUAL
        if mode == "nchw":
            # y in its final shape, returned as is: a session copies outputs that are views
            y = output(out, (n_, *cfg.output_shape[1:]))
            y4 = y.reshape(n_, m, oh, ow)
            if epilogue.residual:
                res = np.ascontiguousarray(residual, np.float32).reshape(-1)
            stem_nchw(x4, kh, sh, sw, dh, pt, pl, *geo, rc, wp, bias, narrow, res, epilogue.residual, kind,
                               alpha, beta, y4, tok)
            return (y,)
        if epilogue.residual:
            res = np.ascontiguousarray(residual) if blocked_res else layout.reorder_nchw_to_nchwc(
                np.ascontiguousarray(residual, np.float32).reshape(n_, m, oh, ow), width)
            res = res.reshape(-1)   # one kernel specialisation for every residual layout (and NO_RESIDUAL)
        if mode == "blocked":
            yb = output(out, (n_, ocb, oh, ow, width))
            stem_nchwc(x4, kh, sh, sw, dh, pt, pl, *geo, rc, wp, bias, blocks, narrow, res, epilogue.residual,
                                kind, alpha, beta, yb, tok)
            return (yb,)
        yc = take_shaped("nchwc_out", (n_, ocb, oh, ow, width))
        stem_nchwc(x4, kh, sh, sw, dh, pt, pl, *geo, rc, wp, bias, blocks, narrow, res, epilogue.residual,
                            kind, alpha, beta, yc, tok)
        y = output(out, (n_, *cfg.output_shape[1:]))
        layout.reorder_nchwc_to_nchw(yc, m, out=y.reshape(n_, m, oh, ow))
        return (y,)

    return run


if __name__ == "__main__":
    regenerate(__file__, emit_tiles())
