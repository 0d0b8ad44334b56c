"""InferenceSession.profile and `fastconv bench` (latency, onnxruntime comparison, per-layer profile, plot)."""
import json
import os

import numpy as np
import pytest

import fastconv
from fastconv import cli
from fastconv.tools import bench
from tests.models import zoo

LENET = zoo.CASES["lenet5"].path(None)
RESNET_SMALL = zoo.CASES["resnet_small"].path(None)


def test_profile_per_node():
    sess = fastconv.InferenceSession(RESNET_SMALL, num_threads=1)
    x = {"input": np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)}
    p = sess.profile(x, iterations=3)
    plan = sess.plan_for({"input": (2, 3, 64, 64)})
    assert len(p.steps) == len(plan.steps) and p.iterations == 3 and p.num_threads == 1
    assert all(s.times.shape == (3,) and (s.times > 0).all() for s in p.steps)
    assert p.steps[0].nodes == ["conv0", "bn0", "relu0"] and p.steps[0].op_type == "Conv"
    assert p.steps[0].shape == (2, 16, 64, 64)
    assert sum(s.macs for s in p.steps) == fastconv.summary(sess, {"input": (2, 3, 64, 64)}).macs
    assert p.steps[0].gflops == pytest.approx(2 * p.steps[0].macs / p.steps[0].median_s / 1e9)
    assert p.steps[-1].gflops is None                     # Softmax: no MACs
    assert p.total_s == pytest.approx(sum(s.median_s for s in p.steps)) and p.run_s > 0
    assert set(p.by_op_type()) == {"Conv", "MaxPool", "GlobalAveragePool", "Reorder", "Flatten", "Softmax"}
    text = p.format(top=3)
    slowest = sorted(p.steps, key=lambda s: -s.median_s)[:3]
    assert "(14 faster steps not shown)" in text
    assert sorted(int(line.split()[0]) for line in text.splitlines()[2:5]) == sorted(s.step for s in slowest)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["steps"][0]["macs"] == p.steps[0].macs and len(d["steps"]) == 17


def test_profile_random_inputs_and_symbolic_model():
    sess = fastconv.InferenceSession(LENET, num_threads=1)
    p = sess.profile(iterations=1)
    assert "input[1, 1, 28, 28]" in p.label and len(p.steps) == len(sess.plan_for({"input": (1, 1, 28, 28)}).steps)


def test_benchmark_against_onnxruntime():
    r = bench.benchmark(RESNET_SMALL, compare="onnxruntime", num_threads=1, iterations=4, warmup=1,
                        profile_iterations=2, progress=False)
    assert set(r.latency) == {"fastconv", "onnxruntime"} and r.batch == 1
    for lat in r.latency.values():
        st = lat.stats()
        assert lat.times.size == 4 and st["min_ms"] <= st["median_ms"] <= st["p90_ms"] <= st["p99_ms"]
        assert st["throughput_per_s"] == pytest.approx(1e3 / st["mean_ms"])
    assert r.ratio == pytest.approx(np.median(r.latency["fastconv"].times) / np.median(r.latency["onnxruntime"].times))
    assert r.peak_gflops > 0 and r.profile.iterations == 2
    # every onnxruntime node but the one reorder it adds matches a fastconv step
    assert [(n.op, n.reason) for n in r.ort_other] == [("ReorderOutput", "added by onnxruntime")]
    rows = r.layer_rows()
    assert all(row["onnxruntime_ms"] > 0 for row in rows if row["op"].startswith("Conv")), r.format()
    assert rows[0]["peak_fraction"] == pytest.approx(rows[0]["gflops"] / r.peak_gflops)
    assert sum(row["share"] for row in rows) == pytest.approx(1.0)
    text = r.format()
    for fragment in ("p99 ms", "fastconv / onnxruntime (median)", "% peak", "onnxruntime ms",
                     "ReorderOutput x1"):
        assert fragment in text
    d = json.loads(json.dumps(r.to_dict()))
    assert d["latency"]["onnxruntime"]["runs"] == 4 and len(d["layers"]) == 17 and d["interleaved"]


def test_ort_profile_matching(tmp_path):
    """onnxruntime's names for the nodes it rewrites: '<name>_nchwc', 'fused <name>', '<name>/<Kind>Fusion/',
    '<output>_bn_nchwc', or a fused node's output; its own nodes ('ReorderOutput') match no step."""
    sess = fastconv.InferenceSession(RESNET_SMALL)
    plan, graph = sess.plan_for({"input": (1, 3, 64, 64)}), sess.graph
    events = [{"cat": "Session", "name": "model_run", "dur": 500}]
    for run in range(3):
        for name, op, us in (("relu0_nchwc", "Conv", 10 + run), ("maxpool0", "MaxPool", 4),
                             ("bn4_bn_nchwc", "Conv", 3), ("gap0/PoolFusion/", "GlobalAveragePool", 1),
                             ("fused fc0", "FusedGemm", 5), ("probabilities", "Softmax", 2),
                             ("ReorderOutput", "ReorderOutput", 1)):
            events.append({"cat": "Node", "name": f"{name}_kernel_time", "dur": us, "args": {"op_name": op}})
    path = tmp_path / "prof.json"
    path.write_text(json.dumps(events))
    per_step, other = bench._ort_per_step(str(path), plan, graph, runs=2)
    assert per_step[0] == pytest.approx(11.5e-6) and per_step[1] == pytest.approx(4e-6)
    assert per_step[5] == pytest.approx(3e-6) and per_step[13] == pytest.approx(1e-6)
    assert per_step[15] == pytest.approx(5e-6) and per_step[16] == pytest.approx(2e-6)
    assert per_step.sum() == pytest.approx(26.5e-6)
    assert other == [bench.OrtNode("ReorderOutput", "ReorderOutput", 1e-6, "added by onnxruntime")]
    assert not path.exists()


def test_duration_batch_and_progress(capsys, monkeypatch):
    monkeypatch.setenv("FASTCONV_PROGRESS", "1")
    r = bench.benchmark(LENET, batch=3, duration=0.2, num_threads=1, warmup=1, profile_iterations=0)
    assert r.inputs == {"input": (3, 1, 28, 28)} and r.batch == 3 and r.profile is None
    assert r.latency["fastconv"].times.sum() < 0.4 and r.latency["fastconv"].times.size >= 1
    assert r.latency["fastconv"].stats()["throughput_per_s"] == pytest.approx(
        3e3 / r.latency["fastconv"].stats()["mean_ms"])
    err = capsys.readouterr().err
    assert "fastconv: timing lenet5.onnx [" in err and " runs, " in err


def test_batch_of_a_fixed_batch_model_is_refused(tmp_path, capsys):
    path = zoo.light_model_path("squeezenet", 1)
    assert cli.main(["bench", path, "--batch", "2", "-n", "1"]) == 2
    err = capsys.readouterr().err
    assert "fixed batch dimension of 1" in err and len(err.strip().splitlines()) == 1


def test_cli_bench_json(capsys):
    assert cli.main(["bench", LENET, "--compare", "onnxruntime", "-n", "3", "--warmup", "1", "-t", "1",
                     "--profile-iterations", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["latency"]["fastconv"]["runs"] == 3 and d["ratio"] > 0 and len(d["layers"]) == 8   # lenet5: 8 steps after Gemm+Relu and Flatten+Gemm fusion
    assert d["layers"][0]["nodes"] == ["conv0", "relu0"] and d["layers"][0]["onnxruntime_ms"] > 0


def test_cli_bench_plot(tmp_path, capsys):
    out = tmp_path / "lenet.png"
    assert cli.main(["bench", LENET, "--compare", "onnxruntime", "-n", "2", "--warmup", "1", "-t", "1",
                     "--profile-iterations", "1", "--plot", str(out), "--top", "3"]) == 0
    text = capsys.readouterr().out
    assert f"plot: {out}" in text and "(5 faster steps not shown" in text
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_cli_plot_without_matplotlib(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kw):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert cli.main(["bench", LENET, "--plot", str(tmp_path / "x.png")]) == 2
    assert "pip install 'fastconv[plot]'" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.png")


@pytest.mark.parametrize("argv,fragment", [
    (["--iterations", "0"], "--iterations"),
    (["--duration", "0"], "--duration"),
    (["--warmup", "-1"], "--warmup"),
    (["--batch", "0"], "--batch"),
    (["--plot", "x.png", "--profile-iterations", "0"], "--profile-iterations"),
])
def test_cli_bench_bad_arguments(argv, fragment, capsys):
    assert cli.main(["bench", LENET, *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1
