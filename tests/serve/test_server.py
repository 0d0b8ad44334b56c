"""The server over real HTTP on 127.0.0.1: every endpoint, JSON and binary tensors, bad requests, concurrency."""
import gzip
import json
import os
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastconv
from fastconv.serve import ServedModel, Server
from fastconv.serve.protocol import HEADER_LENGTH

from ..util import rand
from .conftest import MAX_REQUEST_BYTES, MODELS, Client


def lenet_input(batch=1, seed=0):
    return rand(batch, 1, 28, 28, seed=seed)


def test_health_and_server_metadata(client):
    for path in ("/v2/health/live", "/v2/health/ready"):
        status, headers, body = client.request("GET", path)
        assert (status, body) == (200, b"")
    assert client.get("/v2") == (200, {"name": "fastconv", "version": "0.1.0", "extensions": ["binary_tensor_data"]})


def test_model_metadata_and_ready(client):
    want = {"name": "lenet5", "versions": ["1"], "platform": "fastconv_onnx",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 28, 28]}],
            "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}]}
    assert client.get("/v2/models/lenet5") == (200, want)
    assert client.get("/v2/models/lenet5/versions/1") == (200, want)
    status, meta = client.get("/v2/models/fixed")
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [2, 3]},
                              {"name": "y", "datatype": "FP32", "shape": [2, 3]}]
    assert [o["name"] for o in meta["outputs"]] == ["sum", "relu"]
    assert client.get("/v2/models/ints")[1]["inputs"] == [{"name": "a", "datatype": "INT64", "shape": [-1, 4]}]
    for path in ("/v2/models/lenet5/ready", "/v2/models/lenet5/versions/1/ready"):
        assert client.request("GET", path)[0] == 200


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("model,shape", [("lenet5", (3, 1, 28, 28)), ("resnet_small", (2, 3, 64, 64))])
def test_infer_matches_session(client, sessions, model, shape, binary):
    x = rand(*shape, seed=1)
    status, resp, outs = client.infer(model, {"input": x}, binary=binary, binary_outputs=binary, request_id="r-7")
    assert status == 200, resp
    assert (resp["model_name"], resp["model_version"], resp["id"]) == (model, "1", "r-7")
    assert resp["outputs"][0]["shape"] == [shape[0], 10] and resp["outputs"][0]["datatype"] == "FP32"
    assert ("parameters" in resp["outputs"][0]) == binary
    np.testing.assert_allclose(outs["probabilities"], sessions[model].run(None, {"input": x})[0], rtol=1e-4,
                               atol=1e-5)


def test_infer_json_nested_data_and_versioned_route(client, sessions):
    x = lenet_input(2, seed=3)
    status, resp = client.post_json("/v2/models/lenet5/versions/1/infer", {
        "inputs": [{"name": "input", "shape": [2, 1, 28, 28], "datatype": "FP32", "data": x.tolist()}]})
    assert status == 200, resp
    out = resp["outputs"][0]
    assert "id" not in resp and out["shape"] == [2, 10] and len(out["data"]) == 20  # flat, row-major
    np.testing.assert_allclose(np.array(out["data"], np.float32).reshape(2, 10),
                               sessions["lenet5"].run(None, {"input": x})[0], rtol=1e-4, atol=1e-5)


def test_requested_outputs_order_and_format(client):
    x, y = rand(2, 3, seed=4), rand(2, 3, seed=5)
    body = {"inputs": [{"name": "y", "shape": [2, 3], "datatype": "FP32", "data": y.ravel().tolist()},
                       {"name": "x", "shape": [2, 3], "datatype": "FP32", "data": x.ravel().tolist()}],
            "outputs": [{"name": "relu"}, {"name": "sum", "parameters": {"binary_data": True}}]}
    head = json.dumps(body).encode()
    status, headers, data = client.request("POST", "/v2/models/fixed/infer", head)
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    n = int(headers[HEADER_LENGTH.lower()])
    resp = json.loads(data[:n])
    relu, summed = resp["outputs"]
    assert relu["name"] == "relu" and "parameters" not in relu
    np.testing.assert_array_equal(np.array(relu["data"], np.float32).reshape(2, 3), np.maximum(x, 0))
    assert summed == {"name": "sum", "datatype": "FP32", "shape": [2, 3], "parameters": {"binary_data_size": 24}}
    np.testing.assert_array_equal(np.frombuffer(data[n:], "<f4").reshape(2, 3), x + y)
    # only one requested output, JSON: a plain JSON response
    body["outputs"] = [{"name": "sum"}]
    status, resp = client.post_json("/v2/models/fixed/infer", body)
    assert status == 200 and [o["name"] for o in resp["outputs"]] == ["sum"]


def test_integer_tensors(client):
    a = np.array([[1, -2, 3, 2**40], [0, 5, 6, 7]], np.int64)
    for binary in (False, True):
        status, resp, outs = client.infer("ints", {"a": a}, binary=binary, binary_outputs=binary)
        assert status == 200 and resp["outputs"][0]["datatype"] == "INT64"
        np.testing.assert_array_equal(outs["b"], a * 2)
    status, resp = client.post_json("/v2/models/ints/infer", {
        "inputs": [{"name": "a", "shape": [1, 4], "datatype": "INT64", "data": [1, 2.5, 3, 4]}]})
    assert status == 400 and "floating-point" in resp["error"]


def test_gzip_and_deflate_request_bodies(client, sessions):
    x = lenet_input(seed=6)
    body, headers = __import__("fastconv.serve.protocol", fromlist=["x"]).encode_request({"input": x})
    want = sessions["lenet5"].run(None, {"input": x})[0]
    for encoding, pack in (("gzip", gzip.compress), ("deflate", zlib.compress)):
        status, rh, data = client.request("POST", "/v2/models/lenet5/infer", pack(body),
                                          {**headers, "Content-Encoding": encoding})
        assert status == 200, data
        n = int(rh[HEADER_LENGTH.lower()])
        np.testing.assert_allclose(np.frombuffer(data[n:], "<f4").reshape(1, 10), want, rtol=1e-4, atol=1e-5)
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", b"not gzip", {"Content-Encoding": "gzip"})
    assert status == 400 and "decompressed" in json.loads(data)["error"]
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", body, {"Content-Encoding": "br"})
    assert status == 415


def infer_body(shape=(1, 1, 28, 28), datatype="FP32", name="input", data=None):
    n = int(np.prod(shape))
    return {"inputs": [{"name": name, "shape": list(shape), "datatype": datatype,
                        "data": [0.5] * n if data is None else data}]}


@pytest.mark.parametrize("body,status,words", [
    (infer_body(shape=(1, 1, 28, 27)), 400, ["shape [1, 1, 28, 27]", "[-1, 1, 28, 28]"]),
    (infer_body(shape=(1, 28, 28)), 400, ["shape [1, 28, 28]"]),
    (infer_body(datatype="FP64"), 400, ["datatype FP64", "FP32"]),
    (infer_body(datatype="BYTES"), 400, ["datatype BYTES"]),
    (infer_body(name="image"), 400, ["unknown input 'image'", "['input']"]),
    (infer_body(data=[0.5] * 783), 400, ["783 elements", "784"]),
    (infer_body(data=["a"] * 784), 400, ["non-numeric"]),
    (infer_body(data=[[0.5] * 28] * 27 + [[0.5]]), 400, ["ragged"]),
    ({"inputs": []}, 400, ["missing input(s) ['input']"]),
    ({"input": []}, 400, ["missing field 'inputs'"]),
    ({**infer_body(), "outputs": [{"name": "logits"}]}, 400, ["unknown output 'logits'"]),
    ({**infer_body(), "outputs": [{"name": "probabilities", "parameters": {"classification": 3}}]}, 400,
     ["classification"]),
    ({**infer_body(), "id": 5}, 400, ["'id' must be str"]),
    ({"inputs": [infer_body()["inputs"][0]] * 2}, 400, ["given twice"]),
])
def test_bad_requests(client, body, status, words):
    got, resp = client.post_json("/v2/models/lenet5/infer", body)
    assert got == status and set(resp) == {"error"}
    for w in words:
        assert w in resp["error"], resp["error"]


@pytest.mark.parametrize("body,headers,words", [
    (b'{"inputs": [', {}, ["malformed JSON"]),
    (b"[1, 2]", {}, ["JSON object"]),
    (b"\xff\xfe", {}, ["malformed JSON"]),
    (b"{}", {HEADER_LENGTH: "9"}, ["Inference-Header-Content-Length", "'9'"]),
    (b"{}", {HEADER_LENGTH: "x"}, ["Inference-Header-Content-Length"]),
])
def test_malformed_bodies(client, body, headers, words):
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", body, headers)
    assert status == 400
    for w in words:
        assert w in json.loads(data)["error"]


def test_binary_tensor_errors(client):
    x = lenet_input()
    head = {"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32",
                        "parameters": {"binary_data_size": 3136}}]}

    def post(obj, binary):
        h = json.dumps(obj).encode()
        status, _, data = client.request("POST", "/v2/models/lenet5/infer", h + binary, {HEADER_LENGTH: str(len(h))})
        return status, json.loads(data)

    assert post(head, x.tobytes())[0] == 200
    status, resp = post(head, x.tobytes()[:-4])
    assert status == 400 and "ends after 3132 of its 3136 bytes" in resp["error"]
    status, resp = post(head, x.tobytes() + b"\0\0")
    assert status == 400 and "2 bytes of binary data that no input claims" in resp["error"]
    head["inputs"][0]["parameters"]["binary_data_size"] = 3132
    status, resp = post(head, x.tobytes()[:-4])
    assert status == 400 and "needs 3136" in resp["error"]


def test_unknown_models_versions_and_routes(client):
    for path in ("/v2/models/nope", "/v2/models/nope/ready", "/v2/models/lenet5/versions/2",
                 "/v2/models/lenet5/versions/2/ready"):
        status, resp = client.get(path)
        assert status == 404 and set(resp) == {"error"}
    status, resp = client.post_json("/v2/models/nope/infer", infer_body())
    assert status == 404 and "unknown model 'nope'" in resp["error"] and "lenet5" in resp["error"]
    status, resp = client.get("/v1/models/lenet5")
    assert status == 404 and "no such route" in resp["error"]
    status, headers, data = client.request("GET", "/v2/models/lenet5/infer")
    assert status == 405 and headers["allow"] == "POST" and "allowed: POST" in json.loads(data)["error"]
    status, headers, data = client.request("POST", "/v2/health/live")
    assert status == 405 and set(json.loads(data)) == {"error"}


def test_oversize_body_is_413(client):
    body = b"{" + b" " * MAX_REQUEST_BYTES + b"}"
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", body)
    assert status == 413 and "limit of 1048576 bytes" in json.loads(data)["error"]
    # without Content-Length (http.client sends an iterable chunked), and as a gzip bomb: counted while reading
    chunks = iter([b"{", b" " * MAX_REQUEST_BYTES, b"}"])
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", chunks)
    assert status == 413
    bomb = gzip.compress(b" " * (4 * MAX_REQUEST_BYTES))
    status, _, data = client.request("POST", "/v2/models/lenet5/infer", bomb, {"Content-Encoding": "gzip"})
    assert status == 413


def test_empty_batch(client):
    status, resp = client.post_json("/v2/models/lenet5/infer", infer_body(shape=(0, 1, 28, 28)))
    assert status == 200 and resp["outputs"][0]["shape"] == [0, 10] and resp["outputs"][0]["data"] == []


class FaultySession(fastconv.InferenceSession):
    """Fails as told by the input's first value: 1 an InvalidInputError (the request's fault), 2 a bug."""

    def run(self, output_names, feeds, run_options=None):
        code = feeds["input"].ravel()[0]
        if code == 1:
            raise fastconv.InvalidInputError("input 'input' is not a digit")
        if code == 2:
            raise RuntimeError("kernel exploded")
        return super().run(output_names, feeds)


def test_run_errors_map_to_statuses(sessions):
    faulty = FaultySession(os.path.join(MODELS, "lenet5.onnx"), num_threads=1)
    srv = Server([ServedModel.from_session("faulty", faulty)], "127.0.0.1", 0).start()
    try:
        client = Client(srv.url)
        x = lenet_input(batch=1)
        for code, status, words in ((1, 400, "InvalidInputError: input 'input' is not a digit"),
                                    (2, 500, "internal error: RuntimeError: kernel exploded")):
            x.ravel()[0] = code
            got, resp, _ = client.infer("faulty", {"input": x})
            assert (got, resp) == (status, {"error": words})
        x.ravel()[0] = 0.5
        assert client.infer("faulty", {"input": x})[0] == 200  # the worker survived both
    finally:
        srv.stop()


def test_concurrent_requests_are_batched_and_correct(client, sessions, server):
    """Requests queued while the model is busy run as one batch; every client gets its own rows back."""
    gated = sessions["gated"]
    batcher = server.models.batchers["gated"]
    before = dict(batcher.stats)
    inputs = [lenet_input(batch=1 + k % 2, seed=10 + k) for k in range(6)]
    with ThreadPoolExecutor(6) as pool, gated.held():
        first = pool.submit(client.infer, "gated", {"input": inputs[0]})
        assert gated.entered.wait(10)
        rest = [pool.submit(client.infer, "gated", {"input": x}) for x in inputs[1:]]
        for _ in range(200):  # all five queued behind the busy worker
            if batcher.queued == 5:
                break
            threading.Event().wait(0.05)
        gated.gate.set()
        results = [first.result()] + [f.result() for f in rest]
    for x, (status, resp, outs) in zip(inputs, results):
        assert status == 200, resp
        np.testing.assert_allclose(outs["probabilities"], sessions["lenet5"].run(None, {"input": x})[0],
                                   rtol=1e-4, atol=1e-5)
    stats = {k: batcher.stats[k] - before.get(k, 0) for k in ("requests", "batches")}
    # rows 1,2,1,2,1,2: the first runs alone, the other five (8 rows) in one batch
    assert stats == {"requests": 6, "batches": 2}
    assert batcher.stats["largest_batch"] == 8


def test_concurrent_clients_get_their_own_results(client, sessions):
    def one(k):
        model = ("lenet5", "resnet_small", "fixed")[k % 3]
        if model == "fixed":
            feeds = {"x": rand(2, 3, seed=k), "y": rand(2, 3, seed=k + 1)}
        else:
            feeds = {"input": lenet_input(seed=k) if model == "lenet5" else rand(1, 3, 64, 64, seed=k)}
        status, resp, outs = client.infer(model, feeds, binary=k % 2 == 0, request_id=str(k))
        assert status == 200 and resp["id"] == str(k), resp
        want = sessions[model].run(None, feeds)
        for got, w in zip(outs.values(), want):
            np.testing.assert_allclose(got, w, rtol=1e-4, atol=1e-5)
        return k

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(one, range(48))) == list(range(48))


def test_health_answers_while_inference_is_busy(client, sessions):
    gated = sessions["gated"]
    with ThreadPoolExecutor(1) as pool, gated.held():
        busy = pool.submit(client.infer, "gated", {"input": lenet_input()})
        assert gated.entered.wait(10)
        for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/gated/ready"):
            assert client.request("GET", path, timeout=5)[0] == 200
        assert client.get("/v2/models/gated")[0] == 200
        assert client.infer("lenet5", {"input": lenet_input()})[0] == 200  # other models are not blocked
        assert not busy.done()
        gated.gate.set()
        assert busy.result()[0] == 200


def test_full_queue_is_503_and_stop_is_graceful(sessions):
    gated = sessions["gated"]
    srv = Server([ServedModel.from_session("gated", gated)], "127.0.0.1", 0, max_queue=1).start()
    client = Client(srv.url)
    try:
        with ThreadPoolExecutor(3) as pool, gated.held():
            running = pool.submit(client.infer, "gated", {"input": lenet_input()})
            assert gated.entered.wait(10)
            queued = pool.submit(client.infer, "gated", {"input": lenet_input(seed=1)})
            for _ in range(500):
                if srv.models.batchers["gated"].queued:
                    break
                threading.Event().wait(0.02)
            status, resp, _ = client.infer("gated", {"input": lenet_input(seed=2)})
            assert status == 503 and "queue" in resp["error"]
            stopping = pool.submit(srv.stop)
            for _ in range(200):  # uvicorn closes its listener on its next tick
                try:
                    client.request("GET", "/v2/health/live", timeout=5)
                except ConnectionRefusedError:
                    break
                except ConnectionError:  # accepted just before the listener closed, then closed idle
                    pass
                threading.Event().wait(0.05)
            else:
                pytest.fail("the server still accepts connections while stopping")
            assert not running.done() and not queued.done()
            gated.gate.set()
            assert running.result()[0] == 200 and queued.result()[0] == 200  # in-flight requests finish
            stopping.result(timeout=30)
    finally:
        srv.stop()
