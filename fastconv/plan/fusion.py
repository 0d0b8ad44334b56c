"""Plan-time fusion into convolutions: BatchNormalization folded into the weights, then residual Add and
activations fused into the kernel's epilogue (fastconv/kernels/numba/epilogue.py).

It runs inside `build_plan`, after shape inference and constant folding and before lowering, so every shape
and constant is concrete: a residual Add is fused only when the other operand has exactly the output's shape
(no broadcasting), BatchNorm only when all its parameters are constants. A producer is fused with its consumer
only when that consumer is its only reader and its output is not a graph output. The fused node takes the
consumer's place in the order (every input of both is ready there) and its outputs; graph nodes are never
modified: fused nodes are copies with a copied op, so plans for other input shapes see the original graph.

Order inside one epilogue follows ONNX: bias, residual, activation. Per convolution, at most one
BatchNorm, then one Add, then one activation; e.g. ResNet's Conv -> BN -> Add -> Relu becomes one node.
"""
from __future__ import annotations

import copy

import numpy as np

from fastconv.graph.ir import Node, TensorInfo
from fastconv.kernels.numba.epilogue import Epilogue

CONVS = ("Conv", "ConvTranspose")
# ONNX activation ops the epilogue runs, with how to read their parameters
_SIMPLE = {"Relu", "Sigmoid", "Tanh", "HardSwish"}
_F32_MIN, _F32_MAX = float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)


def _activation(node: Node, infos) -> Epilogue | None:
    """The epilogue activation `node` computes on its first input, or None if it is not one we fuse."""
    op = node.op_type
    if node.domain not in ("", "ai.onnx") or infos[node.inputs[0]].dtype != np.float32:
        return None
    if op in _SIMPLE:
        return Epilogue(op)
    if op == "LeakyRelu":
        return Epilogue(op, node.op.alpha)
    if op == "HardSigmoid":
        return Epilogue(op, node.op.alpha, node.op.beta)
    if op == "Clip":
        bounds = []
        for k, default in ((1, _F32_MIN), (2, _F32_MAX)):
            name = node.inputs[k] if len(node.inputs) > k else ""
            if not name:
                bounds.append(default)
            elif infos[name].value is not None:
                bounds.append(float(infos[name].value))
            else:
                return None
        return Epilogue(op, *bounds)
    return None


class _Fuser:
    def __init__(self, nodes: list[Node], infos: dict[str, TensorInfo], keep: set[str]):
        self.nodes = list(nodes)
        self.infos = infos
        self.keep = keep  # graph outputs: never fused away

    def sole_consumer(self, value: str) -> Node | None:
        if value in self.keep:
            return None
        users = [n for n in self.nodes if value in n.inputs]
        return users[0] if len(users) == 1 and users[0].inputs.count(value) == 1 else None

    def replace(self, conv: Node, consumer: Node, fused: Node) -> None:
        """fused takes consumer's place; conv disappears."""
        self.nodes[self.nodes.index(consumer)] = fused
        self.nodes.remove(conv)

    def derive(self, conv: Node, consumer: Node, **changes) -> Node:
        op = copy.copy(conv.op)
        fused = Node(conv.op_type, list(changes.get("inputs", conv.inputs)), list(consumer.outputs),
                     dict(conv.attrs), conv.name, conv.domain, conv.opset, op)
        op.node = fused
        if "epilogue" in changes:
            op.epilogue = changes["epilogue"]
        fused.fused_from = (conv.fused_from or [conv]) + [consumer]
        return fused

    def fold_batchnorm(self, conv: Node, bn: Node) -> Node | None:
        infos = self.infos
        params = [infos[i].value if i else None for i in bn.inputs[1:5]]
        w = infos[conv.inputs[1]].value
        b_name = conv.inputs[2] if len(conv.inputs) > 2 else ""
        b = infos[b_name].value if b_name else None
        if any(p is None for p in params) or w is None or (b_name and b is None):
            return None
        if conv.op.epilogue.activation is not None or conv.op.epilogue.residual:
            return None
        scale, beta, mean, var = (np.asarray(p, np.float64) for p in params)
        a = scale / np.sqrt(var + bn.op.epsilon)
        m = a.shape[0]
        if conv.op_type == "Conv":  # W (M, C/g, k...): scale output channel m
            w2 = w.astype(np.float64) * a.reshape(m, *([1] * (w.ndim - 1)))
        else:  # ConvTranspose W (C, M/g, k...): output channel = g * (M/g) + j
            g = conv.op.group
            c, mg = w.shape[:2]
            w2 = (w.astype(np.float64).reshape(g, c // g, mg, -1) * a.reshape(g, 1, mg, 1)).reshape(w.shape)
        b2 = ((0.0 if b is None else b.astype(np.float64)) - mean) * a + beta
        base = bn.outputs[0]
        wn, bn_name = f"{base}::folded_W", f"{base}::folded_B"
        infos[wn] = TensorInfo(np.dtype(np.float32), tuple(w.shape), w2.astype(np.float32))
        infos[bn_name] = TensorInfo(np.dtype(np.float32), (m,), b2.astype(np.float32))
        return self.derive(conv, bn, inputs=[conv.inputs[0], wn, bn_name])

    def step(self, conv: Node) -> bool:
        """Fuse conv's sole consumer into it if possible; True when something was fused."""
        y = conv.outputs[0]
        nxt = self.sole_consumer(y)
        if nxt is None or nxt.domain not in ("", "ai.onnx"):
            return False
        ep = conv.op.epilogue
        fused = None
        if nxt.op_type == "BatchNormalization" and nxt.inputs[0] == y:
            fused = self.fold_batchnorm(conv, nxt)
        elif nxt.op_type == "Add" and not ep.residual and ep.activation is None:
            other = nxt.inputs[1] if nxt.inputs[0] == y else nxt.inputs[0]
            oi = self.infos[other]
            if other != y and oi.dtype == np.float32 and tuple(oi.shape) == tuple(self.infos[y].shape):
                inputs = list(conv.inputs) + [""] * (3 - len(conv.inputs)) + [other]
                fused = self.derive(conv, nxt, inputs=inputs, epilogue=Epilogue(residual=True))
        elif ep.activation is None and nxt.inputs[0] == y:
            act = _activation(nxt, self.infos)
            if act is not None:
                fused = self.derive(conv, nxt, epilogue=Epilogue(act.activation, act.alpha, act.beta, ep.residual))
        if fused is None:
            return False
        self.replace(conv, nxt, fused)
        return True

    def run(self) -> list[Node]:
        k = 0
        while k < len(self.nodes):
            node = self.nodes[k]
            # after a fusion the node now at k is the one after the removed conv; the fused node sits further on
            # and is examined again when the loop reaches it
            if not (node.op_type in CONVS and node.domain in ("", "ai.onnx") and self.step(node)):
                k += 1
        return self.nodes


def fuse_into_convolutions(nodes: list[Node], infos: dict[str, TensorInfo], graph_outputs: set[str]) -> list[Node]:
    """The planned node list with BatchNorm / residual Add / activations fused into Conv and ConvTranspose
    nodes (new Node objects; `node.fused_from` lists the original nodes each one replaces)."""
    return _Fuser(nodes, infos, graph_outputs).run()
