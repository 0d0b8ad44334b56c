"""`fastconv serve` as a command: SIGTERM / SIGINT stop it gracefully (the listener closes at once, a request in
flight still gets its answer) and it exits 0; usage errors are one line, exit status 2."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import fastconv
from fastconv import cli
from fastconv.serve.protocol import HEADER_LENGTH, decode_response, encode_request

from ..util import rand
from .conftest import MODELS

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def start_cli(*args):
    proc = subprocess.Popen([sys.executable, "-m", "fastconv.cli", "serve", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            return proc, int(m.group(1)), lines
    proc.wait(10)
    pytest.fail("the server did not start:\n" + "".join(lines))


def read_response(sock) -> tuple[int, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers = {k.lower(): v for k, v in headers.items()}
    n = int(headers.get("content-length", 0))
    while len(body) < n:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_gracefully(sig):
    proc, port, lines = start_cli(os.path.join(MODELS, "lenet5.onnx"), "--port", "0", "--threads", "1")
    try:
        x = rand(2, 1, 28, 28, seed=3)
        body, headers = encode_request({"input": x})
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = ["POST /v2/models/lenet5/infer HTTP/1.1", f"Host: 127.0.0.1:{port}", "Expect: 100-continue",
                f"Content-Length: {len(body)}", f"{HEADER_LENGTH}: {headers[HEADER_LENGTH]}"]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        assert read_response(sock)[0] == 100  # the app is reading this request's body: it is in flight
        sock.sendall(body[:100])
        proc.send_signal(sig)
        for _ in range(100):  # new connections are refused soon after the signal ...
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            except ConnectionRefusedError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server still accepts connections after the signal")
        assert proc.poll() is None  # ... while the request in flight is still served
        sock.sendall(body[100:])
        status, rh, data = read_response(sock)
        assert status == 200, data
        _, outs = decode_response(data, rh[HEADER_LENGTH.lower()])
        want = fastconv.InferenceSession(os.path.join(MODELS, "lenet5.onnx"), num_threads=1).run(None, {"input": x})
        np.testing.assert_allclose(outs["probabilities"], want[0], rtol=1e-4, atol=1e-5)
        sock.close()
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, "".join(lines) + out
        assert "fastconv serve: stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_errors_are_one_line(capsys):
    lenet = os.path.join(MODELS, "lenet5.onnx")
    busy = socket.create_server(("127.0.0.1", 0))
    try:
        for args, words in ((["no/such/model.onnx"], "model file not found"),
                            (["bad/name=" + lenet], "model name 'bad/name'"),
                            ([lenet, lenet], "two models are named 'lenet5'"),
                            (["--port", "70000", lenet], "--port must be from 0 to 65535"),
                            (["--port", str(busy.getsockname()[1]), lenet], "Address already in use")):
            assert cli.main(["serve", *args]) == 2
            err = capsys.readouterr().err
            assert words in err and len(err.strip().splitlines()) == 1, err
    finally:
        busy.close()


def test_missing_extra_is_a_clear_error(monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "fastconv.serve" or m.startswith("fastconv.serve.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    assert cli.main(["serve", os.path.join(MODELS, "lenet5.onnx")]) == 2
    err = capsys.readouterr().err
    assert "needs the 'serve' extra (uvicorn is missing): pip install 'fastconv[serve]'" in err, err
