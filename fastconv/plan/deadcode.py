"""Dead-node elimination: nodes none of whose outputs reach a graph output are dropped.

It runs inside `build_plan` after constant folding and before fusion: a dead reader of a conv's output would
otherwise keep the conv from fusing with its live consumer (`_Fuser.sole_consumer` counts every reader), and
fusion itself only merges live nodes, so it leaves nothing dead behind. One backward sweep over the
topologically ordered list marks everything: a node is live when one of its outputs is read by a live node or is
a graph output, and then all its inputs are live. A node with several outputs stays when any of them is live
(Split with one branch unused); its dead outputs are still computed.
"""
from __future__ import annotations

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
