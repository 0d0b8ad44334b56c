"""pytest plugin of the ARM job (.ci/arm.sh, `-p tests.arm.plugin`): JIT compiles are 10-15x slower under qemu,
so the job runs the tests that tests/arm/selection.txt names, with hypothesis example counts capped.

selection.txt: one pattern per line over pytest node ids, `*` the only wildcard (brackets of parametrized ids
are literal); `!pattern` drops matches of earlier lines; `#` starts a comment (say why). A line `[shard k]`
starts shard k: the job runs the shards in parallel processes (one per core; Numba compiles on one thread),
FASTCONV_ARM_SHARD=k selecting one (unset: all). A pattern that matches nothing in a collected file is an
error, so the list cannot silently go stale when tests are renamed.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

SELECTION = Path(__file__).with_name("selection.txt")
# each example of a kernel sweep compiles new specialisations (one per layout / tile / epilogue it reaches)
MAX_EXAMPLES = int(os.environ.get("FASTCONV_ARM_MAX_EXAMPLES", "4"))


def read_selection(path: Path = SELECTION, shard: str | None = None) -> list[tuple[bool, str, re.Pattern]]:
    """[(keep, pattern text, regex)] of `shard` (None: all shards) in file order."""
    rules, current = [], None
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[shard (\w+)\]", text)
        if header:
            current = header.group(1)
            continue
        if not text or (shard is not None and current != shard):
            continue
        keep = not text.startswith("!")
        text = text.lstrip("!").strip()
        rules.append((keep, text, re.compile(".*".join(map(re.escape, text.split("*"))) + r"\Z")))
    return rules


def selected(nodeid: str, rules) -> tuple[bool, set[str]]:
    """Whether the last matching rule keeps `nodeid`, and the patterns that matched it."""
    keep, hits = False, set()
    for k, text, rx in rules:
        if rx.match(nodeid):
            keep = k
            hits.add(text)
    return keep, hits


def _path_of(text: str) -> str:
    """The file or folder a pattern lies in: its part before the first `::` or `*`."""
    return text.split("*")[0].split("::")[0]


def files_of(rules) -> list[str]:
    """The test files and folders the selection draws from, in first-mention order (what the job collects)."""
    return list(dict.fromkeys(_path_of(text).rstrip("/") for keep, text, _ in rules if keep))


def _cap_examples(fn) -> None:
    # `@settings(max_examples=N)` on a test beats any loaded profile, so the cap rewrites the test's own settings
    # (the attribute hypothesis reads at call time)
    from hypothesis import settings

    current = getattr(fn, "_hypothesis_internal_use_settings", None)
    if current is not None and current.max_examples > MAX_EXAMPLES:
        fn._hypothesis_internal_use_settings = settings(current, max_examples=MAX_EXAMPLES)


def _rules():
    return read_selection(shard=os.environ.get("FASTCONV_ARM_SHARD") or None)


def pytest_configure(config):
    if config.args_source != pytest.Config.ArgsSource.ARGS:  # no paths given: the selection's files
        config.args[:] = [str(config.rootpath / f) for f in files_of(_rules())]


def pytest_collection_modifyitems(config, items):
    rules = _rules()
    keep, drop, used, files = [], [], set(), set()
    for item in items:
        files.add(item.nodeid.split("::")[0])
        ok, hits = selected(item.nodeid, rules)
        used |= hits
        (keep if ok else drop).append(item)
    stale = [text for _, text, _ in rules
             if text not in used and any(f.startswith(_path_of(text)) for f in files)]
    if stale:
        raise pytest.UsageError(f"{SELECTION}: patterns matching no test:\n  " + "\n  ".join(stale))
    for name, module in list(sys.modules.items()):  # also the tests that tests/arm calls directly
        if name.startswith("tests."):
            for fn in vars(module).values():
                if getattr(fn, "is_hypothesis_test", False):
                    _cap_examples(fn)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
