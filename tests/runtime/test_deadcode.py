"""Dead-node elimination (fastconv/plan/deadcode.py): dead branches are not planned, outputs do not change, and
a node with a live and a dead output stays."""
import numpy as np
from onnx import helper

import fastconv
from fastconv.graph.ir import Node
from fastconv.plan.deadcode import eliminate_dead_nodes
from tests.util import assert_matches_ort, make_model, rand


def _n(op, ins, outs):
    return Node(op, list(ins), list(outs))


def test_backward_sweep_keeps_exactly_what_reaches_an_output():
    nodes = [_n("Relu", ["x"], ["a"]), _n("Sigmoid", ["a"], ["dead1"]), _n("Tanh", ["dead1"], ["dead2"]),
             _n("Split", ["a"], ["s0", "s1"]), _n("Neg", ["s1"], ["dead3"]), _n("Add", ["s0", "x"], ["y"])]
    kept = eliminate_dead_nodes(nodes, {"y"})
    assert [n.op_type for n in kept] == ["Relu", "Split", "Add"]
    # a dead chain ending in a graph output is live all the way back
    assert eliminate_dead_nodes(nodes, {"dead2"}) == nodes[:3]
    assert eliminate_dead_nodes(nodes, set()) == []


def test_dead_branches_are_not_planned():
    w = rand(4, 3, 3, 3, seed=1) * 0.3
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"]),
             # dead: reads the conv output (which would block fusing the Relu) and a chain after it
             helper.make_node("Sigmoid", ["c"], ["d1"]), helper.make_node("Mul", ["d1", "x2"], ["d2"]),
             # Split with one live and one dead output
             helper.make_node("Split", ["x2"], ["s0", "s1"], axis=1, num_outputs=2),
             helper.make_node("Neg", ["s1"], ["d3"]), helper.make_node("Abs", ["s0"], ["z"])]
    feeds = {"x": rand(1, 3, 6, 6, seed=2), "x2": rand(1, 4, 6, 6, seed=3)}
    model = make_model(nodes, [("x", np.float32, [1, 3, 6, 6]), ("x2", np.float32, [1, 4, 6, 6])],
                       [("y", np.float32, None), ("z", np.float32, None)], {"w": w}, opset=18)
    assert_matches_ort(model, feeds, rtol=1e-4, atol=1e-5)
    plan = fastconv.InferenceSession(model).plan_for({k: v.shape for k, v in feeds.items()})
    # Conv+Relu fused (the dead Sigmoid no longer counts as a reader), Split kept for s0, Abs
    assert sorted(s.node.op_type for s in plan.steps) == ["Abs", "Conv", "Split"]
    conv = next(s.node for s in plan.steps if s.node.op_type == "Conv")
    assert [n.op_type for n in conv.fused_from] == ["Conv", "Relu"]


def test_identity_and_dropout_are_bypassed_unless_graph_outputs():
    w = rand(16, 16, 3, 3, seed=1) * 0.2
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             # between conv and Relu, its mask named (as opset < 10 exporters do: SqueezeNet) but never read
             helper.make_node("Dropout", ["c"], ["d", "unread_mask"], name="drop"),
             helper.make_node("Relu", ["d"], ["r"], name="relu"),
             helper.make_node("Identity", ["r"], ["i"], name="id"),
             helper.make_node("Add", ["i", "i"], ["y"], name="add"),
             helper.make_node("Identity", ["y"], ["z"], name="id_out"),          # a graph output: stays
             helper.make_node("Dropout", ["r"], ["m", "mask"], name="drop_mask")]  # mask read: stays
    feeds = {"x": rand(1, 16, 6, 6, seed=2)}
    model = make_model(nodes, [("x", np.float32, [1, 16, 6, 6])],
                       [("y", np.float32, None), ("z", np.float32, None), ("mask", np.bool_, None)], {"w": w},
                       opset=13)
    assert_matches_ort(model, feeds)
    plan = fastconv.InferenceSession(model).plan_for({"x": feeds["x"].shape})
    ops = [s.node.op_type for s in plan.steps]
    assert "Identity" in ops and ops.count("Dropout") == 1       # id_out and drop_mask only (not drop)
    conv = next(s.node for s in plan.steps if s.node.op_type == "Conv")
    assert [n.name for n in conv.fused_from] == ["conv", "relu"]  # Dropout no longer blocks the fusion
