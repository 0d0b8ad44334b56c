"""Without Ray installed, importing the integration names the extra to install."""
import sys

import pytest


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    monkeypatch.delitem(sys.modules, "fastconv.integrations.ray", raising=False)
    with pytest.raises(ImportError, match=r'pip install "fastconv\[ray\]"'):
        import fastconv.integrations.ray  # noqa: F401
