"""Inputs the fuzzer found that broke fastconv, kept as regression tests (tests/fuzz/harness.py)."""
import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError

from ..util import make_model, rand
from .harness import check


@pytest.mark.parametrize("alpha", [float("inf"), float("-inf"), float("nan")])
def test_gemm_non_finite_alpha_refused(alpha):
    """alpha was folded into the constant B: alpha * (a @ b) = [inf, -inf] came out as [inf, nan]."""
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="fc", alpha=alpha)
    model = make_model([node], [("a", np.float32, [1, 2])], [("y", np.float32, None)], {"b": rand(2, 2)})
    with pytest.raises(UnsupportedError, match="fc.*alpha"):
        fastconv.InferenceSession(model)
    assert check(model).startswith("rejected")


@pytest.mark.parametrize("nodes,inits", [
    ([helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
      helper.make_node("GlobalMaxPool", ["a"], ["y"])], {}),  # the fuzzer's input: pool_simd reshaped (0, -1)
    ([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2])], {}),
    ([helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2])], {"w": rand(3, 2, 3, 3)}),
    ([helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Flatten", ["c"], ["f"]),
      helper.make_node("Gemm", ["f", "g"], ["y"], transB=1)], {"w": rand(4, 3, 3, 3), "g": rand(5, 36)}),
], ids=["avgpool_gmp", "maxpool", "convtranspose", "conv_gemm"])
def test_zero_batch_matches_ort(nodes, inits):
    """A 0-size batch reached kernels that reshape with -1; steps whose outputs are empty now compute nothing."""
    model = make_model(nodes, [("x", np.float32, [0, 3, 5, 5])], [("y", np.float32, None)], inits)
    assert check(model) == "matched"


def test_pool_same_padding_with_a_window_beyond_the_input_refused():
    """MaxPool SAME_LOWER, dilations [3, 1], kernel [4, 2] on H = 4: onnxruntime computes a negative output size
    and refuses; fastconv clamped it to 0 and a kernel divided by zero."""
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[4, 2], dilations=[3, 1],
                            auto_pad="SAME_LOWER")
    model = make_model([node], [("x", np.float32, [1, 4, 4, 1])], [("y", np.float32, None)])
    with pytest.raises(InvalidModelError, match="pool.*SAME_LOWER.*negative"):
        fastconv.InferenceSession(model)


def test_attribute_of_the_wrong_type_refused():
    """An attribute whose type field was corrupted (UNDEFINED) reached Gemm.parse as None: a TypeError."""
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="fc", alpha=0.5)
    node.attribute[0].type = 0
    model = make_model([node], [("a", np.float32, [1, 2])], [("y", np.float32, None)], {"b": rand(2, 2)})
    with pytest.raises(InvalidModelError, match="fc.*'alpha' has type UNDEFINED.*FLOAT"):
        fastconv.InferenceSession(model)
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=3)  # INT, not INTS
    model = make_model([node], [("x", np.float32, [1, 1, 4, 4])], [("y", np.float32, None)], {"w": rand(1, 1, 3, 3)})
    with pytest.raises(InvalidModelError, match="conv.*'kernel_shape' has type INT.*INTS"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("field", ["attribute", "node_name", "value"])
def test_names_that_are_not_utf8_refused(field):
    """protobuf returns bytes for string fields holding invalid UTF-8: sorting them with str names raised a
    TypeError in Op.__init__ (an attribute name from a mutated AveragePool)."""
    attrs = {"kernel_shape": [2, 2]}
    if field == "attribute":
        attrs["pZZZ"] = 1
    node = helper.make_node("AveragePool", ["x"], ["aZZZ" if field == "value" else "y"],
                            name="nZZZ" if field == "node_name" else "ap", **attrs)
    outputs = [("aZZZ" if field == "value" else "y", np.float32, None)]
    data = make_model([node], [("x", np.float32, [1, 1, 4, 4])], outputs).SerializeToString()
    data = data.replace(b"ZZZ", b"\x8c\\\xf7")
    with pytest.raises(InvalidModelError, match="not valid UTF-8"):
        fastconv.InferenceSession(data)
    assert check(data).startswith("rejected")


@pytest.mark.parametrize("op,xs,ws,attrs", [
    ("ConvTranspose", (1, 3, 0, 4), (3, 2, 3, 3), {"strides": [2, 2]}),  # the fuzzer's input
    ("Conv", (1, 3, 0, 4), (2, 3, 3, 3), {"pads": [2, 1, 2, 1]}),
    ("Conv", (1, 0, 4, 4), (2, 0, 3, 3), {}),
])
def test_empty_input_with_non_empty_output_refused(op, xs, ws, attrs):
    """ConvTranspose on an input with H = 0 has an output of bias values only (onnxruntime: zeros); fastconv's
    kernels left it unwritten and returned uninitialised memory."""
    node = helper.make_node(op, ["x", "w"], ["y"], name="conv", **attrs)
    model = make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)], {"w": rand(*ws)})
    with pytest.raises(UnsupportedError, match="conv.*0-size"):
        fastconv.InferenceSession(model)
    assert check(model).startswith("rejected")
