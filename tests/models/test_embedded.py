"""The embedded models of models/: reproducible from models/generate.py and correct against onnxruntime."""
import importlib.util
import os

import onnx
import pytest

from . import zoo
from .check import assert_matches_ort

PARAMS = [pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
          for name in zoo.EMBEDDED_MODELS for shape in zoo.CASES[name].shapes]


def _generate_module():
    spec = importlib.util.spec_from_file_location("models_generate", os.path.join(zoo.EMBEDDED_DIR, "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,shape", PARAMS)
def test_matches_onnxruntime(name, shape):
    assert_matches_ort(zoo.CASES[name], shape)


def test_generate_is_deterministic_and_shipped_files_are_current(tmp_path):
    gen = _generate_module()
    first = gen.write_all(str(tmp_path / "a"))
    second = gen.write_all(str(tmp_path / "b"))
    assert [os.path.basename(p) for p in first] == sorted(f"{n}.onnx" for n in zoo.EMBEDDED_MODELS)
    total = 0
    for a, b in zip(first, second):
        data = open(a, "rb").read()
        assert data == open(b, "rb").read(), f"{os.path.basename(a)} differs between two runs"
        shipped = os.path.join(zoo.EMBEDDED_DIR, os.path.basename(a))
        assert data == open(shipped, "rb").read(), f"{shipped} is stale: run python models/generate.py"
        total += len(data)
    assert total < 5 * 2**20


@pytest.mark.parametrize("name", zoo.EMBEDDED_MODELS)
def test_model_is_valid_and_small(name):
    model = onnx.load(os.path.join(zoo.EMBEDDED_DIR, f"{name}.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8 and model.opset_import[0].version == 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"


def test_embedded_models_use_the_intended_ops():
    ops = {name: {n.op_type for n in onnx.load(os.path.join(zoo.EMBEDDED_DIR, f"{name}.onnx")).graph.node}
           for name in zoo.EMBEDDED_MODELS}
    assert {"Conv", "Relu", "MaxPool", "Gemm", "Softmax"} <= ops["lenet5"]
    assert {"BatchNormalization", "Add", "GlobalAveragePool", "Gemm"} <= ops["resnet_small"]
    assert {"ConvTranspose", "Concat", "Resize"} <= ops["unet_small"]
    assert {"ConvTranspose", "BatchNormalization", "Relu", "Tanh"} == ops["dcgan_small"]
