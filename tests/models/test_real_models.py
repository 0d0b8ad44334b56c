"""Real CNNs end to end against onnxruntime: onnx's nine "light" architectures with seeded random weights
and the three PP-OCR models of rapidocr-onnxruntime, batch 1 and batch 2 (see zoo.py for how each model is
obtained). These are the suite's slowest tests: first use of a light model builds and caches it (zoo.py).
"""
import pytest

from . import zoo
from .check import assert_matches_ort

PARAMS = [pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
          for name in zoo.REAL_MODELS for shape in zoo.CASES[name].shapes]


@pytest.mark.parametrize("name,shape", PARAMS)
def test_matches_onnxruntime(name, shape):
    assert_matches_ort(zoo.CASES[name], shape)


def test_every_case_has_batch_2():
    # batch 2 is possible for all of them (light models after zoo._set_batch); a model that cannot take it
    # must say why in its ModelCase.note
    for case in zoo.CASES.values():
        assert any(s[0] == 2 for s in case.shapes) or case.note, case.name
