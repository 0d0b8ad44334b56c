"""Malformed models refused at load with an error naming the node or tensor, and the byte limit on declared
tensors (issue 6). Cycles, dangling/duplicate names, truncated bytes and external data are in test_loader.py;
Conv/Pool attribute ranges in tests/ops/test_conv.py and test_pool.py; the cases here are the ones those miss."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import fastconv
from fastconv.errors import (
    FastconvError,
    InvalidModelError,
    ResourceLimitError,
    UnsupportedError,
)

from .util import assert_matches_ort, make_model, rand


def add_model(w=None):
    w = rand(2, 3) if w is None else w
    return make_model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [("x", np.float32, [2, 3])],
                      [("y", np.float32, None)], {"w": w})


def test_initializer_data_shorter_than_dims():
    model = add_model()
    model.graph.initializer[0].dims[1] = 4
    with pytest.raises(InvalidModelError, match="tensor 'w'"):
        fastconv.InferenceSession(model)


def test_initializer_float_data_count_differs_from_dims():
    model = add_model()
    t = helper.make_tensor("w", TensorProto.FLOAT, [5], [1.0] * 5)
    t.dims[:] = [2, 3]
    model.graph.initializer[0].CopyFrom(t)
    with pytest.raises(InvalidModelError, match="tensor 'w'"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("dims", [[-2, 3], [2, -3], [-1]])
def test_initializer_negative_dims(dims):
    model = add_model()
    model.graph.initializer[0].dims[:] = dims
    with pytest.raises(InvalidModelError, match="tensor 'w'.*negative dims"):
        fastconv.InferenceSession(model)


def test_initializer_absurd_dims_refused_unread():
    model = add_model()
    model.graph.initializer[0].dims[:] = [1 << 40, 1 << 40]
    with pytest.raises(ResourceLimitError, match="initializer 'w'"):
        fastconv.InferenceSession(model)


def test_constant_attribute_tensor_is_limited_too():
    value = helper.make_tensor("v", TensorProto.FLOAT, [4], [1.0] * 4)
    value.dims[:] = [1 << 20, 1 << 20]
    model = make_model([helper.make_node("Constant", [], ["c"], name="const", value=value),
                        helper.make_node("Add", ["x", "c"], ["y"], name="add")], [("x", np.float32, [4])],
                       [("y", np.float32, None)])
    with pytest.raises(ResourceLimitError, match="const"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("shape", [[1 << 20, 1 << 20, 1000], [1 << 62, 4]])
def test_absurd_declared_input_refused(shape):
    model = make_model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [("x", np.float32, shape)],
                       [("y", np.float32, None)])
    with pytest.raises(ResourceLimitError, match="input 'x'"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand"])
def test_inferred_value_above_limit_refused_before_folding(op):
    """A tiny model whose shape subgraph declares a 4 TB tensor: refused at planning, nothing allocated."""
    shape = np.array([100000, 100000, 100], np.int64)
    ins = ["s"] if op == "ConstantOfShape" else ["x", "s"]
    model = make_model([helper.make_node(op, ins, ["y"], name="big")], [("x", np.float32, [1])],
                       [("y", np.float32, None)], {"s": shape})
    with pytest.raises(ResourceLimitError, match="node 'big'.*output 'y'"):
        fastconv.InferenceSession(model)


def conv_model(pads, batch=1):
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="my_conv", pads=pads)
    return make_model([node], [("x", np.float32, [batch, 3, 5, 5])], [("y", np.float32, None)],
                      {"w": rand(4, 3, 3, 3)})


def test_absurd_pads_refused_by_limit():
    with pytest.raises(ResourceLimitError, match="my_conv"):
        fastconv.InferenceSession(conv_model([10 ** 9] * 4))


def test_limit_is_configurable_and_applies_to_run_shapes():
    model = conv_model([1] * 4, batch="N")
    x = rand(2, 3, 5, 5)
    # batch 2: x 600 bytes, y 800; batch 3: x 900, y 1200; w 432
    sess = fastconv.InferenceSession(model, max_tensor_bytes=1000)
    sess.run(None, {"x": x})
    with pytest.raises(ResourceLimitError, match="my_conv.*output 'y'.*1200 bytes"):
        sess.run(None, {"x": rand(3, 3, 5, 5)})
    with pytest.raises(ResourceLimitError, match="initializer 'w'"):
        fastconv.InferenceSession(model, max_tensor_bytes=400)
    assert_matches_ort(model, {"x": rand(50, 3, 5, 5)}, max_tensor_bytes=None)
    assert issubclass(ResourceLimitError, MemoryError) and issubclass(ResourceLimitError, FastconvError)


ARITY = [  # (node, words): input/output counts against the ONNX schema
    (helper.make_node("Relu", [], ["y"], name="bad"), "0 input"),
    (helper.make_node("Relu", ["x", "x"], ["y"], name="bad"), "2 input"),
    (helper.make_node("Relu", ["x"], ["y", "z"], name="bad"), "2 output"),
    (helper.make_node("Conv", ["x"], ["y"], name="bad"), "1 input"),
    (helper.make_node("Conv", ["", "x"], ["y"], name="bad"), "required input 0"),
    (helper.make_node("Add", ["x", "x", "x"], ["y"], name="bad"), "3 input"),
]


@pytest.mark.parametrize("node,words", ARITY, ids=[w for _, w in ARITY])
def test_wrong_arity_refused_at_load(node, words):
    model = make_model([node], [("x", np.float32, [1, 1, 3, 3])], [("y", np.float32, None)])
    with pytest.raises(InvalidModelError, match=f"node 'bad'.*{words}"):
        fastconv.InferenceSession(model)


def test_optional_inputs_may_be_empty_or_omitted():
    x = rand(1, 3, 5, 5)
    for ins in (["x", "w", ""], ["x", "w"]):
        model = make_model([helper.make_node("Conv", ins, ["y"], name="c")], [("x", np.float32, list(x.shape))],
                           [("y", np.float32, None)], {"w": rand(2, 3, 3, 3)})
        assert_matches_ort(model, {"x": x})


def test_unknown_domain_names_node_and_domain():
    model = make_model([helper.make_node("Conv", ["x"], ["y"], name="mine", domain="com.vendor")],
                       [("x", np.float32, [2])], [("y", np.float32, None)])
    model.opset_import.append(helper.make_opsetid("com.vendor", 1))
    with pytest.raises(UnsupportedError, match="mine.*com.vendor"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("op,attrs,xs,ws,words", [
    ("Conv", {"group": 2}, (1, 3, 5, 5), (4, 3, 3, 3), "group"),           # group does not divide C
    ("Conv", {"group": 3}, (1, 3, 5, 5), (4, 1, 3, 3), "group"),           # group does not divide M
    ("Conv", {"kernel_shape": [7, 7]}, (1, 3, 5, 5), (4, 3, 7, 7), "exceeds the padded input"),
    ("ConvTranspose", {"output_shape": [10 ** 6, 10 ** 6]}, (1, 3, 5, 5), (3, 4, 3, 3), "output_shape"),
])
def test_attribute_shape_mismatch_names_node(op, attrs, xs, ws, words):
    model = make_model([helper.make_node(op, ["x", "w"], ["y"], name="my_conv", **attrs)],
                       [("x", np.float32, list(xs))], [("y", np.float32, None)], {"w": rand(*ws)})
    with pytest.raises(InvalidModelError, match=f"my_conv.*{words}"):
        fastconv.InferenceSession(model)
