"""Pooling ops against onnxruntime: attribute sweeps with every applicable kernel, dtypes, opsets and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from fastconv.graph.ir import TensorInfo
from fastconv.kernels.registry import kernels_for
from tests.util import TensorProto, assert_matches_ort, helper, make_model, rand, run_ort

I64 = TensorProto.INT64


def pool_model(op, x, attrs, indices=False, opset=22, name="pool"):
    outs = [("y", x.dtype, None)] + ([("idx", I64, None)] if indices else [])
    node = helper.make_node(op, ["x"], [o[0] for o in outs], name=name, **attrs)
    return make_model([node], [("x", x.dtype, list(x.shape))], outs, opset=opset)


def applicable_kernels(op, model, x):
    sess = fastconv.InferenceSession(model)
    cfg = sess.graph.nodes[0].op.config(TensorInfo(x.dtype, x.shape))
    names = [k.name for k in kernels_for(op) if k.supports(cfg, sess.platform)]
    assert names, f"no kernel supports {cfg}"
    return names


def check_all_kernels(op, x, attrs, threads, indices=False, opset=22):
    model = pool_model(op, x, attrs, indices, opset)
    if op == "MaxPool":
        # onnxruntime's MaxPool without Indices refuses negative SAME pads (kernel < stride) that its path with
        # Indices computes; take Y from the latter, which fastconv follows in both cases
        expected = run_ort(pool_model(op, x, attrs, True, opset), {"x": x})[:2 if indices else 1]
    else:
        expected = run_ort(model, {"x": x})
    for name in applicable_kernels(op, model, x):
        sess = fastconv.InferenceSession(model, num_threads=threads, kernel_overrides={op: name})
        got = sess.run(None, {"x": x})
        assert len(got) == len(expected)
        for k, (g, e) in enumerate(zip(got, expected)):
            assert g.dtype == e.dtype and g.shape == e.shape, \
                f"{name} output {k}: {g.dtype}{g.shape} != onnxruntime {e.dtype}{e.shape}"
            assert g.flags.c_contiguous
            if e.dtype.kind == "f":
                # LpPool: |x|^p sums of up to 27 taps, rounded differently (float64 accumulation here)
                np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=f"kernel {name} output {k}")
            else:
                np.testing.assert_array_equal(g, e, err_msg=f"kernel {name} output {k}")


@st.composite
def pool_cases(draw, op):
    rank = draw(st.integers(1, 3))
    max_side = {1: 12, 2: 8, 3: 5}[rank]
    kernel = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    strides = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    attrs = {"kernel_shape": kernel}
    if draw(st.booleans()) or any(s > 1 for s in strides):
        attrs["strides"] = strides
    dilations = [1] * rank
    if draw(st.booleans()):
        dilations = draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank))
        attrs["dilations"] = dilations
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    pads = [0] * (2 * rank)
    if auto_pad == "NOTSET":
        # onnxruntime requires pads < kernel_shape (ONNX only < the dilated kernel extent)
        pads = [draw(st.integers(0, k - 1)) for k in kernel + kernel]
        if any(pads) or draw(st.booleans()):
            attrs["pads"] = pads
    else:
        attrs["auto_pad"] = auto_pad
    if draw(st.booleans()):
        attrs["ceil_mode"] = 1
    if op == "AveragePool" and draw(st.booleans()):
        attrs["count_include_pad"] = 1
    if op == "LpPool":
        attrs["p"] = draw(st.sampled_from([1, 2, 3]))
    if op == "MaxPool" and draw(st.booleans()):
        attrs["storage_order"] = draw(st.sampled_from([0, 1]))
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    spatial = [draw(st.integers(max(1, e - pads[i] - pads[i + rank]), max_side)) for i, e in enumerate(extents)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *spatial)
    seed = draw(st.integers(0, 2**16))
    if op == "MaxPool" and draw(st.integers(0, 3)) == 0:
        # 8-bit data from a small range: many ties, so the argmax order is checked too
        dtype = draw(st.sampled_from([np.int8, np.uint8]))
        return np.random.default_rng(seed).integers(0, 4, shape).astype(dtype), attrs
    return rand(*shape, seed=seed), attrs


@settings(max_examples=300, deadline=None)
@given(case=pool_cases("MaxPool"), indices=st.booleans(), threads=st.sampled_from([1, 2]))
def test_maxpool_sweep(case, indices, threads):
    check_all_kernels("MaxPool", *case, threads, indices)


@settings(max_examples=250, deadline=None)
@given(case=pool_cases("AveragePool"), threads=st.sampled_from([1, 2]))
def test_averagepool_sweep(case, threads):
    check_all_kernels("AveragePool", *case, threads)


@settings(max_examples=150, deadline=None)
@given(case=pool_cases("LpPool"), threads=st.sampled_from([1, 2]))
def test_lppool_sweep(case, threads):
    check_all_kernels("LpPool", *case, threads)


@pytest.mark.parametrize("op,attrs", [("GlobalAveragePool", {}), ("GlobalMaxPool", {}), ("GlobalLpPool", {}),
                                      ("GlobalLpPool", {"p": 1}), ("GlobalLpPool", {"p": 3})])
@pytest.mark.parametrize("shape", [(2, 3, 7), (1, 4, 5, 6), (2, 2, 3, 4, 5)])
def test_global_pools(op, attrs, shape):
    x = rand(*shape, seed=len(shape))
    model = pool_model(op, x, attrs, opset=17)  # onnxruntime implements GlobalLpPool-2 only, not -22
    assert_matches_ort(model, {"x": x}, num_threads=2)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("indices", [False, True])
def test_maxpool_8bit(dtype, indices):
    info = np.iinfo(dtype)
    x = np.random.default_rng(1).integers(info.min, info.max, (2, 3, 7, 6), endpoint=True).astype(dtype)
    attrs = {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 0, 1, 1]}
    assert_matches_ort(pool_model("MaxPool", x, attrs, indices), {"x": x})


@pytest.mark.parametrize("op,opset,attrs", [
    ("MaxPool", 7, {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", 8, {"kernel_shape": [3, 2], "storage_order": 1, "auto_pad": "SAME_UPPER"}),
    ("MaxPool", 10, {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "dilations": [1, 2]}),
    ("MaxPool", 11, {"kernel_shape": [2, 3], "strides": [2, 2], "pads": [1, 1, 0, 0], "ceil_mode": 1}),
    ("MaxPool", 12, {"kernel_shape": [3, 3], "dilations": [2, 1]}),
    ("AveragePool", 7, {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ("AveragePool", 10, {"kernel_shape": [3, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("AveragePool", 11, {"kernel_shape": [3, 3], "auto_pad": "SAME_LOWER", "strides": [2, 1]}),
    ("AveragePool", 19, {"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1]}),
    ("LpPool", 7, {"kernel_shape": [2, 2], "p": 3}),
    ("LpPool", 11, {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2]}),
    ("LpPool", 18, {"kernel_shape": [2, 3], "ceil_mode": 1, "dilations": [2, 1], "strides": [2, 2]}),
    ("GlobalLpPool", 7, {"p": 3}),
    ("GlobalAveragePool", 7, {}),
    ("GlobalMaxPool", 7, {}),
])
def test_opsets(op, opset, attrs):
    x = rand(1, 3, 9, 8, seed=opset)
    model = pool_model(op, x, attrs, indices=op == "MaxPool" and opset >= 8, opset=opset)
    assert_matches_ort(model, {"x": x})


def test_maxpool_indices_per_image_and_channel_and_storage_order():
    """Indices count from the start of X (image and channel included); column-major within each plane."""
    x = rand(2, 3, 4, 5, seed=7)
    for order in (0, 1):
        model = pool_model("MaxPool", x, {"kernel_shape": [2, 2], "storage_order": order}, indices=True)
        y, idx = fastconv.InferenceSession(model).run(None, {"x": x})
        plane, rest = np.divmod(idx, 4 * 5)
        h, w = np.divmod(rest, 5) if order == 0 else np.divmod(rest, 4)[::-1]
        np.testing.assert_array_equal(x.reshape(6, 4, 5)[plane, h, w], y)


def test_input_is_not_modified_and_run_matches_lowering():
    x = rand(1, 2, 6, 6, seed=8)
    x0 = x.copy()
    for op in ("MaxPool", "AveragePool", "LpPool"):
        model = pool_model(op, x, {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
        sess = fastconv.InferenceSession(model)
        y = sess.run(None, {"x": x})[0]
        np.testing.assert_array_equal(x, x0)
        # the op's run (used by constant folding) computes the same
        np.testing.assert_array_equal(sess.graph.nodes[0].op.run(x)[0], y)


def test_constant_input_is_folded():
    c = rand(1, 2, 6, 6, seed=9)
    nodes = [helper.make_node("MaxPool", ["c"], ["t"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Add", ["t", "x"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [1, 2, 3, 3])], [("y", np.float32, None)], {"c": c})
    assert_matches_ort(model, {"x": rand(1, 2, 3, 3, seed=10)})


# -- errors ----------------------------------------------------------------------------------------------------

def symbolic_model(op, attrs, outputs=1):
    """Input shape unknown: errors found here are found at load time, without shapes."""
    node = helper.make_node(op, ["x"], ["y", "idx"][:outputs], name="my_pool", **attrs)
    outs = [("y", np.float32, None), ("idx", I64, None)][:outputs]
    return make_model([node], [("x", np.float32, ["N", "C", "H", "W"])], outs)


K = {"kernel_shape": [3, 3]}
LOAD_ERRORS = [
    ("MaxPool", {**K, "strides": [0, 1]}, InvalidModelError, "strides"),
    ("MaxPool", {**K, "strides": [1, 1, 1]}, InvalidModelError, "strides"),
    ("AveragePool", {**K, "dilations": [1, 0]}, InvalidModelError, "dilations"),
    ("AveragePool", {"kernel_shape": [3, 0]}, InvalidModelError, "kernel_shape"),
    ("AveragePool", {}, InvalidModelError, "kernel_shape is required"),
    ("LpPool", {**K, "pads": [1, 1, 1]}, InvalidModelError, "pads"),
    ("LpPool", {**K, "pads": [1, -1, 1, 1]}, InvalidModelError, "pads"),
    ("MaxPool", {**K, "pads": [3, 0, 0, 0]}, InvalidModelError, "pads .* kernel extent"),
    ("MaxPool", {**K, "auto_pad": "SAME"}, InvalidModelError, "auto_pad"),
    ("MaxPool", {**K, "storage_order": 2}, InvalidModelError, "storage_order"),
    ("MaxPool", {**K, "ceil_mode": 2}, InvalidModelError, "ceil_mode"),
    ("AveragePool", {**K, "count_include_pad": 3}, InvalidModelError, "count_include_pad"),
    ("LpPool", {**K, "p": 0}, InvalidModelError, "p must be"),
    ("GlobalLpPool", {"p": -1}, InvalidModelError, "p must be"),
    ("MaxPool", {"kernel_shape": [1, 1, 1, 1]}, UnsupportedError, "spatial axes"),
    ("AveragePool", {**K, "storage_order": 1}, UnsupportedError, "unknown attribute"),
]


@pytest.mark.parametrize("op,attrs,error,words", LOAD_ERRORS, ids=[f"{e[0]}-{e[3]}" for e in LOAD_ERRORS])
def test_bad_attributes_fail_at_load(op, attrs, error, words):
    with pytest.raises(error, match=f"my_pool.*{words}"):
        fastconv.InferenceSession(symbolic_model(op, attrs))


SHAPE_ERRORS = [  # found when the session plans for X's shape
    ("MaxPool", (1, 2, 2, 8), {"kernel_shape": [3, 3]}, InvalidModelError, "exceeds the padded input"),
    ("AveragePool", (1, 2, 3, 8), {"kernel_shape": [2, 2], "dilations": [3, 1]}, InvalidModelError,
     "exceeds the padded input"),
    ("LpPool", (1, 2, 3, 8), {"kernel_shape": [5, 2], "pads": [1, 0, 0, 0]}, InvalidModelError,
     "exceeds the padded input"),
    ("MaxPool", (1, 2, 2, 8), {"kernel_shape": [3, 3], "auto_pad": "VALID"}, InvalidModelError,
     "exceeds the padded input"),
    ("MaxPool", (1, 2, 8), {"kernel_shape": [3, 3]}, InvalidModelError, "rank 4"),
    ("GlobalAveragePool", (2, 8), {}, InvalidModelError, "rank >= 3"),
]


@pytest.mark.parametrize("op,xs,attrs,error,words", SHAPE_ERRORS, ids=[f"{e[0]}-{e[4]}" for e in SHAPE_ERRORS])
def test_inconsistent_shapes_fail_when_planned(op, xs, attrs, error, words):
    node = helper.make_node(op, ["x"], ["y"], name="my_pool", **attrs)
    model = make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)])
    with pytest.raises(error, match=f"my_pool.*{words}"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("op,dtype", [("MaxPool", np.float64), ("MaxPool", np.int32), ("AveragePool", np.uint8),
                                      ("LpPool", np.float64), ("GlobalMaxPool", np.int8)])
def test_unsupported_dtypes_are_refused(op, dtype):
    attrs = {} if op.startswith("Global") else {"kernel_shape": [2, 2]}
    node = helper.make_node(op, ["x"], ["y"], name="my_pool", **attrs)
    model = make_model([node], [("x", dtype, [1, 2, 4, 4])], [("y", dtype, None)])
    with pytest.raises(UnsupportedError, match="my_pool.*dtype"):
        fastconv.InferenceSession(model)
