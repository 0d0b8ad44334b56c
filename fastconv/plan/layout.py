"""Layout propagation: which values of a plan live in the blocked NCHWc layout, and where reorders go.

Why: the direct convolution kernels work on NCHWc (N, ceil(C/c), H, W, c), c the SIMD width: one vector holds
c channels of one pixel. Converting every conv's input and output (NCHW -> padded NCHWc -> NCHW) costs a
memory pass each way; on ResNet-50's 1x1 layers the reorders cost more than the NCHWc core saves over the NCHW
GEMM (docs/KERNELS.md, "Layout"). So the trunk of a CNN keeps its activations blocked from the first conv to
the first op that needs NCHW (Flatten, Reshape, Gemm, ConvTranspose, ...), and reorders are inserted only
there.

The pass runs in `build_plan` after fusion, on concrete shapes, in topological order (a greedy forward
choice, no search):
- a Conv becomes blocked ("source") when an NCHWc kernel would run it anyway (direct or stem kernel: they
  reorder their input themselves, so a plain input costs nothing extra), or when its input is already blocked
  and an NCHWc kernel can run it (1x1 convs then leave the NCHW GEMM, depthwise convs the NCHW depthwise
  kernel for the NCHWc depthwise core);
- pools, global pools, ChannelAffine, Resize over H and W, DepthToSpace (DCR, whole blocks), whitelisted
  activations, Add/Sub/Mul/Max/Min (Div by constants) and channel Concat on block boundaries ("followers")
  run blocked when their main input already is (`Op.blockable` says whether the op can, for its attributes);
- every other consumer of a blocked value gets one shared `Reorder` to NCHW in front (and graph outputs too).
Padding channels (past C in the last block) hold finite values, never read as channels: convs multiply them
by zero weights, so they must not become inf/NaN — hence no blocked Log/Sqrt/Div by tensors.

Blocked values are new plan values named `<onnx name>#nchwc<c>` whose TensorInfo has the physical 5-D shape
and `channels` = C; `LayoutResult.blocked` maps each ONNX value name to its blocked twin (tools unblock it).
Node copies carry `op.layout = c`; the graph is never modified.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from fastconv.graph.ir import Node, TensorInfo
from fastconv.kernels.buffers import accepts_out, output
from fastconv.kernels.numba import layout as kl
from fastconv.ops.base import F32, Op

# Activations whose value on a finite padding lane stays finite (and cheap).
_UNARY = frozenset({"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Clip", "Elu", "Selu",
                    "Neg", "Abs", "Identity", "Softsign", "Celu", "ThresholdedRelu", "Mish", "Gelu"})
_BINARY = frozenset({"Add", "Sub", "Mul", "Max", "Min", "Div"})
_FOLLOW_OPS = frozenset({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ChannelAffine",
                         "Resize", "Upsample", "DepthToSpace"})


class Reorder(Op):
    """Plan-time op (never in an ONNX file): NCHW (N, C, H, W) <-> NCHWc (N, ceil(C/c), H, W, c)."""

    op_type = "Reorder"
    domain = "ai.fastconv"
    attributes = frozenset({"to_blocked", "width", "channels"})

    def parse(self, attrs):
        self.to_blocked = bool(attrs["to_blocked"])
        self.width = int(attrs["width"])
        self.channels = int(attrs["channels"])

    def infer(self, inputs):
        return [_blocked_info(inputs[0], self.width) if self.to_blocked else _plain_info(inputs[0])]

    def run(self, x):
        if self.to_blocked:
            return (kl.reorder_nchw_to_nchwc(x, self.width),)
        return (kl.reorder_nchwc_to_nchw(x, self.channels),)

    def lower(self, inputs, outputs, ctx):
        shape = tuple(outputs[0].shape)
        n, c = shape[0], self.channels
        to_blocked = self.to_blocked
        small = int(np.prod(shape)) < kl.PARALLEL_FLOATS
        kernel = kl.driver(kl.nchw_to_nchwc_f32, kl.nchw_to_nchwc_serial_f32, small) if to_blocked else \
            kl.driver(kl.nchwc_to_nchw_f32, kl.nchwc_to_nchw_serial_f32, small)

        @accepts_out
        def run(x, out=None):
            y = output(out, shape)
            if to_blocked:
                kernel(np.ascontiguousarray(x, np.float32).reshape(n, c, -1), y.reshape(n, shape[1], -1, shape[-1]))
            else:
                kernel(x.reshape(n, x.shape[1], -1, x.shape[-1]), y.reshape(n, c, -1))
            return (y,)

        return run


def _blocked_info(info: TensorInfo, width: int) -> TensorInfo:
    n, c, *sp = info.shape
    return TensorInfo(info.dtype, (n, -(-c // width), *sp, width), channels=c)


def _plain_info(info: TensorInfo) -> TensorInfo:
    return TensorInfo(info.dtype, info.logical_shape)


def block_constant(value: np.ndarray, out_shape: tuple, width: int) -> np.ndarray:
    """A constant operand of an elementwise op on a (N, C, H, W) output, in the blocked form that numpy
    broadcasts against (N, ceil(C/c), H, W, c): channels broadcast to C, padding channels 1.0 (finite under
    every whitelisted op, Div included)."""
    k = np.asarray(value)
    k = k.reshape((1,) * (4 - k.ndim) + k.shape)
    c = out_shape[1]
    k = np.broadcast_to(k, (k.shape[0], c, k.shape[2], k.shape[3]))
    cb = -(-c // width)
    padded = np.ones((k.shape[0], cb * width, k.shape[2], k.shape[3]), k.dtype)
    padded[:, :c] = k
    return np.ascontiguousarray(padded.reshape(k.shape[0], cb, width, k.shape[2], k.shape[3])
                                .transpose(0, 1, 3, 4, 2))


def unblock(array: np.ndarray, channels: int) -> np.ndarray:
    """A blocked (N, Cb, H, W, c) array as the NCHW array it stands for."""
    return kl.reorder_nchwc_to_nchw(array, channels)


@dataclass
class LayoutResult:
    nodes: list[Node]
    blocked: dict[str, str] = field(default_factory=dict)   # ONNX value name -> its blocked twin's name
    reorders: int = 0


class _Propagation:
    def __init__(self, infos: dict[str, TensorInfo], ctx):
        self.infos = infos
        self.ctx = ctx
        self.width = ctx.platform.simd_width
        self.twin: dict[str, str] = {}      # value -> its blocked twin
        self.unplain: set[str] = set()      # values that so far exist only blocked
        self.out: list[Node] = []
        self.reorders = 0
        self.constants = 0

    # -- values --------------------------------------------------------------------------------------------
    def is_blocked(self, v: str) -> bool:
        return v in self.twin

    def logical(self, v: str) -> TensorInfo:
        return self.infos[v]

    def _reorder(self, src: str, dst: str, to_blocked: bool, channels: int) -> None:
        attrs = {"to_blocked": to_blocked, "width": self.width, "channels": channels}
        node = Node("Reorder", [src], [dst], attrs, name=f"reorder_{'to' if to_blocked else 'from'}_nchwc:{src}",
                    domain="ai.fastconv")
        node.op = Reorder(node)
        self.infos[dst] = node.op.infer([self.infos[src]])[0]
        self.out.append(node)
        self.reorders += 1

    def blocked_name(self, v: str) -> str:
        """v's blocked twin, reordering v into one if it has none yet."""
        if v not in self.twin:
            twin = f"{v}#nchwc{self.width}"
            self._reorder(v, twin, True, self.infos[v].shape[1])
            self.twin[v] = twin
        return self.twin[v]

    def make_plain(self, v: str) -> None:
        if v in self.unplain:
            self._reorder(self.twin[v], v, False, self.infos[v].shape[1])
            self.unplain.discard(v)

    def constant(self, v: str, out_shape: tuple) -> str:
        name = f"{v}#nchwc{self.width}:{self.constants}"
        self.constants += 1
        value = block_constant(self.infos[v].value, out_shape, self.width)
        self.infos[name] = TensorInfo(value.dtype, value.shape, value)
        return name

    # -- nodes ---------------------------------------------------------------------------------------------
    def emit_blocked(self, node: Node, inputs: list[str]) -> None:
        op = copy.copy(node.op)
        op.layout = self.width
        if node.op_type == "Concat":
            op.axis_attr = 1   # blocked tensors are 5-D: a negative channel axis would now name another
        outs = []
        for o in node.outputs:
            twin = f"{o}#nchwc{self.width}"
            self.infos[twin] = _blocked_info(self.infos[o], self.width)
            self.twin[o] = twin
            self.unplain.add(o)
            outs.append(twin)
        blocked = Node(node.op_type, inputs, outs, node.attrs, node.name, node.domain, node.opset, op,
                       node.fused_from or [node])
        self.out.append(blocked)

    def emit_plain(self, node: Node) -> None:
        for v in node.inputs:
            if v:
                self.make_plain(v)
        self.out.append(node)

    def plan(self, node: Node) -> list[str] | None:
        """The inputs of `node` run blocked, or None to run it on NCHW."""
        if node.op is None or any(o and self.infos[o].dtype != F32 for o in node.outputs):
            return None
        t = node.op_type
        ins = node.inputs
        if t in ("Conv",) and node.domain in ("", "ai.onnx"):
            return self._conv(node)
        if not ins or not ins[0] or not self.is_blocked(ins[0]):
            if t in _BINARY and node.domain in ("", "ai.onnx"):
                return self._binary(node)
            if t == "Concat":
                return self._concat(node)
            return None
        x = self.infos[ins[0]]
        if len(x.shape) != 4:
            return None
        if t in _FOLLOW_OPS:
            return [self.twin[ins[0]], *ins[1:]] if node.op.blockable(
                [self.infos[i] if i else None for i in ins], self.ctx) else None
        if node.domain not in ("", "ai.onnx"):
            return None
        if t in _UNARY or t == "Dropout" and (len(node.outputs) == 1 or not node.outputs[1]):
            rest = ins[1:]
            if all(not v or (self.infos[v].value is not None and self.infos[v].value.size == 1) for v in rest):
                return [self.twin[ins[0]], *rest]
            return None
        if t in _BINARY:
            return self._binary(node)
        if t == "Concat":
            return self._concat(node)
        return None

    def _conv(self, node: Node) -> list[str] | None:
        ins = node.inputs
        in_infos = [self.infos[i] if i else None for i in ins]
        if any(i is not None and i.value is None for i in in_infos[1:3]):
            return None
        kind = node.op.block_kernel(in_infos[:3], self.ctx)
        if kind is None:
            return None
        x = ins[0]
        if kind == "stem":
            self.make_plain(x)
            new = [x]
        elif self.is_blocked(x):
            new = [self.twin[x]]
        elif kind == "direct":
            new = [x]       # the direct kernel pads and reorders a plain input in one pass
        else:               # "gemm" / "depthwise": the NCHWc kernel only for an input that is blocked already
            return None
        new += ins[1:3]
        if len(ins) > 3:    # fused residual: blocked if it is, else the kernel reorders it
            r = ins[3]
            new.append(self.twin[r] if self.is_blocked(r) else r)
        return new

    def _binary(self, node: Node) -> list[str] | None:
        out = self.infos[node.outputs[0]]
        if len(out.shape) != 4 or node.op_type == "Div" and self.infos[node.inputs[1]].value is None:
            return None
        # run blocked only when an operand of the output's full shape already is
        if not any(self.is_blocked(v) and self.infos[v].shape == out.shape for v in node.inputs):
            return None
        new = []
        for v in node.inputs:
            info = self.infos[v]
            if self.is_blocked(v):
                new.append(self.twin[v])
            elif info.value is not None:
                new.append(v if info.value.size == 1 else self.constant(v, out.shape))
            elif len(info.shape) == 4 and info.shape[1] == out.shape[1]:
                new.append(self.blocked_name(v))
            else:
                return None
        return new

    def _concat(self, node: Node) -> list[str] | None:
        out = self.infos[node.outputs[0]]
        ins = node.inputs
        if len(out.shape) != 4 or node.op.axis_attr % 4 != 1 or not any(self.is_blocked(v) for v in ins):
            return None
        # channel blocks line up only if every input but the last fills whole blocks
        if any(self.infos[v].shape[1] % self.width for v in ins[:-1]) or any(self.infos[v].value is not None
                                                                              for v in ins):
            return None
        return [self.blocked_name(v) for v in ins]


def propagate_layouts(nodes: list[Node], infos: dict[str, TensorInfo], graph_outputs: list[str], ctx
                      ) -> LayoutResult:
    """Choose the layout of every value (see the module docstring); `infos` gains the blocked values."""
    p = _Propagation(infos, ctx)
    for node in nodes:
        inputs = p.plan(node)
        if inputs is None:
            p.emit_plain(node)
        else:
            p.emit_blocked(node, inputs)
    for v in graph_outputs:
        p.make_plain(v)
    return LayoutResult(p.out, dict(p.twin), p.reorders)
