"""Pooling ops: MaxPool (with Indices), AveragePool, LpPool and the global pools.

Attributes are validated at load time; geometry (pads, auto_pad, ceil_mode, output size) comes from
`_geometry` only and is resolved into a `PoolConfig` at plan time. Kernels see every pool as 3-D over NCDHW
(1-D and 2-D pools get unit leading spatial axes). Output sizes and SAME padding follow onnxruntime
(`_geometry.pool_window_pads`), which departs from the ONNX text for SAME with dilations or kernel < stride.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.numba import pool as kp
from fastconv.kernels.numba import pool_simd as ks
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops import _geometry as geo
from fastconv.ops.base import F32, I64, Op, int_tuple
from fastconv.ops.registry import register_op
from fastconv.platform import Platform

MAXPOOL_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.int8, np.uint8))


@dataclass(frozen=True)
class PoolConfig:
    """Concrete geometry of one pooling node, padded to 3 spatial axes, and its op-specific settings."""

    dtype: str
    in_spatial: tuple
    out_spatial: tuple
    kernel: tuple
    strides: tuple
    dilations: tuple
    pads_begin: tuple
    pads_end: tuple
    rank: int                  # number of real spatial axes (1-3)
    count_include_pad: bool = False
    p: int = 2
    col_major: bool = False    # MaxPool storage_order 1
    with_indices: bool = False

    def shape(self, x_shape) -> tuple:
        return (*x_shape[:2], *self.out_spatial[3 - self.rank:])


class _Pool(Op):
    attributes = frozenset({"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides"})

    def parse(self, attrs):
        self.auto_pad = attrs.get("auto_pad", "NOTSET")
        if self.auto_pad not in geo.AUTO_PADS:
            self.fail(f"auto_pad '{self.auto_pad}' is not one of {list(geo.AUTO_PADS)}")
        if "kernel_shape" not in attrs:
            self.fail("attribute kernel_shape is required")
        self.kernel = int_tuple(attrs, "kernel_shape", None)
        n = len(self.kernel)
        if not 1 <= n <= 3:
            self.unsupported(f"kernel_shape {list(self.kernel)} has {n} spatial axes; 1-3 are supported")
        self.strides = int_tuple(attrs, "strides", (1,) * n)
        self.dilations = int_tuple(attrs, "dilations", (1,) * n)
        self.pads = int_tuple(attrs, "pads", None)
        self.ceil_mode = int(attrs.get("ceil_mode", 0))
        if self.ceil_mode not in (0, 1):
            self.fail(f"ceil_mode must be 0 or 1, got {self.ceil_mode}")
        for name, v in (("kernel_shape", self.kernel), ("strides", self.strides), ("dilations", self.dilations)):
            if len(v) != n:
                self.fail(f"{name} {list(v)} has {len(v)} values; kernel_shape {list(self.kernel)} has {n}")
            if any(s < 1 for s in v):
                self.fail(f"{name} must be >= 1, got {list(v)}")
        if self.pads is not None:
            if len(self.pads) != 2 * n:
                self.fail(f"pads {list(self.pads)} has {len(self.pads)} values; expected {2 * n} (a begin and "
                          f"an end for each of the {n} spatial axes of kernel_shape {list(self.kernel)})")
            if any(p < 0 for p in self.pads):
                self.fail(f"pads must be >= 0, got {list(self.pads)}")
            for i in range(n):
                extent = self.dilations[i] * (self.kernel[i] - 1) + 1
                # a window made only of padding has no value; onnxruntime even requires pads < kernel_shape
                if self.pads[i] >= extent or self.pads[i + n] >= extent:
                    self.fail(f"pads {list(self.pads)} must be smaller than the kernel extent {extent} on "
                              f"spatial axis {i} (kernel_shape {list(self.kernel)}, dilations "
                              f"{list(self.dilations)})")

    def check_dtype(self, x: TensorInfo):
        self.require_float32(x, names=("X",))

    def options(self) -> dict:
        """Op-specific PoolConfig fields."""
        return {}

    def config(self, x: TensorInfo) -> PoolConfig:
        self.check_dtype(x)
        n = len(self.kernel)
        if len(x.shape) != n + 2:
            self.fail(f"input X has shape {list(x.shape)}; kernel_shape {list(self.kernel)} needs rank {n + 2}")
        spatial = tuple(x.shape[2:])
        pb, pe = geo.pool_window_pads(spatial, self.kernel, self.strides, self.pads, self.auto_pad)
        if self.auto_pad in ("NOTSET", "VALID"):
            for i in range(n):
                extent = self.dilations[i] * (self.kernel[i] - 1) + 1
                if spatial[i] + pb[i] + pe[i] < extent:
                    self.fail(f"kernel extent {extent} on spatial axis {i} exceeds the padded input size "
                              f"{spatial[i] + pb[i] + pe[i]} (X {list(x.shape)}, kernel_shape "
                              f"{list(self.kernel)}, dilations {list(self.dilations)}, pads {pb + pe})")
        else:  # SAME_*: a window beyond the padding is let through as onnxruntime does, unless it refuses it too
            for i in range(n):
                span = spatial[i] + pb[i] + pe[i] - self.dilations[i] * (self.kernel[i] - 1) - 1
                if span < 0 and geo._cdiv(span, self.strides[i]) + 1 < 0:  # found by fuzzing
                    self.fail(f"auto_pad {self.auto_pad}: the dilated window on spatial axis {i} exceeds the "
                              f"padded input by more than the stride (X {list(x.shape)}, kernel_shape "
                              f"{list(self.kernel)}, dilations {list(self.dilations)}, strides "
                              f"{list(self.strides)}); the output size would be negative")
        out = geo.window_output_shape(spatial, self.kernel, self.strides, self.dilations, pb, pe,
                                      bool(self.ceil_mode))
        return PoolConfig(str(x.dtype), geo.to_3d(spatial, 1), geo.to_3d(out, 1), geo.to_3d(self.kernel, 1),
                          geo.to_3d(self.strides, 1), geo.to_3d(self.dilations, 1), geo.to_3d(pb, 0),
                          geo.to_3d(pe, 0), n,
                          **self.options())

    def infer(self, inputs):
        x = inputs[0]
        return [TensorInfo(x.dtype, self.config(x).shape(x.shape))]

    def blockable(self, inputs, ctx):
        if self.op_type not in ("MaxPool", "AveragePool") or ctx.kernel_overrides.get(self.op_type) is not None \
                or self.has_output(1):
            return False
        cfg = self.config(inputs[0])
        return cfg.rank == 2 and _simd_pool2d(cfg, ctx.platform)

    def lower(self, inputs, outputs, ctx):
        if self.layout:  # NCHWc buffers (fastconv/plan/layout.py)
            x = inputs[0]
            cfg = self.config(TensorInfo(x.dtype, x.logical_shape))
            return ks.make_pool2d_nchwc_core(cfg, self.layout, avg=self.op_type == "AveragePool")
        cfg = self.config(inputs[0])
        return select_kernel(self.op_type, cfg, ctx.platform, ctx.kernel_overrides.get(self.op_type)).build(
            cfg, ctx.platform)

    def run(self, x):
        cfg = self.config(TensorInfo(x.dtype, tuple(x.shape)))
        return select_kernel(self.op_type, cfg, None).build(cfg, None)(x)


def _as5d(cfg: PoolConfig, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x)
    return x.reshape(*x.shape[:2], *cfg.in_spatial)


def _window_args(cfg: PoolConfig) -> tuple:
    return (*cfg.kernel, *cfg.strides, *cfg.dilations, *cfg.pads_begin)


@register_op("MaxPool", since=1, until=22)
class MaxPool(_Pool):
    """MaxPool-1/8/10/11/12/22 over float32, int8 or uint8. Optional Indices output (int64): the flat index
    of each maximum in X, with the spatial axes row-major (storage_order 0) or column-major (1)."""

    attributes = _Pool.attributes | {"storage_order"}

    def parse(self, attrs):
        super().parse(attrs)
        self.storage_order = int(attrs.get("storage_order", 0))
        if self.storage_order not in (0, 1):
            self.fail(f"storage_order must be 0 or 1, got {self.storage_order}")
        if self.num_outputs > 2:
            self.fail(f"MaxPool has at most 2 outputs (Y, Indices), got {self.num_outputs}")

    def check_dtype(self, x):
        if x.dtype not in MAXPOOL_DTYPES:
            self.unsupported(f"X has dtype {x.dtype}; MaxPool supports {sorted(str(d) for d in MAXPOOL_DTYPES)}")

    def options(self):
        return {"col_major": self.storage_order == 1, "with_indices": self.has_output(1)}

    def infer(self, inputs):
        x = inputs[0]
        shape = self.config(x).shape(x.shape)
        return [TensorInfo(x.dtype, shape), TensorInfo(I64, shape)][:max(1, self.num_outputs)]


@register_kernel("MaxPool", "maxpool_ncdhw_direct")
def maxpool_ncdhw_direct(cfg: PoolConfig, platform):
    dtype = np.dtype(cfg.dtype)
    lowest = dtype.type(np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min)
    args = _window_args(cfg)

    def run(x, *_):
        shape = cfg.shape(x.shape)
        out = np.empty((*x.shape[:2], *cfg.out_spatial), dtype)
        if not cfg.with_indices:
            kp.maxpool_ncdhw(_as5d(cfg, x), *args, lowest, out)
            return (out.reshape(shape),)
        idx = np.empty(out.shape, np.int64)
        kp.maxpool_indices_ncdhw(_as5d(cfg, x), *args, cfg.rank, lowest, out, idx, cfg.col_major)
        return out.reshape(shape), idx.reshape(shape)

    return run


def _simd_pool2d(cfg: PoolConfig, platform) -> bool:
    """The SIMD pool kernels: 1-D and 2-D float32 windows, MaxPool without Indices."""
    return cfg.rank <= 2 and cfg.dtype == "float32" and not cfg.with_indices


@register_kernel("MaxPool", "maxpool2d_nchw_simd_f32", priority=10, supports=_simd_pool2d)
def maxpool2d_nchw_simd_f32(cfg: PoolConfig, platform):
    """MaxPool straight on NCHW: column folds, stride split, row folds on SIMD vectors along the rows (any
    kernel, stride, dilation, pads, ceil_mode). See kernels/numba/pool_simd.py."""
    return ks.make_pool2d_nchw(cfg, Platform.or_host(platform).simd_width, avg=False)


@register_kernel("MaxPool", "maxpool2d_nchwc_simd_f32", priority=5, supports=_simd_pool2d,
                 prefer=lambda cfg, platform: False)
def maxpool2d_nchwc_simd_f32(cfg: PoolConfig, platform):
    """The NCHWc MaxPool behind reorders NCHW -> NCHWc -> NCHW: never chosen automatically (the reorders cost
    more than the pool) until the layout pass hands it blocked buffers."""
    return ks.make_pool2d_nchwc(cfg, Platform.or_host(platform).simd_width, avg=False)


@register_op("AveragePool", since=1, until=22)
class AveragePool(_Pool):
    """AveragePool-1/7/10/11/19/22: count_include_pad, ceil_mode, dilations (19+), auto_pad; float32."""

    attributes = _Pool.attributes | {"count_include_pad"}

    def parse(self, attrs):
        super().parse(attrs)
        self.count_include_pad = int(attrs.get("count_include_pad", 0))
        if self.count_include_pad not in (0, 1):
            self.fail(f"count_include_pad must be 0 or 1, got {self.count_include_pad}")

    def options(self):
        return {"count_include_pad": bool(self.count_include_pad)}


@register_kernel("AveragePool", "avgpool_ncdhw_direct_f32")
def avgpool_ncdhw_direct_f32(cfg: PoolConfig, platform):
    args = (*_window_args(cfg), *cfg.pads_end, cfg.count_include_pad)

    def run(x, *_):
        out = np.empty((*x.shape[:2], *cfg.out_spatial), np.float32)
        kp.avgpool_ncdhw_f32(_as5d(cfg, x), *args, out)
        return (out.reshape(cfg.shape(x.shape)),)

    return run


@register_kernel("AveragePool", "avgpool2d_nchw_simd_f32", priority=10, supports=_simd_pool2d)
def avgpool2d_nchw_simd_f32(cfg: PoolConfig, platform):
    """AveragePool straight on NCHW, as maxpool2d_nchw_simd_f32 with sums divided by the tap counts."""
    return ks.make_pool2d_nchw(cfg, Platform.or_host(platform).simd_width, avg=True)


@register_kernel("AveragePool", "avgpool2d_nchwc_simd_f32", priority=5, supports=_simd_pool2d,
                 prefer=lambda cfg, platform: False)
def avgpool2d_nchwc_simd_f32(cfg: PoolConfig, platform):
    """The NCHWc AveragePool behind reorders; never chosen automatically (see maxpool2d_nchwc_simd_f32)."""
    return ks.make_pool2d_nchwc(cfg, Platform.or_host(platform).simd_width, avg=True)


@register_op("LpPool", since=2, until=22)
class LpPool(_Pool):
    """LpPool-2/11/18/22: (sum |x|^p)^(1/p) over each window (ceil_mode and dilations from 18); float32."""

    attributes = _Pool.attributes | {"p"}

    def parse(self, attrs):
        super().parse(attrs)
        self.p = int(attrs.get("p", 2))
        if self.p < 1:
            self.fail(f"p must be >= 1, got {self.p}")

    def options(self):
        return {"p": self.p}


@register_kernel("LpPool", "lppool_ncdhw_direct_f32")
def lppool_ncdhw_direct_f32(cfg: PoolConfig, platform):
    args = (*_window_args(cfg), cfg.p)

    def run(x, *_):
        out = np.empty((*x.shape[:2], *cfg.out_spatial), np.float32)
        kp.lppool_ncdhw_f32(_as5d(cfg, x), *args, out)
        return (out.reshape(cfg.shape(x.shape)),)

    return run


class _GlobalPool(Op):
    """Reduce every spatial axis to size 1 (numpy over the contiguous trailing axes); float32 only."""

    def infer(self, inputs):
        x = inputs[0]
        self.require_float32(x, names=("X",))
        if len(x.shape) < 3:
            self.fail(f"input X has shape {list(x.shape)}; expected (N, C, spatial...) of rank >= 3")
        return [TensorInfo(F32, (*x.shape[:2], *([1] * (len(x.shape) - 2))))]

    def run(self, x):
        return _global_reduce(self.reduce, x)


def _global_reduce(reduce, x):
    """reduce over the flattened spatial axes of x (N, C, spatial...) -> (N, C, 1, ...)."""
    y = reduce(np.ascontiguousarray(x).reshape(*x.shape[:2], -1)).astype(np.float32, copy=False)
    return (y.reshape(*x.shape[:2], *([1] * (x.ndim - 2))),)


@dataclass(frozen=True)
class GlobalPoolConfig:
    dtype: str
    shape: tuple    # input shape (N, C, spatial...)
    is_max: bool


class _GlobalMeanMax(_GlobalPool):
    is_max = False

    def blockable(self, inputs, ctx):
        x = inputs[0]
        return ctx.kernel_overrides.get(self.op_type) is None and x.dtype == F32 and len(x.shape) == 4 and \
            int(np.prod(x.shape[2:])) > 0

    def lower(self, inputs, outputs, ctx):
        if self.layout:  # NCHWc buffers (fastconv/plan/layout.py)
            return ks.make_global_pool_nchwc_core(self.layout, self.is_max)
        x = inputs[0]
        cfg = GlobalPoolConfig(str(x.dtype), tuple(x.shape), self.is_max)
        return select_kernel(self.op_type, cfg, ctx.platform, ctx.kernel_overrides.get(self.op_type)).build(
            cfg, ctx.platform)


@register_op("GlobalAveragePool", since=1, until=22)
class GlobalAveragePool(_GlobalMeanMax):
    @staticmethod
    def reduce(x):
        return x.mean(axis=-1, dtype=np.float32)


@register_op("GlobalMaxPool", since=1, until=22)
class GlobalMaxPool(_GlobalMeanMax):
    is_max = True

    @staticmethod
    def reduce(x):
        return x.max(axis=-1)


def _global_numpy(cfg: GlobalPoolConfig, platform):
    """numpy over the flattened spatial axes (any size, 0 included)."""
    reduce = GlobalMaxPool.reduce if cfg.is_max else GlobalAveragePool.reduce

    def run(x, *_):
        return _global_reduce(reduce, x)

    return run


def _global_simd_ok(cfg: GlobalPoolConfig, platform) -> bool:
    return cfg.dtype == "float32" and int(np.prod(cfg.shape[2:])) > 0


for _op in ("GlobalAveragePool", "GlobalMaxPool"):
    register_kernel(_op, "global_pool_numpy")(_global_numpy)
    register_kernel(_op, "global_pool_nchw_simd_f32", priority=10, supports=_global_simd_ok)(
        lambda cfg, platform: ks.make_global_pool_nchw(Platform.or_host(platform).simd_width, cfg.is_max))
    register_kernel(_op, "global_pool_nchwc_simd_f32", priority=5, supports=_global_simd_ok,
                    prefer=lambda cfg, platform: False)(
        lambda cfg, platform: ks.make_global_pool_nchwc(Platform.or_host(platform).simd_width, cfg.is_max))


@register_op("GlobalLpPool", since=2, until=22)
class GlobalLpPool(_GlobalPool):
    attributes = frozenset({"p"})

    def parse(self, attrs):
        self.p = int(attrs.get("p", 2))
        if self.p < 1:
            self.fail(f"p must be >= 1, got {self.p}")

    def reduce(self, x):
        return (np.abs(x) ** self.p).sum(axis=-1) ** (1.0 / self.p)
