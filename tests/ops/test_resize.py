"""Resize and Upsample against onnxruntime: modes x coordinate modes x scales/sizes, up and down, exporter
styles (PyTorch, Paddle), every registered kernel against the numpy one."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.errors import InvalidModelError
from fastconv.kernels.registry import kernels_for
from tests.util import assert_matches_ort, helper, make_model, rand, run_ort, single_node_model

F32, I64 = np.float32, np.int64
EMPTY = np.zeros(0, F32)
COORDS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric",
          "tf_half_pixel_for_nn", "tf_crop_and_resize"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
KERNELS = [k.name for k in kernels_for("Resize")]


def resize_model(x_shape, attrs, scales=None, sizes=None, roi=None, opset=19, dtype=F32):
    """Resize-11+ node with constant roi / scales / sizes (empty tensors for the absent ones, as exporters do)."""
    consts = {"roi": EMPTY if roi is None else np.array(roi, F32),
              "scales": EMPTY if scales is None else np.array(scales, F32)}
    names = ["x", "roi", "scales"]
    if sizes is not None:
        consts["sizes"] = np.array(sizes, I64)
        names.append("sizes")
    node = helper.make_node("Resize", names, ["y"], **attrs)
    return make_model([node], [("x", dtype, list(x_shape))], [("y", dtype, None)], consts, opset)


def check_kernel(model, x, name, **kw):
    """onnxruntime vs fastconv forced to kernel `name`; False when that kernel cannot run this case."""
    try:
        assert_matches_ort(model, {"x": x}, kernel_overrides={"Resize": name, "Upsample": name}, **kw)
    except ValueError as e:
        if "does not support" not in str(e):
            raise
        return False
    return True


def check_all_kernels(model, x, **kw):
    ran = [name for name in KERNELS if check_kernel(model, x, name, **kw)]
    assert "resize_separable_numpy" in ran
    return ran


def roi_for(coord):
    """A crop box for tf_crop_and_resize (None otherwise), reaching outside the image on H. (An axis that
    keeps its size is copied, box or not, as onnxruntime does.)"""
    return [0, 0, 0.1, 0.25, 1, 1, 1.3, 0.8] if coord == "tf_crop_and_resize" else None


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("nearest_mode", NEAREST)
@pytest.mark.parametrize("scales", [[1, 1, 2, 3], [1, 1, 0.5, 0.75], [1, 1, 1.7, 0.6]])
def test_nearest_scales(coord, nearest_mode, scales):
    x = rand(2, 3, 5, 8)
    attrs = {"mode": "nearest", "coordinate_transformation_mode": coord, "nearest_mode": nearest_mode,
             "extrapolation_value": -7.0}
    opset = 13 if coord == "tf_half_pixel_for_nn" else 19
    check_all_kernels(resize_model(x.shape, attrs, scales, roi=roi_for(coord), opset=opset), x)


@pytest.mark.parametrize("coord", [c for c in COORDS if c != "tf_half_pixel_for_nn"])  # nearest-only mode
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("sizes", [[2, 3, 10, 16], [2, 3, 3, 5], [2, 3, 7, 8], [2, 3, 1, 1]])
def test_interpolating_sizes(coord, mode, sizes):
    x = rand(2, 3, 5, 8)
    attrs = {"mode": mode, "coordinate_transformation_mode": coord, "extrapolation_value": 2.5}
    check_all_kernels(resize_model(x.shape, attrs, sizes=sizes, roi=roi_for(coord)), x)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("coord", ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 0.5, 0.5], [1, 1, 1.3, 0.7], [1, 1, 3, 1]])
def test_interpolating_scales(mode, coord, scales):
    x = rand(1, 4, 6, 7, seed=3)
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    check_all_kernels(resize_model(x.shape, attrs, scales), x)


@pytest.mark.parametrize("a,exclude", [(-0.75, 0), (-0.5, 1), (-0.75, 1), (-0.6, 0)])
@pytest.mark.parametrize("scales", [[1, 1, 2.5, 1.5], [1, 1, 0.6, 0.8]])
def test_cubic_coeff_and_exclude_outside(a, exclude, scales):
    x = rand(1, 2, 6, 9, seed=4)
    attrs = {"mode": "cubic", "cubic_coeff_a": a, "exclude_outside": exclude}
    check_all_kernels(resize_model(x.shape, attrs, scales), x)


@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("sizes", [[1, 2, 3, 4], [1, 2, 5, 2], [1, 2, 12, 7]])
def test_antialias(mode, sizes):
    x = rand(1, 2, 9, 11, seed=5)
    attrs = {"mode": mode, "antialias": 1}
    check_all_kernels(resize_model(x.shape, attrs, sizes=sizes, opset=18), x)


@pytest.mark.parametrize("policy", ["stretch", "not_larger", "not_smaller"])
@pytest.mark.parametrize("axes", [None, [2, 3], [3, 2]])
def test_sizes_aspect_ratio_policy_and_axes(policy, axes):
    """Without axes the policy covers N and C too (so nearest: onnxruntime's linear would refuse)."""
    x = rand(1, 2, 6, 10, seed=6)
    attrs = {"mode": "nearest" if axes is None else "linear", "keep_aspect_ratio_policy": policy}
    sizes = [1, 2, 9, 12]
    if axes is not None:
        attrs["axes"] = axes
        sizes = [12, 9] if axes[0] == 3 else [9, 12]
    check_all_kernels(resize_model(x.shape, attrs, sizes=sizes, opset=18), x)


def test_aspect_ratio_policy_negative_axes():
    """onnxruntime ignores negative axes in the policy; the spec counts them from the back."""
    x = rand(1, 2, 6, 10, seed=6)
    model = resize_model(x.shape, {"mode": "nearest", "axes": [-1, -2], "keep_aspect_ratio_policy": "not_larger"},
                         sizes=[12, 9], opset=18)
    assert fastconv.InferenceSession(model).run(None, {"x": x})[0].shape == (1, 2, 7, 12)


@pytest.mark.parametrize("axes,scales", [([3], [2.0]), ([1], [1.5]), ([2, 3], [0.5, 2.0]), ([-2], [3.0])])
def test_scales_with_axes(axes, scales):
    x = rand(2, 2, 4, 5, seed=7)
    model = resize_model(x.shape, {"mode": "nearest", "axes": axes}, scales, opset=18)
    check_all_kernels(model, x)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_five_d_and_nhwc(mode):
    """Axes other than the last two go through the numpy kernel (trilinear here; NHWC images)."""
    x = rand(1, 2, 3, 4, 5, seed=8)
    assert_matches_ort(resize_model(x.shape, {"mode": mode}, [1, 1, 2, 1.5, 0.8]), {"x": x})
    x = rand(1, 5, 6, 3, seed=9)
    assert_matches_ort(resize_model(x.shape, {"mode": mode}, [1, 2, 0.5, 1]), {"x": x})


LOW_RANK = [((5, 7), [1.6, 0.5]), ((3, 5, 7), [1, 1.6, 0.5]), ((9,), [1.7])]


# onnxruntime refuses cubic on ranks other than 2 and linear on rank 1: those pairs are not drawn
@pytest.mark.parametrize("mode,shape,scales", [(m, sh, sc) for m in ("nearest", "linear", "cubic")
                                               for sh, sc in LOW_RANK
                                               if not (m == "cubic" and len(sh) != 2
                                                       or m == "linear" and len(sh) == 1)])
def test_low_rank(mode, shape, scales):
    x = rand(*shape, seed=17)
    check_all_kernels(resize_model(x.shape, {"mode": mode}, scales), x)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_integer_inputs(dtype, mode):
    x = np.random.default_rng(0).integers(-100 if dtype != np.uint8 else 0, 100, (1, 3, 4, 5)).astype(dtype)
    assert_matches_ort(resize_model(x.shape, {"mode": mode}, [1, 1, 1.7, 0.6], dtype=dtype), {"x": x})


def test_integer_antialias_rounds_within_one_of_onnxruntime():
    """onnxruntime antialiases integer images in fixed point; fastconv rounds the float result."""
    x = np.random.default_rng(0).integers(0, 255, (1, 2, 9, 8)).astype(np.uint8)
    model = resize_model(x.shape, {"mode": "linear", "antialias": 1}, [1, 1, 0.45, 0.7], dtype=np.uint8)
    got = fastconv.InferenceSession(model).run(None, {"x": x})[0]
    assert got.dtype == np.uint8
    assert np.abs(got.astype(int) - run_ort(model, {"x": x})[0].astype(int)).max() <= 1


@st.composite
def resize_cases(draw):
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
    coord = draw(st.sampled_from(COORDS[:5] + ["tf_crop_and_resize"]))
    attrs = {"mode": mode, "coordinate_transformation_mode": coord}
    if mode == "nearest":
        attrs["nearest_mode"] = draw(st.sampled_from(NEAREST))
    if mode == "cubic":
        attrs["exclude_outside"] = draw(st.sampled_from([0, 1]))
    if mode != "nearest" and draw(st.booleans()):
        attrs["antialias"] = 1
    factors = st.sampled_from([0.25, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 1 / 3])
    if draw(st.booleans()):
        fy, fx = draw(factors), draw(factors)
        scales, sizes = [1, 1, fy, fx], None
        if int(np.float32(fy) * h) == 0 or int(np.float32(fx) * w) == 0:
            fy, fx = 2.0, 2.0
            scales = [1, 1, 2.0, 2.0]
    else:
        scales, sizes = None, [2, 3, draw(st.integers(1, 12)), draw(st.integers(1, 12))]
    roi = None
    if coord == "tf_crop_and_resize":
        box = st.sampled_from([-0.3, 0.0, 0.1, 0.5, 0.9, 1.0, 1.4])
        roi = [0, 0, draw(box), draw(box), 1, 1, draw(box), draw(box)]
    return (2, 3, h, w), attrs, scales, sizes, roi


@settings(max_examples=1000, deadline=None)
@given(case=resize_cases(), kernel=st.sampled_from(KERNELS), threads=st.sampled_from([1, 2]))
def test_resize_sweep(case, kernel, threads):
    shape, attrs, scales, sizes, roi = case
    x = rand(*shape, seed=11)
    model = resize_model(shape, attrs, scales, sizes, roi, opset=19)
    check_kernel(model, x, kernel, num_threads=threads)


# --- older opsets and Upsample -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 1.5, 2.5], [1, 1, 0.5, 0.6], [1, 1, 3, 1]])
def test_resize10(mode, scales):
    x = rand(1, 2, 4, 5, seed=12)
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode=mode)
    model = make_model([node], [("x", F32, [1, 2, 4, 5])], [("y", F32, None)], {"scales": np.array(scales, F32)},
                       opset=10)
    check_all_kernels(model, x)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 1.5, 2.5], [1, 1, 3, 1]])
def test_upsample7_scales_attribute(mode, scales):
    x = rand(1, 2, 4, 5, seed=13)
    model = single_node_model("Upsample", {"x": x}, {"mode": mode, "scales": [float(s) for s in scales]},
                              opset=7)
    check_all_kernels(model, x)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample9_scales_input(mode):
    x = rand(2, 3, 4, 4, seed=14)
    model = single_node_model("Upsample", {"x": x}, {"mode": mode}, {"s": np.array([1, 1, 2, 2], F32)}, opset=9)
    check_all_kernels(model, x)


# --- exporter styles ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("opset", [11, 13, 17])
def test_pytorch_interpolate_size_from_shape_subgraph(opset):
    """F.interpolate(x, size=(h, w), mode="bilinear"): sizes = Concat(Shape(x)[:2], [h, w]), scales empty."""
    c = {"st": np.array([0], I64), "en": np.array([2], I64), "ax": np.array([0], I64),
         "hw": np.array([13, 9], I64), "roi": EMPTY, "sc": EMPTY}
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Slice", ["s", "st", "en", "ax"], ["nc"]),
             helper.make_node("Concat", ["nc", "hw"], ["sizes"], axis=0),
             helper.make_node("Resize", ["x", "roi", "sc", "sizes"], ["y"], mode="linear",
                              coordinate_transformation_mode="pytorch_half_pixel")]
    model = make_model(nodes, [("x", F32, [1, 3, 7, 6])], [("y", F32, None)], c, opset)
    assert_matches_ort(model, {"x": rand(1, 3, 7, 6)})
    plan = fastconv.InferenceSession(model).plan_for({"x": (1, 3, 7, 6)})
    assert [s.node.op_type for s in plan.steps] == ["Resize"]


@pytest.mark.parametrize("attrs", [
    {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},  # nearest
    {"mode": "linear", "coordinate_transformation_mode": "align_corners"},                        # align_corners=True
    {"mode": "cubic", "coordinate_transformation_mode": "align_corners", "cubic_coeff_a": -0.75},
])
def test_pytorch_scale_factor_styles(attrs):
    x = rand(1, 8, 10, 12, seed=15)
    check_all_kernels(resize_model(x.shape, attrs, [1, 1, 2, 2], opset=13), x)


@pytest.mark.parametrize("attrs", [
    {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "round_prefer_ceil"},
    {"mode": "linear", "coordinate_transformation_mode": "half_pixel"},
    {"mode": "linear", "coordinate_transformation_mode": "asymmetric"},
])
def test_paddle_style_sizes_with_empty_roi_and_scales(attrs):
    """paddle2onnx passes roi and scales as empty tensors and the output size as an int64 sizes input."""
    x = rand(2, 4, 9, 7, seed=16)
    check_all_kernels(resize_model(x.shape, attrs, sizes=[2, 4, 18, 14], opset=11), x)


def test_scales_fed_at_run_time():
    model = make_model([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest")],
                       [("x", F32, [1, 1, 3, 4]), ("s", F32, [4])], [("y", F32, None)], opset=13)
    sess = fastconv.InferenceSession(model)
    x = rand(1, 1, 3, 4)
    for s in ([1, 1, 2, 2], [1, 1, 3, 1]):
        assert sess.run(None, {"x": x, "s": np.array(s, F32)})[0].shape == (1, 1, 3 * s[2], 4 * s[3])


def test_invalid_resize_is_refused():
    x = rand(1, 1, 3, 4)
    with pytest.raises(InvalidModelError, match="antialias"):
        fastconv.InferenceSession(resize_model(x.shape, {"mode": "nearest", "antialias": 1}, [1, 1, 2, 2]))
    with pytest.raises(InvalidModelError, match="only one of scales and sizes"):
        fastconv.InferenceSession(resize_model(x.shape, {}, [1, 1, 2, 2], [1, 1, 6, 8]))
    with pytest.raises(InvalidModelError, match="mode"):
        fastconv.InferenceSession(resize_model(x.shape, {"mode": "area"}, [1, 1, 2, 2]))
