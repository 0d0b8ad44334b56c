"""The server as Triton's own HTTP client (tritonclient.http) sees it: the same calls a KServe/Triton user makes."""
import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from ..util import rand


@pytest.fixture(scope="module")
def triton(server):
    client = httpclient.InferenceServerClient(url=server.url.removeprefix("http://"))
    yield client
    client.close()


def test_health_and_metadata(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("lenet5") and triton.is_model_ready("lenet5", "1")
    assert not triton.is_model_ready("nope")
    meta = triton.get_server_metadata()
    assert meta["name"] == "fastconv" and "binary_tensor_data" in meta["extensions"]
    model = triton.get_model_metadata("resnet_small")
    assert model["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 3, 64, 64]}]
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        triton.get_model_metadata("nope")


@pytest.mark.parametrize("binary_in,binary_out", [(True, True), (False, False), (True, False)])
def test_infer(triton, sessions, binary_in, binary_out):
    x = rand(2, 3, 64, 64, seed=11)
    inp = httpclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary_in)
    out = httpclient.InferRequestedOutput("probabilities", binary_data=binary_out)
    result = triton.infer("resnet_small", [inp], outputs=[out], request_id="abc", model_version="1")
    assert result.get_response()["id"] == "abc"
    np.testing.assert_allclose(result.as_numpy("probabilities"), sessions["resnet_small"].run(None, {"input": x})[0],
                               rtol=1e-4, atol=1e-5)


def test_infer_all_outputs_compressed(triton):
    # no outputs named: tritonclient asks for every output as binary data (binary_data_output)
    x, y = rand(2, 3, seed=1), rand(2, 3, seed=2)
    inputs = []
    for name, a in (("x", x), ("y", y)):
        inputs.append(httpclient.InferInput(name, [2, 3], "FP32"))
        inputs[-1].set_data_from_numpy(a)
    result = triton.infer("fixed", inputs, request_compression_algorithm="gzip")
    np.testing.assert_array_equal(result.as_numpy("sum"), x + y)
    np.testing.assert_array_equal(result.as_numpy("relu"), np.maximum(x, 0))


def test_errors(triton):
    inp = httpclient.InferInput("input", [1, 1, 28, 27], "FP32")
    inp.set_data_from_numpy(np.zeros((1, 1, 28, 27), np.float32))
    with pytest.raises(InferenceServerException, match=r"shape \[1, 1, 28, 27\]"):
        triton.infer("lenet5", [inp])
    inp = httpclient.InferInput("input", [1, 1, 28, 28], "INT32")
    inp.set_data_from_numpy(np.zeros((1, 1, 28, 28), np.int32))
    with pytest.raises(InferenceServerException, match="datatype INT32"):
        triton.infer("lenet5", [inp])
