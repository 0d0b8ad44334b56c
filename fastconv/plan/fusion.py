"""Plan-time fusion into convolutions: BatchNormalization, and Mul / Add by per-channel constants (BatchNorm as
some exporters decompose it), folded into the weights; then a residual Add (or 2-input Sum) and an activation
fused into the kernel's epilogue (fastconv/kernels/numba/epilogue.py), including activations written out in
several nodes (SiLU as y * sigmoid(y), HardSwish as y * HardSigmoid(y) or y * clip(y + 3, 0, 6) / 6).

It runs inside `build_plan`, after shape inference and constant folding and before lowering, so every shape
and constant is concrete: a residual Add is fused only when the other operand has exactly the output's shape
(no broadcasting), BatchNorm only when all its parameters are constants. A producer is fused with its consumer
only when that consumer is its only reader and its output is not a graph output. The fused node takes the
consumer's place in the order (every input of both is ready there) and its outputs; graph nodes are never
modified: fused nodes are copies with a copied op, so plans for other input shapes see the original graph.

Order inside one epilogue follows ONNX: bias, residual, activation. Folding happens only while the epilogue is
still the identity; then at most one residual Add, then one activation; e.g. ResNet's Conv -> BN -> Add -> Relu
and Inception's Conv -> Mul -> Add -> Relu each become one node.
"""
from __future__ import annotations

import copy

import numpy as np

from fastconv.graph.ir import Node, TensorInfo
from fastconv.kernels.numba.epilogue import Epilogue

CONVS = ("Conv", "ConvTranspose")
# ONNX activation ops the epilogue runs, with how to read their parameters
_SIMPLE = {"Relu", "Sigmoid", "Tanh", "HardSwish", "Mish"}
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
    if op == "PRelu":  # one slope for every element: LeakyRelu
        slope = infos[node.inputs[1]]
        if slope.value is None or slope.value.size != 1 or slope.dtype != np.float32:
            return None
        return Epilogue("LeakyRelu", float(slope.value.reshape(-1)[0]))
    if op == "HardSigmoid":
        return Epilogue(op, node.op.alpha, node.op.beta)
    if op == "Clip":
        bounds = []
        for k, default in ((1, _F32_MIN), (2, _F32_MAX)):
            name = node.inputs[k] if len(node.inputs) > k else ""
            if not name:
                bounds.append(default)
            elif infos[name].value is not None:
                bounds.append(float(np.asarray(infos[name].value).reshape(-1)[0]))
            else:
                return None
        return Epilogue(op, *bounds)
    return None


def _per_channel(v: np.ndarray, shape: tuple) -> np.ndarray | None:
    """v as a float64 (C,) vector when it broadcasts (numpy rules) along axis 1 of `shape` only, else None."""
    if v.ndim > len(shape) or len(shape) < 2:
        return None
    k = v.reshape((1,) * (len(shape) - v.ndim) + v.shape)
    m = shape[1]
    if k.shape[0] != 1 or k.shape[1] not in (1, m) or any(d != 1 for d in k.shape[2:]):
        return None
    return np.broadcast_to(k.reshape(-1).astype(np.float64), (m,))


def _channel_vector(infos, value: str, y: str) -> np.ndarray | None:
    """The constant `value` as a float64 (C,) vector when it broadcasts along the channel axis (1) of value `y`
    only, else None."""
    info = infos[value]
    if info.value is None or info.dtype != np.float32:
        return None
    return _per_channel(np.asarray(info.value), tuple(infos[y].shape))


def _prelu_slope(node: Node, infos) -> np.ndarray | None:
    """PRelu's constant slope as a float64 (C,) vector when it varies along the channel axis only (in numpy's
    broadcasting or the legacy 1-D per-channel form), else None."""
    x, slope = infos[node.inputs[0]], infos[node.inputs[1]]
    if slope.value is None or slope.dtype != np.float32 or x.dtype != np.float32:
        return None
    view = node.op.slope_shape(tuple(x.shape), tuple(slope.shape))
    return _per_channel(np.asarray(slope.value).reshape(view), tuple(x.shape))


def _batchnorm_affine(bn: Node, infos) -> tuple[np.ndarray, np.ndarray] | None:
    """BatchNormalization as x * a + b per channel, float64 (C,) vectors, when its parameters are constant."""
    params = [infos[i].value if i else None for i in bn.inputs[1:5]]
    if any(p is None for p in params):
        return None
    a, b = bn.op.affine(*(np.asarray(p).reshape(-1) for p in params), np.float64, 2)
    return a.reshape(-1), b.reshape(-1)


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

    def replace(self, conv: Node, consumer: Node, fused: Node, absorbed=()) -> None:
        """fused takes consumer's place; conv and the absorbed nodes disappear."""
        self.nodes[self.nodes.index(consumer)] = fused
        for n in (conv, *absorbed):
            self.nodes.remove(n)

    def scalar(self, value: str) -> float | None:
        v = self.infos[value].value if value else None
        return float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None

    def consumer_op(self, value: str, op_type: str) -> Node | None:
        """The sole reader of value when it is an ONNX `op_type` node, else None."""
        node = self.sole_consumer(value)
        return node if node is not None and node.op_type == op_type and node.domain in ("", "ai.onnx") else None

    def mish_tail(self, start: Node) -> tuple[list[Node], str] | None:
        """softplus(y) as exporters write it, from its first node: Softplus, or Exp -> Add 1 -> Log; returns its
        nodes and tanh(softplus(y))'s value when a Tanh follows."""
        nodes = [start]
        if start.op_type == "Exp":
            add = self.consumer_op(start.outputs[0], "Add")
            if add is None or len(add.inputs) != 2 or self.scalar(
                    add.inputs[1] if add.inputs[0] == start.outputs[0] else add.inputs[0]) != 1.0:
                return None
            log = self.consumer_op(add.outputs[0], "Log")
            if log is None:
                return None
            nodes += [add, log]
        tanh = self.consumer_op(nodes[-1].outputs[0], "Tanh")
        return None if tanh is None else (nodes + [tanh], tanh.outputs[0])

    def decomposed_activation(self, y: str):
        """Activations exporters write out in several nodes around a value y, which they read twice:
        y * sigmoid(y) (SiLU), y * HardSigmoid(y) with alpha 1/6, beta 1/2, y * clip(y + 3, 0, 6) / 6
        (HardSwish), y * tanh(softplus(y)) with softplus as Softplus or log(exp(y) + 1) (Mish). Returns
        (activation, absorbed nodes, last node) or None."""
        if y in self.keep:
            return None
        users = [n for n in self.nodes if y in n.inputs]
        if len(users) != 2 or any(u.domain not in ("", "ai.onnx") for u in users):
            return None

        def is_mul_of(node, a, b):
            return node is not None and node.op_type == "Mul" and sorted(node.inputs) == sorted([a, b])

        for u, other in ((users[0], users[1]), (users[1], users[0])):
            if u.inputs[0] != y:
                continue
            if u.op_type == "Sigmoid" or (u.op_type == "HardSigmoid" and abs(u.op.alpha - 1 / 6) < 1e-6
                                          and abs(u.op.beta - 0.5) < 1e-6):
                if is_mul_of(other, y, u.outputs[0]) and self.sole_consumer(u.outputs[0]) is other:
                    return ("Silu" if u.op_type == "Sigmoid" else "HardSwish"), [u], other
            if u.op_type in ("Softplus", "Exp"):
                tail = self.mish_tail(u)
                if tail is not None and is_mul_of(other, y, tail[1]) and self.sole_consumer(tail[1]) is other:
                    return "Mish", tail[0], other
            if u.op_type == "Add" and self.scalar(u.inputs[1]) == 3.0:
                clip = self.sole_consumer(u.outputs[0])
                act = _activation(clip, self.infos) if clip is not None and clip.op_type == "Clip" else None
                if act is None or (act.alpha, act.beta) != (0.0, 6.0) or other is not self.sole_consumer(
                        clip.outputs[0]) or not is_mul_of(other, y, clip.outputs[0]):
                    continue
                last = self.sole_consumer(other.outputs[0])
                if last is None or last.inputs[0] != other.outputs[0]:
                    continue
                k = self.scalar(last.inputs[1]) if len(last.inputs) == 2 else None
                if (last.op_type == "Div" and k == 6.0) or (last.op_type == "Mul" and k is not None
                                                            and abs(k - 1 / 6) < 1e-7):
                    return "HardSwish", [u, clip, other], last
        return None

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
        """y * a + (beta - mean * a) with a = scale / sqrt(var + eps), when all four parameters are constant."""
        ab = _batchnorm_affine(bn, self.infos)
        return None if ab is None else self.fold_affine(conv, bn, *ab)

    def channel_vector(self, value: str, conv: Node) -> np.ndarray | None:
        """A constant operand broadcasting along the conv output's channel axis only, as a float64 (M,) vector."""
        return _channel_vector(self.infos, value, conv.outputs[0])

    def fold_affine(self, conv: Node, node: Node, scale: np.ndarray | None, shift: np.ndarray | None) -> Node | None:
        """conv followed by y * scale or y + shift (per output channel): folded into W and B."""
        infos = self.infos
        w = infos[conv.inputs[1]].value
        b_name = conv.inputs[2] if len(conv.inputs) > 2 else ""
        b = infos[b_name].value if b_name else None
        if w is None or (b_name and b is None):
            return None
        m = infos[conv.outputs[0]].shape[1]
        b64 = np.zeros(m) if b is None else b.astype(np.float64)
        w64 = w.astype(np.float64)
        if scale is not None:
            w64 = self.scale_weights(conv, w64, scale)
            b64 = b64 * scale
        if shift is not None:
            b64 = b64 + shift
        return self.with_weights(conv, node, w64, b64)

    @staticmethod
    def scale_weights(conv: Node, w: np.ndarray, a: np.ndarray) -> np.ndarray:
        """W scaled per output channel: Conv W (M, C/g, k...); ConvTranspose W (C, M/g, k...)."""
        m = a.shape[0]
        if conv.op_type == "Conv":
            return w * a.reshape(m, *([1] * (w.ndim - 1)))
        g = conv.op.group
        c, mg = w.shape[:2]
        return (w.reshape(g, c // g, mg, -1) * a.reshape(g, 1, mg, 1)).reshape(w.shape)

    def with_weights(self, conv: Node, consumer: Node, w: np.ndarray, b: np.ndarray) -> Node:
        base = consumer.outputs[0]
        wn, bn = f"{base}::folded_W", f"{base}::folded_B"
        self.infos[wn] = TensorInfo(np.dtype(np.float32), tuple(w.shape), w.astype(np.float32))
        self.infos[bn] = TensorInfo(np.dtype(np.float32), (b.shape[0],), b.astype(np.float32))
        return self.derive(conv, consumer, inputs=[conv.inputs[0], wn, bn])

    def step(self, conv: Node) -> bool:
        """Fuse conv's sole consumer into it if possible; True when something was fused."""
        y = conv.outputs[0]
        nxt = self.sole_consumer(y)
        if nxt is None:
            return self.step_decomposed(conv)
        if nxt.domain not in ("", "ai.onnx"):
            return False
        ep = conv.op.epilogue
        fused = None
        if nxt.op_type == "BatchNormalization" and nxt.inputs[0] == y and ep.is_identity:
            fused = self.fold_batchnorm(conv, nxt)
        elif nxt.op_type in ("Mul", "Add", "Sum") and len(nxt.inputs) == 2 and ep.is_identity:
            other = nxt.inputs[1] if nxt.inputs[0] == y else nxt.inputs[0]
            oi = self.infos[other]
            vec = self.channel_vector(other, conv) if other != y else None
            if vec is not None:  # a per-channel constant: folded into the weights
                fused = self.fold_affine(conv, nxt, vec if nxt.op_type == "Mul" else None,
                                         None if nxt.op_type == "Mul" else vec)
            elif nxt.op_type != "Mul" and other != y and oi.dtype == np.float32 and \
                    tuple(oi.shape) == tuple(self.infos[y].shape):
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

    def step_decomposed(self, conv: Node) -> bool:
        ep = conv.op.epilogue
        found = self.decomposed_activation(conv.outputs[0]) if ep.activation is None else None
        if found is None:
            return False
        act, absorbed, last = found
        fused = self.derive(conv, last, epilogue=Epilogue(act, residual=ep.residual))
        fused.fused_from = fused.fused_from[:-1] + absorbed + [last]
        self.replace(conv, last, fused, absorbed)
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


def _affine_step(node: Node, x: str, infos) -> tuple[np.ndarray, np.ndarray] | None:
    """(scale, shift), float64 (C,), when `node` computes x * scale + shift per channel of value x with an
    output of x's shape: BatchNormalization with constant parameters, Mul / Add by a per-channel constant (either
    side), Sub / Div by one (x on the left)."""
    if node.domain not in ("", "ai.onnx") or infos[x].dtype != np.float32 or len(infos[x].shape) < 2 or \
            tuple(infos[node.outputs[0]].shape) != tuple(infos[x].shape):
        return None
    c = infos[x].shape[1]
    if node.op_type == "BatchNormalization" and node.inputs[0] == x:
        return _batchnorm_affine(node, infos)
    if node.op_type not in ("Mul", "Add", "Sub", "Div") or len(node.inputs) != 2 or node.inputs.count(x) != 1:
        return None
    other = node.inputs[1] if node.inputs[0] == x else node.inputs[0]
    if node.op_type in ("Sub", "Div") and node.inputs[0] != x:
        return None
    vec = _channel_vector(infos, other, x)
    if vec is None:
        return None
    ones, zeros = np.ones(c), np.zeros(c)
    return {"Mul": (vec, zeros), "Add": (ones, vec), "Sub": (ones, -vec), "Div": (1.0 / vec, zeros)}[node.op_type]


_LONE = ("PRelu", "Mish")  # activations numpy runs in several passes: worth a ChannelAffine pass on their own
_DECOMPOSED_STARTS = ("Sigmoid", "HardSigmoid", "Add", "Softplus", "Exp")  # first nodes of decomposed_activation


def _channel_activation(node: Node, x: str, infos) -> tuple[Epilogue | None, np.ndarray | None] | None:
    """What a ChannelAffine applies for an activation node reading x: (epilogue activation, None), or (None,
    per-channel slope) for PRelu; None when node is neither."""
    if node.inputs[0] != x or node.domain not in ("", "ai.onnx"):
        return None
    act = _activation(node, infos)
    if act is not None:
        return act, None
    slope = _prelu_slope(node, infos) if node.op_type == "PRelu" else None
    return None if slope is None else (None, slope)


def _spatial(infos, x: str) -> bool:
    """x is float32 (N, C, spatial...) with at least one vector per channel plane: ChannelAffine's layout."""
    shape = infos[x].shape
    return infos[x].dtype == np.float32 and len(shape) >= 3 and int(np.prod(shape[2:])) >= 16


def fuse_channel_affine(nodes: list[Node], infos: dict[str, TensorInfo], graph_outputs: set[str]) -> list[Node]:
    """Chains of per-channel affine ops (`_affine_step`) and an optional activation that the conv fusion left
    (pre-activation blocks: DenseNet's BN -> Mul -> Add -> Relu) become one ChannelAffine node: one pass over
    the tensor instead of one or two per op. The activation may be PRelu with a per-channel slope (a slope per
    plane, applied in the same pass) or one written out in several nodes (SiLU, HardSwish, Mish). PRelu and Mish
    on their own, and decomposed activations of any other value, become a ChannelAffine with scale 1 and
    shift 0 (PRelu after a conv lands here when its slope is per channel: the conv kernels take one slope). A
    lone Mul / Add stays as it is (numpy does it in one pass)."""
    from fastconv.ops.normalization import ChannelAffine

    fz = _Fuser(nodes, infos, graph_outputs)
    k = 0
    while k < len(fz.nodes):
        node = fz.nodes[k]
        x = next((i for i in node.inputs[:2] if i and infos[i].value is None), None)
        step = _affine_step(node, x, infos) if x else None
        chain, act = [], None  # act: (epilogue activation, PRelu slope, its nodes)
        if x and node.op_type in _DECOMPOSED_STARTS and node.inputs[0] == x and _spatial(infos, x) and \
                (dec := fz.decomposed_activation(x)):
            act = (Epilogue(dec[0]), None, dec[1] + [dec[2]])
        elif step is not None:
            chain, (a, b), cur = [node], step, node.outputs[0]
            while (nxt := fz.sole_consumer(cur)) is not None and (more := _affine_step(nxt, cur, infos)):
                a, b = a * more[0], b * more[0] + more[1]
                chain.append(nxt)
                cur = nxt.outputs[0]
            if nxt is not None and (found := _channel_activation(nxt, cur, infos)):
                act = (*found, [nxt])
            elif nxt is None and (dec := fz.decomposed_activation(cur)):
                act = (Epilogue(dec[0]), None, dec[1] + [dec[2]])
        elif x and node.op_type in _LONE and _spatial(infos, x) and (found := _channel_activation(node, x, infos)):
            act = (*found, [node])
        fused_nodes = chain + (act[2] if act else [])
        if not fused_nodes or (len(fused_nodes) == 1 and fused_nodes[0].op_type in ("Mul", "Add", "Sub", "Div")):
            k += 1
            continue
        if not chain:
            c = infos[x].shape[1]
            a, b = np.ones(c), np.zeros(c)
        last = fused_nodes[-1]
        attrs = {"scale": a.astype(np.float32), "shift": b.astype(np.float32), "epilogue": act[0] if act else None,
                 "slope": act[1].astype(np.float32) if act and act[1] is not None else None}
        fused = Node("ChannelAffine", [x], list(last.outputs), attrs, fused_nodes[0].name, "ai.fastconv",
                     fused_nodes[0].opset, fused_from=list(fused_nodes))
        fused.op = ChannelAffine(fused)
        fz.nodes[fz.nodes.index(last)] = fused
        for n in fused_nodes[:-1]:
            fz.nodes.remove(n)
        # node k is now the next one (or the ChannelAffine, when it replaced a lone node: it matches nothing)
    return fz.nodes


def fuse_into_gemm(nodes: list[Node], infos: dict[str, TensorInfo], graph_outputs: set[str]) -> list[Node]:
    """A Gemm whose A is a Flatten / Reshape to 2-D (that Gemm its only reader) reads the tensor before it
    directly (every planned value is C-contiguous, so the reshape is free: `Gemm.a_2d` records the 2-D shape);
    an activation that is the Gemm output's only reader runs in the Gemm kernel's epilogue. LeNet's
    Flatten -> Gemm -> Relu is one step instead of three."""
    fz = _Fuser(nodes, infos, graph_outputs)
    for gemm in [n for n in fz.nodes if n.op_type == "Gemm" and n.domain in ("", "ai.onnx")]:
        src = next((n for n in fz.nodes if gemm.inputs[0] in n.outputs), None)
        if src is not None and src.op_type in ("Flatten", "Reshape") and src.domain in ("", "ai.onnx") and \
                fz.sole_consumer(src.outputs[0]) is gemm:
            fused = fz.derive(gemm, gemm, inputs=[src.inputs[0], *gemm.inputs[1:]])
            fused.op.a_2d = tuple(infos[src.outputs[0]].shape)
            fused.fused_from = [src, gemm]
            fz.replace(src, gemm, fused)
            gemm = fused
        y = gemm.outputs[0]
        nxt = fz.sole_consumer(y)
        act = _activation(nxt, infos) if nxt is not None and nxt.inputs[0] == y else None
        if act is not None:
            fz.replace(gemm, nxt, fz.derive(gemm, nxt, epilogue=act))
    return fz.nodes
