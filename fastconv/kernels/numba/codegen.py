"""Generated micro-kernel source kept inside its module (Numba's on-disk cache needs real source files, so the
register tiles are written out by an `emit_*()` function instead of being exec'd at import). One place for the
section markers and for rewriting / reading the section; each kernel module regenerates itself with
`python -m fastconv.kernels.numba.<module>`, and a test per module checks the section is current."""
from __future__ import annotations

BEGIN = "# ---- generated code (emitted by this module's emit function): do not edit by hand ----\n"
END = "# ---- end of generated code ----\n"


def generated_section(path: str) -> str:
    """The text between the markers of the module at `path`."""
    with open(path) as f:
        return f.read().split(BEGIN, 1)[1].split(END, 1)[0]


def regenerate(path: str, source: str) -> None:
    """Replace the generated section of the module at `path` by `source`."""
    with open(path) as f:
        src = f.read()
    head, rest = src.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + BEGIN + source + END + tail)
