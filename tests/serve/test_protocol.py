"""The wire format alone (no HTTP): every datatype both ways, JSON and binary, and what is refused."""
import json

import numpy as np
import pytest

from fastconv.serve.protocol import (
    DATATYPES,
    HEADER_LENGTH,
    InferRequest,
    ProtocolError,
    TensorSpec,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
)


def sample(dtype, shape=(2, 3)):
    rng = np.random.default_rng(0)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


def roundtrip(inputs: dict, specs, binary, outputs=None):
    body, headers = encode_request(inputs, binary=binary)
    return decode_request(body, headers.get(HEADER_LENGTH), specs, outputs or specs)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("name", sorted(DATATYPES))
def test_every_datatype_both_ways(name, binary):
    dtype = DATATYPES[name]
    a = sample(dtype)
    spec = TensorSpec("a", dtype, (None, 3))
    req = roundtrip({"a": a}, [spec], binary)
    assert req.inputs["a"].dtype == dtype
    np.testing.assert_array_equal(req.inputs["a"], a)
    req.binary = {"a": binary}
    body, headers = encode_response("m", "1", req, {"a": a})
    resp, arrays = decode_response(body, headers.get(HEADER_LENGTH))
    assert resp["outputs"][0]["datatype"] == name and resp["outputs"][0]["shape"] == [2, 3]
    assert arrays["a"].dtype == dtype
    np.testing.assert_array_equal(arrays["a"], a)
    assert headers["content-type"] == ("application/octet-stream" if binary else "application/json")


def request(data, datatype="FP32", shape=(2, 2), **extra):
    return json.dumps({"inputs": [{"name": "a", "shape": list(shape), "datatype": datatype, "data": data}],
                       **extra}).encode()


def test_nested_and_flat_data_are_the_same_tensor():
    spec = [TensorSpec("a", np.dtype(np.float32), (2, 2))]
    flat = decode_request(request([1, 2, 3, 4.5]), None, spec, spec).inputs["a"]
    nested = decode_request(request([[1, 2], [3, 4.5]]), None, spec, spec).inputs["a"]
    np.testing.assert_array_equal(flat, nested)
    np.testing.assert_array_equal(flat, np.array([[1, 2], [3, 4.5]], np.float32))


@pytest.mark.parametrize("datatype,data,words", [
    ("INT8", [1, 2, 3, 300], "out of the range of INT8"),
    ("UINT8", [1, 2, 3, -1], "out of the range of UINT8"),
    ("INT32", [1, 2, 3, 0.5], "floating-point numbers, not valid for INT32"),
    ("UINT64", [-1, 2**64 - 1, 0, 0], "not UINT64 integers"),
    ("FP32", [True, False, True, True], "booleans, not valid for FP32"),
    ("BOOL", [1, 0, 1, 1], "integers, not valid for BOOL"),
    ("FP32", [1, 2, 3, None], "non-numeric values"),
    ("FP32", [1, 2, 3, "4"], "non-numeric values"),
    ("FP32", {"a": 1}, "must be a JSON array"),
])
def test_json_data_checks(datatype, data, words):
    spec = [TensorSpec("a", DATATYPES[datatype], (2, 2))]
    with pytest.raises(ProtocolError, match=words):
        decode_request(request(data, datatype), None, spec, spec)


def test_binary_bool_must_be_0_or_1():
    spec = [TensorSpec("a", np.dtype(np.bool_), (3,))]
    head = json.dumps({"inputs": [{"name": "a", "shape": [3], "datatype": "BOOL",
                                   "parameters": {"binary_data_size": 3}}]}).encode()
    assert decode_request(head + b"\x00\x01\x01", str(len(head)), spec, spec).inputs["a"].tolist() == [0, 1, 1]
    with pytest.raises(ProtocolError, match="bytes 0 and 1"):
        decode_request(head + b"\x00\x02\x01", str(len(head)), spec, spec)


def test_binary_and_json_inputs_mix_in_one_request():
    specs = [TensorSpec("a", np.dtype(np.float32), (2,)), TensorSpec("b", np.dtype(np.int64), (2,)),
             TensorSpec("c", np.dtype(np.float32), (1,))]
    a, b = np.array([1.5, 2], np.float32), np.array([7, -8], np.int64)
    head = json.dumps({"inputs": [
        {"name": "a", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
        {"name": "c", "shape": [1], "datatype": "FP32", "data": [3]},
        {"name": "b", "shape": [2], "datatype": "INT64", "parameters": {"binary_data_size": 16}}]}).encode()
    req = decode_request(head + a.tobytes() + b.tobytes(), str(len(head)), specs, specs)
    np.testing.assert_array_equal(req.inputs["a"], a)
    np.testing.assert_array_equal(req.inputs["b"], b)
    assert req.inputs["c"].tolist() == [3.0]


def test_output_selection_and_binary_flags():
    specs = [TensorSpec("a", np.dtype(np.float32), (1,))]
    outs = [TensorSpec("p", np.dtype(np.float32), (1,)), TensorSpec("q", np.dtype(np.float32), (1,))]
    base = {"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}]}

    def decode(**extra):
        return decode_request(json.dumps({**base, **extra}).encode(), None, specs, outs)

    assert decode().outputs == ["p", "q"] and decode().binary == {"p": False, "q": False}
    req = decode(parameters={"binary_data_output": True, "priority": 3})
    assert req.binary == {"p": True, "q": True} and req.parameters["priority"] == 3
    req = decode(parameters={"binary_data_output": True},
                 outputs=[{"name": "q", "parameters": {"binary_data": False}}, {"name": "p"}])
    assert req.outputs == ["q", "p"] and req.binary == {"q": False, "p": True}
    with pytest.raises(ProtocolError, match="requested twice"):
        decode(outputs=[{"name": "q"}, {"name": "q"}])
    with pytest.raises(ProtocolError, match="'binary_data_output' must be bool"):
        decode(parameters={"binary_data_output": 1})


@pytest.mark.parametrize("shape,words", [
    ([2, -1], "non-negative integers"), ([2, True], "non-negative integers"), ([2, 2.0], "non-negative integers"),
    ([2, 2, 1], "the model expects [-1, 2]"), ([2, 3], "the model expects [-1, 2]"),
])
def test_shape_checks(shape, words):
    spec = [TensorSpec("a", np.dtype(np.float32), (None, 2))]
    with pytest.raises(ProtocolError, match=words.replace("[", r"\[")):
        decode_request(request([0] * 4, shape=shape), None, spec, spec)


def test_response_keeps_request_id_and_output_order():
    req = InferRequest({}, ["q", "p"], {"q": False, "p": True}, id="42")
    body, headers = encode_response("m", "1", req, {"p": np.ones(2, np.float32), "q": np.zeros(1, np.int64)})
    resp, arrays = decode_response(body, headers[HEADER_LENGTH])
    assert resp["id"] == "42" and [o["name"] for o in resp["outputs"]] == ["q", "p"]
    assert resp["outputs"][0]["data"] == [0] and resp["outputs"][1]["parameters"] == {"binary_data_size": 8}
