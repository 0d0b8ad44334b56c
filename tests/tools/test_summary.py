"""fastconv.summary: shapes, parameters, MACs and receptive fields, against hand-computed values and known totals."""
import json

import numpy as np
import pytest
from onnx import helper

import fastconv
from fastconv import cli
from fastconv.tools.summary import GLOBAL, UNKNOWN

from ..util import make_model, rand


def conv(name, x, y, w, b=None, **attrs):
    return helper.make_node("Conv", [x, w] + ([b] if b else []), [y], name=name, **attrs)


def model_of(nodes, x_shape, inits, out="y"):
    return make_model(nodes, [("x", np.float32, list(x_shape))], [(out, np.float32, None)], inits)


def by_name(s):
    return {n.name: n for n in s.nodes}


def test_conv_2x2_16_filters_on_224x224x3():
    # 16 filters of 2x2 over 3 channels: 16 * (2*2*3) + 16 = 208 parameters; 224 - 2 + 1 = 223
    m = model_of([conv("c", "x", "y", "w", "b")], (1, 3, 224, 224), {"w": rand(16, 3, 2, 2), "b": rand(16)})
    s = fastconv.summary(m)
    (c,) = s.nodes
    assert c.shape == (1, 16, 223, 223)
    assert c.params == 208 == s.params
    assert c.macs == 16 * 3 * 2 * 2 * 223 * 223 == s.macs
    assert c.window == {"kernel": [2, 2], "strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1], "group": 1}
    assert c.receptive_field == (2, 2) and c.jump == (1, 1)
    assert s.weight_bytes == 208 * 4
    assert s.largest_activation == ("y", (1, 16, 223, 223), 16 * 223 * 223 * 4)


def test_two_stacked_3x3_convs_see_5x5():
    nodes = [conv("c1", "x", "h", "w1"), conv("c2", "h", "y", "w2")]
    s = fastconv.summary(model_of(nodes, (1, 1, 9, 9), {"w1": rand(1, 1, 3, 3), "w2": rand(1, 1, 3, 3, seed=1)}))
    n = by_name(s)
    assert n["c1"].receptive_field == (3, 3) and n["c2"].receptive_field == (5, 5)
    assert n["c2"].jump == (1, 1) and n["c2"].shape == (1, 1, 5, 5)


def test_dilated_3x3_sees_5x5_with_9_weights():
    s = fastconv.summary(model_of([conv("c", "x", "y", "w", dilations=[2, 2])], (1, 1, 9, 9),
                                  {"w": rand(1, 1, 3, 3)}))
    (c,) = s.nodes
    assert c.params == 9 and c.receptive_field == (5, 5) and c.shape == (1, 1, 5, 5)
    assert c.window["dilations"] == [2, 2]


def test_3x3_stride_2_no_pad_on_7x7_gives_3x3():
    s = fastconv.summary(model_of([conv("c", "x", "y", "w", strides=[2, 2])], (1, 1, 7, 7), {"w": rand(1, 1, 3, 3)}))
    (c,) = s.nodes
    assert c.shape == (1, 1, 3, 3)          # floor((7 - 3) / 2) + 1
    assert c.receptive_field == (3, 3) and c.jump == (2, 2)
    assert c.macs == 9 * 9


def test_receptive_field_through_pools_and_to_global():
    # conv 7x7 s2 p3 -> maxpool 3x3 s2 p1 (ResNet stem): r = 7, j = 2; r = 7 + 2 * 2 = 11, j = 4
    nodes = [conv("stem", "x", "a", "w", strides=[2, 2], pads=[3, 3, 3, 3]),
             helper.make_node("MaxPool", ["a"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    s = fastconv.summary(model_of(nodes, (2, 3, 64, 64), {"w": rand(8, 3, 7, 7), "fw": rand(10, 8), "fb": rand(10)}))
    n = by_name(s)
    assert n["stem"].receptive_field == (7, 7) and n["stem"].jump == (2, 2) and n["stem"].shape == (2, 8, 32, 32)
    assert n["pool"].receptive_field == (11, 11) and n["pool"].jump == (4, 4) and n["pool"].shape == (2, 8, 16, 16)
    assert n["pool"].window == {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "dilations": [1, 1]}
    for name in ("gap", "flat", "fc"):
        assert n[name].receptive_field == GLOBAL
    # dense layer: j * n + j parameters; MACs = j * n per image, batch 2
    assert n["fc"].params == 10 * 8 + 10 and n["fc"].macs == 2 * 10 * 8
    assert n["stem"].macs == 2 * 8 * 3 * 7 * 7 * 32 * 32


def test_pool_ceil_mode_output_size():
    # n = 6, k = 3, s = 2: floor((6 - 3) / 2) + 1 = 2, ceil -> 3
    for ceil, size in ((0, 2), (1, 3)):
        node = helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[3, 3], strides=[2, 2],
                                ceil_mode=ceil)
        (p,) = fastconv.summary(model_of([node], (1, 1, 6, 6), {})).nodes
        assert p.shape == (1, 1, size, size) and p.params == 0 and p.macs == 0


def test_branches_take_the_maximum():
    nodes = [conv("a", "x", "ya", "wa", pads=[1, 1, 1, 1]), conv("b", "x", "yb", "wb", pads=[2, 2, 2, 2]),
             helper.make_node("Add", ["ya", "yb"], ["s"], name="add"),
             helper.make_node("Concat", ["ya", "s"], ["y"], name="cat", axis=1)]
    s = fastconv.summary(model_of(nodes, (1, 2, 8, 8), {"wa": rand(2, 2, 3, 3), "wb": rand(2, 2, 5, 5, seed=1)}))
    n = by_name(s)
    assert n["a"].receptive_field == (3, 3) and n["b"].receptive_field == (5, 5)
    assert n["add"].receptive_field == (5, 5) and n["cat"].receptive_field == (5, 5)


def test_squeeze_excitation_keeps_the_local_field():
    # x * sigmoid(conv1x1(gap(conv3x3(x)))): the gate is global, the product keeps the 3x3 field "+global"
    nodes = [conv("c", "x", "h", "w", pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["h"], ["g"], name="gap"),
             conv("fc", "g", "z", "wf"), helper.make_node("Sigmoid", ["z"], ["s"], name="sig"),
             helper.make_node("Mul", ["h", "s"], ["m"], name="gate"),
             conv("after", "m", "y", "w2", pads=[1, 1, 1, 1])]
    inits = {"w": rand(4, 3, 3, 3), "wf": rand(4, 4, 1, 1, seed=1), "w2": rand(4, 4, 3, 3, seed=2)}
    n = by_name(fastconv.summary(model_of(nodes, (1, 3, 8, 8), inits)))
    assert n["c"].receptive_field == (3, 3) and not n["c"].global_context
    assert n["fc"].receptive_field == GLOBAL and n["sig"].receptive_field == GLOBAL
    assert n["gate"].receptive_field == (3, 3) and n["gate"].global_context
    assert n["after"].receptive_field == (5, 5) and n["after"].global_context and n["after"].jump == (1, 1)


def test_unknown_spatial_change_and_recovery():
    # a Reshape that changes the spatial grid loses track ("?"); global pooling after it is global again
    nodes = [conv("c", "x", "h", "w"),
             helper.make_node("Reshape", ["h", "shape"], ["r"], name="reshape"),
             helper.make_node("Relu", ["r"], ["a"], name="relu"),
             helper.make_node("GlobalAveragePool", ["a"], ["y"], name="gap")]
    inits = {"w": rand(2, 1, 1, 1), "shape": np.array([1, 2, 2, 8], np.int64)}
    s = fastconv.summary(model_of(nodes, (1, 1, 4, 4), inits))
    n = by_name(s)
    assert n["reshape"].receptive_field == UNKNOWN and n["relu"].receptive_field == UNKNOWN
    assert n["gap"].receptive_field == GLOBAL
    assert "?" in s.format()


@pytest.mark.parametrize("kernel,stride,expected_r", [(2, 2, 2), (3, 2, 4), (4, 2, 4), (3, 1, 6)])
def test_conv_transpose_divides_the_jump(kernel, stride, expected_r):
    # conv 2x2 s2: r = 2, j = 2. ConvTranspose: j = 2 / s; an output pixel reads the taps t with t = o + pad
    # (mod s): k=2,s=2 one tap (r stays 2); k=3,s=2 and k=4,s=2 two taps one input apart (r = 2 + 2);
    # k=3,s=1 three taps (r = 2 + 2 * 2)
    nodes = [conv("down", "x", "d", "w", strides=[2, 2]),
             helper.make_node("ConvTranspose", ["d", "wt"], ["y"], name="up", strides=[stride, stride])]
    s = fastconv.summary(model_of(nodes, (1, 1, 8, 8), {"w": rand(1, 1, 2, 2), "wt": rand(1, 1, kernel, kernel)}))
    up = by_name(s)["up"]
    assert up.jump == (2 / stride, 2 / stride) and up.receptive_field == (expected_r, expected_r)
    assert up.params == kernel * kernel and up.macs == kernel * kernel * 4 * 4   # weights x input positions


@pytest.mark.parametrize("mode,widen", [("nearest", 0), ("linear", 1), ("cubic", 3)])
def test_resize_divides_the_jump(mode, widen):
    scales = np.array([1, 1, 2, 2], np.float32)
    nodes = [conv("down", "x", "d", "w", strides=[2, 2]),
             helper.make_node("Resize", ["d", "", "scales"], ["y"], name="up", mode=mode)]
    s = fastconv.summary(model_of(nodes, (1, 1, 8, 8), {"w": rand(1, 1, 2, 2), "scales": scales}))
    up = by_name(s)["up"]
    assert up.shape == (1, 1, 8, 8) and up.jump == (1, 1) and up.receptive_field == (2 + 2 * widen,) * 2
    assert up.params == 0      # scales are not parameters


def test_fused_and_folded_nodes():
    # W reaches the conv through a Reshape of a constant: folded at plan time, its parameters counted once by
    # the conv; Relu fused into the conv's step
    nodes = [helper.make_node("Reshape", ["wflat", "wshape"], ["w"], name="reshape_w"),
             conv("c", "x", "h", "w", "b"), helper.make_node("Relu", ["h"], ["y"], name="relu")]
    inits = {"wflat": rand(4 * 3 * 9), "wshape": np.array([4, 3, 3, 3], np.int64), "b": rand(4)}
    s = fastconv.summary(model_of(nodes, (1, 3, 5, 5), inits))
    n = by_name(s)
    assert n["reshape_w"].runs_as == "folded" and n["reshape_w"].params == 0
    assert n["c"].runs_as == "step 0" and n["c"].params == 4 * 3 * 9 + 4
    assert n["relu"].runs_as == "fused into step 0" and n["relu"].step == 0
    assert s.params == 4 * 3 * 9 + 4 and s.steps == 1
    text = s.format()
    assert "reshape_w" not in text and "1 nodes folded" in text
    assert "reshape_w" in s.format(show_folded=True)


def test_symbolic_dims_and_input_shapes():
    m = make_model([conv("c", "x", "y", "w")], [("x", np.float32, ["N", 1, "H", "W"])], [("y", np.float32, None)],
                   {"w": rand(2, 1, 3, 3)})
    s1 = fastconv.summary(m, {"x": (1, 1, 10, 10)})
    s4 = fastconv.summary(m, {"x": (4, 1, 10, 10)})
    assert s1.nodes[0].shape == (1, 2, 8, 8) and s4.macs == 4 * s1.macs
    assert fastconv.summary(m).inputs == {"x": (1, 1, 224, 224)}   # defaults: batch 1, others 224


def test_lenet5_totals():
    # the classic LeNet-5 (6 and 16 5x5 filters, 120-84-10 dense layers): 61,706 parameters
    from tests.models import zoo

    s = fastconv.summary(zoo.CASES["lenet5"].path(None))
    assert s.params == 61_706
    assert s.macs == 6 * 25 * 28 * 28 + 16 * 6 * 25 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 10
    assert s.nodes[-1].receptive_field == GLOBAL


def test_resnet50_totals():
    # ResNet-50 at 224x224: 25.56 M weights (+ 53,120 BatchNorm running statistics) and 4.09 G MACs
    from tests.models import zoo

    s = fastconv.summary(zoo.light_model_path("resnet50", 1))
    assert s.params == pytest.approx(25.6e6, rel=0.01)
    assert s.macs == pytest.approx(4.1e9, rel=0.01)
    # the last conv's receptive field: 7x7 s2 stem, 3x3 s2 pool, 16 bottlenecks with their 3x3 convs (427)
    convs = [n for n in s.nodes if n.op_type == "Conv"]
    assert convs[-2].receptive_field == (427, 427) and convs[-1].jump == (32, 32)


def test_cli_summary(capsys):
    from tests.models import zoo

    path = zoo.CASES["unet_small"].path(None)
    assert cli.main(["summary", path]) == 0
    out = capsys.readouterr().out
    for fragment in ("convT0", "ConvTranspose", "2x2 s2", "receptive field", "parameters: 494,833",
                     "fused into step", "nodes: 41 in the ONNX graph"):
        assert fragment in out
    assert cli.main(["summary", path, "--json", "-s", "2x3x64x64"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["inputs"] == {"input": [2, 3, 64, 64]} and d["totals"]["params"] == 494_833
    assert d["nodes"][0]["shape"] == [2, 16, 64, 64] and d["nodes"][0]["receptive_field"] == [3, 3]


def test_readme_shows_the_current_summary():
    import os
    import re

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        readme = f.read()
    block = re.search(r"\$ fastconv summary models/lenet5.onnx\n(.*?)```", readme, re.DOTALL).group(1)
    from tests.models import zoo

    assert block.rstrip() == fastconv.summary(zoo.CASES["lenet5"].path(None)).format()
