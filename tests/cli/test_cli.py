"""`fastconv run` and `fastconv verify`: output, exit statuses, one-line errors."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper

import fastconv
from fastconv import cli
from fastconv.tools import verify

from ..util import make_model, rand


def relu_add(batch="N"):
    b = rand(3, 1, 1, seed=5)
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "b"], ["y"])]
    return make_model(nodes, [("x", np.float32, [batch, 3, "H", "W"])], [("y", np.float32, None)], {"b": b}), b


@pytest.fixture
def model_file(tmp_path):
    model, b = relu_add()
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return str(path), b


def two_inputs_file(tmp_path):
    nodes = [helper.make_node("Add", ["x", "y"], ["s"])]
    model = make_model(nodes, [("x", np.float32, [2, 3]), ("y", np.float32, [2, 3])], [("s", np.float32, [2, 3])])
    path = tmp_path / "two.onnx"
    onnx.save(model, path)
    return str(path)


def unsupported_file(tmp_path):
    nodes = [helper.make_node("StringNormalizer", ["x"], ["a"], name="sn"),
             helper.make_node("Frobnicate", ["a"], ["y"], name="fz", domain="com.example")]
    model = make_model(nodes, [("x", np.float32, [2])], [("y", np.float32, [2])])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    return str(path)


def test_run_random_inputs(model_file, capsys):
    path, _ = model_file
    assert cli.main(["run", path, "--input-shape", "x=2x3x8x6", "--iterations", "3", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "x: float32[2x3x8x6]" in out
    assert "y: float32[2x3x8x6]" in out
    for word in ("min", "max", "mean", "std", "first run", "median of 3 runs", "threads: 1"):
        assert word in out


def test_run_default_symbolic_dims(model_file, capsys):
    # batch-like first dim -> 1, other symbolic dims -> verify.DEFAULT_DIM
    assert cli.main(["run", model_file[0], "-n", "1"]) == 0
    d = verify.DEFAULT_DIM
    assert f"x: float32[1x3x{d}x{d}]" in capsys.readouterr().out


def test_run_with_npy_inputs(model_file, tmp_path, capsys):
    path, b = model_file
    x = rand(2, 3, 4, 5, seed=11)
    np.save(tmp_path / "x.npy", x)
    y = np.maximum(x, 0) + b
    for arg in (f"x={tmp_path / 'x.npy'}", str(tmp_path / "x.npy")):  # NAME= optional with one input
        assert cli.main(["run", path, "--input", arg, "-n", "2"]) == 0
        out = capsys.readouterr().out
        assert "x: float32[2x3x4x5]" in out
        assert f"min {y.min():.6g}" in out and f"max {y.max():.6g}" in out
        assert f"mean {float(y.astype(np.float64).mean()):.6g}" in out


def test_run_two_inputs_needs_names(tmp_path, capsys):
    path = two_inputs_file(tmp_path)
    np.save(tmp_path / "a.npy", rand(2, 3))
    assert cli.main(["run", path, "--input", f"x={tmp_path / 'a.npy'}", "-n", "1"]) == 0
    capsys.readouterr()
    assert cli.main(["run", path, "--input", str(tmp_path / "a.npy")]) == 2
    err = capsys.readouterr().err
    assert "NAME=" in err and len(err.strip().splitlines()) == 1


def test_run_default_model(capsys):
    import fastconv.models

    path = os.path.join(os.path.dirname(fastconv.models.__file__), cli.DEFAULT_MODEL)
    code = cli.main(["run", "-n", "1"])
    out, err = capsys.readouterr()
    if os.path.isfile(path):
        assert code == 0 and cli.DEFAULT_MODEL in out
    else:
        assert code == 2 and cli.DEFAULT_MODEL in err and "not installed" in err


def test_run_default_model_missing(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "DEFAULT_MODEL", "no_such_model.onnx")
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "no_such_model.onnx" in err and "not installed" in err and len(err.strip().splitlines()) == 1


def test_verify_match(model_file, capsys):
    assert cli.main(["verify", model_file[0], "-s", "x=1x3x6x7", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "1x3x6x7" in out and "allclose" in out


def test_verify_json(model_file, capsys):
    assert cli.main(["verify", model_file[0], "-s", "2x3x4x4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["inputs"]["x"] == {"shape": [2, 3, 4, 4], "dtype": "float32"}
    (o,) = report["outputs"]
    assert o["name"] == "y" and o["shape"] == [2, 3, 4, 4] and o["passed"] and o["max_abs_diff"] == 0


class Perturbed(fastconv.InferenceSession):
    """fastconv with an injected error on every output, to exercise the mismatch path."""

    def run(self, output_names, input_feed, run_options=None):
        return [a + np.asarray(1e-3, a.dtype) for a in super().run(output_names, input_feed, run_options)]


def test_verify_mismatch_exit_1(model_file, capsys, monkeypatch):
    monkeypatch.setattr(verify, "InferenceSession", Perturbed)
    assert cli.main(["verify", model_file[0], "-s", "x=1x3x4x4"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "FAIL" in out
    # the same error passes under a looser tolerance
    assert cli.main(["verify", model_file[0], "-s", "x=1x3x4x4", "--atol", "2e-3"]) == 0
    capsys.readouterr()
    assert cli.main(["verify", model_file[0], "-s", "x=1x3x4x4", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["outputs"][0]["max_abs_diff"] == pytest.approx(1e-3, rel=1e-3)


@pytest.mark.parametrize("argv,fragment", [
    (["verify", "MISSING.onnx"], "not found"),
    (["run", "MISSING.onnx"], "not found"),
    (["verify", "BAD"], "UnsupportedError: 2 unsupported node(s): node 'sn'"),
    (["run", "BAD"], "Frobnicate"),
    (["run", "MODEL", "-s", "z=1x2"], "no input 'z'"),
    (["run", "MODEL", "-s", "x=1xAx3"], "expected dimensions"),
    (["run", "MODEL", "-s", "x=1x3"], "rank"),
    (["run", "MODEL", "-i", "x=MISSING.npy"], "cannot read"),
    (["run", "MODEL", "--threads", "0"], "--threads"),
    (["verify", "NOTONNX"], "InvalidModelError"),
])
def test_errors_exit_2_with_one_line(tmp_path, model_file, capsys, argv, fragment):
    (tmp_path / "junk.onnx").write_bytes(b"not a model at all")
    subst = {"MISSING.onnx": str(tmp_path / "missing.onnx"), "BAD": unsupported_file(tmp_path),
             "MODEL": model_file[0], "x=MISSING.npy": f"x={tmp_path / 'missing.npy'}",
             "NOTONNX": str(tmp_path / "junk.onnx")}
    assert cli.main([subst.get(a, a) for a in argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("fastconv: error: ") and fragment in lines[0]
    assert "Traceback" not in captured.err


def test_wrong_npy_dtype_exit_2(model_file, tmp_path, capsys):
    np.save(tmp_path / "x.npy", rand(1, 3, 2, 2).astype(np.float64))
    assert cli.main(["verify", model_file[0], "-i", f"x={tmp_path / 'x.npy'}"]) == 2
    err = capsys.readouterr().err
    assert "InvalidInputError" in err and "float32" in err


def test_verify_ort_failure_exit_2(model_file, capsys, monkeypatch):
    def refuse(proto, threads):
        raise verify.VerifyError("onnxruntime is not installed (pip install 'fastconv[verify]')")

    monkeypatch.setattr(verify, "_ort_session", refuse)
    assert cli.main(["verify", model_file[0], "-s", "1x3x2x2"]) == 2
    assert "onnxruntime is not installed" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "verify" in capsys.readouterr().out


def test_installed_script(model_file):
    exe = shutil.which("fastconv")
    if exe is None:
        pytest.skip("the fastconv console script is not on PATH")
    proc = subprocess.run([exe, "verify", model_file[0], "--input-shape", "x=1x3x5x5", "--json", "--threads", "1"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_module_entry_point(model_file):
    proc = subprocess.run([sys.executable, "-m", "fastconv.cli", "verify", os.devnull], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.startswith("fastconv: error: ")
