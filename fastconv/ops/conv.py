"""Conv and ConvTranspose: attribute parsing and validation, shape rule, kernel selection, weight packing.

Attributes are checked at load time as far as they can be without shapes; the rest (channel counts, weight
shape, kernel vs padded input, output_shape) when shapes are known. Geometry comes from `_geometry` only.
Kernels see every problem as 3-D (1-D and 2-D get unit leading spatial axes) over float32 NCDHW tensors;
`lower` picks the best registered kernel for the concrete `ConvConfig` and packs constant weights once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import get_num_threads

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output, take, take_shaped
from fastconv.kernels.numba import conv_depthwise as _kd
from fastconv.kernels.numba import conv_general as kc
from fastconv.kernels.numba import conv_nchwc as _kn
from fastconv.kernels.numba import conv_stem as _ks
from fastconv.kernels.numba import conv_transpose as kt
from fastconv.kernels.numba import gemm as kg
from fastconv.kernels.numba import layout
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.epilogue import NO_EPILOGUE, Epilogue, apply_epilogue
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops import _geometry as geo
from fastconv.ops.base import F32, Op, int_tuple
from fastconv.ops.registry import register_op
from fastconv.platform import Platform

# Column buffers of im2col / col2im are tiled to about this many floats (a few MB: L2/L3-sized, and wide enough
# for the GEMM to run at full speed), and never exceed the layer's output size times its kernel volume.
COLS_TARGET = 1 << 20


@dataclass(frozen=True)
class ConvConfig:
    """Concrete geometry of one Conv / ConvTranspose node, padded to 3 spatial axes."""

    batch: int
    in_channels: int
    out_channels: int
    group: int
    in_spatial: tuple
    out_spatial: tuple
    kernel: tuple
    strides: tuple
    dilations: tuple
    pads_begin: tuple
    pads_end: tuple
    rank: int  # number of real spatial axes (1-3)

    @property
    def kvol(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.kernel[2]

    @property
    def output_shape(self) -> tuple:
        return (self.batch, self.out_channels, *self.out_spatial[3 - self.rank:])

    @property
    def depthwise(self) -> bool:
        """One input channel per group (group == C_in), any channel multiplier."""
        return self.group == self.in_channels and self.out_channels % self.in_channels == 0

    @property
    def pointwise(self) -> bool:
        return (self.kernel == (1, 1, 1) and self.strides == (1, 1, 1)
                and self.pads_begin == (0, 0, 0) and self.pads_end == (0, 0, 0))


class _WindowOp(Op):
    attributes = frozenset({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})

    def parse(self, attrs):
        self.auto_pad = attrs.get("auto_pad", "NOTSET")
        if self.auto_pad not in geo.AUTO_PADS:
            self.fail(f"auto_pad '{self.auto_pad}' is not one of {list(geo.AUTO_PADS)}")
        self.kernel_shape = int_tuple(attrs, "kernel_shape")
        self.strides = int_tuple(attrs, "strides")
        self.dilations = int_tuple(attrs, "dilations")
        self.pads = int_tuple(attrs, "pads")
        self.group = int(attrs.get("group", 1))
        if self.group < 1:
            self.fail(f"group must be >= 1, got {self.group}")
        for name in ("kernel_shape", "strides", "dilations"):
            v = getattr(self, name)
            if v is not None and any(s < 1 for s in v):
                self.fail(f"{name} must be >= 1, got {list(v)}")
        if self.pads is not None:
            if len(self.pads) % 2:
                self.fail(f"pads has {len(self.pads)} values; it needs a begin and an end per spatial axis")
            if any(p < 0 for p in self.pads):
                self.fail(f"pads must be >= 0, got {list(self.pads)}")
        # spatial rank as far as the attributes tell; they must agree with each other
        lengths = {name: len(v) for name, v in (("kernel_shape", self.kernel_shape), ("strides", self.strides),
                                                  ("dilations", self.dilations))
                   if v is not None}
        if self.pads is not None:
            lengths["pads/2"] = len(self.pads) // 2
        if len(set(lengths.values())) > 1:
            self.fail(f"attribute lengths disagree on the number of spatial axes: {lengths}")
        self.spatial_rank = next(iter(lengths.values()), None)  # None: known from X only
        if self.spatial_rank is not None and not 1 <= self.spatial_rank <= 3:
            self.unsupported(f"{self.spatial_rank} spatial axes; 1-3 are supported")

    def _spatial(self, x: TensorInfo, w: TensorInfo):
        """(kernel, strides, dilations) for this input, checked against X and W."""
        if len(x.shape) < 3:
            self.fail(f"input X has shape {list(x.shape)}; expected (N, C, spatial...) with 1-3 spatial axes")
        if len(x.shape) > 5:
            self.unsupported(f"input X has shape {list(x.shape)}; 1-3 spatial axes are supported")
        n = len(x.shape) - 2
        if len(w.shape) != n + 2:
            self.fail(f"weight W has shape {list(w.shape)}; expected rank {n + 2} for input X {list(x.shape)}")
        kernel = tuple(int(k) for k in w.shape[2:])
        if self.kernel_shape is not None and self.kernel_shape != kernel:
            self.fail(f"kernel_shape {list(self.kernel_shape)} does not match weight W shape {list(w.shape)}")
        strides = self.strides or (1,) * n
        dilations = self.dilations or (1,) * n
        for name, v in (("strides", strides), ("dilations", dilations)):
            if len(v) != n:
                self.fail(f"{name} has {len(v)} values; input X {list(x.shape)} has {n} spatial axes")
        if self.pads is not None and len(self.pads) != 2 * n:
            self.fail(f"pads has {len(self.pads)} values; expected {2 * n} for input X {list(x.shape)}")
        if any(k < 1 for k in kernel):
            self.fail(f"weight W has shape {list(w.shape)}; kernel dimensions must be >= 1")
        return kernel, strides, dilations

    def _bias(self, b: TensorInfo | None, m: int):
        if b is not None and tuple(b.shape) != (m,):
            self.fail(f"bias B has shape {list(b.shape)}; expected [{m}] (one per output channel)")

    def _refuse_empty_input(self, x: TensorInfo, m: int, out) -> None:
        """An X with no pixels or channels gives an output of bias values only, which the kernels do not write
        (found by fuzzing: ConvTranspose on H = 0 returned uninitialised memory). An empty output is fine."""
        if 0 in x.shape[1:] and x.shape[0] and m and 0 not in out:
            self.unsupported(f"input X {list(x.shape)} has a 0-size channel or spatial axis while the output "
                             f"{[x.shape[0], m, *out]} does not")

    # Set by the epilogue fusion pass (fastconv/graph/passes.py): activation and residual Add fused into this
    # node; the residual then arrives as a 4th input, after X, W and B ("" when B is absent).
    epilogue: Epilogue = NO_EPILOGUE

    def _lower(self, op_type, cfg, inputs, ctx):
        kernel = select_kernel(op_type, cfg, ctx.platform, ctx.kernel_overrides.get(op_type))
        ep = self.epilogue
        w = inputs[1].value
        has_b = len(inputs) > 2 and inputs[2] is not None
        b = inputs[2].value if has_b else None
        if w is not None and (not has_b or b is not None):
            run = kernel.build(cfg, ctx.platform, w, b, ep)  # weights packed once, here
            if not getattr(run, "accepts_out", False):
                return (lambda x, w, b, r: run(x, r)) if ep.residual else (lambda x, *_: run(x))
            if ep.residual:
                return accepts_out(lambda x, w, b, r, out=None: run(x, r, out=out))
            return accepts_out(lambda x, *_, out=None: run(x, out=out))
        return lambda x, w, b=None, r=None: kernel.build(cfg, ctx.platform, w, b, ep)(x, r)

    def _run_fused(self, build, x, w, b, r):
        """General semantics (constant folding, reference): the general kernel with this node's epilogue."""
        return build(self.config(self._infos(x, w, b)), None, w, b, self.epilogue)(x, r)

    @staticmethod
    def _infos(*arrays):
        return [None if a is None else TensorInfo(a.dtype, tuple(a.shape)) for a in arrays]


@register_op("Conv", since=1, until=22)
class Conv(_WindowOp):
    """Y = conv(X, W) + B over 1-3 spatial axes with groups; ONNX Conv-1/11/22 (same float semantics).

    X (N, C, spatial...), W (M, C / group, k...), optional B (M,); float32 only.
    """

    def config(self, inputs) -> ConvConfig:
        x, w = inputs[0], inputs[1]
        b = inputs[2] if len(inputs) > 2 else None
        self.require_float32(x, w, b, names=("X", "W", "B"))
        kernel, strides, dilations = self._spatial(x, w)
        batch, c = x.shape[:2]
        m = w.shape[0]
        if c % self.group or m % self.group:
            self.fail(f"group {self.group} must divide the input channels ({c}) and output channels ({m})")
        if w.shape[1] * self.group != c:
            self.fail(f"weight W has shape {list(w.shape)}; W.shape[1] * group ({w.shape[1]} * {self.group}) "
                      f"must equal the input channels of X {list(x.shape)}")
        self._bias(b, m)
        spatial = tuple(x.shape[2:])
        pb, pe = geo.window_pads(spatial, kernel, strides, dilations, self.pads, self.auto_pad)
        for i in range(len(spatial)):
            extent = dilations[i] * (kernel[i] - 1) + 1
            if spatial[i] + pb[i] + pe[i] < extent:
                self.fail(f"kernel extent {extent} on spatial axis {i} exceeds the padded input size "
                          f"{spatial[i] + pb[i] + pe[i]} (X {list(x.shape)}, W {list(w.shape)}, "
                          f"pads {pb + pe}, dilations {list(dilations)})")
        out = geo.window_output_shape(spatial, kernel, strides, dilations, pb, pe)
        self._refuse_empty_input(x, m, out)
        return ConvConfig(batch, c, m, self.group, geo.to_3d(spatial, 1), geo.to_3d(out, 1), geo.to_3d(kernel, 1),
                          geo.to_3d(strides, 1), geo.to_3d(dilations, 1), geo.to_3d(pb, 0), geo.to_3d(pe, 0),
                          len(spatial))

    def infer(self, inputs):
        return [TensorInfo(F32, self.config(inputs).output_shape)]

    def lower(self, inputs, outputs, ctx):
        if self.layout:
            return self._lower_blocked(inputs, ctx)
        return self._lower("Conv", self.config(inputs), inputs, ctx)

    def run(self, x, w, b=None, r=None):
        return self._run_fused(conv_im2col_gemm_f32, x, w, b, r)

    def block_kernel(self, inputs, ctx) -> str | None:
        """How this conv (NCHW input infos X, W, B) relates to the blocked layout (fastconv/plan/layout.py):
        "direct" / "stem" when an NCHWc kernel runs it on NCHW too (it then writes NCHWc at no extra cost),
        "gemm" when the NCHW GEMM runs it but the NCHWc direct kernel could (a 1x1 conv: blocked only if its
        input already is), "depthwise" for a depthwise conv the NCHWc depthwise core can run (blocked only if
        its input already is), None when it stays NCHW (forced kernels, grouped, 1-D/3-D, heavy channel padding)."""
        if ctx.kernel_overrides.get("Conv") is not None or len(inputs[0].shape) != 4:
            return None
        cfg = self.config(inputs)
        width = ctx.platform.simd_width
        kernel = select_kernel("Conv", cfg, ctx.platform).name
        if kernel == "conv_stem_nchw_f32":
            m = cfg.out_channels
            return "stem" if -(-m // width) * width <= 1.25 * m else None
        if kernel == "conv_depthwise_nchw_f32":
            return "depthwise" if _kd.supports_nchwc(cfg) and cfg.rank == 2 and _little_channel_padding(
                cfg, ctx.platform) else None
        if not (_kn.supports(cfg) and _little_channel_padding(cfg, ctx.platform)):
            return None
        return {"conv_nchwc_direct_f32": "direct", "conv_pointwise_gemm_f32": "gemm"}.get(kernel)

    def _lower_blocked(self, inputs, ctx):
        x = inputs[0]
        plain = [TensorInfo(x.dtype, x.logical_shape), *inputs[1:3]]
        cfg = self.config(plain)
        w = inputs[1].value
        b = inputs[2].value if len(inputs) > 2 and inputs[2] is not None else None
        ep = self.epilogue
        res_blocked = ep.residual and inputs[3].blocked
        kind = self.block_kernel(plain, ctx)
        if kind == "stem":
            run = _ks.make_runner(cfg, self.layout, w, b, ep, mode="blocked", blocked_res=res_blocked)
        elif kind == "depthwise":
            run = _kd.make_runner_nchwc(cfg, ctx.platform, w, b, ep, blocked_in=True, blocked_res=res_blocked,
                                        blocked_out=True)
        else:
            run = _kn.make_runner(cfg, self.layout, w, b, ep, blocked_in=x.blocked, blocked_res=res_blocked,
                                  blocked_out=True)
        if ep.residual:
            return accepts_out(lambda x, w, b, r, out=None: run(x, r, out=out))
        return accepts_out(lambda x, *_, out=None: run(x, out=out))


def _band(rows: int, row_len: int, k_rows: int, bound: int) -> int:
    """Rows per tile of a (k_rows, rows * row_len) column matrix: within COLS_TARGET and `bound` floats,
    and at least one row."""
    return max(1, min(rows, min(bound, COLS_TARGET) // max(1, k_rows * row_len)))


def im2col_band(cfg: ConvConfig, k_rows: int) -> int:
    """Output rows per im2col tile; the tile holds k_rows x (rows * ow) floats, at most the layer's output
    size times its kernel volume (one output row at the least)."""
    od, oh, ow = cfg.out_spatial
    return _band(od * oh, ow, k_rows, cfg.out_channels * od * oh * ow * cfg.kvol)


def col2im_band(cfg: ConvConfig) -> int:
    """Input rows per ConvTranspose GEMM tile of (M / group * kvol) x (rows * in_w) floats, bounded like
    im2col's by the layer's output size times its kernel volume (one input row at the least)."""
    in_d, in_h, in_w = cfg.in_spatial
    od, oh, ow = cfg.out_spatial
    mgk = cfg.out_channels // cfg.group * cfg.kvol
    return _band(in_d * in_h, in_w, mgk, cfg.out_channels * od * oh * ow * cfg.kvol)


@register_kernel("Conv", "conv_im2col_gemm_f32", priority=0)
def conv_im2col_gemm_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """General kernel: per image and group, im2col over bands of output rows, then the packed SIMD GEMM
    (kernels/numba/gemm.py) writing straight into the NCHW output with bias and epilogue fused."""
    g, m, c = cfg.group, cfg.out_channels, cfg.in_channels
    mg, cg = m // g, c // g
    kd, kh, kw = cfg.kernel
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin
    od, oh, ow = cfg.out_spatial
    k_rows = cg * cfg.kvol
    w3 = np.asarray(w, np.float32).reshape(g, mg, k_rows)
    b2 = None if b is None else np.asarray(b, np.float32).reshape(g, mg)
    packed = [kg.PackedA(w3[gi], None if b2 is None else b2[gi]) for gi in range(g)]
    rows, p = od * oh, od * oh * ow
    band = im2col_band(cfg, k_rows)
    in_shape = (c, *cfg.in_spatial)
    width = Platform.or_host(platform).simd_width
    tok = kg.width_token(width)
    kind, alpha, beta = epilogue.args
    im2col, gemm = bound(kc.im2col_rows_f32), kg.gemm_driver()

    @accepts_out
    def run(x, residual=None, out=None):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        xs = x.reshape(n_, *in_shape)
        y = output(out, cfg.output_shape)
        of = y.reshape(-1)
        res = kg.NO_RESIDUAL if not epilogue.residual else np.ascontiguousarray(residual, np.float32).reshape(-1)
        buf = take("im2col", k_rows * band * ow)
        threads = get_num_threads()
        for n in range(n_):
            for gi in range(g):
                xg = xs[n, gi * cg:(gi + 1) * cg]
                pa = packed[gi]
                for r0 in range(0, rows, band):
                    r1 = min(rows, r0 + band)
                    cols = buf[:k_rows * (r1 - r0) * ow].reshape(k_rows, (r1 - r0) * ow)
                    im2col(xg, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, cols, threads, tok)
                    gemm(pa.panels, mg, buf, 0, 0, (r1 - r0) * ow, of, (n * m + gi * mg) * p + r0 * ow, 0,
                                p, (r1 - r0) * ow, 1, 1, 0, 0, pa.bias, res, epilogue.residual, kind, alpha,
                                beta, get_num_threads(), tok)
        return (y,)

    return run


@register_kernel("Conv", "conv_pointwise_gemm_f32", priority=10, supports=lambda cfg, platform: cfg.pointwise)
def conv_pointwise_gemm_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """1x1, stride 1, no padding: the NCHW input already is GEMM's B (channels x pixels) and the NCHW output
    its C: one packed SIMD GEMM call over every image and group, bias and epilogue fused, no copies."""
    g, m, c = cfg.group, cfg.out_channels, cfg.in_channels
    mg, cg = m // g, c // g
    w3 = np.asarray(w, np.float32).reshape(g, mg, cg)
    b2 = None if b is None else np.asarray(b, np.float32).reshape(g, mg)
    pa = kg.PackedA(w3, b2)
    p = cfg.out_spatial[0] * cfg.out_spatial[1] * cfg.out_spatial[2]
    tok = kg.width_token(Platform.or_host(platform).simd_width)
    kind, alpha, beta = epilogue.args
    gemm = kg.gemm_driver()

    @accepts_out
    def run(x, residual=None, out=None):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        xf = x.reshape(-1)
        y = output(out, cfg.output_shape)
        of = y.reshape(-1)
        res = kg.NO_RESIDUAL if not epilogue.residual else np.ascontiguousarray(residual, np.float32).reshape(-1)
        gemm(pa.panels, mg, xf, 0, c * p, p, of, 0, m * p, p, p, n_, g, cg * p, mg * p, pa.bias, res,
                    epilogue.residual, kind, alpha, beta, get_num_threads(), tok)
        return (y,)

    return run


@register_kernel("Conv", "conv_depthwise_direct_f32", priority=20, supports=lambda cfg, platform: cfg.depthwise)
def conv_depthwise_direct_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """group == C_in (depthwise, any channel multiplier): direct convolution, bias first."""
    m = cfg.out_channels
    wp = np.ascontiguousarray(np.asarray(w, np.float32).reshape(m, *cfg.kernel))
    bias = np.zeros(m, np.float32) if b is None else np.ascontiguousarray(b, np.float32)
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin
    in_shape = (cfg.in_channels, *cfg.in_spatial)
    out_shape = (m, *cfg.out_spatial)

    def run(x, residual=None):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        out = np.empty(cfg.output_shape, np.float32)
        kc.conv_depthwise_f32(x.reshape(n_, *in_shape), wp, bias, sd, sh, sw, dd, dh, dw, pd, ph, pw,
                              out.reshape(n_, *out_shape))
        return (apply_epilogue(out, epilogue, residual),)

    return run


@register_op("ConvTranspose", since=1, until=22)
class ConvTranspose(_WindowOp):
    """Y = conv_transpose(X, W) + B; ONNX ConvTranspose-1/11/22. W is (C, M / group, k...).

    Output size and padding follow onnxruntime (see `_geometry.transpose_pads_and_output`).
    """

    attributes = _WindowOp.attributes | {"output_padding", "output_shape"}

    def parse(self, attrs):
        super().parse(attrs)
        self.output_padding = int_tuple(attrs, "output_padding")
        self.output_shape = int_tuple(attrs, "output_shape")
        if self.output_padding is not None:
            if any(p < 0 for p in self.output_padding):
                self.fail(f"output_padding must be >= 0, got {list(self.output_padding)}")
            if self.spatial_rank is not None and len(self.output_padding) != self.spatial_rank:
                self.fail(f"output_padding has {len(self.output_padding)} values; the other attributes have "
                          f"{self.spatial_rank} spatial axes")
        if self.output_shape is not None and any(s < 1 for s in self.output_shape):
            self.fail(f"output_shape must be >= 1, got {list(self.output_shape)}")

    def config(self, inputs) -> ConvConfig:
        x, w = inputs[0], inputs[1]
        b = inputs[2] if len(inputs) > 2 else None
        self.require_float32(x, w, b, names=("X", "W", "B"))
        kernel, strides, dilations = self._spatial(x, w)
        n = len(kernel)
        batch, c = x.shape[:2]
        if c % self.group:
            self.fail(f"group {self.group} must divide the input channels of X {list(x.shape)}")
        if w.shape[0] != c:
            self.fail(f"weight W has shape {list(w.shape)}; W.shape[0] must equal the input channels of X "
                      f"{list(x.shape)}")
        m = w.shape[1] * self.group
        self._bias(b, m)
        out_pad = self.output_padding or (0,) * n
        if len(out_pad) != n:
            self.fail(f"output_padding has {len(out_pad)} values; input X {list(x.shape)} has {n} spatial axes")
        for i in range(n):
            if out_pad[i] >= max(strides[i], dilations[i]):
                self.fail(f"output_padding {list(out_pad)} must be smaller than the stride or the dilation on "
                          f"each axis (strides {list(strides)}, dilations {list(dilations)})")
        target = self.output_shape
        if target is not None:
            if len(target) not in (n, n + 2):
                self.fail(f"output_shape {list(target)} must have {n} spatial values (or {n + 2} with N and C)")
            target = target[-n:]
        spatial = tuple(x.shape[2:])
        pb, pe, out = geo.transpose_pads_and_output(spatial, kernel, strides, dilations, self.pads, out_pad,
                                                    target, self.auto_pad)
        for i in range(n):
            extent = dilations[i] * (kernel[i] - 1) + 1
            largest = strides[i] * spatial[i] + extent - 1  # beyond it a whole input pixel would be missing
            if target is not None and target[i] > largest:
                self.fail(f"output_shape {list(target)} is inconsistent with input X {list(x.shape)}: axis {i} can "
                          f"be at most {largest} (strides {list(strides)}, kernel extent {extent}, output_padding "
                          f"{list(out_pad)})")
        if any(o < 1 for o in out):
            self.fail(f"output spatial shape {out} is not positive (X {list(x.shape)}, W {list(w.shape)}, "
                      f"pads {pb + pe})")
        self._refuse_empty_input(x, m, out)
        return ConvConfig(batch, c, m, self.group, geo.to_3d(spatial, 1), geo.to_3d(out, 1), geo.to_3d(kernel, 1),
                          geo.to_3d(strides, 1), geo.to_3d(dilations, 1), geo.to_3d(pb, 0), geo.to_3d(pe, 0), n)

    def infer(self, inputs):
        return [TensorInfo(F32, self.config(inputs).output_shape)]

    def lower(self, inputs, outputs, ctx):
        return self._lower("ConvTranspose", self.config(inputs), inputs, ctx)

    def run(self, x, w, b=None, r=None):
        return self._run_fused(convtranspose_gemm_col2im_f32, x, w, b, r)


@register_kernel("ConvTranspose", "convtranspose_gemm_col2im_f32", priority=0)
def convtranspose_gemm_col2im_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """Per image, group and band of input rows: cols = W_g^T @ X_g (packed SIMD GEMM), then a parallel col2im
    scatter-add whose first band also writes the bias. No zero insertion."""
    g, c, m = cfg.group, cfg.in_channels, cfg.out_channels
    cg, mg = c // g, m // g
    kvol = cfg.kvol
    mgk = mg * kvol
    # (g, mg * kvol, cg): row m * kvol + k of group gi holds W[gi * cg:(gi + 1) * cg, m, k]
    wt = np.asarray(w, np.float32).reshape(g, cg, mgk).transpose(0, 2, 1)
    packed = [kg.PackedA(wt[gi]) for gi in range(g)]
    tok = kg.width_token(Platform.or_host(platform).simd_width)
    bias = np.zeros(m, np.float32) if b is None else np.ascontiguousarray(b, np.float32)
    kd, kh, kw = cfg.kernel
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin
    in_d, in_h, in_w = cfg.in_spatial
    rows, p_in = in_d * in_h, in_d * in_h * in_w
    band = col2im_band(cfg)
    out_shape = (m, *cfg.out_spatial)
    gemm, col2im = kg.gemm_driver(), bound(kt.col2im_add_f32)

    @accepts_out
    def run(x, residual=None, out=None):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        xf = x.reshape(-1)
        y = output(out, cfg.output_shape)
        o5 = y.reshape(n_, *out_shape)
        buf = take("col2im", mgk * band * in_w)
        for n in range(n_):
            for gi in range(g):
                og = o5[n, gi * mg:(gi + 1) * mg]
                bg = bias[gi * mg:(gi + 1) * mg]
                for r0 in range(0, rows, band):
                    r1 = min(rows, r0 + band)
                    cols = buf[:mgk * (r1 - r0) * in_w].reshape(mgk, (r1 - r0) * in_w)
                    pa = packed[gi]
                    gemm(pa.panels, mgk, xf, (n * c + gi * cg) * p_in + r0 * in_w, 0, p_in, buf, 0, 0,
                                (r1 - r0) * in_w, (r1 - r0) * in_w, 1, 1, 0, 0, pa.bias, kg.NO_RESIDUAL, False, 0,
                                np.float32(0), np.float32(0), get_num_threads(), tok)
                    col2im(cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, in_h, in_w, r0, r1,
                                      bg, r0 == 0, og)
        return (apply_epilogue(y, epilogue, residual),)

    return run


def _one_pixel_input(cfg: ConvConfig) -> bool:
    """A ConvTranspose whose input is one pixel and whose output is exactly one kernel footprint (DCGAN's
    "project and reshape" first layer: z (N, 100, 1, 1) -> (N, M, 4, 4)), dense, undilated."""
    return cfg.group == 1 and cfg.in_spatial == (1, 1, 1) and cfg.out_spatial == cfg.kernel and \
        cfg.dilations == (1, 1, 1) and cfg.pads_begin == (0, 0, 0)


@register_kernel("ConvTranspose", "convtranspose_one_pixel_gemm_f32", priority=20, supports=lambda cfg, platform:
                 _one_pixel_input(cfg))
def convtranspose_one_pixel_gemm_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """y (N, M*kh*kw) = x (N, C) @ W (C, M*kh*kw) + bias repeated per tap: one small-M GEMM (the Gemm op's
    gemm_rows kernel, weights laid out once, bias and activation fused) whose output already is NCHW. Through
    GEMM + col2im this was a one-column GEMM per image: 83 us against onnxruntime's 16 on DCGAN's 100->128."""
    from fastconv.ops.gemm import GemmConfig, gemm_rows_f32

    c, m, kvol = cfg.in_channels, cfg.out_channels, cfg.kvol
    bias = np.repeat(np.zeros(m, np.float32) if b is None else np.asarray(b, np.float32), kvol)
    gcfg = GemmConfig("float32", cfg.batch, c, m * kvol, False, False, 1.0, 1.0, (m * kvol,), True)
    act = epilogue if not epilogue.residual else NO_EPILOGUE
    gemm = gemm_rows_f32(gcfg, platform, np.asarray(w, np.float32).reshape(c, m * kvol), bias, act)

    @accepts_out
    def run(x, residual=None, out=None):
        y = output(out, cfg.output_shape)
        gemm(x.reshape(cfg.batch, c), out=(y.reshape(cfg.batch, m * kvol),))
        if epilogue.residual:
            apply_epilogue(y, epilogue, residual)
        return (y,)

    return run


def subpixel_geometry(cfg: ConvConfig):
    """The per-axis sub-pixel decomposition of a 2-D ConvTranspose (kernels/numba/conv_transpose.py), or None
    where it does not apply (groups, dilation, 1-D/3-D, a pad as large as the kernel)."""
    if cfg.group != 1 or cfg.rank != 2 or cfg.dilations != (1, 1, 1):
        return None
    ay = kt.subpixel_axis(cfg.kernel[1], cfg.strides[1], cfg.pads_begin[1])
    ax = kt.subpixel_axis(cfg.kernel[2], cfg.strides[2], cfg.pads_begin[2])
    return None if ay is None or ax is None else (ay, ax)


# Not chosen automatically: measured slower than GEMM + col2im on every shape tried (1 thread, 2026-11-24,
# microseconds, sub-pixel / GEMM + col2im): DCGAN k4 s2 p1 512->256 @4: 732 / 478, 256->128 @8: 747 / 373,
# 128->64 @16: 789 / 432, 64->3 @32: 173 / 65 (a 3x3 phase kernel of which each phase uses 4 taps: 2.25x the
# FMAs); k2 s2 256->128 @16: 425 / 360, 96->96 @40: 805 / 802, DBNet's 24->24 @160: 5579 / 1710 (memory-bound:
# the blocked phase tensor, the shuffle and the reorder to NCHW are three passes over a 10 MB output). Kept,
# tested and forceable as the blocked-layout ConvTranspose to build on (no reorders there).
@register_kernel("ConvTranspose", "convtranspose_subpixel_f32", priority=10,
                 supports=lambda cfg, platform: subpixel_geometry(cfg) is not None,
                 prefer=lambda cfg, platform: False)
def convtranspose_subpixel_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE, blocked_in=False,
                               blocked_out=False):
    """2-D ConvTranspose as one dense convolution producing every output phase (stride^2 x M channels, NCHWc
    direct kernel, bias and activation fused), then a pixel shuffle into the output (NCHW, or NCHWc for the
    layout pass). A residual is added after the shuffle. See kernels/numba/conv_transpose.py."""
    platform = Platform.or_host(platform)
    width = platform.simd_width
    ay, ax = subpixel_geometry(cfg)
    sy, sx = cfg.strides[1], cfg.strides[2]
    c, m = cfg.in_channels, cfg.out_channels
    h, wd = cfg.in_spatial[1], cfg.in_spatial[2]
    oh, ow = cfg.out_spatial[1], cfg.out_spatial[2]
    # phases padded to whole channel blocks (vector shuffle) unless all of them fit in one block
    mp = m if m * sy * sx <= width else -(-m // width) * width
    qh, qw = -(-oh // sy), -(-ow // sx)
    pads_b, pads_e, spatial, kernel = [], [], [], []
    for (lo, k2, _), size, q in ((ay, h, qh), (ax, wd, qw)):
        hi = lo + k2 - 1
        pe = max(0, q - 1 + hi - (size - 1))
        pads_b.append(-lo)
        pads_e.append(pe)
        spatial.append(size + pe - hi)
        kernel.append(k2)
    mc = sy * sx * mp
    sub = ConvConfig(cfg.batch, c, mc, 1, cfg.in_spatial, (1, *spatial), (1, *kernel), (1, 1, 1), (1, 1, 1),
                     (0, *pads_b), (0, *pads_e), 2)
    w2 = kt.subpixel_weights(np.asarray(w, np.float32).reshape(c, m, *cfg.kernel[1:]), sy, sx, ay, ax, mp)
    b2 = np.zeros(mc, np.float32)
    if b is not None:
        b2.reshape(sy * sx, mp)[:, :m] = np.asarray(b, np.float32)
    conv_ep = epilogue if not epilogue.residual else NO_EPILOGUE
    conv = _kn.make_runner(sub, width, w2, b2, conv_ep, blocked_in=blocked_in, blocked_out=True)
    mb = -(-m // width)
    vector = mp % width == 0
    tshape = (cfg.batch, -(-mc // width), *spatial, width)

    @accepts_out
    def run(x, residual=None, out=None):
        t = conv(x, out=(take_shaped("subpixel", tshape),))[0]
        if blocked_out:
            y = output(out, (cfg.batch, mb, oh, ow, width))
            kt.pixel_shuffle_nchwc_f32(t, sy, sx, y)
            return (y,)
        y = output(out, cfg.output_shape)
        if vector:
            yb = take_shaped("subpixel_out", (cfg.batch, mb, oh, ow, width))
            kt.pixel_shuffle_nchwc_f32(t, sy, sx, yb)
            layout.reorder_nchwc_to_nchw(yb, m, out=y.reshape(cfg.batch, m, oh, ow))
        else:
            kt.pixel_shuffle_to_nchw_f32(t, sy, sx, mp, y.reshape(cfg.batch, m, oh, ow))
        if epilogue.residual:
            apply_epilogue(y, epilogue, residual)
        return (y,)

    return run


# ---- direct NCHWc convolution (fastconv/kernels/numba/conv_nchwc.py) ----
# Priority 5: above im2col (measured 1.1-1.4x faster on ResNet-50 3x3 64->64 @56 and 256->256 @14, docs/KERNELS.md),
# below the pointwise and depthwise kernels, which take their cases first.


def _little_channel_padding(cfg: ConvConfig, platform, in_ratio: float = 1.25) -> bool:
    """NCHWc pads channels to a multiple of W: with 3 input channels (an RGB stem) and W = 16, 81% of the FMAs
    would multiply zeros. Padding may add at most 25% output channels (whole wasted blocks, and their
    reorders) and `in_ratio` - 1 input channels (see _prefer_nchwc_direct)."""
    w = platform.simd_width
    c, m = cfg.in_channels, cfg.out_channels
    return -(-c // w) * w <= in_ratio * c and -(-m // w) * w <= 1.25 * m


def _prefer_nchwc_direct(cfg: ConvConfig, platform) -> bool:
    """Not for channel-padded RGB stems (2.6x slower than im2col, measured on Inception v1; the stem kernel takes
    C_in <= 4 anyway). Narrow rows are fine since the 7-pixel tile: one-node 3x3 layers vs onnxruntime
    (bench/kernels.py, 2026-11-24, 1 / 2 threads): 512->512 @7x7 direct 0.92 / 0.81 vs im2col + GEMM 1.67;
    48->192 @13x13 1.46 / 1.05 vs 1.72; 64->256 @13x13 1.44 / 0.97 vs 1.61. Input channels padded by up to 60%
    are fine too: the direct kernel (with its reorders) took 0.20-0.90 of im2col + GEMM's time there (AVX2, W = 8,
    1 and 2 threads, 2026-11-25): 6->16 5x5 @14 (LeNet) 30 vs 63 us at 1 thread, 12->32 @28 0.70, 10->64 @56
    0.65, 6->32 @56 0.84 (3x3). The layout pass keeps the 25% rule for both sides (Conv.block_kernel): a
    blocked trunk on such a conv would add reorder steps, and make the plan's steps depend on the host's W."""
    return _little_channel_padding(cfg, platform, in_ratio=1.6)


@register_kernel("Conv", "conv_nchwc_direct_f32", priority=5, supports=lambda cfg, platform: _kn.supports(cfg),
                 prefer=_prefer_nchwc_direct)
def conv_nchwc_direct_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """Dense 1-D/2-D conv (group == 1): direct convolution in NCHWc with W = platform.simd_width, register-
    blocked micro-kernels over 8/7/4/3/1 output pixels x 1-3 blocks of W output channels, epilogue fused; reorders
    NCHW <-> NCHWc itself (until the graph-level layout pass)."""
    return _kn.make_runner(cfg, platform.simd_width, w, b, epilogue)


# ---- depthwise convolution (fastconv/kernels/numba/conv_depthwise.py) ----
# Priority 30: above conv_depthwise_direct_f32 (20), which stays the fallback for 3-D depthwise convs. The
# module's NCHWc core (conv_depthwise_nchwc_f32) is not registered: behind per-call reorders it loses to the
# NCHW kernel; the layout pass runs it on blocked inputs (Conv.block_kernel "depthwise").


@register_kernel("Conv", "conv_depthwise_nchw_f32", priority=30, supports=lambda cfg, platform: _kd.supports(cfg))
def conv_depthwise_nchw_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """Depthwise 1-D/2-D conv (any multiplier, kernel, stride, dilation, pads) straight on NCHW: per channel
    and band of rows, zero-bordered column-phase planes in L1, then 8-row x W-column register tiles (3x3 stride
    1/2 generated with the weights in registers); bias and epilogue fused. Measurements against onnxruntime
    (2026-11-24): see the module docstring."""
    return _kd.make_runner(cfg, Platform.or_host(platform), w, b, epilogue)


# ---- first-layer ("stem") convolution (fastconv/kernels/numba/conv_stem.py) ----
# Priority 8: above the NCHWc direct kernel (5), which pads 3 input channels to the block width; below the
# pointwise (10) and depthwise (20, 30: they take C_in == 1 with group 1) kernels. The module's NCHWc-output
# core (conv_stem_nchwc_f32) is not registered: it is the entry point for the layout pass.


@register_kernel("Conv", "conv_stem_nchw_f32", priority=8, supports=lambda cfg, platform: _ks.supports(cfg))
def conv_stem_nchw_f32(cfg: ConvConfig, platform, w, b, epilogue=NO_EPILOGUE):
    """Dense 1-D/2-D conv with C_in <= 4 (RGB stems) straight from NCHW to NCHW: per run of output rows, the
    input rows split into stride phases in a small ring buffer, then register tiles of 4 output channels x up
    to 5 vectors of output pixels; bias and epilogue fused. Measurements: see the module docstring."""
    return _ks.make_runner(cfg, Platform.or_host(platform).simd_width, w, b, epilogue)
