"""Memory planning (fastconv/plan/memory.py) and the executor's arena: placement never overlaps two buffers
that are live at once, views keep their buffer alive, results equal the unplanned session's bit for bit,
graph outputs never point into the arena, repeated and concurrent runs reuse / separate arenas."""
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.graph.ir import TensorInfo
from fastconv.plan.memory import plan_memory
from tests.models import zoo

from ..util import make_model, rand


def _step(ins, outs, planned=True):
    fn = (lambda *a, out=None: None)
    fn.accepts_out = planned
    return SimpleNamespace(fn=fn, in_slots=tuple(ins), out_slots=tuple(outs), node=None)


def _infos(sizes):
    return {f"v{s}": TensorInfo(np.dtype(np.float32), (n,)) for s, n in sizes.items()}


def _overlap(a, b):
    live = not (a.last < b.first or b.last < a.first)
    mem = not (a.offset + a.nbytes <= b.offset or b.offset + b.nbytes <= a.offset)
    return live and mem


def test_chain_reuses_memory_and_never_overlaps_live_buffers():
    # x(0) -> a(1) -> b(2) -> c(3) -> d(4) -> y(5, graph output)
    steps = [_step([k], [k + 1]) for k in range(5)]
    sizes = {k: 1000 * (k + 1) for k in range(6)}
    mp = plan_memory(steps, _infos(sizes), [f"v{k}" for k in range(6)], [5])
    assert {b.step for b in mp.buffers} == {0, 1, 2, 3}          # the graph output is not planned
    for i, a in enumerate(mp.buffers):
        for b in mp.buffers[i + 1:]:
            assert not _overlap(a, b), (a, b)
    # a chain needs two buffers at a time: the arena is far below the sum
    assert mp.peak_live_bytes <= mp.arena_bytes < mp.planned_bytes
    assert mp.arena_bytes <= mp.peak_live_bytes + 64 * len(mp.buffers)   # greedy by size is tight here


def test_a_view_keeps_its_buffer_alive():
    # a(1) planned; v(2) = reshape-like view of a by an unplanned step; c(3) planned while v is still read
    steps = [_step([0], [1]), _step([1], [2], planned=False), _step([0], [3]), _step([2, 3], [4])]
    mp = plan_memory(steps, _infos({k: 4096 for k in range(5)}), [f"v{k}" for k in range(5)], [4])
    by_slot = {b.step: b for b in mp.buffers}
    a, c = by_slot[0], by_slot[2]
    assert a.last == 3                     # extended to the last reader of its view
    assert not _overlap(a, c)


def test_a_buffer_a_graph_output_may_view_lives_to_the_end():
    steps = [_step([0], [1]), _step([1], [2], planned=False), _step([0], [3])]
    mp = plan_memory(steps, _infos({k: 64 for k in range(4)}), [f"v{k}" for k in range(4)], [2, 3])
    a = next(b for b in mp.buffers if b.step == 0)
    assert a.last == len(steps)


@pytest.mark.parametrize("model", ["resnet_small", "squeezenet", "unet_small"])
def test_planned_session_matches_unplanned_bit_for_bit(model):
    shape = zoo.CASES[model].shapes[0]
    path = zoo.CASES[model].path(shape)
    x = rand(*shape, seed=3)
    name = fastconv.InferenceSession(path, arena=False).get_inputs()[0].name
    want = fastconv.InferenceSession(path, arena=False).run(None, {name: x})
    sess = fastconv.InferenceSession(path)
    for _ in range(3):                     # the same arena, reused
        got = sess.run(None, {name: x})
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
            assert g.base is None          # outputs never point into the arena
    ex = next(iter(sess._executors.values()))
    assert ex.plan.memory is not None and ex.plan.memory.buffers
    assert ex.arenas_created == 1
    mp = ex.plan.memory
    assert mp.peak_live_bytes <= mp.arena_bytes < mp.planned_bytes


def test_outputs_survive_later_runs():
    nodes = [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2]),
             helper.make_node("MaxPool", ["p"], ["q"], kernel_shape=[2, 2]),
             helper.make_node("Flatten", ["q"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [1, 3, 9, 9])], [("y", np.float32, None)])
    sess = fastconv.InferenceSession(model)
    x1, x2 = rand(1, 3, 9, 9, seed=1), rand(1, 3, 9, 9, seed=2)
    y1 = sess.run(None, {"x": x1})[0]
    keep = y1.copy()
    sess.run(None, {"x": x2})
    np.testing.assert_array_equal(y1, keep)   # y1 was a view of the arena: it must have been copied out


def test_concurrent_runs_take_separate_arenas():
    path = zoo.light_model_path("squeezenet")
    sess = fastconv.InferenceSession(path, num_threads=1)
    name = sess.get_inputs()[0].name
    xs = [rand(1, 3, 224, 224, seed=s) for s in range(4)]
    want = [sess.run(None, {name: x})[0] for x in xs]
    got = [None] * 8
    barrier = threading.Barrier(8)

    def work(i):
        barrier.wait()
        got[i] = sess.run(None, {name: xs[i % 4]})[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(8):
        np.testing.assert_array_equal(got[i], want[i % 4])
    assert 1 <= next(iter(sess._executors.values())).arenas_created <= 8


def test_scratch_is_reused_grown_and_per_thread():
    from fastconv.kernels import buffers

    a = buffers.take("test_scratch", 100)
    b = buffers.take("test_scratch", 50)
    assert b.base is a.base or np.shares_memory(a, b)            # reused, not reallocated
    c = buffers.take("test_scratch", 1000)
    assert c.size == 1000 and buffers.take_shaped("test_scratch", (10, 10)).shape == (10, 10)
    other = {}

    def work():
        other["buf"] = buffers.take("test_scratch", 100)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert not np.shares_memory(other["buf"], c)                 # another thread, another buffer
    assert buffers.held_bytes() >= 4000


def test_runner_given_out_must_return_it():
    """The first run checks that a step declaring accepts_out wrote into the planned buffer."""
    from fastconv.kernels.buffers import accepts_out
    from fastconv.runtime.executor import Executor

    sess = fastconv.InferenceSession(make_model([helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2]),
                                                  helper.make_node("Relu", ["p"], ["y"])],
                                                 [("x", np.float32, [1, 2, 6, 6])], [("y", np.float32, None)]),
                                     warmup=False)
    plan = sess.plan_for({"x": (1, 2, 6, 6)})
    assert plan.memory.buffers and plan.memory.buffers[0].step == 0
    step = plan.steps[0]
    good = step.fn
    step.fn = accepts_out(lambda x, out=None: (np.asarray(good(x, out=None)[0]).copy(),))   # ignores `out`
    with pytest.raises(AssertionError, match="planned buffer"):
        Executor(plan).run({"x": rand(1, 2, 6, 6)}, plan.output_slots)
    step.fn = good
    Executor(plan).run({"x": rand(1, 2, 6, 6)}, plan.output_slots)


def test_concat_and_float_binary_ops_write_into_the_arena():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["a"]),
             helper.make_node("Mul", ["a", "r"], ["m"]), helper.make_node("Concat", ["m", "a"], ["c"], axis=1),
             helper.make_node("Sub", ["c", "c"], ["s"]), helper.make_node("Relu", ["s"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [1, 3, 5, 5])], [("y", np.float32, None)])
    sess = fastconv.InferenceSession(model)
    plan = sess.plan_for({"x": (1, 3, 5, 5)})
    planned = {plan.steps[b.step].node.op_type for b in plan.memory.buffers}
    assert {"Add", "Mul", "Concat", "Sub"} <= planned
    x = rand(1, 3, 5, 5, seed=4)
    r = np.maximum(x, 0)
    a = r + x
    c = np.concatenate([a * r, a], axis=1)
    for _ in range(2):
        np.testing.assert_array_equal(sess.run(None, {"x": x})[0], np.maximum(c - c, 0))
