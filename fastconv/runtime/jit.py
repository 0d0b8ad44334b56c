"""First-use JIT compilation, made visible: a progress bar while Numba compiles the kernels a plan needs.

Numba compiles a kernel the first time it is called with new argument types and caches the machine code on
disk (`cache=True`; NUMBA_CACHE_DIR), so only the first session on a machine pays for it (tens of seconds for
a model that uses every kernel family) and later processes load the cache in well under a second. The
session runs each new plan once at creation ("warm-up"), so that this cost is paid there and not by the first
request, and shows progress on stderr while compilation is actually happening: nothing is drawn when
everything comes from the cache.

`FASTCONV_PROGRESS=1` forces the bar on, `0` off; by default it is drawn only when stderr is a terminal.
"""
from __future__ import annotations

import os
import sys
import time

from numba.core import event


class CompileWatch(event.Listener):
    """Counts Numba compilations (cache misses) while installed; draws the progress line."""

    def __init__(self, total_steps: int, label: str, enabled: bool | None = None):
        self.total = total_steps
        self.label = label
        self.step = 0
        self.compiled = 0
        self.depth = 0
        self.current = ""
        self.t0 = time.perf_counter()
        if enabled is None:
            env = os.environ.get("FASTCONV_PROGRESS")
            enabled = sys.stderr.isatty() if env is None else env not in ("", "0")
        self.enabled = enabled
        self.drawn = False

    # numba events: one per compiled function (nested compilations of callees included)
    def on_start(self, ev):
        self.depth += 1
        if self.depth == 1:
            disp = ev.data.get("dispatcher")
            self.current = getattr(getattr(disp, "py_func", None), "__name__", "")
            self.draw()

    def on_end(self, ev):
        self.depth -= 1
        self.compiled += 1
        if self.depth == 0:
            self.draw()

    def advance(self, step_label: str = "") -> None:
        self.step += 1
        if self.compiled:
            self.draw()

    def draw(self) -> None:
        if not self.enabled:
            return
        width = 24
        done = int(width * self.step / max(1, self.total))
        bar = "#" * done + "." * (width - done)
        msg = (f"\rfastconv: compiling kernels for {self.label} (first use; cached afterwards) [{bar}] "
               f"{self.step}/{self.total} steps, {self.compiled} functions, {time.perf_counter() - self.t0:.1f} s "
               f"{self.current[:28]:28s}")
        sys.stderr.write(msg)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self):
        self._ctx = event.install_listener("numba:compile", self)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        self.close()
