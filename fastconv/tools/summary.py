"""A model's summary, node by node: output shape, window geometry, parameters, MACs, receptive field.

Shapes and window geometry come from fastconv's own planning (the plan's inferred infos and each op's
`config`, i.e. ops/_geometry.py), never from a second copy of the shape rules.

Parameters: float constants that are an op's weights (Conv/ConvTranspose W and B, Gemm/MatMul constant
operands, BatchNormalization's four vectors, InstanceNormalization, PRelu) and float constants of more than one
element that elementwise ops combine with the data (per-channel Mul/Add); scalars of elementwise ops, shape
tensors and Resize scales are not parameters. Each constant counts once, at the first node reading it; nodes
folded at plan time (whose inputs are all constant, such as a Reshape of a weight) count nothing, their
consumer counts the result.

MACs (multiply-accumulates): Conv = weights without bias x output positions x batch; ConvTranspose = weights
x input positions x batch; Gemm / MatMul = M x N x K per matrix. Other ops count 0.

Receptive field (r) and jump (j, the distance in input pixels between neighbouring outputs) per spatial axis,
relative to the model input (r = j = 1 there): a window op with kernel k, stride s, dilation d gives
r' = r + (d(k - 1) + 1 - 1) j and j' = j s. ConvTranspose divides j by s and widens r by the span of the taps
that reach one output pixel. Resize divides j by its scale and widens r by its interpolation taps (nearest 0,
linear 1, cubic 3 input pixels). Ops combining several inputs (Concat, Add, ...) take the maximum over their
inputs. Global pooling, Gemm, MatMul, Flatten and reductions over spatial axes are "global", and so is what
reads only such values; a value combining a global one with a spatial one (a squeeze-excitation gate x *
sigmoid(fc(pool(x))), an image-pooling branch) keeps the spatial receptive field, marked "+global". Ops that
keep the trailing spatial dimensions (activations, channel shuffles, Pad, Slice) keep r and j; other changes of
spatial size are unknown ("?").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from fastconv.tools._format import dims, human_bytes, shorten, si, table
from fastconv.tools.intermediates import node_name, step_nodes

GLOBAL = "global"
UNKNOWN = "?"
WINDOW_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")
GLOBAL_OPS = ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "Gemm", "MatMul", "Flatten")
WEIGHT_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (0, 1, 2), "MatMul": (0, 1),
                 "BatchNormalization": (1, 2, 3, 4), "InstanceNormalization": (1, 2), "PRelu": (1,)}
ELEMENTWISE = ("Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Where", "Concat")
# Resize: input pixels one output pixel reads beyond the nearest one, per axis
RESIZE_TAPS = {"nearest": 0, "linear": 1, "cubic": 3}


@dataclass
class NodeSummary:
    index: int                 # position in the ONNX graph (topological order)
    name: str
    op_type: str
    output: str                # first output's name
    shape: tuple | None        # first output's shape
    window: dict | None        # kernel, strides, pads (begin..., end...), dilations, group of window ops
    params: int
    macs: int
    receptive_field: tuple | str | None   # per spatial axis, GLOBAL, UNKNOWN, or None (no spatial axes)
    jump: tuple | None
    runs_as: str               # "step K", "fused into step K", "folded" (constant at plan time)
    step: int | None
    global_context: bool = False   # besides its receptive field it reads a global summary (e.g. an SE gate)

    def to_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "op_type": self.op_type, "output": self.output,
                "shape": None if self.shape is None else list(self.shape), "window": self.window,
                "params": self.params, "macs": self.macs,
                "receptive_field": list(self.receptive_field) if isinstance(self.receptive_field, tuple)
                else self.receptive_field,
                "jump": None if self.jump is None else list(self.jump), "global_context": self.global_context,
                "runs_as": self.runs_as, "step": self.step}


@dataclass
class Summary:
    label: str
    inputs: dict[str, tuple]
    nodes: list[NodeSummary]
    params: int
    macs: int
    weight_bytes: int
    largest_activation: tuple    # (value name, shape, bytes)
    steps: int                   # plan steps fastconv runs
    step_macs: list[int] = field(default_factory=list)   # MACs per plan step (fused nodes summed)

    def format(self, show_folded: bool = False) -> str:
        rows = [("#", "node", "op", "output shape", "window", "params", "MACs", "receptive field", "jump",
                 "fastconv")]
        hidden = 0
        for n in self.nodes:
            if n.runs_as == "folded" and not show_folded:
                hidden += 1
                continue
            rows.append((str(n.index), shorten(n.name, 36), n.op_type, dims(n.shape), _window_text(n.window),
                         f"{n.params:,}" if n.params else "", si(n.macs) if n.macs else "",
                         _rf_text(n.receptive_field, n.global_context), _jump_text(n.receptive_field, n.jump),
                         n.runs_as))
        lines = [f"model: {self.label}",
                 "inputs: " + ", ".join(f"{k} [{dims(v)}]" for k, v in self.inputs.items())]
        lines += table(rows, right={0, 5, 6})
        if hidden:
            lines.append(f"({hidden} nodes folded into constants at plan time not shown; --all lists them)")
        name, shape, nbytes = self.largest_activation
        lines += [f"parameters: {self.params:,} ({human_bytes(self.weight_bytes)})",
                  f"MACs: {self.macs:,} ({si(self.macs)}MAC, {si(2 * self.macs)}FLOP)",
                  f"largest activation: {name} [{dims(shape)}] ({human_bytes(nbytes)})",
                  f"nodes: {len(self.nodes)} in the ONNX graph, {self.steps} steps in fastconv's plan"]
        return "\n".join(lines)

    __str__ = format

    def to_dict(self) -> dict:
        name, shape, nbytes = self.largest_activation
        return {"model": self.label, "inputs": {k: list(v) for k, v in self.inputs.items()},
                "nodes": [n.to_dict() for n in self.nodes],
                "totals": {"params": self.params, "macs": self.macs, "weight_bytes": self.weight_bytes,
                           "largest_activation": {"name": name, "shape": list(shape), "bytes": nbytes},
                           "onnx_nodes": len(self.nodes), "plan_steps": self.steps}}


def summary(model, input_shapes: dict | None = None, num_threads: int | None = None) -> Summary:
    """Summary of `model` (path, bytes, ModelProto or InferenceSession) at `input_shapes` ({input name: shape};
    symbolic dimensions not given: batch 1, others fastconv.tools.verify.DEFAULT_DIM)."""
    from fastconv.runtime import InferenceSession
    from fastconv.tools.verify import make_inputs

    sess = model if isinstance(model, InferenceSession) else InferenceSession(model, num_threads, warmup=False)
    # random inputs: shapes for the plan, and values for models whose shapes depend on input values
    feeds = make_inputs(sess, None, input_shapes, seed=0)
    executor, _ = sess.executor_for_feed(feeds)
    return summarize_plan(sess.graph, executor.plan)


def summarize_plan(graph, plan) -> Summary:
    infos = plan.infos
    step_of: dict[int, tuple[int, bool]] = {}      # id(graph node) -> (step, absorbed into a fused step)
    for k, st in enumerate(plan.steps):
        nodes = step_nodes(st)
        for node in nodes:
            step_of[id(node)] = (k, node is not nodes[0])
    rf: dict[str, object] = {}
    for v in graph.inputs:
        shape = infos[v.name].shape
        if shape is not None and len(shape) >= 3:
            rf[v.name] = Field(((1.0, 1.0),) * (len(shape) - 2))
    counted: set[str] = set()
    rows, weight_bytes = [], 0
    for index, node in enumerate(graph.nodes):
        in_infos = [infos.get(i) if i else None for i in node.inputs]
        out = next((o for o in node.outputs if o), "")
        where = step_of.get(id(node))
        if where is None:
            runs_as, step, params, macs, window, field_ = "folded", None, 0, 0, None, None
        else:
            step = where[0]
            runs_as = f"{'fused into ' if where[1] else ''}step {step}"
            params, nbytes = _params(node, in_infos, counted)
            weight_bytes += nbytes
            window = _window(node, in_infos)
            macs = _macs(node, in_infos, infos[out])
            field_ = _receptive_field(node, in_infos, infos, rf)
        for o in node.outputs:
            if o and field_ is not None:
                rf[o] = field_
        if isinstance(field_, Field):
            receptive, jump = tuple(r for r, _ in field_.axes), tuple(j for _, j in field_.axes)
        else:
            receptive, jump = field_, None
        rows.append(NodeSummary(index, node_name(node), node.op_type, out, infos[out].shape if out else None,
                                window, params, macs, receptive, jump, runs_as, step,
                                isinstance(field_, Field) and field_.context))
    step_macs = [0] * len(plan.steps)
    for r in rows:
        if r.step is not None:
            step_macs[r.step] += r.macs
    constants = set(graph.constants)
    largest = ("", (), 0)
    for name, info in infos.items():
        if info.value is None and name not in constants and info.shape is not None:
            nbytes = math.prod(info.shape) * np.dtype(info.dtype).itemsize
            if nbytes > largest[2]:
                largest = (name, tuple(info.shape), nbytes)
    return Summary(plan.label, {v.name: tuple(infos[v.name].shape) for v in graph.inputs}, rows,
                   sum(r.params for r in rows), sum(r.macs for r in rows), weight_bytes, largest, len(plan.steps),
                   step_macs)


def _params(node, in_infos, counted: set) -> tuple[int, int]:
    """(parameter count, bytes) of the node's weight constants not counted before (see module docstring)."""
    weights = WEIGHT_INPUTS.get(node.op_type, ()) if node.domain in ("", "ai.onnx") else ()
    n = nbytes = 0
    for k, (name, info) in enumerate(zip(node.inputs, in_infos)):
        if info is None or info.value is None or np.dtype(info.dtype).kind != "f" or name in counted:
            continue
        size = int(np.size(info.value))
        if k in weights or (node.op_type in ELEMENTWISE and size > 1):
            counted.add(name)
            n += size
            nbytes += size * np.dtype(info.dtype).itemsize
    return n, nbytes


def _config(node, in_infos):
    if node.domain not in ("", "ai.onnx") or node.op_type not in WINDOW_OPS:
        return None
    return node.op.config(in_infos if node.op_type in ("Conv", "ConvTranspose") else in_infos[0])


def _window(node, in_infos) -> dict | None:
    cfg = _config(node, in_infos)
    if cfg is None:
        return None
    lo = 3 - cfg.rank
    w = {"kernel": list(cfg.kernel[lo:]), "strides": list(cfg.strides[lo:]),
         "pads": list(cfg.pads_begin[lo:]) + list(cfg.pads_end[lo:]), "dilations": list(cfg.dilations[lo:])}
    if hasattr(cfg, "group"):
        w["group"] = cfg.group
    return w


def _macs(node, in_infos, out_info) -> int:
    if node.domain not in ("", "ai.onnx"):
        return 0
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        cfg = _config(node, in_infos)
        per_position = cfg.out_channels * cfg.in_channels // cfg.group * cfg.kvol
        positions = math.prod(cfg.out_spatial if op == "Conv" else cfg.in_spatial)
        return cfg.batch * positions * per_position
    if op in ("Gemm", "MatMul"):
        a = in_infos[0].shape
        if op == "Gemm":
            k = a[0] if node.op.trans_a else a[1]
        else:
            k = a[-1]
        return math.prod(out_info.shape) * int(k)
    return 0


class Field(NamedTuple):
    """Receptive field of a value with spatial axes: (r, j) per axis, and whether it also reads a global summary
    of the input (a squeeze-excitation gate, an image-pooling branch) besides that window."""
    axes: tuple
    context: bool = False


def _receptive_field(node, in_infos, infos, rf):
    """The node's outputs' Field, GLOBAL, UNKNOWN, or None when no input has spatial axes."""
    fields = [(info, rf[name]) for name, info in zip(node.inputs, in_infos)
              if name and info is not None and info.value is None and rf.get(name) is not None]
    if not fields:
        return None
    op = node.op_type if node.domain in ("", "ai.onnx") else ""
    if op in GLOBAL_OPS:
        return GLOBAL
    spatial = [(info, f) for info, f in fields if isinstance(f, Field)]
    reads_global = any(f == GLOBAL for _, f in fields)
    if not spatial:     # reading a global value sees the whole input, whatever else it reads
        return GLOBAL if reads_global else UNKNOWN
    if any(f == UNKNOWN for _, f in fields):
        return UNKNOWN
    context = reads_global or any(f.context for _, f in spatial)
    x_info, x = spatial[0]
    out_shape = infos[node.outputs[0]].shape
    if op in WINDOW_OPS:
        x = rf.get(node.inputs[0])
        if not isinstance(x, Field):
            return GLOBAL if x == GLOBAL else UNKNOWN
        cfg = _config(node, in_infos)
        lo = 3 - cfg.rank
        if len(x.axes) != cfg.rank:
            return UNKNOWN
        out = []
        for (r, j), k, s, d in zip(x.axes, cfg.kernel[lo:], cfg.strides[lo:], cfg.dilations[lo:]):
            if op == "ConvTranspose":
                out.append((r + _transpose_span(k, s, d) * j, j / s))
            else:
                out.append((r + d * (k - 1) * j, j * s))
        return Field(tuple(out), context)
    n = len(x.axes)
    in_spatial = tuple(x_info.shape[len(x_info.shape) - n:])
    if out_shape is None or len(out_shape) < n + 1:
        return GLOBAL
    out_spatial = tuple(out_shape[len(out_shape) - n:])
    if out_spatial == in_spatial or op in ("Pad", "Slice"):
        same = [f.axes for _, f in spatial if len(f.axes) == n]
        return Field(tuple((max(f[a][0] for f in same), max(f[a][1] for f in same)) for a in range(n)), context)
    if op in ("Resize", "Upsample"):
        taps = RESIZE_TAPS.get(node.op.mode, 0)
        return Field(tuple((r + taps * j, j * i / o) for (r, j), i, o in zip(x.axes, in_spatial, out_spatial)),
                     context)
    if op == "DepthToSpace" and n == 2:
        return Field(tuple((r, j / node.op.b) for r, j in x.axes), context)
    if op == "SpaceToDepth" and n == 2:
        b = node.op.b
        return Field(tuple((r + (b - 1) * j, j * b) for r, j in x.axes), context)
    if all(o == 1 for o, i in zip(out_spatial, in_spatial) if o != i):
        return GLOBAL        # spatial axes reduced to 1 (ReduceMean over H, W ...)
    return UNKNOWN


def _transpose_span(k: int, s: int, d: int) -> int:
    """Input pixels (minus one) that reach one ConvTranspose output pixel: output o reads input i through tap t
    when o = i s + t d - pad, so the taps reaching o are those with t d = o + pad (mod s); the widest such set
    over the residues, in input pixels."""
    span = 0
    for c in range(s):
        taps = [t * d for t in range(k) if (t * d - c) % s == 0]
        if taps:
            span = max(span, (taps[-1] - taps[0]) // s)
    return span


def _num(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.3g}"


def _rf_text(rf, context: bool = False) -> str:
    if rf is None or isinstance(rf, str):
        return rf or ""
    return "x".join(_num(r) for r in rf) + (" +global" if context else "")


def _jump_text(rf, jump) -> str:
    if jump is None:
        return UNKNOWN if rf == UNKNOWN else ""
    return "x".join(_num(j) for j in jump)


def _window_text(w: dict | None) -> str:
    if w is None:
        return ""

    def axes(v):
        return str(v[0]) if len(set(v)) == 1 else "x".join(map(str, v))

    parts = ["x".join(map(str, w["kernel"]))]
    if any(s != 1 for s in w["strides"]):
        parts.append("s" + axes(w["strides"]))
    if any(w["pads"]):
        parts.append("p" + (str(w["pads"][0]) if len(set(w["pads"])) == 1 else ",".join(map(str, w["pads"]))))
    if any(d != 1 for d in w["dilations"]):
        parts.append("d" + axes(w["dilations"]))
    if w.get("group", 1) != 1:
        parts.append(f"g{w['group']}")
    return " ".join(parts)
