"""Elementwise ops with ONNX (numpy-style) broadcasting: activations, arithmetic, comparisons."""
from __future__ import annotations

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.ops.base import Op, same_as_input
from fastconv.ops.registry import register_op


class Unary(Op):
    """y = f(x), same shape and dtype."""

    def infer(self, inputs):
        return same_as_input(inputs)

    def run(self, x):
        return (self.f(x),)

    def f(self, x):
        raise NotImplementedError


class Binary(Op):
    """y = f(a, b) with multidirectional broadcasting; dtype of the inputs (which must agree)."""

    def infer(self, inputs):
        a, b = inputs
        if a.dtype != b.dtype:
            self.fail(f"input dtypes differ: {a.dtype} and {b.dtype}")
        return [TensorInfo(self.out_dtype(a.dtype), tuple(np.broadcast_shapes(a.shape, b.shape)))]

    def out_dtype(self, dtype):
        return dtype

    def run(self, a, b):
        return (np.asarray(self.f(a, b), dtype=self.out_dtype(a.dtype)),)

    def f(self, a, b):
        raise NotImplementedError


@register_op("Relu")
class Relu(Unary):
    def f(self, x):
        return np.maximum(x, x.dtype.type(0))


@register_op("Add")
class Add(Binary):
    def f(self, a, b):
        return a + b
