"""Conv and ConvTranspose: attribute parsing and validation, shape rule, kernel selection, weight packing.

Kernels see geometry as 3-D (1-D and 2-D problems get unit leading spatial axes) and float32 NCDHW tensors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.numba import conv_general as kg
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops import _geometry as geo
from fastconv.ops.base import F32, Op
from fastconv.ops.registry import register_op


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
    def depthwise(self) -> bool:
        return self.group == self.in_channels and self.out_channels % self.in_channels == 0

    @property
    def pointwise(self) -> bool:
        return (self.kernel == (1, 1, 1) and self.strides == (1, 1, 1)
                and self.pads_begin == (0, 0, 0) and self.pads_end == (0, 0, 0))


def _to3(values, fill):
    values = list(values)
    return tuple([fill] * (3 - len(values)) + values)


class _WindowOp(Op):
    attributes = frozenset({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})

    def parse(self, attrs):
        self.auto_pad = attrs.get("auto_pad", "NOTSET")
        if self.auto_pad not in geo.AUTO_PADS:
            self.fail(f"auto_pad '{self.auto_pad}' is not one of {geo.AUTO_PADS}")
        self.kernel_shape = attrs.get("kernel_shape")
        self.strides = attrs.get("strides")
        self.dilations = attrs.get("dilations")
        self.pads = attrs.get("pads")
        self.group = int(attrs.get("group", 1))
        if self.group < 1:
            self.fail(f"group must be >= 1, got {self.group}")
        for name in ("strides", "dilations"):
            v = getattr(self, name)
            if v is not None and any(int(s) < 1 for s in v):
                self.fail(f"{name} must be >= 1, got {list(v)}")
        if self.kernel_shape is not None and any(int(k) < 1 for k in self.kernel_shape):
            self.fail(f"kernel_shape must be >= 1, got {list(self.kernel_shape)}")
        if self.pads is not None and any(int(p) < 0 for p in self.pads):
            self.fail(f"pads must be >= 0, got {list(self.pads)}")

    def _spatial_attrs(self, x: TensorInfo, w: TensorInfo):
        """Validated (kernel, strides, dilations, pads-or-None) for this input rank."""
        if x.shape is None or len(x.shape) < 3 or len(x.shape) > 5:
            self.unsupported(f"input X must have rank 3-5 (1-3 spatial axes), got shape {x.shape}")
        n = len(x.shape) - 2
        if len(w.shape) != n + 2:
            self.fail(f"weight W has shape {list(w.shape)}; expected rank {n + 2} for input {list(x.shape)}")
        kernel = tuple(int(k) for k in (self.kernel_shape or w.shape[2:]))
        if tuple(kernel) != tuple(w.shape[2:]):
            self.fail(f"kernel_shape {list(kernel)} does not match weight shape {list(w.shape)}")
        strides = tuple(int(s) for s in (self.strides or [1] * n))
        dilations = tuple(int(d) for d in (self.dilations or [1] * n))
        for name, v in (("strides", strides), ("dilations", dilations)):
            if len(v) != n:
                self.fail(f"{name} has {len(v)} values; the input has {n} spatial axes")
        if self.pads is not None and len(self.pads) != 2 * n:
            self.fail(f"pads has {len(self.pads)} values; expected {2 * n} for {n} spatial axes")
        return kernel, strides, dilations


@register_op("Conv")
class Conv(_WindowOp):
    """Y = conv(X, W) + B over 1-3 spatial axes, grouped; ONNX Conv-1/11/22 (same float semantics)."""

    def infer(self, inputs):
        x, w = inputs[0], inputs[1]
        b = inputs[2] if len(inputs) > 2 else None
        self.require_float32(x, w, b, names=("X", "W", "B"))
        kernel, strides, dilations = self._spatial_attrs(x, w)
        n_, c = x.shape[:2]
        m = w.shape[0]
        if c % self.group or m % self.group:
            self.fail(f"group {self.group} does not divide input channels {c} and output channels {m}")
        if w.shape[1] * self.group != c:
            self.fail(f"weight W has shape {list(w.shape)}: W.shape[1] * group must equal input channels {c}")
        if b is not None and tuple(b.shape) != (m,):
            self.fail(f"bias B has shape {list(b.shape)}; expected [{m}]")
        spatial = tuple(x.shape[2:])
        pb, pe = geo.window_pads(spatial, kernel, strides, dilations, self.pads, self.auto_pad)
        out = geo.window_output_shape(spatial, kernel, strides, dilations, pb, pe)
        for i in range(len(spatial)):
            if spatial[i] + pb[i] + pe[i] < dilations[i] * (kernel[i] - 1) + 1:
                self.fail(f"kernel extent {dilations[i] * (kernel[i] - 1) + 1} on spatial axis {i} exceeds the "
                          f"padded input size {spatial[i] + pb[i] + pe[i]} (input shape {list(x.shape)})")
        self.cfg = ConvConfig(n_, c, m, self.group, _to3(spatial, 1), _to3(out, 1), _to3(kernel, 1),
                              _to3(strides, 1), _to3(dilations, 1), _to3(pb, 0), _to3(pe, 0), len(spatial))
        return [TensorInfo(F32, (n_, m, *out))]

    def lower(self, inputs, outputs, ctx):
        self.infer(inputs)
        cfg = self.cfg
        kernel = select_kernel("Conv", cfg, ctx.platform, ctx.kernel_overrides.get("Conv"))
        w = inputs[1].value
        b = inputs[2].value if len(inputs) > 2 and inputs[2] is not None else None
        if w is not None and (b is not None or len(inputs) < 3 or inputs[2] is None):
            run = kernel.build(cfg, ctx.platform, w, b)
            return lambda x, *_: run(x)

        def run_dynamic(x, w, b=None):
            return kernel.build(cfg, ctx.platform, w, b)(x)

        return run_dynamic

    def run(self, x, w, b=None):
        """General semantics (constant folding): the fallback kernel."""
        info = [TensorInfo(x.dtype, x.shape), TensorInfo(w.dtype, w.shape)]
        if b is not None:
            info.append(TensorInfo(b.dtype, b.shape))
        self.infer(info)
        return _conv_im2col_build(self.cfg, None, w, b)(x)


def _bias_or_zero(b, m):
    return np.zeros(m, np.float32) if b is None else np.ascontiguousarray(b, dtype=np.float32)


# Column buffers are capped at the layer's output size times its kernel volume (and at least one output row).
def _rows_per_band(cfg: ConvConfig, k_rows: int) -> int:
    od, oh, ow = cfg.out_spatial
    kvol = cfg.kernel[0] * cfg.kernel[1] * cfg.kernel[2]
    budget = (cfg.out_channels // cfg.group) * od * oh * ow * kvol
    return max(1, min(od * oh, budget // max(1, k_rows * ow)))


@register_kernel("Conv", "conv_im2col_blas_f32", priority=0)
def _conv_im2col_build(cfg: ConvConfig, platform, w, b):
    """General kernel: per image and group, im2col over bands of output rows, then one BLAS matmul."""
    g, m, c = cfg.group, cfg.out_channels, cfg.in_channels
    mg, cg = m // g, c // g
    kd, kh, kw = cfg.kernel
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin
    od, oh, ow = cfg.out_spatial
    k_rows = cg * kd * kh * kw
    w_packed = np.ascontiguousarray(np.asarray(w, np.float32).reshape(g, mg, k_rows))
    bias = None if b is None else np.ascontiguousarray(b, np.float32).reshape(m, 1)
    rows = od * oh
    band = _rows_per_band(cfg, k_rows)
    pointwise = cfg.pointwise

    def run(x):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        x5 = x.reshape(n_, c, *cfg.in_spatial)
        out = np.empty((n_, m, od * oh * ow), np.float32)
        cols = None if pointwise else np.empty((k_rows, band * ow), np.float32)
        for n in range(n_):
            for gi in range(g):
                xg = x5[n, gi * cg:(gi + 1) * cg]
                og = out[n, gi * mg:(gi + 1) * mg]
                if pointwise:
                    np.matmul(w_packed[gi], xg.reshape(cg, -1), out=og)
                    continue
                for r0 in range(0, rows, band):
                    r1 = min(rows, r0 + band)
                    cb = cols[:, :(r1 - r0) * ow]
                    kg.im2col_rows_f32(xg, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, oh, ow, r0, r1, cb)
                    if r0 == 0 and r1 == rows:
                        np.matmul(w_packed[gi], cb, out=og)
                    else:
                        og[:, r0 * ow:r1 * ow] = w_packed[gi] @ cb
        if bias is not None:
            out += bias
        return (out.reshape(n_, m, *_spatial_out(cfg)),)

    return run


def _spatial_out(cfg: ConvConfig):
    return cfg.out_spatial[3 - cfg.rank:]


@register_kernel("Conv", "conv_depthwise_direct_f32", priority=10,
                 supports=lambda cfg, platform: cfg.depthwise and cfg.group > 1)
def _conv_depthwise_build(cfg: ConvConfig, platform, w, b):
    m = cfg.out_channels
    w5 = np.ascontiguousarray(np.asarray(w, np.float32).reshape(m, 1, *cfg.kernel))
    bias = _bias_or_zero(b, m)
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin

    def run(x):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        x5 = x.reshape(n_, cfg.in_channels, *cfg.in_spatial)
        out = np.empty((n_, m, *cfg.out_spatial), np.float32)
        kg.conv_depthwise_f32(x5, w5, bias, sd, sh, sw, dd, dh, dw, pd, ph, pw, out)
        return (out.reshape(n_, m, *_spatial_out(cfg)),)

    return run


@register_op("ConvTranspose")
class ConvTranspose(_WindowOp):
    """Y = conv_transpose(X, W) + B; ONNX ConvTranspose-1/11/22. W is (C_in, C_out/group, k...)."""

    attributes = _WindowOp.attributes | {"output_padding", "output_shape"}

    def parse(self, attrs):
        super().parse(attrs)
        self.output_padding = attrs.get("output_padding")
        self.output_shape = attrs.get("output_shape")
        if self.output_padding is not None and any(int(p) < 0 for p in self.output_padding):
            self.fail(f"output_padding must be >= 0, got {list(self.output_padding)}")

    def infer(self, inputs):
        x, w = inputs[0], inputs[1]
        b = inputs[2] if len(inputs) > 2 else None
        self.require_float32(x, w, b, names=("X", "W", "B"))
        kernel, strides, dilations = self._spatial_attrs(x, w)
        n = len(kernel)
        n_, c = x.shape[:2]
        if c % self.group:
            self.fail(f"group {self.group} does not divide input channels {c}")
        if w.shape[0] != c:
            self.fail(f"weight W has shape {list(w.shape)}: W.shape[0] must equal input channels {c}")
        m = w.shape[1] * self.group
        if b is not None and tuple(b.shape) != (m,):
            self.fail(f"bias B has shape {list(b.shape)}; expected [{m}]")
        out_pad = tuple(int(p) for p in (self.output_padding or [0] * n))
        if len(out_pad) != n:
            self.fail(f"output_padding has {len(out_pad)} values; expected {n}")
        for i in range(n):
            if out_pad[i] >= max(strides[i], dilations[i]):
                self.fail(f"output_padding {list(out_pad)} must be smaller than the stride or dilation "
                          f"on each axis (strides {list(strides)}, dilations {list(dilations)})")
        if self.output_shape is not None and len(self.output_shape) not in (n, n + 2):
            self.fail(f"output_shape {list(self.output_shape)} must have {n} spatial values")
        spatial = tuple(x.shape[2:])
        pb, pe, out = geo.transpose_pads_and_output(spatial, kernel, strides, dilations, self.pads, out_pad,
                                                    self.output_shape, self.auto_pad)
        if any(o <= 0 for o in out):
            self.fail(f"output spatial shape {out} is not positive (pads {pb + pe}, input {list(x.shape)})")
        self.cfg = ConvConfig(n_, c, m, self.group, _to3(spatial, 1), _to3(out, 1), _to3(kernel, 1),
                              _to3(strides, 1), _to3(dilations, 1), _to3(pb, 0), _to3(pe, 0), n)
        return [TensorInfo(F32, (n_, m, *out))]

    def lower(self, inputs, outputs, ctx):
        self.infer(inputs)
        cfg = self.cfg
        kernel = select_kernel("ConvTranspose", cfg, ctx.platform, ctx.kernel_overrides.get("ConvTranspose"))
        w = inputs[1].value
        has_b = len(inputs) > 2 and inputs[2] is not None
        b = inputs[2].value if has_b else None
        if w is not None and (not has_b or b is not None):
            run = kernel.build(cfg, ctx.platform, w, b)
            return lambda x, *_: run(x)
        return lambda x, w, b=None: kernel.build(cfg, ctx.platform, w, b)(x)

    def run(self, x, w, b=None):
        info = [TensorInfo(x.dtype, x.shape), TensorInfo(w.dtype, w.shape)]
        if b is not None:
            info.append(TensorInfo(b.dtype, b.shape))
        self.infer(info)
        return _convtranspose_gemm_col2im_build(self.cfg, None, w, b)(x)


@register_kernel("ConvTranspose", "convtranspose_gemm_col2im_f32", priority=0)
def _convtranspose_gemm_col2im_build(cfg: ConvConfig, platform, w, b):
    """Per image and group: cols = W_g^T @ X_g (BLAS), then a parallel col2im scatter-add. No zero insertion."""
    g, c, m = cfg.group, cfg.in_channels, cfg.out_channels
    cg, mg = c // g, m // g
    kvol = cfg.kernel[0] * cfg.kernel[1] * cfg.kernel[2]
    # (g, mg*kvol, cg): row (m*kvol + k) of group gi holds W[gi*cg:(gi+1)*cg, m, k]
    wt = np.asarray(w, np.float32).reshape(g, cg, mg * kvol).transpose(0, 2, 1).copy()
    bias = None if b is None else np.ascontiguousarray(b, np.float32)
    kd, kh, kw = cfg.kernel
    sd, sh, sw = cfg.strides
    dd, dh, dw = cfg.dilations
    pd, ph, pw = cfg.pads_begin
    in_d, in_h, in_w = cfg.in_spatial
    p_in = in_d * in_h * in_w

    def run(x):
        x = np.ascontiguousarray(x, np.float32)
        n_ = x.shape[0]
        xf = x.reshape(n_, c, p_in)
        out = np.zeros((n_, m, *cfg.out_spatial), np.float32)
        cols = np.empty((mg * kvol, p_in), np.float32)
        for n in range(n_):
            for gi in range(g):
                np.matmul(wt[gi], xf[n, gi * cg:(gi + 1) * cg], out=cols)
                kg.col2im_add_f32(cols, kd, kh, kw, sd, sh, sw, dd, dh, dw, pd, ph, pw, in_d, in_h, in_w,
                                  out[n, gi * mg:(gi + 1) * mg])
        if bias is not None:
            out += bias.reshape(m, 1, 1, 1)
        return (out.reshape(n_, m, *_spatial_out(cfg)),)

    return run
