"""Plan-time Gemm simplification (fastconv/plan/fusion.py, fuse_into_gemm): a Flatten / Reshape feeding only a
Gemm is skipped (the Gemm reads the tensor before it), an activation after a Gemm runs in its epilogue. Each
pattern must give fewer steps and match onnxruntime; patterns that must not fuse are checked too."""
import os

import numpy as np
import pytest
from onnx import helper

import fastconv
from tests.util import assert_matches_ort, make_model, rand


def _model(nodes, x_shape, inits, outputs=("y",)):
    return make_model(nodes, [("x", np.float32, list(x_shape))], [(o, np.float32, None) for o in outputs], inits)


def _steps(model, x):
    assert_matches_ort(model, {"x": x}, rtol=1e-4, atol=3e-5)
    plan = fastconv.InferenceSession(model).plan_for({"x": x.shape})
    return plan, [s.node.op_type for s in plan.steps]


@pytest.mark.parametrize("batch", [1, 3, 7])  # the small-M kernel (batch < 6) and the panel kernel
@pytest.mark.parametrize("act", ["Relu", "Sigmoid", None])
def test_flatten_gemm_activation_is_one_step(batch, act):
    inits = {"w": rand(24, 5 * 3 * 4, seed=1), "b": rand(24, seed=2)}
    nodes = [helper.make_node("Flatten", ["x"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["g" if act else "y"], transB=1)]
    if act:
        nodes.append(helper.make_node(act, ["g"], ["y"]))
    plan, ops = _steps(_model(nodes, (batch, 5, 3, 4), inits), rand(batch, 5, 3, 4, seed=3))
    assert ops == ["Gemm"]
    node = plan.steps[0].node
    assert [n.op_type for n in node.fused_from] == ["Flatten", "Gemm"] + ([act] if act else [])
    assert node.op.a_2d == (batch, 60)


def test_reshape_gemm_with_alpha_beta_trans_a_and_c_matrix():
    inits = {"shape": np.array([6, -1], np.int64), "w": rand(6, 9, seed=4), "c": rand(10, 9, seed=5)}
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Gemm", ["r", "w", "c"], ["g"], transA=1, alpha=0.5, beta=-2.0),
             helper.make_node("LeakyRelu", ["g"], ["y"], alpha=0.1)]
    _, ops = _steps(_model(nodes, (2, 3, 10), inits), rand(2, 3, 10, seed=6))
    assert ops == ["Gemm"]


def test_not_fused_when_the_reshaped_or_gemm_output_is_read_elsewhere():
    inits = {"w": rand(12, 4, seed=1), "b": rand(4, seed=2)}
    x = rand(2, 3, 4, seed=3)
    # the Flatten output is also a graph output; the Gemm output feeds the Relu and the Add
    nodes = [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w", "b"], ["g"]),
             helper.make_node("Relu", ["g"], ["r"]), helper.make_node("Add", ["g", "r"], ["y"])]
    _, ops = _steps(_model(nodes, x.shape, inits, outputs=("y", "f")), x)
    assert ops == ["Flatten", "Gemm", "Relu", "Add"]


def test_lenet5_is_conv_pool_conv_pool_and_three_gemms():
    from tests.models import zoo

    sess = fastconv.InferenceSession(os.path.join(zoo.EMBEDDED_DIR, "lenet5.onnx"))
    plan = sess.plan_for({sess.get_inputs()[0].name: (1, 1, 28, 28)})
    assert [s.node.op_type for s in plan.steps] == ["Conv", "MaxPool", "Conv", "MaxPool", "Gemm", "Gemm", "Gemm",
                                                    "Softmax"]
