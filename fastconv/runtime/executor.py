"""Runs a Plan. The loop itself is the Cython `_executor.run_steps`; a pure-Python twin is used where the
extension was not built (source checkouts, exotic platforms) and is tested against it."""
from __future__ import annotations

import numpy as np

from fastconv.plan.planner import Plan
from fastconv.runtime.jit import CompileWatch

try:
    from fastconv.runtime._executor import run_steps as _run_steps_compiled
except ImportError:  # pragma: no cover - depends on the build
    _run_steps_compiled = None


def run_steps_py(fns, in_slots, out_slots, frees, values):
    for fn, ins, outs_slots, free in zip(fns, in_slots, out_slots, frees):
        outs = fn(*[values[j] if j >= 0 else None for j in ins])
        for k, j in enumerate(outs_slots):
            if j >= 0:
                values[j] = outs[k]
        for j in free:
            values[j] = None


run_steps = _run_steps_compiled or run_steps_py
COMPILED = _run_steps_compiled is not None


class Executor:
    """Holds a plan in the flat form the loop consumes."""

    def __init__(self, plan: Plan, loop=None):
        self.plan = plan
        self._fns = [s.fn for s in plan.steps]
        self._ins = [s.in_slots for s in plan.steps]
        self._outs = [s.out_slots for s in plan.steps]
        self._frees = list(plan.frees)
        self._loop = loop or run_steps
        self._const_outputs = {s for s in plan.output_slots
                               if plan.initial_values[s] is not None or s in plan.input_slots.values()}

        self.warm = False  # True once a run has gone through: every kernel compiled (or loaded from cache)

    def run(self, feeds: dict[str, np.ndarray], output_slots: list[int]) -> list[np.ndarray]:
        values = list(self.plan.initial_values)
        for name, arr in feeds.items():
            values[self.plan.input_slots[name]] = arr
        if self.warm:
            self._loop(self._fns, self._ins, self._outs, self._frees, values)
        else:  # first run: kernels may be compiled now; step by step, with a progress bar while they are
            with CompileWatch(len(self._fns), self.plan.label) as watch:
                for k in range(len(self._fns)):
                    run_steps_py(self._fns[k:k + 1], self._ins[k:k + 1], self._outs[k:k + 1], self._frees[k:k + 1],
                                 values)
                    watch.advance()
            self.warm = True
        results = []
        for s in output_slots:
            v = values[s]
            # never hand out our constants or views of caller/constant memory
            if s in self._const_outputs or v.base is not None or not v.flags.c_contiguous:
                v = np.array(v, copy=True, order="C")
            results.append(v)
        return results
