"""Layerwise verify and the intermediate values it reads (InferenceSession.intermediates, Executor.run_each)."""
import json

import numpy as np
import pytest

import fastconv
from fastconv import cli
from fastconv.tools import verify
from tests.models import zoo

RESNET_SMALL = zoo.CASES["resnet_small"].path(None)
BAD_STEP = 5     # resnet_small: conv4 + bn4, a conv whose output feeds a residual Add


def feeds(shape=(1, 3, 64, 64), seed=0):
    return {"input": np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}


def test_intermediates_hold_every_step_output():
    sess = fastconv.InferenceSession(RESNET_SMALL, num_threads=1)
    x = feeds()
    values = sess.intermediates(x)
    plan = sess.plan_for({"input": (1, 3, 64, 64)})
    onnx_of = {twin: name for name, twin in plan.blocked.items()}   # NCHWc values are reported unblocked
    assert plan.blocked and all(values[n].shape == plan.infos[n].shape for n in plan.blocked)
    expected = ["input"]
    for st in plan.steps:
        for o in st.node.outputs:
            if onnx_of.get(o, o) not in expected:
                expected.append(onnx_of.get(o, o))
    assert list(values) == expected
    (y,) = sess.run(None, x)
    np.testing.assert_array_equal(values["probabilities"], y)
    assert "conv0" not in values and "bn0" not in values and "relu0" in values   # fused away: conv0 + bn0 + relu0
    # a normal run afterwards is unaffected
    np.testing.assert_array_equal(sess.run(None, x)[0], y)


def test_intermediates_match_a_reference_recomputation():
    """relu0 = relu(bn0(conv0(x))) recomputed with numpy from the model's weights: the first step's output, still
    intact after every later step ran (in a normal run its arena buffer is reused)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(RESNET_SMALL)
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    nodes = {n.name: n for n in m.graph.node}
    x = feeds(seed=3)
    got = fastconv.InferenceSession(RESNET_SMALL, num_threads=1).intermediates(x)["relu0"]
    conv, bn = nodes["conv0"], nodes["bn0"]
    wt, b = w[conv.input[1]], w[conv.input[2]] if len(conv.input) > 2 else 0
    xp = np.pad(x["input"].astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))      # 1,3,64,64,3,3
    y = np.einsum("nchwij,ocij->nohw", cols, wt) + np.reshape(b, (1, -1, 1, 1))
    scale, bias, mean, var = (w[i].reshape(1, -1, 1, 1) for i in bn.input[1:5])
    eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
    ref = np.maximum((y - mean) / np.sqrt(var + eps) * scale + bias, 0)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_run_each_times_every_step():
    sess = fastconv.InferenceSession(RESNET_SMALL, num_threads=1)
    executor, x = sess.executor_for_feed(feeds())
    times = np.zeros(len(executor.plan.steps))
    executor.run_each(x, times=times)
    executor.run_each(x, times=times)          # adds up
    assert (times > 0).all()


def test_layerwise_match():
    report = verify.compare_layerwise(RESNET_SMALL, num_threads=1)
    assert report.ok and report.first_failure is None
    plan = fastconv.InferenceSession(RESNET_SMALL).plan_for({"input": (1, 3, 64, 64)})
    assert [r.step for r in report.rows] == list(range(len(plan.steps)))
    first = report.rows[0]
    assert first.nodes == ["conv0", "bn0", "relu0"] and first.op == "Conv+BatchNormalization+Relu"
    assert report.fused_away["conv0"] == 0 and report.fused_away["bn0"] == 0
    assert report.rows[-1].graph_output and not report.rows[0].graph_output
    for r in report.rows:
        assert r.local.rel_l2 < 1e-5 and r.comparison.rel_l2 < 1e-5
    text = report.format()
    assert "step 0: conv0 + bn0 + relu0" in text and text.splitlines()[-1].startswith("OK: 17/17 values")


class Broken(fastconv.InferenceSession):
    """fastconv with an error injected into one step's output (in place, so arena and fresh buffers alike)."""

    def _executor_for(self, shapes, feeds=None):
        ex = super()._executor_for(shapes, feeds)
        if not getattr(ex, "broken", False):
            fn = ex.plan.steps[BAD_STEP].fn

            def bad(*args, **kw):
                outs = fn(*args, **kw)
                outs[0][0, 0, 0, :2] += np.float32(0.05)
                return outs

            ex._fns[BAD_STEP] = ex.plan.steps[BAD_STEP].fn = bad
            ex.broken = True
        return ex


def test_layerwise_names_the_first_divergent_node(monkeypatch):
    monkeypatch.setattr(verify, "InferenceSession", Broken)
    report = verify.compare_layerwise(RESNET_SMALL, num_threads=1)
    assert not report.ok
    first = report.first_failure
    assert first.step == BAD_STEP and first.nodes == ["conv4", "bn4"] and not first.local.passed
    assert first.local.max_abs_diff == pytest.approx(0.05, rel=1e-3)
    before, after = report.rows[:BAD_STEP], report.rows[BAD_STEP + 1:]
    assert all(r.passed for r in before)
    # later steps inherit the error but compute correctly from onnxruntime's inputs
    assert all(r.local.passed for r in after) and not after[0].comparison.passed
    assert "first divergence at step 5: node conv4 + bn4 (Conv+BatchNormalization), output bn4" in report.format()


def test_cli_layerwise(monkeypatch, capsys):
    assert cli.main(["verify", RESNET_SMALL, "--layerwise", "-t", "1"]) == 0
    out = capsys.readouterr().out
    assert "local rel L2" in out and "Conv+BatchNormalization+Add+Relu" in out and "OK: 17/17" in out
    monkeypatch.setattr(verify, "InferenceSession", Broken)
    assert cli.main(["verify", RESNET_SMALL, "--layerwise", "--json", "-s", "2x3x64x64"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["ok"] is False and d["first_failure"]["step"] == BAD_STEP and d["inputs"]["input"]["shape"][0] == 2
    assert d["values"][BAD_STEP]["local"]["passed"] is False and d["fused_away"]["conv4"] == BAD_STEP


@pytest.mark.parametrize("name", ["lenet5", "unet_small"])
def test_layerwise_embedded(name):
    report = verify.compare_layerwise(zoo.CASES[name].path(None), num_threads=2, input_shapes={"input": (
        2, *zoo.CASES[name].shapes[0][1:])})
    assert report.ok, report.format()
    assert report.rows[-1].comparison.shape[0] == 2
