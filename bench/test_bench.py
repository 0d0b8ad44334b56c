"""pytest-benchmark entries: every layer of bench/kernels.py and every model of bench/models.py, under fastconv and
under onnxruntime, grouped so that each group holds both engines of one layer or model at one thread count.

    pytest bench/test_bench.py --benchmark-enable                      # everything (long)
    pytest bench/test_bench.py --benchmark-enable -k "resnet50 and 2t"  # a subset
    pytest bench/test_bench.py --benchmark-enable --benchmark-json out.json

The scripts (bench/kernels.py, bench/models.py) interleave the two engines run by run and write the committed
tables; these entries time each engine in its own loop, pytest-benchmark's way (compare within a group; on a
2-core machine run nothing else meanwhile). Not collected by the test suite (testpaths = tests).
"""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(REPO, ".numba_cache"))  # the test suite's cache

import fastconv  # noqa: E402
from tests.models import zoo  # noqa: E402


def _script(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", os.path.join(REPO, "bench", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


kernels = _script("kernels")
LAYERS = kernels.all_layers()
ENGINES = ("fastconv", "onnxruntime")
THREADS = (1, 2)


def _sessions(model, threads: int, engine: str):
    if engine == "fastconv":
        sess = fastconv.InferenceSession(model, num_threads=threads)
        return lambda feeds: sess.run(None, feeds)
    sess = zoo.ort_session(model if isinstance(model, str) else model.SerializeToString(), threads, spin_stop=True)
    return lambda feeds: sess.run(None, feeds)


@pytest.mark.parametrize("threads", THREADS, ids=lambda t: f"{t}t")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("layer", LAYERS, ids=[f"{ly['group']}:{ly['name']}" for ly in LAYERS])
def test_layer(benchmark, layer, engine, threads):
    model, feeds = kernels.build_model(layer, seed=0)
    run = _sessions(model, threads, engine)
    benchmark.group = f"{layer['name']} {threads}t"
    benchmark.extra_info.update(macs=layer["macs"], group=layer["group"])
    benchmark(run, feeds)


@pytest.mark.parametrize("threads", (2,), ids=lambda t: f"{t}t")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("batch", (1, 8))
@pytest.mark.parametrize("name", list(zoo.CASES))
def test_model(benchmark, name, batch, engine, threads):
    case = zoo.CASES[name]
    shape = (batch, *case.shapes[0][1:])
    path = case.path(shape)
    input_name = fastconv.InferenceSession(path, warmup=False).get_inputs()[0].name
    feeds = {input_name: np.random.default_rng(0).standard_normal(shape).astype(np.float32)}
    run = _sessions(path, threads, engine)
    run(feeds)
    benchmark.group = f"{name} batch {batch} {threads}t"
    benchmark(run, feeds)
