"""Tensor and shape ops against onnxruntime: attribute-to-input upgrades across opsets, Slice and Pad sweeps,
shape subgraphs folded at plan time."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from tests.util import TensorProto, assert_matches_ort, helper, make_model, rand, single_node_model

I64 = np.int64


def check(op, inputs, attrs=None, opset=17, initializers=None, num_outputs=1, output_dtype=None):
    model = single_node_model(op, inputs, attrs, initializers, num_outputs=num_outputs, opset=opset,
                              output_dtype=output_dtype)
    return assert_matches_ort(model, inputs)


def ints(*shape, seed=0, dtype=I64):
    return np.random.default_rng(seed).integers(-9, 9, shape).astype(dtype)


# --- Concat, Split ---------------------------------------------------------------------------------------

# negative axes exist since opset 11: older opsets are only paired with non-negative ones
@pytest.mark.parametrize("opset,axis", [(o, a) for o in (7, 11, 13) for a in (0, 1, 2, -1, -3) if o >= 11 or a >= 0])
def test_concat(opset, axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, s in enumerate(shapes):
        s[axis] = k + 1
    xs = {f"x{k}": rand(*s, seed=k) for k, s in enumerate(shapes)}
    check("Concat", xs, {"axis": axis}, opset)


def test_concat_int64_and_empty_input():
    check("Concat", {"a": ints(2, 3), "b": np.zeros((2, 0), I64), "c": ints(2, 1, seed=1)}, {"axis": 1}, 13)


@pytest.mark.parametrize("opset", [7, 11, 13])
def test_split_equal(opset):
    check("Split", {"x": rand(2, 6, 4)}, {"axis": 1}, opset, num_outputs=3)


@pytest.mark.parametrize("opset", [7, 11])
def test_split_attribute(opset):
    check("Split", {"x": rand(7, 3)}, {"split": [2, 4, 1]}, opset, num_outputs=3)


@pytest.mark.parametrize("opset", [13, 18])
def test_split_input(opset):
    check("Split", {"x": rand(3, 7)}, {"axis": -1}, opset, {"split": np.array([2, 0, 5], I64)}, num_outputs=3)


@pytest.mark.parametrize("dim,n", [(7, 3), (8, 3), (6, 3), (5, 2)])
def test_split18_num_outputs_last_chunk_smaller(dim, n):
    check("Split", {"x": rand(2, dim)}, {"axis": 1, "num_outputs": n}, 18, num_outputs=n)


def test_split_without_sizes_errors():
    with pytest.raises(InvalidModelError, match="evenly"):
        fastconv.InferenceSession(single_node_model("Split", {"x": rand(7)}, {}, num_outputs=2, opset=13))
    with pytest.raises(InvalidModelError, match="num_outputs"):
        fastconv.InferenceSession(single_node_model("Split", {"x": rand(8)}, {}, num_outputs=2, opset=18))


# --- Slice ---------------------------------------------------------------------------------------------

BIG = 2**63 - 1


@st.composite
def slice_cases(draw):
    rank = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(0, 5), min_size=rank, max_size=rank))
    axes = draw(st.permutations(range(rank)))[:draw(st.integers(1, rank))]
    bound = st.one_of(st.integers(-8, 8), st.sampled_from([BIG, -BIG - 1, 2**31 - 1, -(2**31)]))
    starts = [draw(bound) for _ in axes]
    ends = [draw(bound) for _ in axes]
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2, -3])) for _ in axes]
    # onnxruntime reads ends=INT64_MAX or INT32_MAX with a negative step as "through index 0"; the spec
    # clamps them to dim-1 (an empty slice), which fastconv follows. Exporters pass INT64_MIN there.
    ends = [-BIG - 1 if e in (BIG, 2**31 - 1) and s < 0 else e for e, s in zip(ends, steps)]
    negative_axes = draw(st.booleans())
    axes = [a - rank if negative_axes else a for a in axes]
    return shape, starts, ends, axes, steps


@settings(max_examples=400, deadline=None)
@given(case=slice_cases())
def test_slice_sweep(case):
    shape, starts, ends, axes, steps = case
    params = {"starts": np.array(starts, I64), "ends": np.array(ends, I64), "axes": np.array(axes, I64),
              "steps": np.array(steps, I64)}
    check("Slice", {"x": rand(*shape)}, {}, 13, params)


def test_slice_negative_step_start_below_range():
    """start clamps to 0 (not to -1, which a Python slice would read as the last element)."""
    params = {"starts": np.array([-10], I64), "ends": np.array([-BIG - 1], I64), "axes": np.array([0], I64),
              "steps": np.array([-1], I64)}
    check("Slice", {"x": rand(5, 2)}, {}, 13, params)


@pytest.mark.parametrize("opset", [7, 9])
def test_slice1_attributes(opset):
    check("Slice", {"x": rand(4, 6, 5)}, {"starts": [1, -4], "ends": [100, -1], "axes": [1, 2]}, opset)


def test_slice1_without_axes():
    check("Slice", {"x": rand(4, 6)}, {"starts": [1, 0], "ends": [3, 5]}, 7)


@pytest.mark.parametrize("opset", [10, 11])
def test_slice10_inputs_int32(opset):
    params = {"starts": np.array([3, 1], np.int32), "ends": np.array([0, 5], np.int32),
              "axes": np.array([0, 1], np.int32), "steps": np.array([-1, 2], np.int32)}
    check("Slice", {"x": rand(4, 6)}, {}, opset, params)


# --- Reshape, Flatten, Transpose, Squeeze, Unsqueeze ----------------------------------------------------

@pytest.mark.parametrize("opset", [7, 13, 14, 19])
@pytest.mark.parametrize("shape", [[0, -1], [-1, 4], [2, 0, 2, -1], [24], [4, 3, 2, 1], [0, 0, 4]])
def test_reshape(opset, shape):
    check("Reshape", {"x": rand(2, 3, 4)}, {}, opset, {"shape": np.array(shape, I64)})


def test_reshape_allowzero_keeps_zero():
    check("Reshape", {"x": np.zeros((0, 3), np.float32)}, {"allowzero": 1}, 14, {"shape": np.array([3, 0], I64)})


def test_reshape_shape_fed_at_run_time():
    """A shape computed from graph-input values: the plan is keyed on those values."""
    model = make_model([helper.make_node("Reshape", ["x", "s"], ["y"])],
                       [("x", np.float32, [2, 3, 4]), ("s", np.int64, [2])], [("y", np.float32, None)],
                       opset=13)
    sess = fastconv.InferenceSession(model)
    x = rand(2, 3, 4)
    for s in ([6, 4], [-1, 2], [4, 6]):
        np.testing.assert_array_equal(sess.run(None, {"x": x, "s": np.array(s, I64)})[0], x.reshape(s))


def test_reshape_bad_shape_is_invalid():
    with pytest.raises(InvalidModelError, match="cannot reshape"):
        fastconv.InferenceSession(single_node_model("Reshape", {"x": rand(2, 3)}, {}, {"s": np.array([4], I64)}))


@pytest.mark.parametrize("opset,axis", [(o, a) for o in (7, 11, 13) for a in (0, 1, 2, 3, -1, -2, -3)
                                         if o >= 11 or a >= 0])
def test_flatten(opset, axis):
    check("Flatten", {"x": rand(2, 3, 4)}, {"axis": axis}, opset)


@pytest.mark.parametrize("perm", [None, [0, 2, 3, 1], [3, 1, 0, 2]])
def test_transpose(perm):
    check("Transpose", {"x": rand(2, 3, 4, 5)}, {} if perm is None else {"perm": perm}, 13)
    check("Transpose", {"x": ints(2, 3, 4, 5)}, {} if perm is None else {"perm": perm}, 7)


@pytest.mark.parametrize("shape,perm,view", [((1, 6, 1, 1), [0, 2, 3, 1], True), ((4, 1, 5), [1, 0, 2], True),
                                             ((2, 1, 3), [2, 1, 0], False)])
def test_transpose_lowering(shape, perm, view):
    """Lowered with the permutation fixed at plan time: moving only size-1 axes is a reshape (a view), any other
    permutation a copy into the planned buffer."""
    x = rand(*shape, seed=2)
    model = single_node_model("Transpose", {"x": x}, {"perm": perm}, opset=13)
    assert_matches_ort(model, {"x": x})
    step = fastconv.InferenceSession(model).plan_for({"x": shape}).steps[0]
    assert getattr(step.fn, "accepts_out", False) is not view
    y = step.fn(x)[0]
    assert (y.base is not None) is view and y.flags.c_contiguous


@pytest.mark.parametrize("opset,axes", [(o, a) for o in (7, 11, 13, 21) for a in (None, [1], [1, -1])
                                         if o >= 11 or a is None or min(a) >= 0])
def test_squeeze(opset, axes):
    x = {"x": rand(2, 1, 3, 1)}
    if axes is None:
        check("Squeeze", x, {}, opset)
    elif opset < 13:
        check("Squeeze", x, {"axes": axes}, opset)
    else:
        check("Squeeze", x, {}, opset, {"axes": np.array(axes, I64)})


@pytest.mark.parametrize("opset,axes", [(o, a) for o in (7, 11, 13, 21) for a in ([0], [1, 4], [-1, 0])
                                         if o >= 11 or min(a) >= 0])
def test_unsqueeze(opset, axes):
    x = {"x": rand(2, 3, 4)[..., :3]}
    if opset < 13:
        check("Unsqueeze", x, {"axes": axes}, opset)
    else:
        check("Unsqueeze", x, {}, opset, {"axes": np.array(axes, I64)})


def test_squeeze_non_unit_axis_is_invalid():
    with pytest.raises(InvalidModelError, match="cannot squeeze"):
        fastconv.InferenceSession(single_node_model("Squeeze", {"x": rand(2, 3)}, {}, {"a": np.array([0], I64)},
                                                    opset=13))


# --- Shape, Size, Gather, Constant, ConstantOfShape -----------------------------------------------------

@pytest.mark.parametrize("attrs", [{}, {"start": 1}, {"end": -1}, {"start": -3, "end": 3}, {"start": 9},
                                   {"start": -9, "end": -9}])
def test_shape(attrs):
    check("Shape", {"x": rand(2, 3, 4, 5)}, attrs, 15 if attrs else 7, output_dtype=np.int64)


def test_size():
    check("Size", {"x": rand(2, 3, 4)}, {}, 13, output_dtype=np.int64)


# The importer turns 0-d initializers and Constant values into 1-d arrays (np.ascontiguousarray in
# fastconv/onnx/importer.py); PyTorch exports scalar Gather indices that way.


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("idx", [np.array([0, -1, 2, 1], I64), np.array([[1, 0], [-3, 2]], np.int32)])
def test_gather(axis, idx):
    check("Gather", {"x": rand(3, 4, 5)}, {"axis": axis}, 13, {"i": idx})


def test_gather_scalar_index():
    check("Gather", {"x": rand(3, 4, 5)}, {"axis": 1}, 13, {"i": np.array(-2, I64)})


def test_gather_scalar_index_computed():
    """A 0-d index produced by a node (not an initializer) drops the gathered axis."""
    nodes = [helper.make_node("Squeeze", ["i1", "ax"], ["i"]), helper.make_node("Gather", ["x", "i"], ["y"], axis=1)]
    model = make_model(nodes, [("x", np.float32, [3, 4, 5])], [("y", np.float32, None)],
                       {"i1": np.array([-2], I64), "ax": np.array([0], I64)}, opset=13)
    assert_matches_ort(model, {"x": rand(3, 4, 5)})


def test_gather_indices_fed_at_run_time():
    model = make_model([helper.make_node("Gather", ["x", "i"], ["y"], axis=1)],
                       [("x", np.int64, [3, 4]), ("i", np.int64, [5])], [("y", np.int64, None)], opset=11)
    assert_matches_ort(model, {"x": ints(3, 4), "i": np.array([0, -1, 3, -4, 2], I64)})


CONSTANTS = [
    ({"value": numpy_helper.from_array(rand(2, 3))}, np.float32),
    ({"value": numpy_helper.from_array(np.array([1, 2], np.int32))}, np.int32),
    ({"value_float": 2.5}, np.float32), ({"value_floats": [1.0, -2.0]}, np.float32), ({"value_int": 7}, I64),
    ({"value_ints": [3, 4, 5]}, I64),
]


@pytest.mark.parametrize("attrs,dtype", CONSTANTS, ids=lambda a: next(iter(a)) if isinstance(a, dict) else "")
def test_constant(attrs, dtype):
    model = make_model([helper.make_node("Constant", [], ["c"], **attrs)], [], [("c", dtype, None)], opset=13)
    assert_matches_ort(model, {})


def test_constant_sparse_is_unsupported():
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.array([1.0], np.float32)),
                                       numpy_helper.from_array(np.array([1], I64)), [3])
    model = make_model([helper.make_node("Constant", [], ["c"], sparse_value=sparse)], [],
                       [("c", np.float32, None)], opset=13)
    with pytest.raises(UnsupportedError, match="sparse"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("value", [None, np.array([3], I64), np.array([1.5], np.float32), np.array([1], np.int32)])
@pytest.mark.parametrize("shape", [[2, 3], [0], []])
def test_constant_of_shape(value, shape):
    attrs = {} if value is None else {"value": numpy_helper.from_array(value)}
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], **attrs)
    dtype = np.float32 if value is None else value.dtype
    model = make_model([node, helper.make_node("Identity", ["x"], ["z"])], [("x", np.float32, [1])],
                       [("y", dtype, None), ("z", np.float32, None)], {"s": np.array(shape, I64)}, opset=11)
    assert_matches_ort(model, {"x": rand(1)})


def test_constant_of_shape_from_input_shape():
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("ConstantOfShape", ["s"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [2, 5])], [("y", np.float32, None)], opset=11)
    assert_matches_ort(model, {"x": rand(2, 5)})


# --- Identity, Dropout --------------------------------------------------------------------------------------

def test_identity_output_does_not_alias_the_feed():
    x = rand(3, 4)
    got = check("Identity", {"x": x}, {}, 13)[0]
    assert not np.shares_memory(got, x)


@pytest.mark.parametrize("opset", [7, 10, 12, 13, 22])
def test_dropout_inference(opset):
    x = rand(2, 3)
    mask_type = TensorProto.FLOAT if opset < 10 else TensorProto.BOOL
    model = single_node_model("Dropout", {"x": x}, {}, num_outputs=2, opset=opset)
    model.graph.output[1].type.tensor_type.elem_type = mask_type
    assert_matches_ort(model, {"x": x})
    check("Dropout", {"x": x}, {"ratio": 0.3} if opset < 12 else {}, opset)


def test_dropout_training_mode():
    x = rand(2, 3)

    def model(ratio):
        m = single_node_model("Dropout", {"x": x}, {}, {"r": np.array(ratio, np.float32), "t": np.array(True)},
                              num_outputs=2, opset=13)
        m.graph.output[1].type.tensor_type.elem_type = TensorProto.BOOL
        return m

    assert_matches_ort(model(0.0), {"x": x})  # training with ratio 0 keeps everything
    with pytest.raises(UnsupportedError, match="training_mode"):
        fastconv.InferenceSession(model(0.5))


# --- Pad ----------------------------------------------------------------------------------------------------

@st.composite
def pad_cases(draw):
    """Per side either a crop (negative pad) or a pad; reflect and wrap pad less than the cropped size."""
    rank = draw(st.integers(1, 4))
    shape = draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank))
    mode = draw(st.sampled_from(["constant", "reflect", "edge", "wrap"]))
    begins, ends = [], []
    for d in shape:
        keep = 0 if mode == "constant" else 1
        crop_b = draw(st.integers(0, d - keep))
        crop_e = draw(st.integers(0, d - keep - crop_b))
        hi = d - crop_b - crop_e - 1 if mode in ("reflect", "wrap") else 4
        begins.append(-crop_b if crop_b else draw(st.integers(0, max(hi, 0))))
        ends.append(-crop_e if crop_e else draw(st.integers(0, max(hi, 0))))
    return shape, mode, begins + ends, draw(st.sampled_from([0.0, -1.5]))


@settings(max_examples=400, deadline=None)
@given(case=pad_cases())
def test_pad_sweep(case):
    shape, mode, pads, value = case
    params = {"pads": np.array(pads, I64), "value": np.array(value, np.float32)}
    check("Pad", {"x": rand(*shape)}, {"mode": mode}, 19, params)


@pytest.mark.parametrize("opset", [7, 10])
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad2_attributes(opset, mode):
    attrs = {"mode": mode, "pads": [0, 1, 2, 0, 2, 1]}
    if mode == "constant":
        attrs["value"] = 1.5
    check("Pad", {"x": rand(2, 3, 4)}, attrs, opset)


@pytest.mark.parametrize("opset", [11, 13])
def test_pad11_int64_constant_value(opset):
    check("Pad", {"x": ints(3, 4)}, {}, opset, {"pads": np.array([1, -1, 0, 2], I64), "v": np.array(7, I64)})


def test_pad18_axes():
    params = {"pads": np.array([1, 2, 0, 1], I64), "v": np.array(0.5, np.float32), "axes": np.array([-1, 1], I64)}
    check("Pad", {"x": rand(2, 3, 4)}, {"mode": "edge"}, 18, params)
    check("Pad", {"x": rand(2, 3, 4)}, {"mode": "constant"}, 18, params)


# --- Expand, Tile, Range, DepthToSpace, SpaceToDepth --------------------------------------------------------

@pytest.mark.parametrize("shape", [[2, 3, 4], [3, 1], [1, 1, 1, 4], [4]])
def test_expand(shape):
    check("Expand", {"x": rand(3, 1)}, {}, 13, {"s": np.array(shape, I64)})


def test_expand_output_is_writable_copy():
    x = rand(3, 1)
    got = check("Expand", {"x": x}, {}, 8, {"s": np.array([3, 4], I64)})[0]
    assert got.flags.c_contiguous and got.flags.writeable and not np.shares_memory(got, x)


@pytest.mark.parametrize("reps", [[1, 1, 1], [2, 1, 3], [0, 2, 1]])
def test_tile(reps):
    check("Tile", {"x": rand(2, 3, 1)}, {}, 13, {"r": np.array(reps, I64)})
    check("Tile", {"x": ints(2, 3, 1)}, {}, 7, {"r": np.array(reps, I64)})


@pytest.mark.parametrize("start,limit,delta,dtype", [
    (0, 10, 3, I64), (10, 4, -2, I64), (5, 5, 1, np.int32), (3, 1, 1, I64),
    (0.5, 3.2, 0.7, np.float32), (1.0, -2.0, -0.25, np.float32), (0.0, 1.0, 0.1, np.float64)])
def test_range(start, limit, delta, dtype):
    consts = {"s": np.array(start, dtype), "l": np.array(limit, dtype), "d": np.array(delta, dtype)}
    node = helper.make_node("Range", list(consts), ["y"])
    model = make_model([node, helper.make_node("Identity", ["x"], ["z"])], [("x", np.float32, [1])],
                       [("y", dtype, None), ("z", np.float32, None)], consts, opset=11)
    assert_matches_ort(model, {"x": rand(1)})


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(mode):
    check("DepthToSpace", {"x": rand(2, 8, 3, 5)}, {"blocksize": 2, "mode": mode}, 13)
    check("DepthToSpace", {"x": rand(1, 18, 2, 2)}, {"blocksize": 3, "mode": mode}, 11)


@pytest.mark.parametrize("opset", [7, 13])
def test_space_to_depth(opset):
    check("SpaceToDepth", {"x": rand(2, 3, 4, 6)}, {"blocksize": 2}, opset)


# --- shape subgraphs ---------------------------------------------------------------------------------------

def test_pytorch_flatten_shape_subgraph_folds():
    """x.view(x.size(0), -1) as PyTorch exports it: Shape -> Gather -> Unsqueeze -> Concat -> Reshape. The
    shape part folds at plan time, leaving one Reshape step."""
    c = {"i0": np.array(0, I64), "ax": np.array([0], I64), "m1": np.array([-1], I64)}
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
             helper.make_node("Concat", ["n1", "m1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    model = make_model(nodes, [("x", np.float32, [2, 3, 4, 5])], [("y", np.float32, None)], c, opset=13)
    assert_matches_ort(model, {"x": rand(2, 3, 4, 5)})
    plan = fastconv.InferenceSession(model).plan_for({"x": (2, 3, 4, 5)})
    assert [s.node.op_type for s in plan.steps] == ["Reshape"]


def test_slice_from_shape_and_split_chain_matches_ort():
    """Paddle/YOLO style glue: Slice channels by a computed end, Split, Concat back, Transpose."""
    c = {"st": np.array([0], I64), "ax": np.array([1], I64), "two": np.array([2], I64), "i1": np.array([1], I64)}
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "i1"], ["ch"], axis=0),
             helper.make_node("Div", ["ch", "two"], ["half"]),
             helper.make_node("Slice", ["x", "st", "half", "ax"], ["a"]),
             helper.make_node("Split", ["x"], ["p", "q"], axis=1),
             helper.make_node("Concat", ["q", "a", "p"], ["cat"], axis=1),
             helper.make_node("Transpose", ["cat"], ["y"], perm=[0, 2, 3, 1])]
    model = make_model(nodes, [("x", np.float32, [1, 6, 3, 4])], [("y", np.float32, None)], c, opset=13)
    assert_matches_ort(model, {"x": rand(1, 6, 3, 4)})
