# cython: language_level=3, boundscheck=False, wraparound=False
"""The executor's per-run loop, compiled: one pass over the plan's steps in topological order.

Each step's callable receives its input arrays (and, when the memory plan gives it buffers, `out=` the tuple
of arrays to write its outputs into) and returns a tuple of outputs; a slot is cleared as soon as its last
reader has run.
"""


def run_steps(list fns, list in_slots, list out_slots, list frees, list values, list out_bufs):
    cdef Py_ssize_t i, k, j, n = len(fns)
    cdef tuple ins, outs_slots, free
    cdef list args
    for i in range(n):
        ins = <tuple>in_slots[i]
        args = [None] * len(ins)
        for k in range(len(ins)):
            j = <Py_ssize_t>ins[k]
            if j >= 0:
                args[k] = values[j]
        bufs = out_bufs[i]
        if bufs is None:
            outs = fns[i](*args)
        else:
            outs = fns[i](*args, out=bufs)
        outs_slots = <tuple>out_slots[i]
        for k in range(len(outs_slots)):
            j = <Py_ssize_t>outs_slots[k]
            if j >= 0:
                values[j] = outs[k]
        free = <tuple>frees[i]
        for k in range(len(free)):
            values[<Py_ssize_t>free[k]] = None
