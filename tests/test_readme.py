"""The README's claims that code can check."""
import os
import re

import fastconv

README = os.path.join(os.path.dirname(os.path.dirname(__file__)), "README.md")


def _read():
    with open(README) as f:
        return f.read()


def test_readme_lists_exactly_the_supported_ops():
    block = re.search(r"<!-- supported-ops.*?-->(.*?)<!-- /supported-ops -->", _read(), re.S).group(1)
    listed = {op.strip() for op in block.replace("\n", " ").split(",") if op.strip()}
    assert listed == set(fastconv.supported_ops())


def test_readme_test_command_is_the_ci_command():
    ci = open(os.path.join(os.path.dirname(README), ".ci", "run")).read()
    quick = re.search(r"```bash\n(.*?)```", _read(), re.S).group(1).splitlines()
    test_cmd = quick[1].split("  #")[0].strip()
    assert test_cmd in ci
