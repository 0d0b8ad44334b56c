"""Conv and ConvTranspose against onnxruntime: attribute sweeps with every applicable kernel, and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx.reference import ReferenceEvaluator

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from fastconv.graph.ir import TensorInfo
from fastconv.kernels.registry import kernels_for
from tests.util import assert_matches_ort, helper, make_model, rand, run_ort

F32 = np.dtype(np.float32)


def conv_model(op, x, w, b, attrs, opset=17, name="conv", const_weights=True):
    inits = {"w": w} if const_weights else {}
    feeds = {"x": x} if const_weights else {"x": x, "w": w}
    ins = ["x", "w"]
    if b is not None:
        ins.append("b")
        inits["b"] = b
    node = helper.make_node(op, ins, ["y"], name=name, **attrs)
    model = make_model([node], [(k, np.float32, list(v.shape)) for k, v in feeds.items()],
                       [("y", np.float32, None)], inits, opset)
    return model, feeds


def applicable_kernels(op, model, x, w, b):
    """Names of the registered kernels whose supports() accepts this node's configuration."""
    sess = fastconv.InferenceSession(model)
    infos = [TensorInfo(F32, x.shape), TensorInfo(F32, w.shape, w)]
    if b is not None:
        infos.append(TensorInfo(F32, b.shape, b))
    cfg = sess.graph.nodes[0].op.config(infos)
    names = [k.name for k in kernels_for(op) if k.supports(cfg, sess.platform)]
    assert names, f"no kernel supports {cfg}"
    return names


def check_all_kernels(op, x, w, b, attrs, threads, opset=17):
    model, feeds = conv_model(op, x, w, b, attrs, opset)
    if op == "Conv" and attrs.get("auto_pad", "NOTSET").startswith("SAME") and max(attrs.get("dilations", [1])) > 1:
        # onnxruntime refuses dilated SAME convolutions; onnx's reference evaluator computes them
        expected = ReferenceEvaluator(model).run(None, feeds)
    else:
        expected = run_ort(model, feeds)
    names = applicable_kernels(op, model, x, w, b)
    for name in names:
        sess = fastconv.InferenceSession(model, num_threads=threads, kernel_overrides={op: name})
        got = sess.run(None, feeds)[0]
        assert got.dtype == np.float32 and got.flags.c_contiguous
        assert got.shape == expected[0].shape, f"{name}: shape {got.shape} != onnxruntime {expected[0].shape}"
        # sums of up to ~150 products of N(0, 1) values: float32 rounding differs by ~1e-5 absolute
        np.testing.assert_allclose(got, expected[0], rtol=1e-4, atol=3e-5, err_msg=f"kernel {name}")
    return names


@st.composite
def conv_cases(draw):
    rank = draw(st.integers(1, 3))
    max_side = {1: 12, 2: 8, 3: 5}[rank]
    kind = draw(st.sampled_from(["dense", "grouped", "depthwise", "pointwise"]))
    if kind == "depthwise":
        group = draw(st.integers(1, 4))
        c, m = group, group * draw(st.integers(1, 3))
    elif kind == "grouped":
        group = draw(st.integers(2, 3))
        c, m = group * draw(st.integers(1, 3)), group * draw(st.integers(1, 3))
    else:
        group, c, m = 1, draw(st.integers(1, 5)), draw(st.integers(1, 6))
    batch = draw(st.integers(1, 2))
    if kind == "pointwise":
        kernel, strides, dilations = [1] * rank, [1] * rank, [1] * rank
    else:
        kernel = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
        strides = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
        dilations = draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank))
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    pads = [0] * (2 * rank)
    if auto_pad == "NOTSET" and kind != "pointwise":
        pads = draw(st.lists(st.integers(0, 2), min_size=2 * rank, max_size=2 * rank))
    extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    spatial = [draw(st.integers(max(1, e - pads[i] - pads[i + rank]), max_side)) for i, e in enumerate(extents)]
    attrs = {"strides": strides, "dilations": dilations, "group": group}
    if auto_pad != "NOTSET":
        attrs["auto_pad"] = auto_pad
    elif any(pads) or draw(st.booleans()):
        attrs["pads"] = pads
    if draw(st.booleans()):
        attrs["kernel_shape"] = kernel
    seed = draw(st.integers(0, 2**16))
    x = rand(batch, c, *spatial, seed=seed)
    w = rand(m, c // group, *kernel, seed=seed + 1)
    b = rand(m, seed=seed + 2) if draw(st.booleans()) else None
    return x, w, b, attrs


@settings(max_examples=400, deadline=None)
@given(case=conv_cases(), threads=st.sampled_from([1, 2]))
def test_conv_sweep_every_kernel(case, threads):
    check_all_kernels("Conv", *case, threads)


@st.composite
def conv_transpose_cases(draw):
    rank = draw(st.integers(1, 3))
    max_side = {1: 8, 2: 5, 3: 3}[rank]
    group = draw(st.sampled_from([1, 1, 2, 3]))
    c, mg = group * draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(st.integers(1, 2))
    spatial = draw(st.lists(st.integers(1, max_side), min_size=rank, max_size=rank))
    kernel = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    strides = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    dilations = draw(st.lists(st.integers(1, 2), min_size=rank, max_size=rank))
    # onnxruntime requires output_padding < stride (ONNX allows < max(stride, dilation))
    out_pad = [draw(st.integers(0, s - 1)) for s in strides]
    attrs = {"strides": strides, "dilations": dilations, "group": group}
    if any(out_pad) or draw(st.booleans()):
        attrs["output_padding"] = out_pad
    full = [s * (i - 1) + op + d * (k - 1) + 1 for i, s, op, k, d in zip(spatial, strides, out_pad, kernel, dilations)]
    mode = draw(st.sampled_from(["pads", "pads", "output_shape", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    if mode == "pads":
        pads = [draw(st.integers(0, 2)) for _ in range(2 * rank)]
        for i in range(rank):  # keep the output non-empty
            while pads[i] + pads[i + rank] >= full[i]:
                pads[i if pads[i] >= pads[i + rank] else i + rank] -= 1
        attrs["pads"] = pads
    elif mode == "output_shape":
        extents = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
        # from heavy cropping up to the largest size onnxruntime accepts (stride * in + extent - 1)
        attrs["output_shape"] = [draw(st.integers(max(1, f - 4), s * i + e - 1))
                                 for f, s, i, e in zip(full, strides, spatial, extents)]
    else:
        attrs["auto_pad"] = mode
    if draw(st.booleans()):
        attrs["kernel_shape"] = kernel
    seed = draw(st.integers(0, 2**16))
    x = rand(batch, c, *spatial, seed=seed)
    w = rand(c, mg, *kernel, seed=seed + 1)
    b = rand(mg * group, seed=seed + 2) if draw(st.booleans()) else None
    return x, w, b, attrs


@settings(max_examples=300, deadline=None)
@given(case=conv_transpose_cases(), threads=st.sampled_from([1, 2]))
def test_conv_transpose_sweep_every_kernel(case, threads):
    check_all_kernels("ConvTranspose", *case, threads)


def test_every_conv_kernel_is_reached_by_the_sweep_shapes():
    """The sweep only checks kernels whose supports() accepts its cases: make sure each one is accepted."""
    cases = [  # dense 3x3, 1x1 pointwise, depthwise with multiplier 2
        (rand(1, 3, 6, 6), rand(4, 3, 3, 3), {}),
        (rand(1, 3, 6, 6), rand(4, 3, 1, 1), {}),
        (rand(1, 3, 6, 6), rand(6, 1, 3, 3), {"group": 3}),
    ]
    seen = set()
    for x, w, attrs in cases:
        model, _ = conv_model("Conv", x, w, None, attrs)
        seen.update(applicable_kernels("Conv", model, x, w, None))
    assert seen == {k.name for k in kernels_for("Conv")}


@pytest.mark.parametrize("opset", [7, 11, 13, 22])
@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_opsets(op, opset):
    x = rand(2, 4, 7, 6, seed=3)
    w = rand(4, 2, 3, 2, seed=4)
    b = rand(4, seed=5)
    attrs = {"strides": [2, 1], "pads": [1, 0, 0, 1], "group": 2}
    model, feeds = conv_model(op, x, w, b, attrs, opset)
    assert_matches_ort(model, feeds, rtol=1e-4, atol=3e-5)


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_weights_fed_at_run_time(op):
    x = rand(1, 4, 6, 5, seed=6)
    w = rand(4, 2, 3, 3, seed=7)
    model, feeds = conv_model(op, x, w, rand(4, seed=8), {"group": 2, "pads": [1, 1, 0, 2]},
                              const_weights=False)
    assert_matches_ort(model, feeds, rtol=1e-4, atol=3e-5)


def test_constant_input_is_folded_with_the_general_kernel():
    w = rand(3, 2, 3, 3, seed=9)
    c = rand(1, 2, 5, 5, seed=10)
    nodes = [helper.make_node("Conv", ["c", "w"], ["t"], pads=[1, 1, 1, 1]),
             helper.make_node("ConvTranspose", ["t", "w2"], ["u"], strides=[2, 2]),
             helper.make_node("Add", ["u", "x"], ["y"])]
    w2 = rand(3, 2, 2, 2, seed=11)
    model = make_model(nodes, [("x", np.float32, [1, 2, 10, 10])], [("y", np.float32, None)],
                       {"c": c, "w": w, "w2": w2})
    assert_matches_ort(model, {"x": rand(1, 2, 10, 10, seed=12)}, rtol=1e-4, atol=3e-5)


def test_larger_layers_match_in_tiles(monkeypatch):
    """Layers whose column buffer is tiled into several bands (small cap forced) still match."""
    from fastconv.ops import conv

    monkeypatch.setattr(conv, "COLS_TARGET", 500)
    x = rand(2, 8, 13, 11, seed=13)
    check_all_kernels("Conv", x, rand(6, 8, 3, 3, seed=14), rand(6, seed=15), {"pads": [1, 2, 0, 1],
                                                                            "strides": [1, 2]}, 2)
    check_all_kernels("ConvTranspose", x, rand(8, 3, 3, 3, seed=16), rand(3, seed=17),
                      {"strides": [2, 2], "pads": [1, 0, 1, 1]}, 2)


def test_input_is_not_modified():
    x = rand(1, 2, 6, 6, seed=18)
    x0 = x.copy()
    for op, w in (("Conv", rand(4, 2, 3, 3)), ("ConvTranspose", rand(2, 4, 3, 3))):
        model, feeds = conv_model(op, x, w, rand(4), {"pads": [1, 1, 1, 1]})
        fastconv.InferenceSession(model).run(None, feeds)
        np.testing.assert_array_equal(x, x0)


# -- errors ----------------------------------------------------------------------------------------------------

def symbolic_model(op, attrs, w_shape=(4, 3, 3, 3), b=False):
    """A model whose input shape is unknown: errors found here are found at load time, without shapes."""
    ins = ["x", "w"] + (["b"] if b else [])
    node = helper.make_node(op, ins, ["y"], name="my_conv", **attrs)
    inits = {"w": rand(*w_shape)}
    if b:
        inits["b"] = rand(w_shape[0])
    return make_model([node], [("x", np.float32, ["N", "C", "H", "W"])], [("y", np.float32, None)], inits)


LOAD_ERRORS = [
    ({"strides": [0, 1]}, InvalidModelError, "strides"),
    ({"dilations": [1, -1]}, InvalidModelError, "dilations"),
    ({"kernel_shape": [3, 0]}, InvalidModelError, "kernel_shape"),
    ({"pads": [1, 1, -1, 1]}, InvalidModelError, "pads"),
    ({"pads": [1, 1, 1]}, InvalidModelError, "pads"),
    ({"strides": [1, 1], "dilations": [1, 1, 1]}, InvalidModelError, "disagree"),
    ({"kernel_shape": [3, 3], "pads": [0, 0]}, InvalidModelError, "disagree"),
    ({"auto_pad": "SAME"}, InvalidModelError, "auto_pad"),
    ({"group": 0}, InvalidModelError, "group"),
    ({"strides": [1, 1, 1, 1]}, UnsupportedError, "spatial axes"),
    ({"foo": 1}, UnsupportedError, "unknown attribute"),
]


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
@pytest.mark.parametrize("attrs,error,words", LOAD_ERRORS, ids=[str(a) for a, _, _ in LOAD_ERRORS])
def test_bad_attributes_fail_at_load(op, attrs, error, words):
    with pytest.raises(error, match=f"my_conv.*{words}"):
        fastconv.InferenceSession(symbolic_model(op, attrs))


@pytest.mark.parametrize("attrs,words", [
    ({"output_padding": [0, -1]}, "output_padding"),
    ({"output_shape": [0, 5]}, "output_shape"),
    ({"strides": [2, 2], "output_padding": [1]}, "output_padding"),
])
def test_bad_transpose_attributes_fail_at_load(attrs, words):
    with pytest.raises(InvalidModelError, match=f"my_conv.*{words}"):
        fastconv.InferenceSession(symbolic_model("ConvTranspose", attrs))


SHAPE_ERRORS = [  # (op, x shape, w shape, attrs, error, words); found when the session plans for X's shape
    ("Conv", (1, 6, 8, 8), (4, 3, 3, 3), {"group": 3}, InvalidModelError, "group"),
    ("Conv", (1, 6, 8, 8), (4, 4, 3, 3), {"group": 2}, InvalidModelError, "W.shape\\[1\\] \\* group"),
    ("Conv", (1, 3, 8, 8), (4, 3, 3), {}, InvalidModelError, "rank"),
    ("Conv", (1, 3, 8, 8), (4, 3, 3, 3), {"kernel_shape": [3, 2]}, InvalidModelError, "kernel_shape"),
    ("Conv", (1, 3, 8, 8), (4, 3, 3, 3), {"strides": [1]}, InvalidModelError, "strides"),
    ("Conv", (1, 3, 4, 8), (4, 3, 3, 3), {"dilations": [2, 1]}, InvalidModelError, "exceeds the padded input"),
    ("Conv", (1, 3, 2, 8), (4, 3, 5, 3), {"pads": [1, 0, 1, 0]}, InvalidModelError, "exceeds the padded input"),
    ("Conv", (8, 3), (4, 3, 3), {}, InvalidModelError, "spatial"),
    ("Conv", (1, 1, 2, 2, 2, 2), (1, 1, 1, 1, 1, 1), {}, UnsupportedError, "spatial axes"),
    ("ConvTranspose", (1, 6, 5, 5), (4, 2, 3, 3), {"group": 3}, InvalidModelError, "W.shape\\[0\\]"),
    ("ConvTranspose", (1, 4, 5, 5), (4, 2, 3, 3), {"group": 3}, InvalidModelError, "group"),
    ("ConvTranspose", (1, 4, 5, 5), (4, 2, 3, 3), {"output_padding": [1, 0]}, InvalidModelError,
     "output_padding"),
    ("ConvTranspose", (1, 4, 5, 5), (4, 2, 3, 3), {"strides": [2, 2], "output_padding": [1]},
     InvalidModelError, "output_padding"),
    ("ConvTranspose", (1, 4, 5, 5), (4, 2, 3, 3), {"strides": [2, 2], "output_shape": [13, 9]},
     InvalidModelError, "output_shape .* inconsistent"),
    ("ConvTranspose", (1, 4, 5, 5), (4, 2, 3, 3), {"output_shape": [7, 7, 7]}, InvalidModelError, "output_shape"),
    ("ConvTranspose", (1, 4, 2, 2), (4, 2, 2, 2), {"pads": [2, 2, 1, 1]}, InvalidModelError, "not positive"),
]


@pytest.mark.parametrize("op,xs,ws,attrs,error,words", SHAPE_ERRORS,
                         ids=[f"{e[0]}-{e[5]}" for e in SHAPE_ERRORS])
def test_inconsistent_shapes_fail_when_planned(op, xs, ws, attrs, error, words):
    node = helper.make_node(op, ["x", "w"], ["y"], name="my_conv", **attrs)
    model = make_model([node], [("x", np.float32, list(xs))], [("y", np.float32, None)], {"w": rand(*ws)})
    with pytest.raises(error, match=f"my_conv.*{words}"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_bias_shape_and_dtype_are_checked(op):
    node = helper.make_node(op, ["x", "w", "b"], ["y"], name="my_conv")
    model = make_model([node], [("x", np.float32, [1, 3, 5, 5])], [("y", np.float32, None)],
                       {"w": rand(3, 3, 3, 3), "b": rand(4)})
    with pytest.raises(InvalidModelError, match="my_conv.*bias"):
        fastconv.InferenceSession(model)
    node = helper.make_node(op, ["x", "w"], ["y"], name="my_conv")
    model = make_model([node], [("x", np.float64, [1, 3, 5, 5])], [("y", np.float64, None)],
                       {"w": rand(3, 3, 3, 3, dtype=np.float64)})
    with pytest.raises(UnsupportedError, match="my_conv.*float32"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("c,m,k,s,p,extra", [
    (24, 24, 2, 2, 0, {}),                          # DBNet / U-Net upsampling head: one 1x1 phase conv
    (32, 16, 4, 2, 1, {}),                          # DCGAN generator block: 2x2 phase kernels
    (8, 3, 3, 2, 1, {"output_padding": [1, 1]}),    # phases of unequal tap counts, output_padding
    (16, 1, 2, 2, 0, {}),                           # all phases in one channel block (scalar shuffle)
    (5, 20, 5, 3, 2, {}),
    (16, 16, 3, 1, 1, {}),                          # stride 1: a convolution with the flipped kernel
    (4, 4, 1, 2, 0, {}),                            # k < s: odd phases hold only the bias
    (16, 8, 3, 2, 0, {"output_shape": [12, 10]}),   # explicit output_shape (cropped)
])
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_transpose_subpixel_realistic_channels(c, m, k, s, p, extra, threads):
    x = rand(2, c, 6, 5, seed=c + m)
    attrs = {"strides": [s, s], "pads": [p] * 4, **extra}
    if "output_shape" in extra:
        del attrs["pads"]
    names = check_all_kernels("ConvTranspose", x, rand(c, m, k, k, seed=3) * 0.3, rand(m, seed=4), attrs, threads)
    assert "convtranspose_subpixel_f32" in names


@pytest.mark.parametrize("batch,c,m,k", [(1, 100, 128, 4), (3, 7, 5, 3), (8, 16, 24, 2)])
def test_conv_transpose_one_pixel_input(batch, c, m, k):
    """DCGAN's first layer: a 1x1 input projected to one kernel footprint, as one small-M GEMM."""
    x = rand(batch, c, 1, 1, seed=batch)
    names = check_all_kernels("ConvTranspose", x, rand(c, m, k, k, seed=2) * 0.2, rand(m, seed=3), {}, 2)
    assert "convtranspose_one_pixel_gemm_f32" in names
