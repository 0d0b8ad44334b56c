"""Gemm and MatMul. BLAS (numpy) does the math for now; constant weights are laid out once at plan time."""
from __future__ import annotations

import numpy as np

from fastconv.graph.ir import TensorInfo
from fastconv.kernels.registry import register_kernel, select_kernel
from fastconv.ops.base import Op, contiguous
from fastconv.ops.registry import register_op

NUMERIC = "fiu"


@register_op("Gemm")
class Gemm(Op):
    """Y = alpha * A' @ B' + beta * C, A' = A^T if transA, B' = B^T if transB; C broadcasts to (M, N)."""

    attributes = frozenset({"alpha", "beta", "transA", "transB", "broadcast"})

    def parse(self, attrs):
        self.alpha = float(attrs.get("alpha", 1.0))
        self.beta = float(attrs.get("beta", 1.0))
        self.trans_a = bool(attrs.get("transA", 0))
        self.trans_b = bool(attrs.get("transB", 0))

    def infer(self, inputs):
        a, b = inputs[0], inputs[1]
        c = inputs[2] if len(inputs) > 2 else None
        if a.dtype != b.dtype or (c is not None and c.dtype != a.dtype) or a.dtype.kind not in NUMERIC:
            self.fail(f"inputs must share one numeric dtype, got {[i.dtype for i in inputs if i is not None]}")
        if len(a.shape) != 2 or len(b.shape) != 2:
            self.fail(f"A and B must be 2-D, got {list(a.shape)} and {list(b.shape)}")
        m, k = a.shape[::-1] if self.trans_a else a.shape
        k2, n = b.shape[::-1] if self.trans_b else b.shape
        if k != k2:
            self.fail(f"inner dimensions differ: A {list(a.shape)} (transA={int(self.trans_a)}), "
                      f"B {list(b.shape)} (transB={int(self.trans_b)})")
        if c is not None:
            try:
                np.broadcast_shapes(c.shape, (m, n))
                ok = len(c.shape) <= 2 and np.broadcast_shapes(c.shape, (m, n)) == (m, n)
            except ValueError:
                ok = False
            if not ok:
                self.fail(f"C of shape {list(c.shape)} does not broadcast to ({m}, {n})")
        self.mkn = (m, k, n)
        return [TensorInfo(a.dtype, (m, n))]

    def lower(self, inputs, outputs, ctx):
        self.infer(inputs)
        kernel = select_kernel("Gemm", self.mkn, ctx.platform, ctx.kernel_overrides.get("Gemm"))
        return kernel.build(self, inputs)

    def run(self, a, b, c=None):
        y = (a.T if self.trans_a else a) @ (b.T if self.trans_b else b)
        if self.alpha != 1.0:
            y = y * a.dtype.type(self.alpha)
        if c is not None and self.beta != 0.0:
            y = y + (c if self.beta == 1.0 else c * a.dtype.type(self.beta))
        return (np.ascontiguousarray(y, dtype=a.dtype),)


@register_kernel("Gemm", "gemm_blas")
def _gemm_blas_build(op: Gemm, inputs):
    """Constant B is stored as B' (contiguous, alpha folded in); constant C as beta * C broadcast to (M, N)."""
    dtype = inputs[0].dtype
    m, k, n = op.mkn
    b_val = inputs[1].value
    c_info = inputs[2] if len(inputs) > 2 else None
    bp = None
    if b_val is not None:
        bp = np.ascontiguousarray((b_val.T if op.trans_b else b_val) * dtype.type(op.alpha), dtype=dtype)
    cp = None
    if c_info is not None and c_info.value is not None and op.beta != 0.0:
        cp = np.ascontiguousarray(np.broadcast_to(c_info.value * dtype.type(op.beta), (m, n)), dtype=dtype)
    if bp is None or (c_info is not None and c_info.value is None):
        return op.run

    def run(a, *_):
        a = a.T if op.trans_a else a
        if cp is None:
            return (np.matmul(a, bp),)
        y = np.matmul(a, bp)
        y += cp
        return (y,)

    return run


def matmul_shape(sa: tuple, sb: tuple) -> tuple:
    """numpy.matmul's output shape (1-D operands promoted then squeezed); raises ValueError when invalid."""
    a = (1, *sa) if len(sa) == 1 else tuple(sa)
    b = (*sb, 1) if len(sb) == 1 else tuple(sb)
    if len(sa) == 0 or len(sb) == 0 or a[-1] != b[-2]:
        raise ValueError(f"cannot multiply shapes {list(sa)} and {list(sb)}")
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    out = (*batch, a[-2], b[-1])
    if len(sa) == 1:
        out = out[:-2] + out[-1:]
    if len(sb) == 1:
        out = out[:-1]
    return out


@register_op("MatMul")
class MatMul(Op):
    """numpy.matmul semantics: batch broadcasting, 1-D operands promoted."""

    def infer(self, inputs):
        a, b = inputs
        if a.dtype != b.dtype or a.dtype.kind not in NUMERIC:
            self.fail(f"inputs must share one numeric dtype, got {a.dtype} and {b.dtype}")
        try:
            shape = matmul_shape(a.shape, b.shape)
        except ValueError as e:
            self.fail(str(e))
        return [TensorInfo(a.dtype, shape)]

    def lower(self, inputs, outputs, ctx):
        kernel = select_kernel("MatMul", None, ctx.platform, ctx.kernel_overrides.get("MatMul"))
        return kernel.build(self, inputs)

    def run(self, a, b):
        return (contiguous(np.matmul(a, b)),)


@register_kernel("MatMul", "matmul_blas")
def _matmul_blas_build(op: MatMul, inputs):
    b_val = inputs[1].value
    if b_val is None:
        return op.run
    bp = np.ascontiguousarray(b_val)
    return lambda a, *_: (contiguous(np.matmul(a, bp)),)
