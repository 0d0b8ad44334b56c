"""Pooling ops: MaxPool (with Indices), AveragePool, LpPool and the global pools."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.numba import pool as kp
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops import _geometry as geo
from fastconv.ops.base import F32, I64, Op
from fastconv.ops.registry import register_op


@dataclass(frozen=True)
class PoolConfig:
    """Concrete geometry of one pooling node, padded to 3 spatial axes."""

    in_spatial: tuple
    out_spatial: tuple
    kernel: tuple
    strides: tuple
    dilations: tuple
    pads_begin: tuple
    pads_end: tuple
    rank: int


def _to3(values, fill):
    values = list(values)
    return tuple([fill] * (3 - len(values)) + values)


class _Pool(Op):
    attributes = frozenset({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides"})

    def parse(self, attrs):
        self.auto_pad = attrs.get("auto_pad", "NOTSET")
        if self.auto_pad not in geo.AUTO_PADS:
            self.fail(f"auto_pad '{self.auto_pad}' is not one of {geo.AUTO_PADS}")
        if "kernel_shape" not in attrs:
            self.fail("attribute kernel_shape is required")
        self.kernel = tuple(int(k) for k in attrs["kernel_shape"])
        n = len(self.kernel)
        if not 1 <= n <= 3:
            self.unsupported(f"{n} spatial axes; 1-3 are supported")
        self.strides = tuple(int(s) for s in attrs.get("strides", [1] * n))
        self.dilations = tuple(int(d) for d in attrs.get("dilations", [1] * n))
        self.pads = attrs.get("pads")
        self.ceil_mode = bool(attrs.get("ceil_mode", 0))
        for name, v in (("kernel_shape", self.kernel), ("strides", self.strides), ("dilations", self.dilations)):
            if len(v) != n:
                self.fail(f"{name} has {len(v)} values; kernel_shape has {n}")
            if any(s < 1 for s in v):
                self.fail(f"{name} must be >= 1, got {list(v)}")
        if self.pads is not None:
            if len(self.pads) != 2 * n:
                self.fail(f"pads has {len(self.pads)} values; expected {2 * n}")
            if any(int(p) < 0 for p in self.pads):
                self.fail(f"pads must be >= 0, got {list(self.pads)}")
            for i in range(n):
                extent = self.dilations[i] * (self.kernel[i] - 1) + 1
                # a window made only of padding has no defined value; onnxruntime rejects it as well
                if int(self.pads[i]) >= extent or int(self.pads[i + n]) >= extent:
                    self.fail(f"pads {list(self.pads)} must be smaller than the kernel extent on each axis")

    def geometry(self, x: TensorInfo) -> PoolConfig:
        self.require_float32(x, names=("X",))
        n = len(self.kernel)
        if len(x.shape) != n + 2:
            self.fail(f"input X has shape {list(x.shape)}; kernel_shape {list(self.kernel)} needs rank {n + 2}")
        spatial = tuple(x.shape[2:])
        pb, pe = geo.window_pads(spatial, self.kernel, self.strides, self.dilations, self.pads, self.auto_pad)
        for i in range(n):
            if spatial[i] + pb[i] + pe[i] < self.dilations[i] * (self.kernel[i] - 1) + 1:
                self.fail(f"kernel extent {self.dilations[i] * (self.kernel[i] - 1) + 1} on spatial axis {i} "
                          f"exceeds the padded input size {spatial[i] + pb[i] + pe[i]} (input {list(x.shape)})")
        out = geo.window_output_shape(spatial, self.kernel, self.strides, self.dilations, pb, pe, self.ceil_mode)
        return PoolConfig(_to3(spatial, 1), _to3(out, 1), _to3(self.kernel, 1), _to3(self.strides, 1),
                          _to3(self.dilations, 1), _to3(pb, 0), _to3(pe, 0), n)

    def infer(self, inputs):
        x = inputs[0]
        self.cfg = self.geometry(x)
        shape = (*x.shape[:2], *self.cfg.out_spatial[3 - self.cfg.rank:])
        return [TensorInfo(F32, shape), TensorInfo(I64, shape)][:max(1, self.num_outputs)]

    def lower(self, inputs, outputs, ctx):
        cfg = self.geometry(inputs[0])
        kernel = select_kernel(self.op_type, cfg, ctx.platform, ctx.kernel_overrides.get(self.op_type))
        return kernel.build(cfg, ctx.platform, self)

    def run(self, x):
        cfg = self.geometry(TensorInfo(x.dtype, x.shape))
        kernel = select_kernel(self.op_type, cfg, None)
        return kernel.build(cfg, None, self)(x)


def _views(cfg: PoolConfig, x):
    x = np.ascontiguousarray(x, np.float32)
    n_, c_ = x.shape[:2]
    return x.reshape(n_, c_, *cfg.in_spatial), (n_, c_, *cfg.out_spatial), (n_, c_, *cfg.out_spatial[3 - cfg.rank:])


@register_op("MaxPool")
class MaxPool(_Pool):
    """MaxPool-1..22: optional Indices output (flat index into the input, row- or column-major)."""

    attributes = _Pool.attributes | {"storage_order"}

    def parse(self, attrs):
        super().parse(attrs)
        self.storage_order = int(attrs.get("storage_order", 0))
        if self.storage_order not in (0, 1):
            self.fail(f"storage_order must be 0 or 1, got {self.storage_order}")


@register_kernel("MaxPool", "maxpool_direct_f32")
def _maxpool_build(cfg: PoolConfig, platform, op: MaxPool):
    want_idx = op.has_output(1)
    col_major = op.storage_order == 1
    args = (*cfg.kernel, *cfg.strides, *cfg.dilations, *cfg.pads_begin)

    def run(x):
        x5, shape5, shape = _views(cfg, x)
        out = np.empty(shape5, np.float32)
        idx = np.empty(shape5 if want_idx else (1, 1, 1, 1, 1), np.int64)
        kp.maxpool_f32(x5, *args, out, idx, want_idx, col_major)
        if want_idx:
            return out.reshape(shape), idx.reshape(shape)
        return (out.reshape(shape),)

    return run


@register_op("AveragePool")
class AveragePool(_Pool):
    attributes = _Pool.attributes | {"count_include_pad"}

    def parse(self, attrs):
        super().parse(attrs)
        self.count_include_pad = bool(attrs.get("count_include_pad", 0))


@register_kernel("AveragePool", "avgpool_direct_f32")
def _avgpool_build(cfg: PoolConfig, platform, op: AveragePool):
    args = (*cfg.kernel, *cfg.strides, *cfg.dilations, *cfg.pads_begin, *cfg.pads_end, op.count_include_pad)

    def run(x):
        x5, shape5, shape = _views(cfg, x)
        out = np.empty(shape5, np.float32)
        kp.avgpool_f32(x5, *args, out)
        return (out.reshape(shape),)

    return run


@register_op("LpPool")
class LpPool(_Pool):
    attributes = _Pool.attributes | {"p"}

    def parse(self, attrs):
        super().parse(attrs)
        self.p = int(attrs.get("p", 2))
        if self.p < 1:
            self.fail(f"p must be >= 1, got {self.p}")


@register_kernel("LpPool", "lppool_direct_f32")
def _lppool_build(cfg: PoolConfig, platform, op: LpPool):
    args = (*cfg.kernel, *cfg.strides, *cfg.dilations, *cfg.pads_begin, float(op.p))

    def run(x):
        x5, shape5, shape = _views(cfg, x)
        out = np.empty(shape5, np.float32)
        kp.lppool_f32(x5, *args, out)
        return (out.reshape(shape),)

    return run


class _GlobalPool(Op):
    def infer(self, inputs):
        x = inputs[0]
        self.require_float32(x, names=("X",))
        if len(x.shape) < 3:
            self.fail(f"input must have rank >= 3, got shape {list(x.shape)}")
        return [TensorInfo(F32, (*x.shape[:2], *([1] * (len(x.shape) - 2))))]

    def run(self, x):
        axes = tuple(range(2, x.ndim))
        return (np.ascontiguousarray(self.reduce(x, axes), np.float32),)


@register_op("GlobalAveragePool")
class GlobalAveragePool(_GlobalPool):
    def reduce(self, x, axes):
        return x.mean(axis=axes, keepdims=True, dtype=np.float32)


@register_op("GlobalMaxPool")
class GlobalMaxPool(_GlobalPool):
    def reduce(self, x, axes):
        return x.max(axis=axes, keepdims=True)


@register_op("GlobalLpPool")
class GlobalLpPool(_GlobalPool):
    attributes = frozenset({"p"})

    def parse(self, attrs):
        self.p = int(attrs.get("p", 2))

    def reduce(self, x, axes):
        return (np.abs(x) ** self.p).sum(axis=axes, keepdims=True) ** (1.0 / self.p)
