"""Resize (opsets 10-19) and Upsample (7, 9): nearest, linear and cubic over any axes.

At plan time each resized axis gets index and weight tables (ONNX coordinate transformation modes); at run
time the axes are resized one after the other with vectorised gathers (N-linear and cubic interpolation are
separable), so there is no per-pixel Python.
"""
from __future__ import annotations

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import Op, contiguous
from fastconv.ops.registry import register_op

COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
               "tf_crop_and_resize", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def _source_coords(mode, out_size, in_size, scale, roi_start, roi_end):
    """Original-image coordinate of every output index along one axis (float64)."""
    x = np.arange(out_size, dtype=np.float64)
    scale = float(scale)
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = out_size / (scale * in_size)
        offset = in_size / 2 * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out_size > 1 else np.zeros_like(x)
    if mode == "align_corners":
        return x * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    # tf_crop_and_resize
    if out_size > 1:
        return roi_start * (in_size - 1) + x * (roi_end - roi_start) * (in_size - 1) / (out_size - 1)
    return np.full_like(x, 0.5 * (roi_start + roi_end) * (in_size - 1))


def _nearest(coords, mode, downsampling):
    if mode == "round_prefer_floor":
        return np.ceil(coords - 0.5)
    if mode == "round_prefer_ceil":
        return np.floor(coords + 0.5)
    if mode == "floor":
        return np.floor(coords)
    if mode == "ceil":
        return np.ceil(coords)
    return np.ceil(coords) if downsampling else np.trunc(coords)  # "simple" (Resize-10, Upsample)


def _cubic_weights(t, a):
    """Weights of taps at offsets -1, 0, 1, 2 for fractional position t (Keys kernel with parameter a)."""
    def k(s):
        s = np.abs(s)
        return np.where(s <= 1, ((a + 2) * s - (a + 3)) * s * s + 1,
                        np.where(s < 2, ((a * s - 5 * a) * s + 8 * a) * s - 4 * a, 0.0))

    return np.stack([k(t + 1), k(t), k(1 - t), k(2 - t)], axis=-1)


class AxisTable:
    """How one axis is resized: out[..., i, ...] = sum_k weights[i, k] * in[..., index[i, k], ...]
    (+ fill where `outside` marks an extrapolated output position)."""

    def __init__(self, index, weights, outside=None):
        self.index = index
        self.weights = weights
        self.outside = outside


@register_op("Resize")
class Resize(Op):
    attributes = frozenset({"antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a",
                            "exclude_outside", "extrapolation_value", "keep_aspect_ratio_policy", "mode",
                            "nearest_mode"})

    def parse(self, attrs):
        self.mode = attrs.get("mode", "nearest")
        if self.mode not in ("nearest", "linear", "cubic"):
            self.unsupported(f"mode '{self.mode}' is not supported")
        default_coord = "asymmetric" if self.opset < 11 else "half_pixel"
        self.coord = attrs.get("coordinate_transformation_mode", default_coord)
        if self.coord not in COORD_MODES:
            self.unsupported(f"coordinate_transformation_mode '{self.coord}' is not supported")
        self.nearest_mode = attrs.get("nearest_mode", "simple" if self.opset < 11 else "round_prefer_floor")
        if self.nearest_mode not in NEAREST_MODES:
            self.unsupported(f"nearest_mode '{self.nearest_mode}' is not supported")
        self.cubic_a = float(attrs.get("cubic_coeff_a", -0.75))
        self.exclude_outside = bool(attrs.get("exclude_outside", 0))
        self.extrapolation = float(attrs.get("extrapolation_value", 0.0))
        if int(attrs.get("antialias", 0)):
            self.unsupported("antialias=1 is not supported")
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
        """(output shape, per-axis scale, roi start/end per axis) from constant parameters."""
        rank = len(shape)
        axes = list(range(rank)) if self.axes_attr is None else [self.axis(int(a), rank) for a in self.axes_attr]
        full_scales = [1.0] * rank
        out = list(shape)
        if sizes is not None and sizes.size:
            sizes = [int(s) for s in sizes.reshape(-1)]
            if len(sizes) != len(axes):
                self.fail(f"sizes has {len(sizes)} values; expected {len(axes)}")
            if self.policy != "stretch":
                ratios = [sizes[k] / shape[a] for k, a in enumerate(axes)]
                r = min(ratios) if self.policy == "not_larger" else max(ratios)
                sizes = [int(np.floor(r * shape[a] + 0.5)) for a in axes]
                for a in axes:
                    full_scales[a] = r
            for k, a in enumerate(axes):
                out[a] = sizes[k]
                if self.policy == "stretch":
                    full_scales[a] = sizes[k] / shape[a] if shape[a] else 1.0
        elif scales is not None and scales.size:
            sc = [float(s) for s in np.asarray(scales, np.float32).reshape(-1)]
            if len(sc) != len(axes):
                self.fail(f"scales has {len(sc)} values; expected {len(axes)}")
            if any(s <= 0 for s in sc):
                self.fail(f"scales must be positive, got {sc}")
            for k, a in enumerate(axes):
                full_scales[a] = sc[k]
                out[a] = int(np.floor(np.float32(sc[k]) * np.float32(shape[a])))
        else:
            self.fail("one of scales or sizes must be given")
        starts, ends = [0.0] * rank, [1.0] * rank
        if roi is not None and roi.size and self.coord == "tf_crop_and_resize":
            r = [float(v) for v in roi.reshape(-1)]
            if len(r) != 2 * len(axes):
                self.fail(f"roi has {len(r)} values; expected {2 * len(axes)}")
            for k, a in enumerate(axes):
                starts[a], ends[a] = r[k], r[k + len(axes)]
        return tuple(out), full_scales, starts, ends

    def tables(self, shape, out_shape, scales, starts, ends) -> dict[int, AxisTable]:
        tables = {}
        for a, (n_in, n_out) in enumerate(zip(shape, out_shape)):
            if n_in == n_out and scales[a] == 1.0 and self.coord != "tf_crop_and_resize":
                continue
            coords = _source_coords(self.coord, n_out, n_in, scales[a], starts[a], ends[a])
            outside = None
            if self.coord == "tf_crop_and_resize":
                outside = (coords < 0) | (coords > n_in - 1)
            if self.mode == "nearest":
                idx = np.clip(_nearest(coords, self.nearest_mode, scales[a] < 1), 0, n_in - 1).astype(np.int64)
                tables[a] = AxisTable(idx[:, None], np.ones((n_out, 1)), outside)
            elif self.mode == "linear":
                c = np.clip(coords, 0, n_in - 1)
                i0 = np.floor(c).astype(np.int64)
                i1 = np.minimum(i0 + 1, n_in - 1)
                t = c - i0
                tables[a] = AxisTable(np.stack([i0, i1], 1), np.stack([1 - t, t], 1), outside)
            else:
                f = np.floor(coords)
                t = coords - f
                taps = f[:, None].astype(np.int64) + np.arange(-1, 3)
                w = _cubic_weights(t, self.cubic_a)
                if self.exclude_outside:
                    w = np.where((taps < 0) | (taps >= n_in), 0.0, w)
                    w = w / w.sum(axis=1, keepdims=True)
                tables[a] = AxisTable(np.clip(taps, 0, n_in - 1), w, outside)
        return tables

    def apply(self, x, tables):
        y = x
        compute = np.float64 if x.dtype == np.float64 else np.float32
        for a, tab in tables.items():
            if tab.weights.shape[1] == 1:
                y = np.take(y, tab.index[:, 0], axis=a)
            else:
                wshape = [1] * y.ndim
                wshape[a] = -1
                acc = None
                for k in range(tab.weights.shape[1]):
                    term = np.take(y, tab.index[:, k], axis=a) * tab.weights[:, k].astype(compute).reshape(wshape)
                    acc = term if acc is None else acc + term
                y = acc
            if tab.outside is not None and tab.outside.any():
                mshape = [1] * y.ndim
                mshape[a] = -1
                y = np.where(tab.outside.reshape(mshape), y.dtype.type(self.extrapolation), y)
        if x.dtype.kind in "iu" and self.mode != "nearest":
            y = np.round(y)
        return contiguous(y, x.dtype)

    def _consts(self, inputs):
        roi, scales, sizes = self._inputs(inputs)
        return (self.const_input(roi, "roi"), self.const_input(scales, "scales"),
                self.const_input(sizes, "sizes"))

    def infer(self, inputs):
        x = inputs[0]
        if x.dtype.kind not in "fiu":
            self.unsupported(f"input dtype {x.dtype} is not supported")
        out, *_ = self.geometry(tuple(x.shape), *self._consts(inputs))
        return [TensorInfo(x.dtype, out)]

    def lower(self, inputs, outputs, ctx):
        shape = tuple(inputs[0].shape)
        out, scales, starts, ends = self.geometry(shape, *self._consts(inputs))
        tables = self.tables(shape, out, scales, starts, ends)
        return lambda x, *_: (self.apply(x, tables),)

    def run(self, x, *params):
        infos = [TensorInfo(x.dtype, x.shape)] + [None if p is None else TensorInfo(p.dtype, p.shape, p)
                                                  for p in params]
        return self.lower(infos, None, None)(x)


@register_op("Upsample")
class Upsample(Resize):
    """Upsample-7 (scales attribute) and -9 (scales input): asymmetric coordinates, nearest rounds down."""

    attributes = frozenset({"mode", "scales", "height_scale", "width_scale"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if "scales" in node.attrs:
            node.inputs = [node.inputs[0], add_constant(np.array(node.attrs.pop("scales"), np.float32), "scales")]

    def parse(self, attrs):
        mode = attrs.get("mode", "nearest")
        if mode == "bilinear":
            mode = "linear"
        super().parse({"mode": mode, "coordinate_transformation_mode": "asymmetric", "nearest_mode": "simple"})

    def _inputs(self, inputs):
        return None, inputs[1], None
