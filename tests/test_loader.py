"""Loading models: sources, external data confinement, malformed graphs, unsupported ops, opsets, dynamic dims."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError

from .util import assert_matches_ort, make_model, rand

SHAPE = [2, 3, 4, 5]


def relu_add_model(opset=17, batch=2):
    """y = Relu(x) + w, with w an initializer (so external-data tests have a tensor to move out)."""
    w = rand(*SHAPE[1:], seed=1)
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"), helper.make_node("Add", ["r", "w"], ["y"],
                                                                                     name="add")]
    return make_model(nodes, [("x", np.float32, [batch] + SHAPE[1:])], [("y", np.float32, None)], {"w": w}, opset)


def expected(x, model):
    w = numpy_helper.to_array(model.graph.initializer[0])
    return np.maximum(x, 0) + w


@pytest.mark.parametrize("source", ["path", "str", "bytes", "proto"])
def test_load_sources(tmp_path, source):
    model = relu_add_model()
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    arg = {"path": path, "str": str(path), "bytes": model.SerializeToString(), "proto": model}[source]
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(arg).run(None, {"x": x})
    np.testing.assert_array_equal(y, expected(x, model))


def test_load_rejects_other_types():
    with pytest.raises(TypeError):
        fastconv.InferenceSession(12)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidModelError, match="not found"):
        fastconv.InferenceSession(tmp_path / "absent.onnx")


def save_external(model, folder, location="weights.bin"):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "m.onnx")
    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # onnx.save moves the tensors of the proto it is given out to the file
    onnx.save(copy, path, save_as_external_data=True, all_tensors_to_one_file=True, location=location,
              size_threshold=0)
    return path


def test_external_data_loads_and_matches(tmp_path):
    model = relu_add_model()
    path = save_external(model, tmp_path / "model")
    assert os.path.getsize(tmp_path / "model" / "weights.bin") > 0
    stored = onnx.load(path, load_external_data=False)
    assert stored.graph.initializer[0].data_location == TensorProto.EXTERNAL
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(path).run(None, {"x": x})
    np.testing.assert_array_equal(y, expected(x, model))
    assert_matches_ort(model, {"x": x})


def external_model(folder, location, offset=None, length=None):
    """A model whose initializer 'w' points at `location` (not written here)."""
    model = relu_add_model()
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, str(value)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "m.onnx")
    onnx.save(model, path)
    return path


def weights_bytes():
    return rand(*SHAPE[1:], seed=1).tobytes()


def test_external_data_in_subfolder_and_base_dir(tmp_path):
    (tmp_path / "m" / "data").mkdir(parents=True)
    (tmp_path / "m" / "data" / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", "data/w.bin")
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(path).run(None, {"x": x})
    np.testing.assert_array_equal(y, np.maximum(x, 0) + rand(*SHAPE[1:], seed=1))
    # the same model as bytes needs base_dir to find its data
    data = open(path, "rb").read()
    with pytest.raises(InvalidModelError, match="base_dir"):
        fastconv.InferenceSession(data)
    (y2,) = fastconv.InferenceSession(data, base_dir=str(tmp_path / "m")).run(None, {"x": x})
    np.testing.assert_array_equal(y2, y)


def test_external_data_with_offset(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"\0" * 16 + weights_bytes())
    path = external_model(tmp_path / "m", "w.bin", offset=16, length=len(weights_bytes()))
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(path).run(None, {"x": x})
    np.testing.assert_array_equal(y, np.maximum(x, 0) + rand(*SHAPE[1:], seed=1))


@pytest.mark.parametrize("location", ["../w.bin", "sub/../../w.bin", "..\\w.bin"])
def test_external_data_parent_refused(tmp_path, location):
    (tmp_path / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", location)
    with pytest.raises(InvalidModelError, match="external data"):
        fastconv.InferenceSession(path)


def test_external_data_absolute_refused(tmp_path):
    (tmp_path / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", str(tmp_path / "w.bin"))
    with pytest.raises(InvalidModelError, match="relative"):
        fastconv.InferenceSession(path)


def test_external_data_symlink_outside_refused(tmp_path):
    (tmp_path / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", "w.bin")
    os.symlink(tmp_path / "w.bin", tmp_path / "m" / "w.bin")
    with pytest.raises(InvalidModelError, match="outside"):
        fastconv.InferenceSession(path)


def test_external_data_symlink_inside_accepted(tmp_path):
    (tmp_path / "m" / "data").mkdir(parents=True)
    (tmp_path / "m" / "data" / "real.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", "w.bin")
    os.symlink(tmp_path / "m" / "data" / "real.bin", tmp_path / "m" / "w.bin")
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(path).run(None, {"x": x})
    np.testing.assert_array_equal(y, np.maximum(x, 0) + rand(*SHAPE[1:], seed=1))


@pytest.mark.parametrize("offset,length", [(0, 10_000), (10_000, None), (8, len(weights_bytes())), (-1, 4),
                                           ("x", 4)])
def test_external_data_range_refused(tmp_path, offset, length):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", "w.bin", offset=offset, length=length)
    with pytest.raises(InvalidModelError, match="external data"):
        fastconv.InferenceSession(path)


def test_external_data_missing_file(tmp_path):
    path = external_model(tmp_path / "m", "w.bin")
    with pytest.raises(InvalidModelError, match="not found"):
        fastconv.InferenceSession(path)


def test_external_data_wrong_length_refused(tmp_path):
    # fewer bytes than the tensor's shape needs: the model is malformed, not a crash
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(weights_bytes())
    path = external_model(tmp_path / "m", "w.bin", offset=0, length=8)
    with pytest.raises(InvalidModelError):
        fastconv.InferenceSession(path)


@pytest.mark.parametrize("data", [b"", b"hello world, not a model", bytes(range(256)), b"\x08\x07"])
def test_non_onnx_bytes(data):
    with pytest.raises(InvalidModelError):
        fastconv.InferenceSession(data)


def test_non_onnx_file(tmp_path):
    (tmp_path / "m.onnx").write_text("this is not protobuf\n")
    with pytest.raises(InvalidModelError, match="m.onnx"):
        fastconv.InferenceSession(tmp_path / "m.onnx")


def test_truncated_bytes():
    data = relu_add_model().SerializeToString()
    with pytest.raises(InvalidModelError):
        fastconv.InferenceSession(data[: len(data) // 2])
    # every truncation point fails cleanly with an InvalidModelError, never another exception
    for k in range(0, len(data), 3):
        with pytest.raises(InvalidModelError):
            fastconv.InferenceSession(data[:k])


def test_all_unsupported_ops_in_one_error():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("StringNormalizer", ["a"], ["b"], name="strnorm"),
        helper.make_node("TfIdfVectorizer", ["b"], ["c"], name="tfidf"),
        helper.make_node("Frobnicate", ["c"], ["d"], name="custom", domain="com.example"),
        helper.make_node("Add", ["d", "x"], ["y"], name="ok_add"),
    ]
    model = make_model(nodes, [("x", np.float32, [2, 3])], [("y", np.float32, [2, 3])])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(UnsupportedError) as info:
        fastconv.InferenceSession(model)
    msg = str(info.value)
    assert "3 unsupported" in msg
    for op, name in [("StringNormalizer", "strnorm"), ("TfIdfVectorizer", "tfidf"), ("Frobnicate", "custom")]:
        assert op in msg and name in msg
    assert "com.example" in msg
    assert "ok_relu" not in msg and "ok_add" not in msg


def test_unknown_attribute_is_unsupported():
    model = make_model([helper.make_node("Relu", ["x"], ["y"], name="r", frobnicate=3)],
                       [("x", np.float32, [2])], [("y", np.float32, [2])])
    with pytest.raises(UnsupportedError, match="frobnicate"):
        fastconv.InferenceSession(model)


def test_cycle_rejected():
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="n1"), helper.make_node("Relu", ["a"], ["b"], name="n2"),
             helper.make_node("Relu", ["a"], ["y"], name="n3")]
    model = make_model(nodes, [("x", np.float32, [2])], [("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="cycle"):
        fastconv.InferenceSession(model)


def test_self_loop_rejected():
    model = make_model([helper.make_node("Add", ["x", "y"], ["y"], name="n")], [("x", np.float32, [2])],
                       [("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="cycle"):
        fastconv.InferenceSession(model)


def test_dangling_input_rejected():
    model = make_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="n")], [("x", np.float32, [2])],
                       [("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="ghost"):
        fastconv.InferenceSession(model)


def test_value_produced_twice_rejected():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Relu", ["x"], ["y"], name="b")]
    model = make_model(nodes, [("x", np.float32, [2])], [("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="more than once"):
        fastconv.InferenceSession(model)


def test_node_overwriting_graph_input_rejected():
    model = make_model([helper.make_node("Relu", ["x"], ["x"], name="a")], [("x", np.float32, [2])],
                       [("x", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="more than once"):
        fastconv.InferenceSession(model)


def test_duplicate_graph_output_rejected():
    model = make_model([helper.make_node("Relu", ["x"], ["y"], name="a")], [("x", np.float32, [2])],
                       [("y", np.float32, [2]), ("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="'y'"):
        fastconv.InferenceSession(model)


def test_duplicate_graph_input_rejected():
    model = make_model([helper.make_node("Relu", ["x"], ["y"], name="a")],
                       [("x", np.float32, [2]), ("x", np.float32, [2])], [("y", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="twice"):
        fastconv.InferenceSession(model)


def test_undefined_graph_output_rejected():
    model = make_model([helper.make_node("Relu", ["x"], ["y"], name="a")], [("x", np.float32, [2])],
                       [("z", np.float32, [2])])
    with pytest.raises(InvalidModelError, match="'z'"):
        fastconv.InferenceSession(model)


def test_missing_opset_import_rejected():
    model = relu_add_model()
    del model.opset_import[:]
    with pytest.raises(InvalidModelError, match="opset"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("opset", [5, 99])
def test_opset_out_of_range_unsupported(opset):
    with pytest.raises(UnsupportedError, match="opset"):
        fastconv.InferenceSession(relu_add_model(opset=opset))


@pytest.mark.parametrize("opset", [7, 11, 13, 17])
def test_opsets_load_and_match(opset):
    model = relu_add_model(opset=opset)
    x = rand(*SHAPE, seed=opset)
    assert_matches_ort(model, {"x": x}, rtol=0, atol=0)


def test_newest_ir_version_loads():
    model = relu_add_model()
    model.ir_version = onnx.IR_VERSION
    x = rand(*SHAPE)
    (y,) = fastconv.InferenceSession(model).run(None, {"x": x})
    np.testing.assert_array_equal(y, expected(x, model))


def test_symbolic_batch_plans_once_per_shape():
    model = relu_add_model(batch="N")
    sess = fastconv.InferenceSession(model)
    assert sess.get_inputs()[0].shape == ["N"] + SHAPE[1:]
    assert len(sess._executors) == 0  # nothing to plan until a shape is known
    for batch in (1, 3, 1, 3, 3):
        x = rand(batch, *SHAPE[1:], seed=batch)
        (y,) = sess.run(None, {"x": x})
        assert y.shape == (batch, *SHAPE[1:])
        np.testing.assert_array_equal(y, expected(x, model))
    assert len(sess._executors) == 2
    plan1 = sess.plan_for({"x": (1, *SHAPE[1:])})
    assert plan1 is sess.plan_for({"x": [1, *SHAPE[1:]]})
    assert plan1 is not sess.plan_for({"x": (3, *SHAPE[1:])})
    assert plan1.infos["y"].shape == (1, *SHAPE[1:])
    assert len(sess._executors) == 2
    sess.plan_for({"x": (5, *SHAPE[1:])})
    assert len(sess._executors) == 3


def test_fixed_shapes_planned_at_load():
    sess = fastconv.InferenceSession(relu_add_model())
    assert len(sess._executors) == 1
    sess.run(None, {"x": rand(*SHAPE)})
    assert len(sess._executors) == 1


def test_symbolic_batch_matches_ort():
    model = relu_add_model(batch="N")
    for batch in (1, 3):
        assert_matches_ort(model, {"x": rand(batch, *SHAPE[1:], seed=batch)})
