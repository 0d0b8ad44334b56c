"""The executor loop: the compiled Cython `run_steps` and its Python twin behave identically, and both drop
every buffer right after its last reader."""
import weakref

import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv.runtime import executor
from fastconv.runtime.executor import Executor, run_steps_py

from ..util import make_model, rand

compiled = pytest.importorskip("fastconv.runtime._executor")
LOOPS = {"cython": compiled.run_steps, "python": run_steps_py}


def test_compiled_loop_is_the_default():
    assert executor.COMPILED and executor.run_steps is compiled.run_steps


def chain_model():
    """A diamond plus a chain: r = Relu(x); a = r + x; b = Relu(a); y = b + r; z = Relu(y)."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Add", ["r", "x"], ["a"]),
             helper.make_node("Relu", ["a"], ["b"]), helper.make_node("Add", ["b", "r"], ["y"]),
             helper.make_node("Relu", ["y"], ["z"])]
    return make_model(nodes, [("x", np.float32, [2, 3, 4])], [("y", np.float32, None), ("z", np.float32, None)])


def test_twins_give_identical_results_on_a_plan():
    sess = fastconv.InferenceSession(chain_model())
    plan = sess.plan_for({"x": (2, 3, 4)})
    x = rand(2, 3, 4)
    outs = {name: Executor(plan, loop=loop).run({"x": x}, plan.output_slots) for name, loop in LOOPS.items()}
    for a, b in zip(outs["cython"], outs["python"]):
        np.testing.assert_array_equal(a, b)
    r = np.maximum(x, 0)
    y = np.maximum(r + x, 0) + r
    np.testing.assert_array_equal(outs["cython"][0], y)
    np.testing.assert_array_equal(outs["cython"][1], np.maximum(y, 0))


def test_plan_frees_each_intermediate_after_its_last_reader():
    plan = fastconv.InferenceSession(chain_model()).plan_for({"x": (2, 3, 4)})
    last_reader = {}
    for k, step in enumerate(plan.steps):
        for s in step.in_slots + step.out_slots:
            if s >= 0:
                last_reader[s] = k
    freed = {}
    for k, slots in enumerate(plan.frees):
        for s in slots:
            assert s not in freed, f"slot {plan.slot_names[s]} freed twice"
            freed[s] = k
    outputs = set(plan.output_slots)
    assert freed == {s: k for s, k in last_reader.items() if s not in outputs}
    assert plan.slot_names[plan.input_slots["x"]] in {plan.slot_names[s] for s in freed}


class Recorder:
    """Steps over a hand-made slot table that record what the values list holds when they run.

    slots: 0 = input x, 1 = a = 2x, 2 = b = a + 1, 3 = c = a * b, 4 = d = c - 1 (output).
    Step 3 also has an absent optional input and an absent output (slot -1).
    """

    def __init__(self):
        self.values = None
        self.seen = []          # per step: which slots were filled when it ran
        self.refs = {}          # name -> weakref of each intermediate array
        self.alive = []         # per step: which earlier intermediates were still alive

    def step(self, name, f, n_out=1):
        def fn(*args):
            self.seen.append([v is not None for v in self.values])
            self.alive.append(sorted(k for k, r in self.refs.items() if r() is not None))
            out = f(*args)
            self.refs[name] = weakref.ref(out)
            return (out,) + (None,) * (n_out - 1)

        return fn

    def program(self):
        fns = [self.step("a", lambda x: x * 2), self.step("b", lambda a: a + 1),
               self.step("c", lambda a, b: a * b), self.step("d", self._last, n_out=2)]
        ins = [(0,), (1,), (1, 2), (3, -1)]
        outs = [(1,), (2,), (3,), (4, -1)]
        frees = [(0,), (), (1, 2), (3,)]
        return fns, ins, outs, frees

    @staticmethod
    def _last(c, absent):
        assert absent is None
        return c - 1


@pytest.mark.parametrize("loop", list(LOOPS), ids=list(LOOPS))
def test_loop_releases_buffers_after_last_use(loop):
    rec = Recorder()
    x = np.arange(6, dtype=np.float32)
    rec.values = [x, None, None, None, None]
    fns, ins, outs, frees = rec.program()
    LOOPS[loop](fns, ins, outs, frees, rec.values, [None] * len(fns))
    assert rec.seen == [
        [True, False, False, False, False],
        [False, True, False, False, False],   # the input slot was cleared after its only reader
        [False, True, True, False, False],
        [False, False, False, True, False],   # a and b cleared after step 2
    ]
    # nothing but the loop held a and b: they are gone by the time step 3 runs
    assert rec.alive == [[], ["a"], ["a", "b"], ["c"]]
    assert [v is not None for v in rec.values] == [False, False, False, False, True]
    np.testing.assert_array_equal(rec.values[4], (x * 2) * (x * 2 + 1) - 1)
    assert rec.refs["c"]() is None


def test_twins_identical_on_hand_made_program():
    results = {}
    for name, loop in LOOPS.items():
        rec = Recorder()
        rec.values = [np.linspace(-1, 1, 7, dtype=np.float32), None, None, None, None]
        loop(*rec.program(), rec.values, [None] * 4)
        results[name] = (rec.values[4], rec.seen, rec.alive)
    np.testing.assert_array_equal(results["cython"][0], results["python"][0])
    assert results["cython"][1:] == results["python"][1:]


@pytest.mark.parametrize("loop", list(LOOPS), ids=list(LOOPS))
def test_loop_propagates_step_errors(loop):
    def boom(x):
        raise RuntimeError("step failed")

    values = [np.zeros(2), None]
    with pytest.raises(RuntimeError, match="step failed"):
        LOOPS[loop]([boom], [(0,)], [(1,)], [()], values, [None])


@pytest.mark.parametrize("loop", list(LOOPS), ids=list(LOOPS))
def test_loop_with_no_steps(loop):
    values = [np.ones(1)]
    LOOPS[loop]([], [], [], [], values, [])
    assert values[0] is not None
