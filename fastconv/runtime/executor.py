"""Runs a Plan. The loop itself is the Cython `_executor.run_steps`; a pure-Python twin is used where the
extension was not built (source checkouts, exotic platforms) and is tested against it.

Memory: kernel outputs the memory plan places (fastconv/plan/memory.py) live in an arena that is allocated
once and reused by every later run, so a run allocates nothing for them. Each concurrent run takes its own
arena from a pool (a second arena is created only while two runs overlap).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from fastconv.plan.planner import Plan
from fastconv.runtime.jit import CompileWatch

try:
    from fastconv.runtime._executor import run_steps as _run_steps_compiled
except ImportError:  # pragma: no cover - depends on the build
    _run_steps_compiled = None


def run_steps_py(fns, in_slots, out_slots, frees, values, out_bufs):
    for fn, ins, outs_slots, free, bufs in zip(fns, in_slots, out_slots, frees, out_bufs):
        args = [values[j] if j >= 0 else None for j in ins]
        outs = fn(*args) if bufs is None else fn(*args, out=bufs)
        for k, j in enumerate(outs_slots):
            if j >= 0:
                values[j] = outs[k]
        for j in free:
            values[j] = None


run_steps = _run_steps_compiled or run_steps_py
COMPILED = _run_steps_compiled is not None


class _Arena:
    """One arena's bytes and its per-step output views."""

    def __init__(self, plan: Plan):
        self.bytes = np.empty(plan.memory.arena_bytes, np.uint8)
        self.outs = plan.memory.views(self.bytes, len(plan.steps))


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
        self._no_bufs = [None] * len(self._fns)
        self._arenas: list[_Arena] = []   # idle arenas
        self._arena_lock = threading.Lock()
        self.arenas_created = 0
        self.warm = False  # True once a run has gone through: every kernel compiled (or loaded from cache)

    @property
    def arena_bytes(self) -> int:
        return self.plan.memory.arena_bytes if self.plan.memory is not None else 0

    def _take_arena(self) -> _Arena | None:
        if self.plan.memory is None or not self.plan.memory.buffers:
            return None
        with self._arena_lock:
            if self._arenas:
                return self._arenas.pop()
            self.arenas_created += 1
        return _Arena(self.plan)

    def _give_back(self, arena: _Arena | None) -> None:
        if arena is not None:
            with self._arena_lock:
                self._arenas.append(arena)

    def run(self, feeds: dict[str, np.ndarray], output_slots: list[int]) -> list[np.ndarray]:
        values = list(self.plan.initial_values)
        for name, arr in feeds.items():
            values[self.plan.input_slots[name]] = arr
        arena = self._take_arena()
        bufs = self._no_bufs if arena is None else arena.outs
        try:
            if self.warm:
                self._loop(self._fns, self._ins, self._outs, self._frees, values, bufs)
            else:  # first run: kernels may be compiled now; step by step, with a progress bar while they are
                with CompileWatch(len(self._fns), self.plan.label) as watch:
                    for k in range(len(self._fns)):
                        run_steps_py(self._fns[k:k + 1], self._ins[k:k + 1], self._outs[k:k + 1],
                                     self._frees[k:k + 1], values, bufs[k:k + 1])
                        self._check_wrote_into(k, bufs[k], values)
                        watch.advance()
                self.warm = True
            results = []
            for s in output_slots:
                v = values[s]
                # never hand out our constants, views of caller/constant memory or of the arena
                if s in self._const_outputs or v.base is not None or not v.flags.c_contiguous:
                    v = np.array(v, copy=True, order="C")
                results.append(v)
        finally:
            values = None
            self._give_back(arena)
        return results

    def run_each(self, feeds: dict[str, np.ndarray], *, keep_all: bool = False, times: np.ndarray | None = None
                 ) -> list:
        """One run step by step in Python, for tools (the normal `run` path is untouched); returns the slots.

        keep_all: nothing is freed and no arena is used (each step's outputs are fresh arrays that later steps
        cannot overwrite), so the returned slots hold every value of the run. times: float64 array with one
        entry per step, to which each step's wall time in seconds is added (the arena is used as in `run`).
        The plan must be warm (a normal run done), or the first timings include JIT compilation.
        """
        values = list(self.plan.initial_values)
        for name, arr in feeds.items():
            values[self.plan.input_slots[name]] = arr
        arena = None if keep_all else self._take_arena()
        bufs = self._no_bufs if arena is None else arena.outs
        frees = ((),) * len(self._fns) if keep_all else self._frees
        clock = time.perf_counter
        try:
            for k in range(len(self._fns)):
                t0 = clock()
                run_steps_py(self._fns[k:k + 1], self._ins[k:k + 1], self._outs[k:k + 1], frees[k:k + 1], values,
                             bufs[k:k + 1])
                if times is not None:
                    times[k] += clock() - t0
        finally:
            self._give_back(arena)
        return values

    def _check_wrote_into(self, k: int, bufs, values) -> None:
        """A step given buffers must return exactly them (the plan counts on it): checked on the first run."""
        if bufs is None:
            return
        for idx, (buf, s) in enumerate(zip(bufs, self._outs[k])):
            if buf is not None and s >= 0 and values[s] is not None and values[s] is not buf:
                raise AssertionError(f"{self.plan.steps[k].node.label()}: output {idx} was not written into the "
                                     "planned buffer its runner (accepts_out) was given")
