"""Turn a Graph plus concrete input shapes into an executable Plan.

One pass in topological order does shape/dtype inference and constant folding (every node whose inputs are all
known at plan time, shape subgraphs included, is evaluated here once). On the remaining nodes, with every shape
concrete, BatchNorm / residual Add / activations are fused into convolutions (fastconv/plan/fusion.py); then
each node is lowered to a kernel callable. A liveness scan records after which step each buffer can be
released.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from fastconv.errors import FastconvError, InvalidModelError, UnsupportedError, check_tensor_bytes
from fastconv.graph.ir import Graph, Node, TensorInfo
from fastconv.ops.base import ValueRequired
from fastconv.plan.deadcode import bypass_identities, eliminate_dead_nodes
from fastconv.plan.fusion import fuse_channel_affine, fuse_into_convolutions, fuse_into_gemm
from fastconv.plan.layout import propagate_layouts
from fastconv.plan.memory import MemoryPlan, plan_memory
from fastconv.platform import Platform


@dataclass
class PlanContext:
    platform: Platform
    # op_type -> kernel name, to force one registered kernel (tests, benchmarks)
    kernel_overrides: dict[str, str] = field(default_factory=dict)
    check_shapes: bool = bool(os.environ.get("FASTCONV_CHECK_SHAPES"))
    # BatchNorm folding and epilogue fusion into convolutions (fastconv/plan/fusion.py); off only to compare
    fuse: bool = True
    # kernel outputs placed in a reused arena (fastconv/plan/memory.py); off only to compare
    arena: bool = True
    # convolutional trunks kept in the blocked NCHWc layout (fastconv/plan/layout.py); off only to compare
    layout: bool = True
    # inputs and inferred values declaring more bytes are refused before anything is allocated or folded
    max_tensor_bytes: int | None = None


class NeedsInputValues(UnsupportedError):
    """Raised when a shape depends on the values of graph inputs (`names`); the session then keys plans on
    those inputs' values and plans again."""

    def __init__(self, msg: str, names: set[str]):
        super().__init__(msg)
        self.names = names


def _graph_input_ancestors(graph: Graph, value: str) -> set[str]:
    producers = graph.producers()
    inputs = {v.name for v in graph.inputs}
    found, stack, seen = set(), [value], set()
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v in inputs:
            found.add(v)
        elif v in producers:
            stack.extend(i for i in producers[v].inputs if i)
    return found


@dataclass
class Step:
    node: Node
    fn: Callable
    in_slots: tuple[int, ...]
    out_slots: tuple[int, ...]


@dataclass
class Plan:
    steps: list[Step]
    slot_names: list[str]
    initial_values: list            # per slot: the constant array, or None
    input_slots: dict[str, int]
    output_slots: list[int]
    frees: list[tuple[int, ...]]    # slots whose last reader is step i
    infos: dict[str, TensorInfo]    # every value's inferred dtype/shape (and data when constant)
    label: str = ""                 # the graph's name and input shapes, for messages
    memory: MemoryPlan | None = None  # arena placement of kernel outputs (None: every step allocates)
    blocked: dict[str, str] = field(default_factory=dict)  # ONNX value name -> its NCHWc twin (plan/layout.py)


def _checked(fn: Callable, node: Node, expected: list[TensorInfo]) -> Callable:
    """Wrap a step so that its real outputs are compared with shape inference (tests turn this on)."""

    def run(*args, **kw):
        outs = fn(*args, **kw)
        for k, (arr, info) in enumerate(zip(outs, expected)):
            if arr is None or info is None:
                continue
            if tuple(arr.shape) != tuple(info.shape) or arr.dtype != info.dtype:
                raise AssertionError(f"{node.label()} output {k}: inferred {info.dtype}{list(info.shape)}, "
                                     f"computed {arr.dtype}{list(arr.shape)}")
        return outs

    run.accepts_out = getattr(fn, "accepts_out", False)
    return run


def _all_empty(infos: list[TensorInfo | None]) -> bool:
    """Every output has a 0-size dim (e.g. a batch of 0): nothing to compute, and kernels need not handle it."""
    return all(i is not None and 0 in i.shape for i in infos)


def _empty_outputs(infos: list[TensorInfo]) -> Callable:
    def run(*args):
        return tuple(np.empty(i.shape, i.dtype) for i in infos)

    return run


def build_plan(graph: Graph, inputs: dict[str, TensorInfo], ctx: PlanContext) -> Plan:
    infos: dict[str, TensorInfo] = {name: TensorInfo(v.dtype, v.shape, v) for name, v in graph.constants.items()}
    infos.update(inputs)
    for name, info in inputs.items():
        check_tensor_bytes(f"input '{name}'", info.shape, info.dtype, ctx.max_tensor_bytes)
    remaining: list[Node] = []  # nodes left to run after folding
    for node in graph.nodes:
        in_infos = [infos[i] if i else None for i in node.inputs]
        try:
            out_infos = node.op.infer(in_infos)
        except ValueRequired as e:
            name = next(n for n, i in zip(node.inputs, in_infos) if i is e.info)
            raise NeedsInputValues(str(e), _graph_input_ancestors(graph, name)) from None
        except FastconvError:
            raise
        except Exception as e:  # a shape rule tripping on inconsistent input shapes
            shapes = [None if i is None else i.shape for i in in_infos]
            raise InvalidModelError(f"{node.label()}: cannot infer output shape from input shapes {shapes}: "
                                    f"{type(e).__name__}: {e}") from e
        if len(out_infos) < len([o for o in node.outputs if o]):
            raise AssertionError(f"{node.label()}: infer returned {len(out_infos)} outputs")
        for name, info in zip(node.outputs, out_infos):
            if name and info is not None:
                check_tensor_bytes(f"{node.label()}: output '{name}'", info.shape, info.dtype, ctx.max_tensor_bytes)
        named = [info for name, info in zip(node.outputs, out_infos) if name]
        if named and all(info.value is not None for info in named):  # known from shapes alone (Shape, Size)
            for name, info in zip(node.outputs, out_infos):
                if name:
                    infos[name] = info
            continue
        present = [i for i in in_infos if i is not None]
        if node.op.foldable and all(i.value is not None for i in present):
            values = node.op.run(*[None if i is None else i.value for i in in_infos])
            for name, v, info in zip(node.outputs, values, out_infos):
                if name:
                    v = np.asarray(v)
                    infos[name] = TensorInfo(v.dtype, tuple(v.shape), v)
            continue
        for name, info in zip(node.outputs, out_infos):
            if name:
                infos[name] = info
        remaining.append(node)
    remaining = bypass_identities(eliminate_dead_nodes(remaining, {v.name for v in graph.outputs}),
                                  {v.name for v in graph.outputs})
    if ctx.fuse:
        remaining = fuse_into_convolutions(remaining, infos, {v.name for v in graph.outputs})
        remaining = fuse_channel_affine(remaining, infos, {v.name for v in graph.outputs})
        remaining = fuse_into_gemm(remaining, infos, {v.name for v in graph.outputs})
    blocked = {}
    if ctx.layout:
        result = propagate_layouts(remaining, infos, [v.name for v in graph.outputs], ctx)
        remaining, blocked = result.nodes, result.blocked
    lowered: list[tuple[Node, Callable, list[TensorInfo]]] = []
    for node in remaining:
        in_infos = [infos[i] if i else None for i in node.inputs]
        out_infos = [infos[o] if o else None for o in node.outputs]
        fn = _empty_outputs(out_infos) if _all_empty(out_infos) else node.op.lower(in_infos, out_infos, ctx)
        if ctx.check_shapes:
            fn = _checked(fn, node, out_infos)
        lowered.append((node, fn, out_infos))
    plan = _assign_slots(graph, infos, lowered, inputs)
    plan.blocked = blocked
    if ctx.arena:
        plan.memory = plan_memory(plan.steps, infos, plan.slot_names, plan.output_slots)
    return plan


def _assign_slots(graph, infos, lowered, inputs) -> Plan:
    slot_of: dict[str, int] = {}
    names: list[str] = []

    def slot(name: str) -> int:
        if not name:
            return -1
        if name not in slot_of:
            slot_of[name] = len(names)
            names.append(name)
        return slot_of[name]

    for name in inputs:
        slot(name)
    steps = [Step(node, fn, tuple(slot(i) for i in node.inputs), tuple(slot(o) for o in node.outputs))
             for node, fn, _ in lowered]
    output_slots = [slot(v.name) for v in graph.outputs]
    initial = [None] * len(names)
    for name, s in slot_of.items():
        if name not in inputs and infos[name].value is not None:
            initial[s] = infos[name].value
    last_use = {}
    for k, st in enumerate(steps):
        for s in st.in_slots + st.out_slots:
            if s >= 0:
                last_use[s] = k
    keep = set(output_slots)
    frees = [[] for _ in steps]
    for s, k in last_use.items():
        if s not in keep:
            frees[k].append(s)
    label = f"{graph.name or 'model'} " + ", ".join(f"{n}{list(i.shape)}" for n, i in inputs.items())
    return Plan(steps, names, initial, {n: slot_of[n] for n in inputs}, output_slots,
                [tuple(f) for f in frees], infos, label)
