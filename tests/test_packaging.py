"""`pip install .` (not editable) installs only the packages setup.py lists: every package under fastconv/ must
be there, or a wheel install misses it (tests run against an editable install and would not notice)."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_setup_lists_every_package():
    tree = ast.parse(open(os.path.join(ROOT, "setup.py")).read())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    listed = set(ast.literal_eval(next(k.value for k in call.keywords if k.arg == "packages")))
    found = {os.path.relpath(d, ROOT).replace(os.sep, ".") for d, _, files in os.walk(os.path.join(ROOT, "fastconv"))
             if "__init__.py" in files}
    assert found <= listed, f"add to setup.py packages: {sorted(found - listed)}"
