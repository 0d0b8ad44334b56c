"""Dead-node elimination: nodes none of whose outputs reach a graph output are dropped; and pass-through
elimination: Identity and inference-time Dropout nodes are bypassed (their readers read the input).

It runs inside `build_plan` after constant folding and before fusion: a dead reader of a conv's output would
otherwise keep the conv from fusing with its live consumer (`_Fuser.sole_consumer` counts every reader), and
fusion itself only merges live nodes, so it leaves nothing dead behind. One backward sweep over the
topologically ordered list marks everything: a node is live when one of its outputs is read by a live node or is
a graph output, and then all its inputs are live. A node with several outputs stays when any of them is live
(Split with one branch unused); its dead outputs are still computed.
"""
from __future__ import annotations

import copy

from fastconv.graph.ir import Node


def eliminate_dead_nodes(nodes: list[Node], graph_outputs: set[str]) -> list[Node]:
    """`nodes` (topological order) without the nodes that do not contribute to any of `graph_outputs`."""
    live_values = set(graph_outputs)
    keep = []
    for node in reversed(nodes):
        if any(o and o in live_values for o in node.outputs):
            keep.append(node)
            live_values.update(i for i in node.inputs if i)
    keep.reverse()
    return keep


def bypass_identities(nodes: list[Node], graph_outputs: set[str]) -> list[Node]:
    """`nodes` without Identity / Dropout (inference: y = x, no mask read) nodes whose output is not a graph
    output; their readers become copies reading the input instead (the graph is never modified). Each such node
    was a step (a view at least) and, worse, a wall between a conv and the op fusion or the layout pass would
    join it with (AlexNet's and SqueezeNet's Dropout before the classifier). A Dropout's mask output may be
    named (opset < 10 exporters name it) as long as nothing reads it: SqueezeNet's stayed a 0.08 ms copy."""
    read = {i for node in nodes for i in node.inputs if i} | graph_outputs
    alias: dict[str, str] = {}
    kept = []
    for node in nodes:
        inputs = [alias.get(i, i) for i in node.inputs]
        if (node.op_type in ("Identity", "Dropout") and node.domain in ("", "ai.onnx") and inputs and inputs[0]
                and node.outputs[0] not in graph_outputs and not any(o in read for o in node.outputs[1:] if o)):
            alias[node.outputs[0]] = inputs[0]
            continue
        if inputs != node.inputs:
            node = copy.copy(node)
            node.inputs = inputs
        kept.append(node)
    return kept
