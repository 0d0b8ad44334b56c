"""Resize (opsets 10-19) and Upsample (7, 9): nearest, linear and cubic over any axes, antialiasing included.

Resizing is separable, so at plan time every resized axis gets a table: for each output position, the source
indices and weights along that axis (and whether it lies outside the crop box of tf_crop_and_resize).
Coordinates and rounding follow onnxruntime (float32 arithmetic, its tolerance at halves), so nearest picks
the same pixels. At run time a Numba kernel handles the common case (float32, only the last two axes
resized, e.g. NCHW images); any other case is resized axis by axis with vectorised numpy gathers. No
per-pixel Python either way.

Where onnxruntime and the ONNX reference disagree, fastconv follows onnxruntime: align_corners divides by
(output length - 1), not (scale * input length - 1), and some axes are copied instead of resampled (see
`Resize.tables`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import get_num_threads

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba.bound import bound
from fastconv.kernels.numba.resize import (
    resize_nearest_hw_f32,
    resize_nearest_nchwc_f32,
    resize_taps_hw_f32,
    resize_taps_nchwc_f32,
)
from fastconv.kernels.numba.simd import width_token
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops.base import F32, Op, ValueRequired, contiguous
from fastconv.ops.registry import register_op

COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
               "tf_crop_and_resize", "tf_half_pixel_for_nn")
# "simple" is Resize-10's and Upsample's rounding (no nearest_mode attribute there), as onnxruntime does it
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")
f32 = np.float32
PARALLEL_FLOATS = 100_000  # output floats below which a blocked resize runs on the calling thread


def source_coords(mode, out_size, in_size, scale, roi_start=0.0, roi_end=1.0) -> np.ndarray:
    """Input coordinate of every output index along one axis, in onnxruntime's float32 arithmetic.

    align_corners and tf_crop_and_resize use the integer output length; the other modes use `scale` (the
    given scale, or output/input when sizes were given).
    """
    x = np.arange(out_size, dtype=f32)
    s, n_in, n_out = f32(scale), f32(in_size), f32(out_size)
    if mode == "half_pixel":
        return (x + f32(0.5)) / s - f32(0.5)
    if mode == "pytorch_half_pixel":
        return (x + f32(0.5)) / s - f32(0.5) if out_size > 1 else np.zeros(out_size, f32)
    if mode == "asymmetric":
        return x / s
    if mode == "tf_half_pixel_for_nn":
        return (x + f32(0.5)) / s
    if mode == "align_corners":
        return x * (n_in - f32(1)) / (n_out - f32(1)) if out_size > 1 else np.zeros(out_size, f32)
    if mode == "half_pixel_symmetric":
        adjustment = n_out / (s * n_in)
        offset = n_in / f32(2) * (f32(1) - adjustment)
        return (np.float64(offset) + (x.astype(np.float64) + 0.5) / np.float64(s) - 0.5).astype(f32)
    # tf_crop_and_resize
    r0, r1 = f32(roi_start), f32(roi_end)
    if out_size > 1:
        return r0 * (n_in - f32(1)) + x * (r1 - r0) * (n_in - f32(1)) / (n_out - f32(1))
    return np.full(out_size, 0.5 * (float(r0) + float(r1)) * (in_size - 1), f32)


# onnxruntime's round_prefer_* modes take a coordinate within this distance of k + 0.5 as an exact half (so
# float32 noise in the coordinate does not flip the choice); floor and ceil are exact.
HALF_TOLERANCE = 1e-6


def nearest_index(coords: np.ndarray, mode: str, downsampling: bool) -> np.ndarray:
    c = coords.astype(np.float64)  # exact: c + 0.5 must not round (0.49999997f + 0.5f would give 1.0f)
    if mode in ("round_prefer_floor", "round_prefer_ceil"):
        lower = np.floor(c)
        half = np.abs(c - lower - 0.5) < HALF_TOLERANCE
        i = np.where(half, lower + (mode == "round_prefer_ceil"), np.floor(c + 0.5))
    elif mode == "floor":
        i = np.floor(c)
    elif mode == "ceil":
        i = np.ceil(c)
    else:
        i = np.ceil(c) if downsampling else np.trunc(c)
    return i.astype(np.int64)


def _cubic(s, a):
    """Keys' cubic convolution kernel with parameter a, at distances s."""
    s = np.abs(s)
    return np.where(s <= 1, ((a + 2) * s - (a + 3)) * s * s + 1,
                    np.where(s < 2, ((a * s - 5 * a) * s + 8 * a) * s - 4 * a, 0.0))


def _linear(s):
    return np.clip(1 - np.abs(s), 0.0, 1.0)


@dataclass
class AxisTable:
    """How one axis is resized: out[.., i, ..] = sum_k weights[i, k] * in[.., index[i, k], ..]; positions
    where `outside` is set get the extrapolation value. weights is None for nearest (one tap)."""

    index: np.ndarray              # (n_out,) for nearest, (n_out, taps) otherwise; int64, within [0, n_in)
    weights: np.ndarray | None     # (n_out, taps) float32
    outside: np.ndarray | None     # (n_out,) bool, tf_crop_and_resize only


@dataclass(frozen=True)
class ResizeConfig:
    mode: str                      # nearest | linear | cubic
    dtype: np.dtype
    rank: int
    axes: tuple                    # the axes actually resized
    in_shape: tuple
    out_shape: tuple
    truncate: bool = False         # integer linear results truncate (cubic and antialiased ones round)

    @property
    def last_two_axes(self) -> bool:
        return self.rank >= 2 and all(a >= self.rank - 2 for a in self.axes)


@register_op("Resize")
class Resize(Op):
    attributes = frozenset({"antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a",
                            "exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy", "mode",
                            "nearest_mode"})

    def parse(self, attrs):
        self.mode = attrs.get("mode", "nearest")
        if self.mode not in ("nearest", "linear", "cubic"):
            self.fail(f"mode must be nearest, linear or cubic, not '{self.mode}'")
        default_coord = "asymmetric" if self.opset < 11 else "half_pixel"
        self.coord = attrs.get("coordinate_transformation_mode", default_coord)
        if self.coord not in COORD_MODES:
            self.fail(f"coordinate_transformation_mode '{self.coord}' is invalid")
        self.nearest_mode = attrs.get("nearest_mode", "simple" if self.opset < 11 else "round_prefer_floor")
        if self.nearest_mode not in NEAREST_MODES:
            self.fail(f"nearest_mode '{self.nearest_mode}' is invalid")
        self.cubic_a = float(attrs.get("cubic_coeff_a", -0.75))
        self.exclude_outside = bool(attrs.get("exclude_outside", 0))
        self.extrapolation = float(attrs.get("extrapolation_value", 0.0))
        self.antialias = bool(attrs.get("antialias", 0))
        if self.antialias and self.mode == "nearest":
            self.fail("antialias applies to linear and cubic modes only")
        self.axes_attr = attrs.get("axes")
        self.policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        if self.policy not in ("stretch", "not_larger", "not_smaller"):
            self.fail(f"keep_aspect_ratio_policy '{self.policy}' is invalid")

    def _inputs(self, inputs):
        """(roi, scales, sizes) infos; Resize-10 has only (X, scales)."""
        if self.opset < 11:
            return None, inputs[1], None
        get = lambda k: inputs[k] if len(inputs) > k else None  # noqa: E731
        return get(1), get(2), get(3)

    def geometry(self, shape, roi, scales, sizes):
        """(output shape, per-axis scale, per-axis roi start and end) from the constant parameters, computed
        as onnxruntime does (float32 scales; output = trunc(scale * size); sizes give scale = out / in)."""
        rank = len(shape)
        axes = list(range(rank)) if self.axes_attr is None else [self.axis(int(a), rank) for a in self.axes_attr]
        if len(set(axes)) != len(axes):
            self.fail(f"axes {self.axes_attr} repeat an axis")
        full_scales = [f32(1)] * rank
        out = list(shape)
        has_sizes = sizes is not None and sizes.size > 0
        has_scales = scales is not None and scales.size > 0
        if has_sizes and has_scales:
            self.fail("only one of scales and sizes may be given")
        if has_sizes:
            sizes = [int(s) for s in sizes.reshape(-1)]
            if len(sizes) != len(axes) or any(s < 0 for s in sizes):
                self.fail(f"sizes {sizes} must hold {len(axes)} non-negative values")
            for k, a in enumerate(axes):
                if shape[a] == 0 and sizes[k]:
                    self.fail(f"cannot resize an empty axis {a} to {sizes[k]}")
                full_scales[a] = f32(sizes[k]) / f32(shape[a]) if shape[a] else f32(1)
                out[a] = sizes[k]
            if self.policy != "stretch":
                pick = min if self.policy == "not_larger" else max
                r = pick(full_scales[a] for a in axes)
                for a in axes:
                    full_scales[a] = r
                    out[a] = int(np.floor(np.float64(r * f32(shape[a])) + 0.5))
        elif has_scales:
            sc = [f32(s) for s in np.asarray(scales).reshape(-1)]
            if len(sc) != len(axes):
                self.fail(f"scales has {len(sc)} values; expected {len(axes)}")
            if any(not s > 0 for s in sc):
                self.fail(f"scales must be positive, got {[float(s) for s in sc]}")
            for k, a in enumerate(axes):
                full_scales[a] = sc[k]
                out[a] = int(sc[k] * f32(shape[a]))
        else:
            self.fail("one of scales or sizes must be given")
        starts, ends = [0.0] * rank, [1.0] * rank
        if self.coord == "tf_crop_and_resize":
            if roi is None or roi.size == 0:
                self.fail("tf_crop_and_resize needs the roi input")
            r = [float(v) for v in roi.reshape(-1)]
            if len(r) != 2 * len(axes):
                self.fail(f"roi has {len(r)} values; expected {2 * len(axes)}")
            for k, a in enumerate(axes):
                starts[a], ends[a] = r[k], r[k + len(axes)]
        return tuple(out), full_scales, starts, ends

    def tables(self, shape, out_shape, scales, starts, ends) -> dict[int, AxisTable]:
        """Tables of the axes to resample. As in onnxruntime, an axis whose scale is exactly 1 is copied (its
        crop box ignored), so is any axis that keeps its size under antialiasing (unless cropped), and so is
        the whole input when the output shape equals the input shape, whatever the scales. The reference would resample
        those; the two agree on every ONNX conformance case."""
        tables = {}
        if tuple(shape) == tuple(out_shape):
            return tables
        for a, (n_in, n_out) in enumerate(zip(shape, out_shape)):
            if n_out == 0 or scales[a] == 1:
                continue
            coords = source_coords(self.coord, n_out, n_in, scales[a], starts[a], ends[a])
            outside = None
            if self.coord == "tf_crop_and_resize":
                outside = (coords < 0) | (coords > f32(n_in - 1))
            if self.antialias and n_in == n_out:
                # onnxruntime copies such an axis, but still fills positions outside a crop box
                if outside is not None and outside.any():
                    tables[a] = AxisTable(np.arange(n_in, dtype=np.int64)[:, None], np.ones((n_in, 1), np.float32),
                                          outside)
                continue
            if self.mode == "nearest":
                idx = nearest_index(coords, self.nearest_mode, scales[a] < 1)
                tables[a] = AxisTable(np.clip(idx, 0, n_in - 1), None, outside)
            elif self.mode == "linear" and not self.antialias:
                tables[a] = AxisTable(*self._linear_taps(coords, n_in), outside)
            else:
                tables[a] = AxisTable(*self._kernel_taps(coords, n_in, float(scales[a])), outside)
        return tables

    @staticmethod
    def _linear_taps(coords, n_in):
        """Two taps around the coordinate clamped into [0, n_in - 1] (onnxruntime's bilinear weights)."""
        c = np.clip(coords, f32(0), f32(n_in - 1))
        i0 = np.minimum(c.astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        w0 = np.abs(c - i1.astype(f32))
        w1 = np.abs(c - i0.astype(f32))
        same = i0 == i1
        w0[same] = w1[same] = 0.5
        return np.stack([i0, i1], 1), np.stack([w0, w1], 1).astype(f32)

    def _kernel_taps(self, coords, n_in, scale):
        """Cubic taps, and linear/cubic with antialiasing: the kernel is stretched by 1 / scale when
        downsampling and normalised to sum 1. Taps outside the input repeat the edge, or get weight 0 with
        exclude_outside (the rest renormalised)."""
        c = coords.astype(np.float64)
        base = np.floor(c)
        ratio = c - base
        s = min(scale, 1.0) if self.antialias else 1.0
        support = 2.0 if self.mode == "cubic" else 1.0
        start = int(np.floor(-support / s)) + 1
        offsets = np.arange(start, 2 - start)
        taps = base[:, None].astype(np.int64) + offsets
        dist = (offsets[None, :] - ratio[:, None]) * s
        w = _cubic(dist, self.cubic_a) if self.mode == "cubic" else _linear(dist)
        if self.exclude_outside:
            w = np.where((taps < 0) | (taps >= n_in), 0.0, w)
        total = w.sum(axis=1, keepdims=True)
        if self.antialias or self.exclude_outside:
            w = w / np.where(total == 0, 1.0, total)
        return np.clip(taps, 0, n_in - 1), w.astype(f32)

    def _consts(self, inputs):
        roi, scales, sizes = self._inputs(inputs)
        return (self.const_input(roi, "roi") if self.coord == "tf_crop_and_resize" else None,
                self.const_input(scales, "scales"), self.const_input(sizes, "sizes"))

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind not in "fiu":
            self.unsupported(f"input dtype {x.dtype} is not supported")
        out, *_ = self.geometry(tuple(x.shape), *self._consts(inputs))
        return [TensorInfo(x.dtype, out)]

    def blockable(self, inputs, ctx):
        """NCHWc (fastconv/plan/layout.py) when only H and W are resized, in float32, without the
        extrapolation of tf_crop_and_resize (a blocked pixel is one vector: the same taps for every channel)."""
        x = inputs[0]
        if x.dtype != F32 or len(x.shape) != 4 or ctx.kernel_overrides.get(self.op_type) is not None:
            return False
        shape = tuple(x.shape)
        try:
            out, scales, starts, ends = self.geometry(shape, *self._consts(inputs))
        except ValueRequired:
            return False
        tables = self.tables(shape, out, scales, starts, ends)
        return set(tables) <= {2, 3} and all(t.outside is None or not t.outside.any() for t in tables.values())

    def lower(self, inputs, outputs, ctx):
        if self.layout:
            return self._lower_blocked(inputs[0].logical_shape, inputs)
        shape = tuple(inputs[0].shape)
        out, scales, starts, ends = self.geometry(shape, *self._consts(inputs))
        tables = self.tables(shape, out, scales, starts, ends)
        cfg = ResizeConfig(self.mode, inputs[0].dtype, len(shape), tuple(tables), shape, out,
                           self.mode == "linear" and not self.antialias)
        platform = None if ctx is None else ctx.platform
        override = None if ctx is None else ctx.kernel_overrides.get(self.op_type)
        kernel = select_kernel("Resize", cfg, platform, override)
        return kernel.build(cfg, platform, tables, self.extrapolation)

    def _lower_blocked(self, shape, inputs):
        """Runner on NCHWc buffers: xb (N, Cb, H, W, c) -> (yb (N, Cb, OH, OW, c),)."""
        out, scales, starts, ends = self.geometry(tuple(shape), *self._consts(inputs))
        cfg = ResizeConfig(self.mode, F32, 4, (), tuple(shape), out)
        ty, tx = _hw_tables(cfg, self.tables(tuple(shape), out, scales, starts, ends))
        width = self.layout
        tok = width_token(width)
        (h, w), (oh, ow) = shape[2:], out[2:]
        nearest = self.mode == "nearest"
        if nearest:
            iy, ix = (np.ascontiguousarray(t.index.reshape(-1)) for t in (ty, tx))
            kernel = bound(resize_nearest_nchwc_f32)
        else:
            tabs = []
            for t in (ty, tx):
                tabs += [np.ascontiguousarray(t.index), np.ascontiguousarray(t.weights, dtype=f32)]
            kernel = bound(resize_taps_nchwc_f32)

        @accepts_out
        def run(xb, *_, out=None):
            n_, cb = xb.shape[:2]
            y = output(out, (n_, cb, oh, ow, width))
            if y.size:
                xs = np.ascontiguousarray(xb).reshape(n_ * cb, h, w, width)
                ys = y.reshape(n_ * cb, oh, ow, width)
                chunks = 1 if y.size < PARALLEL_FLOATS else max(1, min(get_num_threads(), n_ * cb * oh))
                if nearest:
                    kernel(xs, iy, ix, ys, chunks, tok)
                else:
                    kernel(xs, *tabs, ys, chunks, tok)
            return (y,)

        return run

    def run(self, x, *params):
        infos = [TensorInfo(x.dtype, x.shape)] + [None if p is None else TensorInfo(p.dtype, p.shape, p)
                                                  for p in params]
        return self.lower(infos, None, None)(x)


@register_op("Upsample", since=7, until=10)
class Upsample(Resize):
    """Upsample-7 (scales attribute) and -9 (scales input): asymmetric coordinates; nearest truncates
    (rounds up when downsampling), as onnxruntime does."""

    attributes = frozenset({"mode", "scales"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if "scales" in node.attrs:
            node.inputs = [node.inputs[0], add_constant(np.array(node.attrs.pop("scales"), np.float32), "scales")]

    def parse(self, attrs):
        mode = attrs.get("mode", "nearest")
        if mode == "bilinear":
            mode = "linear"
        if mode not in ("nearest", "linear"):
            self.fail(f"mode must be nearest or linear, not '{mode}'")
        super().parse({"mode": mode, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "simple"})

    def _inputs(self, inputs):
        return None, inputs[1], None


# --- kernels ------------------------------------------------------------------------------------------------

def _fill_outside(y, tables, value):
    """tf_crop_and_resize: output positions whose coordinate falls outside the input get `value`."""
    for a, tab in tables.items():
        if tab.outside is not None and tab.outside.any():
            index = [slice(None)] * y.ndim
            index[a] = tab.outside
            y[tuple(index)] = value
    return y


@register_kernel("Resize", "resize_separable_numpy", priority=0)
def _build_separable(cfg, platform, tables, extrapolation):
    """Any rank, axes and dtype: one vectorised gather (and weighted sum) per resized axis. Float64 inputs
    compute in float64, everything else in float32. Integer results of linear mode truncate as in
    onnxruntime; cubic and antialiased ones round to nearest (onnxruntime's fixed-point antialiasing of
    8-bit images can differ by one)."""

    def run(x, *_):
        compute = np.float64 if x.dtype == np.float64 else np.float32
        y = x
        for a, tab in tables.items():
            if tab.weights is None:
                y = np.take(y, tab.index, axis=a)
                continue
            wshape = [1] * y.ndim
            wshape[a] = -1
            acc = None
            for k in range(tab.weights.shape[1]):
                term = np.take(y, tab.index[:, k], axis=a).astype(compute, copy=False)
                term = term * tab.weights[:, k].astype(compute).reshape(wshape)
                acc = term if acc is None else np.add(acc, term, out=acc)
            y = acc
        if y is x:
            y = x.copy()
        if x.dtype.kind in "iu" and cfg.mode != "nearest":
            info = np.iinfo(x.dtype)
            y = np.clip(np.trunc(y) if cfg.truncate else np.round(y), info.min, info.max)
        y = contiguous(y, x.dtype)
        return (_fill_outside(y, tables, y.dtype.type(extrapolation)),)

    return run


def _hw_tables(cfg, tables):
    """Index/weight tables of the last two axes, with identity tables for an axis left unresized."""
    h, w = cfg.in_shape[-2:]
    ident = lambda n: AxisTable(np.arange(n, dtype=np.int64)[:, None], np.ones((n, 1), f32), None)  # noqa: E731
    ty = tables.get(cfg.rank - 2) or ident(h)
    tx = tables.get(cfg.rank - 1) or ident(w)
    return ty, tx


@register_kernel("Resize", "resize_nearest_hw_f32", priority=10,
                 supports=lambda cfg, platform: cfg.dtype == F32 and cfg.mode == "nearest" and cfg.last_two_axes)
def _build_nearest_hw(cfg, platform, tables, extrapolation):
    ty, tx = _hw_tables(cfg, tables)
    iy = np.ascontiguousarray(ty.index.reshape(-1))
    ix = np.ascontiguousarray(tx.index.reshape(-1))
    h, w = cfg.in_shape[-2:]
    oh, ow = cfg.out_shape[-2:]
    planes = int(np.prod(cfg.in_shape[:-2], dtype=np.int64))
    # runs of output rows reading the same source row; an integer column repeat factor if there is one
    run_starts = np.flatnonzero(np.diff(iy, prepend=-1) != 0) if oh else np.zeros(0, np.int64)
    run_starts = np.append(run_starts, oh).astype(np.int64)
    repeat = ow // w if w and ow % w == 0 else 0
    if repeat and not (ix == np.arange(ow) // repeat).all():
        repeat = 0

    def run(x, *_):
        out = np.empty(cfg.out_shape, np.float32)
        if out.size:
            resize_nearest_hw_f32(contiguous(x).reshape(planes, h, w), iy, ix, run_starts, repeat,
                                  out.reshape(planes, oh, ow))
        return (_fill_outside(out, tables, np.float32(extrapolation)),)

    return run


@register_kernel("Resize", "resize_taps_hw_f32", priority=10,
                 supports=lambda cfg, platform: cfg.dtype == F32 and cfg.mode != "nearest" and cfg.last_two_axes)
def _build_taps_hw(cfg, platform, tables, extrapolation):
    ty, tx = _hw_tables(cfg, tables)
    iy, wy = np.ascontiguousarray(ty.index), np.ascontiguousarray(ty.weights, dtype=f32)
    ix, wx = np.ascontiguousarray(tx.index), np.ascontiguousarray(tx.weights, dtype=f32)
    h, w = cfg.in_shape[-2:]
    oh, ow = cfg.out_shape[-2:]
    planes = int(np.prod(cfg.in_shape[:-2], dtype=np.int64))
    band = 16  # output rows per task: source rows shared by neighbouring output rows are blended once

    def run(x, *_):
        out = np.empty(cfg.out_shape, np.float32)
        if out.size:
            resize_taps_hw_f32(contiguous(x).reshape(planes, h, w), iy, wy, ix, wx, band,
                               out.reshape(planes, oh, ow))
        return (_fill_outside(out, tables, np.float32(extrapolation)),)

    return run
