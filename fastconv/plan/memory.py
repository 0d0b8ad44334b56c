"""Memory planning: one arena per concurrent run, with the outputs of kernels that can write into a given
buffer placed in it by liveness, so that a run allocates (and page-faults) nothing for them.

Which outputs: those of steps whose callable declares `accepts_out` (it takes `out=(arrays,)` and returns
exactly those arrays), that are not graph outputs (the user owns those). Everything else is allocated by its
step as before.

Lifetimes. A planned buffer is live from the step that writes it to the last step that reads it — or reads
any value that may be a view of it: a step that does not write into planned buffers (Reshape, Slice,
Transpose, numpy elementwise ops ...) may return a view of an input, so its outputs are taken to alias all of
its inputs (conservative: it can only keep buffers longer than needed, never reuse one too early). A buffer a
graph output may alias lives to the end of the run (the executor copies such outputs out). Intervals are
closed: a step's output never shares memory with its inputs.

Placement: greedy by size (largest first, lowest offset that does not overlap a placed buffer with an
overlapping lifetime), 64-byte aligned — the heuristic TFLite and others use; within a few percent of the
peak of live bytes on CNNs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALIGN = 64


@dataclass(frozen=True)
class PlannedBuffer:
    step: int
    index: int          # output position of the step
    offset: int         # bytes into the arena
    nbytes: int
    shape: tuple
    dtype: np.dtype
    first: int          # lifetime, step indices (inclusive)
    last: int


@dataclass
class MemoryPlan:
    buffers: list[PlannedBuffer]
    arena_bytes: int
    planned_bytes: int   # sum of the planned buffers' sizes (what allocating each one would hold at most)
    peak_live_bytes: int  # the largest sum of sizes live at one step: the lower bound for the arena

    def views(self, arena: np.ndarray, num_steps: int) -> list:
        """Per step: None, or a tuple of output arrays (None where an output is not planned) in `arena`."""
        outs: list = [None] * num_steps
        for b in self.buffers:
            cur = list(outs[b.step] or ())
            cur += [None] * (b.index + 1 - len(cur))
            cur[b.index] = arena[b.offset:b.offset + b.nbytes].view(b.dtype).reshape(b.shape)
            outs[b.step] = cur
        return [None if o is None else tuple(o) for o in outs]


def plan_memory(steps, infos: dict, slot_names: list[str], output_slots: list[int]) -> MemoryPlan:
    """steps: the plan's Steps (fn, in_slots, out_slots, node); infos: value name -> TensorInfo."""
    n = len(steps)
    end = n  # "after the last step": graph outputs and what they may alias
    last_read: dict[int, int] = {}
    for k, st in enumerate(steps):
        for s in st.in_slots:
            if s >= 0:
                last_read[s] = k
    for s in output_slots:
        last_read[s] = end
    # roots[s]: planned buffers (by slot) value s may share memory with
    roots: dict[int, set[int]] = {}
    candidates: dict[int, tuple[int, int]] = {}   # slot -> (step, output index)
    for k, st in enumerate(steps):
        planned = bool(getattr(st.fn, "accepts_out", False))
        inherited = set().union(*(roots.get(s, ()) for s in st.in_slots if s >= 0)) if not planned else set()
        for idx, s in enumerate(st.out_slots):
            if s < 0:
                continue
            info = infos.get(slot_names[s])
            if planned and s not in output_slots and info is not None and _concrete(info.shape):
                candidates[s] = (k, idx)
                roots[s] = {s}
            else:
                roots[s] = set(inherited)
    last: dict[int, int] = {s: candidates[s][0] for s in candidates}
    for s, rs in roots.items():
        for r in rs:
            last[r] = max(last[r], last_read.get(s, candidates[r][0]))
    items = []
    for s, (k, idx) in candidates.items():
        info = infos[slot_names[s]]
        dtype = np.dtype(info.dtype)
        nbytes = int(np.prod(info.shape, dtype=np.int64)) * dtype.itemsize
        if nbytes == 0:
            continue
        items.append((nbytes, k, idx, tuple(info.shape), dtype, k, last[s]))
    placed: list[PlannedBuffer] = []
    for nbytes, k, idx, shape, dtype, first, lst in sorted(items, key=lambda t: (-t[0], t[1], t[2])):
        size = -(-nbytes // ALIGN) * ALIGN
        busy = sorted((b.offset, b.offset + -(-b.nbytes // ALIGN) * ALIGN) for b in placed
                      if not (b.last < first or lst < b.first))
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        placed.append(PlannedBuffer(k, idx, offset, nbytes, shape, dtype, first, lst))
    arena = max((b.offset + -(-b.nbytes // ALIGN) * ALIGN for b in placed), default=0)
    peak = max((sum(b.nbytes for b in placed if b.first <= k <= b.last) for k in range(n)), default=0)
    return MemoryPlan(sorted(placed, key=lambda b: (b.step, b.index)), arena, sum(b.nbytes for b in placed), peak)


def _concrete(shape) -> bool:
    return shape is not None and all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape)
