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


@pytest.mark.parametrize("name", ["squeezenet", "resnet50", "inception_v1"])
def test_light_models_get_random_weights(name):
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(zoo.light_model_path(name, 1))
    assert model.ir_version == zoo.LIGHT_IR_VERSION
    assert "ConstantOfShape" not in {n.op_type for n in model.graph.node}
    assert [i.name for i in model.graph.input] == [i.name for i in model.graph.input[:1]]   # data only
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype.kind == "f" and a.size > 1:
            assert np.unique(a).size > 1, f"{t.name} is a constant fill"
