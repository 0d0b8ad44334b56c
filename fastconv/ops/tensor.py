"""Tensor and shape ops: layout-free data movement over numpy, any supported dtype.

Parameters that decide output shapes (Reshape's shape, Slice's starts, ...) must be known at plan time; shape
subgraphs (Shape -> Gather -> Concat -> Reshape) fold to constants because Shape.infer returns its value.
Every output is C-contiguous: a view when slicing or reshaping gives one (runs never write into their inputs
and the executor copies views it hands back), a copy otherwise, so kernels downstream never see odd strides.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.ops.base import BOOL, I64, Op, contiguous, same_as_input
from fastconv.ops.registry import register_op, schema_version


def _attr_to_input(node, add_constant, attr, position, dtype=np.int64):
    """Move attribute `attr` (if present) into input slot `position` (older opsets' form)."""
    if attr in node.attrs:
        value = node.attrs.pop(attr)
        while len(node.inputs) < position:
            node.inputs.append("")
        name = add_constant(np.array(value, dtype), attr)
        if len(node.inputs) == position:
            node.inputs.append(name)
        else:
            node.inputs[position] = name


def reshape_to(shape) -> Callable:
    """The lowered form of every op that only reshapes (Reshape, Flatten, Squeeze, Unsqueeze, Transpose of size-1
    axes): the output shape is fixed at plan time, extra inputs (shape, axes) are ignored."""
    shape = tuple(shape)
    return lambda x, *_: (x.reshape(shape),)


@register_op("Identity")
class Identity(Op):
    def infer(self, inputs):
        return same_as_input(inputs)

    def run(self, x):
        return (x.view(),)


@register_op("Dropout")
class Dropout(Op):
    """Inference: y = x. The optional mask is what onnxruntime gives: all True from Dropout-12 on (as the
    spec's reference), all zero/False before (Dropout-7 types the mask like the input). training_mode=true is
    refused unless ratio is 0, where dropout keeps every element."""

    attributes = frozenset({"ratio", "seed"})

    def parse(self, attrs):
        version = schema_version("", "Dropout", self.opset)
        self.mask_value = version >= 12
        self.mask_like_input = version < 10

    def infer(self, inputs):
        x = inputs[0]
        if len(inputs) > 2 and inputs[2] is not None:
            if bool(self.const_input(inputs[2], "training_mode").reshape(-1)[0]):
                ratio = self.const_input(inputs[1] if len(inputs) > 1 else None, "ratio", np.array(0.5))
                if float(ratio.reshape(-1)[0]) != 0.0:
                    self.unsupported("training_mode=true with a non-zero ratio (random dropout) is not supported; "
                                     "fastconv is inference only")
        mask = TensorInfo(x.dtype if self.mask_like_input else BOOL, x.shape)
        return [TensorInfo(x.dtype, x.shape), mask][:max(1, self.num_outputs)]

    def run(self, x, *_):
        if self.has_output(1):
            dtype = x.dtype if self.mask_like_input else np.bool_
            return x.view(), np.full(x.shape, self.mask_value, dtype)
        return (x.view(),)


@register_op("Constant")
class Constant(Op):
    attributes = frozenset({"value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value",
                            "value_string", "value_strings"})

    def parse(self, attrs):
        if len(attrs) != 1:
            self.fail(f"exactly one value attribute is required, got {sorted(attrs)}")
        (key, v), = attrs.items()
        if key in ("sparse_value", "value_string", "value_strings"):
            self.unsupported(f"attribute {key} is not supported")
        dtype = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64,
                 "value_ints": np.int64}.get(key)
        self.value = np.asarray(v, dtype)

    def infer(self, inputs):
        return [TensorInfo(self.value.dtype, self.value.shape, self.value)]

    def run(self):
        return (self.value,)


@register_op("ConstantOfShape")
class ConstantOfShape(Op):
    attributes = frozenset({"value"})

    def parse(self, attrs):
        v = attrs.get("value")
        self.value = np.zeros(1, np.float32) if v is None else np.asarray(v).reshape(-1)
        if self.value.size != 1:
            self.fail("value must hold exactly one element")

    def infer(self, inputs):
        shape = tuple(int(d) for d in self.const_input(inputs[0], "shape").reshape(-1))
        if any(d < 0 for d in shape):
            self.fail(f"shape {list(shape)} has negative dimensions")
        return [TensorInfo(self.value.dtype, shape)]

    def run(self, shape):
        return (np.full(tuple(int(d) for d in shape.reshape(-1)), self.value[0], self.value.dtype),)


@register_op("Shape")
class Shape(Op):
    attributes = frozenset({"start", "end"})

    def parse(self, attrs):
        self.start = attrs.get("start", 0)
        self.end = attrs.get("end")

    def _value(self, shape):
        r = len(shape)
        start = min(max(self.start + r if self.start < 0 else self.start, 0), r)
        end = r if self.end is None else self.end
        end = min(max(end + r if end < 0 else end, 0), r)
        return np.array(shape[start:end], np.int64)

    def infer(self, inputs):
        v = self._value(tuple(inputs[0].shape))
        return [TensorInfo(I64, v.shape, v)]

    def run(self, x):
        return (self._value(x.shape),)


@register_op("Size")
class Size(Op):
    def infer(self, inputs):
        v = np.array(int(np.prod(inputs[0].shape, dtype=np.int64)), np.int64)
        return [TensorInfo(I64, (), v)]

    def run(self, x):
        return (np.array(x.size, np.int64),)


@register_op("Reshape")
class Reshape(Op):
    attributes = frozenset({"allowzero", "shape"})

    @classmethod
    def upgrade(cls, node, add_constant):
        _attr_to_input(node, add_constant, "shape", 1)

    def parse(self, attrs):
        self.allowzero = bool(attrs.get("allowzero", 0))

    def target(self, in_shape, shape):
        shape = [int(d) for d in shape.reshape(-1)]
        out = []
        for k, d in enumerate(shape):
            if d == 0 and not self.allowzero:
                if k >= len(in_shape):
                    self.fail(f"shape {shape}: 0 at position {k} but the input has rank {len(in_shape)}")
                d = in_shape[k]
            out.append(d)
        if out.count(-1) > 1 or any(d < -1 for d in out):
            self.fail(f"invalid target shape {shape}")
        total = int(np.prod(in_shape, dtype=np.int64))
        if -1 in out:
            rest = int(np.prod([d for d in out if d != -1], dtype=np.int64))
            if rest == 0 or total % rest:
                self.fail(f"cannot reshape {list(in_shape)} to {shape}")
            out[out.index(-1)] = total // rest
        if int(np.prod(out, dtype=np.int64)) != total:
            self.fail(f"cannot reshape {list(in_shape)} ({total} elements) to {shape}")
        return tuple(out)

    def infer(self, inputs):
        shape = self.target(inputs[0].shape, self.const_input(inputs[1], "shape"))
        return [TensorInfo(inputs[0].dtype, shape)]

    def lower(self, inputs, outputs, ctx):
        return reshape_to(outputs[0].shape)

    def run(self, x, shape):
        return (x.reshape(self.target(x.shape, shape)),)


@register_op("Flatten")
class Flatten(Op):
    attributes = frozenset({"axis"})

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", 1))

    def _shape(self, shape):
        r = len(shape)
        if not -r <= self.axis_attr <= r:
            self.fail(f"axis {self.axis_attr} is out of range for rank {r}")
        a = self.axis_attr + r if self.axis_attr < 0 else self.axis_attr
        return (int(np.prod(shape[:a], dtype=np.int64)), int(np.prod(shape[a:], dtype=np.int64)))

    def infer(self, inputs):
        return [TensorInfo(inputs[0].dtype, self._shape(tuple(inputs[0].shape)))]

    def run(self, x):
        return (x.reshape(self._shape(x.shape)),)

    def lower(self, inputs, outputs, ctx):
        return reshape_to(outputs[0].shape)


@register_op("Transpose")
class Transpose(Op):
    attributes = frozenset({"perm"})

    def parse(self, attrs):
        self.perm = attrs.get("perm")

    def _perm(self, rank):
        perm = list(range(rank))[::-1] if self.perm is None else [int(p) for p in self.perm]
        if sorted(perm) != list(range(rank)):
            self.fail(f"perm {perm} is not a permutation of {rank} axes")
        return perm

    def infer(self, inputs):
        x = inputs[0]
        perm = self._perm(len(x.shape))
        return [TensorInfo(x.dtype, tuple(x.shape[p] for p in perm))]

    def run(self, x):
        return (contiguous(np.transpose(x, self._perm(x.ndim))) if x.ndim else x.view(),)

    def lower(self, inputs, outputs, ctx):
        shape, perm = tuple(inputs[0].shape), tuple(self._perm(len(inputs[0].shape)))
        moved = [p for p in perm if shape[p] != 1]
        if moved == sorted(moved):  # only size-1 axes move: the same memory order, a reshape
            return reshape_to(outputs[0].shape)
        out_shape, dtype = tuple(outputs[0].shape), outputs[0].dtype

        @accepts_out
        def run(x, out=None):
            y = output(out, out_shape, dtype)
            np.copyto(y, x.transpose(perm))
            return (y,)

        return run


class _AxesOp(Op):
    attributes = frozenset({"axes"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < 13:
            _attr_to_input(node, add_constant, "axes", 1)


@register_op("Squeeze")
class Squeeze(_AxesOp):
    def _shape(self, shape, axes):
        r = len(shape)
        if axes is None or axes.size == 0:
            return tuple(d for d in shape if d != 1)
        ax = {self.axis(int(a), r) for a in axes.reshape(-1)}
        for a in ax:
            if shape[a] != 1:
                self.fail(f"cannot squeeze axis {a} of size {shape[a]} (input shape {list(shape)})")
        return tuple(d for k, d in enumerate(shape) if k not in ax)

    def infer(self, inputs):
        axes = self.const_input(inputs[1] if len(inputs) > 1 else None, "axes")
        return [TensorInfo(inputs[0].dtype, self._shape(tuple(inputs[0].shape), axes))]

    def run(self, x, axes=None):
        return (x.reshape(self._shape(x.shape, axes)),)

    def lower(self, inputs, outputs, ctx):
        return reshape_to(outputs[0].shape)


@register_op("Unsqueeze")
class Unsqueeze(_AxesOp):
    def _shape(self, shape, axes):
        r = len(shape) + axes.size
        ax = sorted({self.axis(int(a), r) for a in axes.reshape(-1)})
        if len(ax) != axes.size:
            self.fail(f"axes {axes.tolist()} repeat an axis")
        it = iter(shape)
        return tuple(1 if k in ax else next(it) for k in range(r))

    def infer(self, inputs):
        axes = self.const_input(inputs[1] if len(inputs) > 1 else None, "axes")
        if axes is None:
            self.fail("axes are required")
        return [TensorInfo(inputs[0].dtype, self._shape(tuple(inputs[0].shape), axes))]

    def run(self, x, axes):
        return (x.reshape(self._shape(x.shape, axes)),)

    def lower(self, inputs, outputs, ctx):
        return reshape_to(outputs[0].shape)


@register_op("Concat")
class Concat(Op):
    attributes = frozenset({"axis"})

    def parse(self, attrs):
        if "axis" not in attrs:
            self.fail("attribute axis is required")
        self.axis_attr = int(attrs["axis"])

    def infer(self, inputs):
        first = inputs[0]
        r = len(first.shape)
        a = self.axis(self.axis_attr, r)
        total = 0
        for i in inputs:
            if i.dtype != first.dtype or len(i.shape) != r or any(
                    i.shape[k] != first.shape[k] for k in range(r) if k != a):
                self.fail(f"inputs {[list(x.shape) for x in inputs]} ({[str(x.dtype) for x in inputs]}) cannot "
                          f"be concatenated on axis {self.axis_attr}")
            total += i.shape[a]
        shape = tuple(total if k == a else d for k, d in enumerate(first.shape))
        return [TensorInfo(first.dtype, shape)]

    def run(self, *xs):
        return (np.concatenate(xs, axis=self.axis_attr % xs[0].ndim),)

    def lower(self, inputs, outputs, ctx):
        info = outputs[0]
        if info is None or any(not isinstance(d, int) for d in info.shape):
            return self.run
        shape, axis, dtype = tuple(info.shape), self.axis_attr % len(info.shape), info.dtype

        @accepts_out
        def run(*xs, out=None):   # written straight into the planned buffer (kernels/buffers.py)
            return (np.concatenate(xs, axis=axis, out=output(out, shape, dtype)),)

        return run


@register_op("Split")
class Split(Op):
    attributes = frozenset({"axis", "split", "num_outputs"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < 13:
            _attr_to_input(node, add_constant, "split", 1)

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", 0))
        self.num = attrs.get("num_outputs")
        self.v18 = schema_version("", "Split", self.opset) >= 18
        if self.num is not None and int(self.num) != self.num_outputs:
            self.fail(f"num_outputs={self.num} but the node has {self.num_outputs} outputs")

    def _sizes(self, dim, split):
        n = self.num_outputs
        if split is not None and split.size:
            if self.num is not None:
                self.fail("split and num_outputs cannot both be given")
            sizes = [int(s) for s in split.reshape(-1)]
            if len(sizes) != n or sum(sizes) != dim or any(s < 0 for s in sizes):
                self.fail(f"split {sizes} does not divide axis of size {dim} into {n} outputs")
            return sizes
        if self.num is not None:  # Split-18: ceil-sized chunks, the last one smaller
            chunk = -(-dim // n)
            sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
            if sizes[-1] < 0:
                self.fail(f"axis of size {dim} cannot be split into {n} chunks of {chunk}")
            return sizes
        if self.v18:
            self.fail("Split-18 needs the split input or the num_outputs attribute")
        if dim % n:
            self.fail(f"axis of size {dim} cannot be split evenly into {n} outputs")
        return [dim // n] * n

    def infer(self, inputs):
        x = inputs[0]
        a = self.axis(self.axis_attr, len(x.shape))
        split = self.const_input(inputs[1] if len(inputs) > 1 else None, "split")
        sizes = self._sizes(x.shape[a], split)
        return [TensorInfo(x.dtype, tuple(s if k == a else d for k, d in enumerate(x.shape))) for s in sizes]

    def run(self, x, split=None):
        a = self.axis_attr % x.ndim
        sizes = self._sizes(x.shape[a], split)
        return tuple(contiguous(part) for part in np.split(x, np.cumsum(sizes)[:-1], axis=a))


@register_op("Slice")
class Slice(Op):
    attributes = frozenset({"starts", "ends", "axes"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < 10:
            _attr_to_input(node, add_constant, "starts", 1)
            _attr_to_input(node, add_constant, "ends", 2)
            _attr_to_input(node, add_constant, "axes", 3)

    def _slices(self, shape, starts, ends, axes, steps):
        """Python slices per axis after the spec's clamping: negative starts/ends count from the end, then
        clamp to [0, dim] for positive steps and to [0, dim-1] (starts) / [-1, dim-1] (ends) for negative ones."""
        r = len(shape)
        starts = [int(s) for s in starts.reshape(-1)]
        ends = [int(e) for e in ends.reshape(-1)]
        axes = list(range(len(starts))) if axes is None else [self.axis(int(a), r) for a in axes.reshape(-1)]
        steps = [1] * len(starts) if steps is None else [int(s) for s in steps.reshape(-1)]
        if not len(starts) == len(ends) == len(axes) == len(steps) or len(set(axes)) != len(axes):
            self.fail(f"starts/ends/axes/steps disagree: {starts} {ends} {axes} {steps}")
        sl = [slice(None)] * r
        for s, e, a, st in zip(starts, ends, axes, steps):
            if st == 0:
                self.fail("steps must be non-zero")
            d = shape[a]
            s = s + d if s < 0 else s
            e = e + d if e < 0 else e
            if st > 0:
                s, e = min(max(s, 0), d), min(max(e, 0), d)
            else:
                s, e = min(max(s, 0), d - 1), min(max(e, -1), d - 1)
            # a stop of -1 means "past index 0" here, which a Python slice spells None
            sl[a] = slice(s, e, st) if e >= 0 else slice(s if d else 0, None, st)
        return tuple(sl)

    def _params(self, inputs):
        names = ("starts", "ends", "axes", "steps")
        vals = []
        for k, name in enumerate(names, start=1):
            info = inputs[k] if len(inputs) > k else None
            vals.append(self.const_input(info, name))
        return vals

    def infer(self, inputs):
        x = inputs[0]
        sl = self._slices(tuple(x.shape), *self._params(inputs))
        shape = tuple(len(range(*s.indices(d))) for s, d in zip(sl, x.shape))
        return [TensorInfo(x.dtype, shape)]

    def lower(self, inputs, outputs, ctx):
        sl = self._slices(tuple(inputs[0].shape), *self._params(inputs))
        return lambda x, *_: (contiguous(x[sl]),)

    def run(self, x, starts, ends, axes=None, steps=None):
        return (contiguous(x[self._slices(x.shape, starts, ends, axes, steps)]),)


@register_op("Gather")
class Gather(Op):
    attributes = frozenset({"axis"})

    def parse(self, attrs):
        self.axis_attr = int(attrs.get("axis", 0))

    def infer(self, inputs):
        x, idx = inputs
        a = self.axis(self.axis_attr, len(x.shape))
        if idx.dtype.kind not in "iu":
            self.fail(f"indices must be integers, got {idx.dtype}")
        if idx.value is not None and idx.value.size:
            v = idx.value
            if v.min() < -x.shape[a] or v.max() >= x.shape[a]:
                self.fail(f"indices {v.tolist()} out of range for axis {a} of size {x.shape[a]}")
        shape = tuple(x.shape[:a]) + tuple(idx.shape) + tuple(x.shape[a + 1:])
        return [TensorInfo(x.dtype, shape)]

    def run(self, x, idx):
        a = self.axis_attr % x.ndim
        if idx.size and (idx.min() < -x.shape[a] or idx.max() >= x.shape[a]):
            raise IndexError(f"{self.node.label()}: indices out of range for axis {a} of size {x.shape[a]}")
        return (np.take(x, idx.astype(np.int64), axis=a),)


@register_op("Expand")
class Expand(Op):
    def infer(self, inputs):
        x = inputs[0]
        shape = tuple(int(d) for d in self.const_input(inputs[1], "shape").reshape(-1))
        try:
            out = np.broadcast_shapes(tuple(x.shape), shape)
        except ValueError:
            self.fail(f"input {list(x.shape)} cannot be expanded to {list(shape)}")
        return [TensorInfo(x.dtype, tuple(out))]

    def run(self, x, shape):
        out = np.broadcast_shapes(x.shape, tuple(int(d) for d in shape.reshape(-1)))
        return (contiguous(np.broadcast_to(x, out)),)


@register_op("Tile")
class Tile(Op):
    def infer(self, inputs):
        x = inputs[0]
        reps = self.const_input(inputs[1], "repeats").reshape(-1)
        if reps.size != len(x.shape) or (reps < 0).any():
            self.fail(f"repeats {reps.tolist()} must be {len(x.shape)} non-negative values")
        return [TensorInfo(x.dtype, tuple(int(d) * int(r) for d, r in zip(x.shape, reps)))]

    def run(self, x, reps):
        return (np.tile(x, tuple(int(r) for r in reps.reshape(-1))),)


@register_op("Range", since=11, until=27)
class Range(Op):
    """output[i] = start + i * delta for i < max(ceil((limit - start) / delta), 0). Range-27 only adds
    stash_type, which concerns float16/bfloat16 (not carried by fastconv)."""

    attributes = frozenset({"stash_type"})

    def _value(self, start, limit, delta):
        s, lim, d = (np.asarray(v).reshape(()) for v in (start, limit, delta))
        if d == 0:
            self.fail("delta must be non-zero")
        if s.dtype.kind in "iu":
            n = max(-(-(int(lim) - int(s)) // int(d)), 0)
        else:
            n = max(int(np.ceil((float(lim) - float(s)) / float(d))), 0)
        return (s + np.arange(n, dtype=s.dtype) * d).astype(s.dtype)

    def infer(self, inputs):
        if len({i.dtype for i in inputs}) != 1 or any(i.shape not in ((), (1,)) for i in inputs):
            self.fail(f"start, limit and delta must be scalars of one type; got "
                      f"{[f'{i.dtype}{list(i.shape)}' for i in inputs]}")
        v = self._value(*[self.const_input(i, name) for i, name in zip(inputs, ("start", "limit", "delta"))])
        return [TensorInfo(inputs[0].dtype, v.shape)]

    def run(self, start, limit, delta):
        return (self._value(start, limit, delta),)


@register_op("Pad")
class Pad(Op):
    """Pad-2 attributes (pads, value) become inputs. Modes constant / reflect / edge / wrap; negative pads
    crop; the optional axes input (Pad-18) selects which axes `pads` refers to."""

    attributes = frozenset({"mode", "pads", "value"})

    @classmethod
    def upgrade(cls, node, add_constant):
        if node.opset < 11:
            _attr_to_input(node, add_constant, "pads", 1)
            if "value" in node.attrs:
                _attr_to_input(node, add_constant, "value", 2, np.float32)

    def parse(self, attrs):
        self.mode = attrs.get("mode", "constant")
        if self.mode not in ("constant", "reflect", "edge", "wrap"):
            self.unsupported(f"mode '{self.mode}' is not supported")

    def _pads(self, rank, pads, axes):
        pads = [int(p) for p in pads.reshape(-1)]
        axes = list(range(rank)) if axes is None else [self.axis(int(a), rank) for a in axes.reshape(-1)]
        if len(pads) != 2 * len(axes):
            self.fail(f"pads has {len(pads)} values; expected {2 * len(axes)}")
        full = [[0, 0] for _ in range(rank)]
        for k, a in enumerate(axes):
            full[a] = [pads[k], pads[k + len(axes)]]
        return full

    def _params(self, inputs):
        pads = self.const_input(inputs[1], "pads")
        axes = self.const_input(inputs[3] if len(inputs) > 3 else None, "axes")
        return pads, axes

    def infer(self, inputs):
        x = inputs[0]
        full = self._pads(len(x.shape), *self._params(inputs))
        shape = tuple(d + b + e for d, (b, e) in zip(x.shape, full))
        if any(s < 0 for s in shape):
            self.fail(f"pads {full} crop more than the input shape {list(x.shape)}")
        if self.mode in ("reflect", "edge", "wrap"):
            for d, (b, e) in zip(x.shape, full):
                if (b > 0 or e > 0) and d == 0:
                    self.fail(f"mode {self.mode} cannot pad an empty axis")
        return [TensorInfo(x.dtype, shape)]

    def run(self, x, pads, value=None, axes=None):
        full = self._pads(x.ndim, pads, axes)
        crop = tuple(slice(max(-b, 0), d - max(-e, 0)) for d, (b, e) in zip(x.shape, full))
        x = x[crop]
        widths = [(max(b, 0), max(e, 0)) for b, e in full]
        if self.mode == "constant":
            cval = 0 if value is None or value.size == 0 else value.reshape(-1)[0]
            y = np.pad(x, widths, mode="constant", constant_values=cval)
        elif self.mode == "reflect":
            y = np.pad(x, widths, mode="reflect")
        elif self.mode == "edge":
            y = np.pad(x, widths, mode="edge")
        else:
            y = np.pad(x, widths, mode="wrap")
        return (contiguous(y, x.dtype),)


class _BlockOp(Op):
    attributes = frozenset({"blocksize", "mode"})

    def parse(self, attrs):
        self.b = int(attrs.get("blocksize", 0))
        if self.b < 1:
            self.fail("blocksize must be >= 1")
        self.mode = attrs.get("mode", "DCR")
        if self.mode not in ("DCR", "CRD"):
            self.fail(f"mode must be DCR or CRD, got {self.mode}")


@register_op("DepthToSpace")
class DepthToSpace(_BlockOp):
    def infer(self, inputs):
        x = inputs[0]
        if len(x.shape) != 4 or x.shape[1] % (self.b * self.b):
            self.fail(f"input {list(x.shape)} must be 4-D with channels divisible by blocksize^2")
        n, c, h, w = x.shape
        return [TensorInfo(x.dtype, (n, c // (self.b * self.b), h * self.b, w * self.b))]

    def blockable(self, inputs, ctx):
        """NCHWc (fastconv/plan/layout.py) in DCR mode when the output's channels fill whole blocks: output
        block j at (y*b + i, x*b + k) is then input block (i*b + k) * C'/c + j at (y, x), a vector copy. (CRD
        interleaves the b*b sources of a block lane by lane: it stays NCHW.)"""
        c_out = inputs[0].shape[1] // (self.b * self.b)
        return self.mode == "DCR" and inputs[0].dtype == np.float32 and c_out % ctx.platform.simd_width == 0

    def lower(self, inputs, outputs, ctx):
        if not self.layout:
            return self.run
        b = self.b

        @accepts_out
        def run(xb, out=None):
            n, cb, h, w, c = xb.shape
            y = output(out, (n, cb // (b * b), h * b, w * b, c))
            np.copyto(y.reshape(n, cb // (b * b), h, b, w, b, c),
                      xb.reshape(n, b, b, cb // (b * b), h, w, c).transpose(0, 3, 4, 1, 5, 2, 6))
            return (y,)

        return run

    def run(self, x):
        n, c, h, w = x.shape
        b = self.b
        if self.mode == "DCR":
            y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return (np.ascontiguousarray(y.reshape(n, c // (b * b), h * b, w * b)),)


@register_op("SpaceToDepth", until=28)
class SpaceToDepth(_BlockOp):
    """The inverse of DepthToSpace; SpaceToDepth-28 adds mode (DCR, the earlier behaviour, or CRD)."""

    def infer(self, inputs):
        x = inputs[0]
        if len(x.shape) != 4 or x.shape[2] % self.b or x.shape[3] % self.b:
            self.fail(f"input {list(x.shape)} must be 4-D with H and W divisible by blocksize")
        n, c, h, w = x.shape
        return [TensorInfo(x.dtype, (n, c * self.b * self.b, h // self.b, w // self.b))]

    def run(self, x):
        n, c, h, w = x.shape
        b = self.b
        y = x.reshape(n, c, h // b, b, w // b, b)
        y = y.transpose(0, 3, 5, 1, 2, 4) if self.mode == "DCR" else y.transpose(0, 1, 3, 5, 2, 4)
        return (np.ascontiguousarray(y).reshape(n, c * b * b, h // b, w // b),)
