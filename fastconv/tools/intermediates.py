"""From a plan's values after a run to ONNX's view of them: the one place that knows how plan values relate to
the ONNX graph's value names (layerwise verify and anything else comparing intermediates uses it).

Plan values are named after the ONNX values they hold, except what planning made: fused nodes write their last
original node's outputs (the values fused away in between do not exist), folded weights get `::`-suffixed
names. A plan value stored in another layout than ONNX's must be converted back here.
"""
from __future__ import annotations

import numpy as np

from fastconv.kernels.numba.layout import reorder_nchw_to_nchwc
from fastconv.plan.layout import unblock
from fastconv.plan.planner import Plan


def onnx_values(plan: Plan, values: list) -> dict[str, np.ndarray]:
    """{ONNX value name: plain numpy array} for the graph inputs and every step output present in `values`
    (the slots of a run that kept every value: Executor.run_each(..., keep_all=True)), in step order."""
    out: dict[str, np.ndarray] = {}
    for name, slot in plan.input_slots.items():
        if values[slot] is not None:
            out[name] = np.asarray(values[slot])
    onnx_name = {twin: name for name, twin in plan.blocked.items()}   # NCHWc twin -> the ONNX value it holds
    for step in plan.steps:
        for slot in step.out_slots:
            if slot < 0 or values[slot] is None:
                continue
            name = plan.slot_names[slot]
            if name in onnx_name:
                if onnx_name[name] not in out:
                    out[onnx_name[name]] = unblock(values[slot], plan.infos[name].channels)
            else:
                out[name] = np.asarray(values[slot])
    return out


def plan_value(plan: Plan, name: str, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """The plan value `name` made from ONNX-named plain arrays (e.g. onnxruntime's): an NCHWc twin is the
    blocked form of its ONNX value; None when `arrays` lacks it."""
    for onnx_name, twin in plan.blocked.items():
        if twin == name:
            if onnx_name not in arrays:
                return None
            info = plan.infos[name]
            return reorder_nchw_to_nchwc(np.ascontiguousarray(arrays[onnx_name], np.float32), info.shape[-1])
    return arrays.get(name)


def step_nodes(step) -> list:
    """The ONNX graph nodes a plan step computes: the nodes it was fused from, or its own node (none for the
    layout pass's reorders)."""
    if step.node.op_type == "Reorder" and step.node.domain == "ai.fastconv":
        return []
    return list(step.node.fused_from or [step.node])


def node_name(node) -> str:
    """How tools name an ONNX node: its name, or its first output's name when unnamed."""
    return node.name or next((o for o in node.outputs if o), "")
