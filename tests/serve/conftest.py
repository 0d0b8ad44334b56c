"""A real server on 127.0.0.1 (a free port, in this process) over the embedded models and small test models, and
a small stdlib HTTP client for it."""
import contextlib
import http.client
import json
import os
import threading

import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.serve import ServedModel, Server
from fastconv.serve.protocol import HEADER_LENGTH, decode_response, encode_request

from ..util import make_model

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "models")


class GatedSession(fastconv.InferenceSession):
    """A session whose runs wait until the test opens `gate`: a model busy for exactly as long as a test needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def run(self, *args, **kwargs):
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return super().run(*args, **kwargs)

    @contextlib.contextmanager
    def held(self):
        """Runs block inside `run` until the gate is opened, at the latest when the block ends."""
        self.entered.clear()
        self.gate.clear()
        try:
            yield self
        finally:
            self.gate.set()


def fixed_model():
    """Two inputs and two outputs, fixed shapes (no batch axis): queued, never batched."""
    nodes = [helper.make_node("Add", ["x", "y"], ["sum"]), helper.make_node("Relu", ["x"], ["relu"])]
    return make_model(nodes, [("x", np.float32, [2, 3]), ("y", np.float32, [2, 3])],
                      [("sum", np.float32, [2, 3]), ("relu", np.float32, [2, 3])])


def int_model():
    """INT64 in and out with a batch axis."""
    nodes = [helper.make_node("Mul", ["a", "two"], ["b"])]
    return make_model(nodes, [("a", np.int64, ["N", 4])], [("b", np.int64, ["N", 4])], {"two": np.int64(2)})


@pytest.fixture(scope="package")
def sessions():
    return {"lenet5": fastconv.InferenceSession(os.path.join(MODELS, "lenet5.onnx"), num_threads=1),
            "resnet_small": fastconv.InferenceSession(os.path.join(MODELS, "resnet_small.onnx"), num_threads=1),
            "fixed": fastconv.InferenceSession(fixed_model(), num_threads=1),
            "ints": fastconv.InferenceSession(int_model(), num_threads=1),
            "gated": GatedSession(os.path.join(MODELS, "lenet5.onnx"), num_threads=1)}


MAX_REQUEST_BYTES = 1 << 20


@pytest.fixture(scope="package")
def server(sessions):
    srv = Server([ServedModel.from_session(n, s) for n, s in sessions.items()], "127.0.0.1", 0,
                 max_request_bytes=MAX_REQUEST_BYTES, max_batch=8).start()
    yield srv
    srv.stop()


class Client:
    """One HTTP/1.1 connection per call, as a plain protocol client would open."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.host, self.port = host, int(port)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def get(self, path):
        status, _, body = self.request("GET", path)
        return status, (json.loads(body) if body else None)

    def post_json(self, path, obj):
        status, _, body = self.request("POST", path, json.dumps(obj).encode(),
                                             {"content-type": "application/json"})
        return status, json.loads(body)

    def infer(self, model, inputs, **kwargs):
        """(status, response JSON, {output: array}) for `inputs` sent with protocol.encode_request."""
        body, headers = encode_request(inputs, **kwargs)
        status, rh, data = self.request("POST", f"/v2/models/{model}/infer", body, headers)
        if status != 200:
            return status, json.loads(data), None
        resp, arrays = decode_response(data, rh.get(HEADER_LENGTH.lower()))
        return status, resp, arrays


@pytest.fixture(scope="package")
def client(server):
    return Client(server.url)
