"""Build the embedded example models: small deterministic ONNX CNNs with seeded random weights.

    python models/generate.py [--out-dir DIR]

writes lenet5.onnx, resnet_small.onnx, unet_small.onnx and dcgan_small.onnx (ONNX IR 8, opset 17) next to
this file. The
output is a pure function of this source: every weight comes from numpy's seeded PCG64 generator and
nothing time- or host-dependent goes into the files, so running it twice gives byte-identical files
(tests/models/test_embedded.py checks this and that the shipped files are current).

Every model has a symbolic batch dimension "N" and fixed image dimensions:
  lenet5.onnx        input [N,1,28,28] -> probabilities [N,10]   Conv/Relu/MaxPool/Gemm/Softmax, ~62k params
  resnet_small.onnx  input [N,3,64,64] -> probabilities [N,10]   BatchNorm, residual Add, GlobalAveragePool,
                                                                  Gemm; four basic-block stages, ~0.3M params
                                                                  (the default model of `fastconv run`)
  unet_small.onnx    input [N,3,64,64] -> mask [N,1,64,64]       3-level UNet: Concat skips, upsampling by
                                                                  ConvTranspose 2x2/s2, ConvTranspose 3x3/s2
                                                                  and Resize (linear), ~0.5M params
  dcgan_small.onnx   z [N,100,1,1] -> image [N,3,64,64]          DCGAN generator: ConvTranspose 4x4 (stride 1,
                                                                  then stride 2 pad 1) + BatchNorm + Relu, Tanh;
                                                                  ~0.38M params
Weights are He-normal so activations keep roughly unit scale; the values are not trained.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 8
OPSET = 17
PRODUCER = "fastconv models/generate.py"


class _Builder:
    """Accumulates nodes and seeded initializers; names are sequential so the output is deterministic."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count: dict[str, int] = {}

    def name(self, prefix: str) -> str:
        k = self._count.get(prefix, 0)
        self._count[prefix] = k + 1
        return f"{prefix}{k}"

    def const(self, prefix: str, array: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str | None = None, **attrs) -> str:
        out = self.name(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # -- weights ---------------------------------------------------------------------------------------
    def he(self, shape, fan_in: int, gain: float = 2.0) -> np.ndarray:
        return (self.rng.standard_normal(shape) * np.sqrt(gain / fan_in)).astype(np.float32)

    def small(self, n: int, scale: float = 0.1) -> np.ndarray:
        return (self.rng.standard_normal(n) * scale).astype(np.float32)

    # -- layers ------------------------------------------------------------------------------------------
    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, pad: int | None = None,
             bias: bool = True, gain: float = 2.0) -> str:
        pad = k // 2 if pad is None else pad
        inputs = [x, self.const("conv_w", self.he((cout, cin, k, k), cin * k * k, gain))]
        if bias:
            inputs.append(self.const("conv_b", self.small(cout)))
        return self.node("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    def bn(self, x: str, c: int) -> str:
        scale = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        bias = self.small(c)
        mean = self.small(c)
        var = self.rng.uniform(0.5, 1.5, c).astype(np.float32)
        params = [self.const(p, v) for p, v in (("bn_scale", scale), ("bn_bias", bias), ("bn_mean", mean),
                                                 ("bn_var", var))]
        return self.node("BatchNormalization", [x, *params], prefix="bn", epsilon=1e-5)

    def relu(self, x: str) -> str:
        return self.node("Relu", [x])

    def maxpool(self, x: str, k: int, stride: int, pad: int = 0) -> str:
        return self.node("MaxPool", [x], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)

    def gemm(self, x: str, k: int, n: int, gain: float = 2.0) -> str:
        w = self.const("fc_w", self.he((n, k), k, gain))
        return self.node("Gemm", [x, w, self.const("fc_b", self.small(n))], prefix="fc", transB=1)

    def model(self, name: str, x_shape: list, y_shape: list, x: str, y: str, doc: str) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  ir_version=IR_VERSION, producer_name=PRODUCER, doc_string=doc)
        onnx.checker.check_model(model, full_check=True)
        return model


def build_lenet5() -> onnx.ModelProto:
    """LeNet-5: [N,1,28,28] -> softmax over 10 classes."""
    b = _Builder(seed=5)
    x = "input"
    h = b.maxpool(b.relu(b.conv(x, 1, 6, 5, pad=2)), 2, 2)        # 6 x 14 x 14
    h = b.maxpool(b.relu(b.conv(h, 6, 16, 5, pad=0)), 2, 2)       # 16 x 5 x 5
    h = b.node("Flatten", [h], axis=1)                            # 400
    h = b.relu(b.gemm(h, 400, 120))
    h = b.relu(b.gemm(h, 120, 84))
    logits = b.gemm(h, 84, 10, gain=1.0)
    b.nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], name="softmax", axis=1))
    return b.model("lenet5", ["N", 1, 28, 28], ["N", 10], x, "probabilities",
                   "LeNet-5 with seeded random weights (fastconv embedded model)")


def build_resnet_small() -> onnx.ModelProto:
    """ResNet with one basic block per stage (16/32/64/128 channels): [N,3,64,64] -> softmax over 10."""
    b = _Builder(seed=18)
    x = "input"
    h = b.relu(b.bn(b.conv(x, 3, 16, 3, bias=False), 16))        # 16 x 64 x 64
    h = b.maxpool(h, 3, 2, pad=1)                                 # 16 x 32 x 32
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2), (128, 2)):
        r = b.relu(b.bn(b.conv(h, cin, cout, 3, stride, bias=False), cout))
        # gain 1 on the branch's last conv keeps the residual sum's variance from doubling every stage
        r = b.bn(b.conv(r, cout, cout, 3, bias=False, gain=1.0), cout)
        skip = h if (stride == 1 and cin == cout) else \
            b.bn(b.conv(h, cin, cout, 1, stride, bias=False, gain=1.0), cout)
        h = b.relu(b.node("Add", [r, skip]))
        cin = cout
    h = b.node("GlobalAveragePool", [h], prefix="gap")            # 128 x 1 x 1
    h = b.node("Flatten", [h], axis=1)
    logits = b.gemm(h, 128, 10, gain=0.1)                         # features reach std ~5: logits std ~1
    b.nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], name="softmax", axis=1))
    return b.model("resnet_small", ["N", 3, 64, 64], ["N", 10], x, "probabilities",
                   "Small ResNet with seeded random weights (fastconv embedded model; default of `fastconv run`)")


def build_unet_small() -> onnx.ModelProto:
    """3-level UNet (16/32/64 channels, 128 at the bottom): [N,3,64,64] -> sigmoid mask [N,1,64,64]."""
    b = _Builder(seed=42)
    x = "input"

    def double_conv(h, cin, cout):
        return b.relu(b.conv(b.relu(b.conv(h, cin, cout, 3)), cout, cout, 3))

    e1 = double_conv(x, 3, 16)                                            # 16 x 64 x 64
    e2 = double_conv(b.maxpool(e1, 2, 2), 16, 32)                         # 32 x 32 x 32
    e3 = double_conv(b.maxpool(e2, 2, 2), 32, 64)                         # 64 x 16 x 16
    bottom = double_conv(b.maxpool(e3, 2, 2), 64, 128)                    # 128 x 8 x 8

    w = b.const("convT_w", b.he((128, 64, 2, 2), 128))                    # ConvTranspose weight: C_in, C_out, k, k
    u3 = b.node("ConvTranspose", [bottom, w, b.const("convT_b", b.small(64))], prefix="convT",
                kernel_shape=[2, 2], strides=[2, 2])                       # 64 x 16 x 16
    d3 = double_conv(b.node("Concat", [u3, e3], axis=1), 128, 64)

    w = b.const("convT_w", b.he((64, 32, 3, 3), 64 * 9 // 4))             # 3x3/s2: ~9/4 taps reach each output
    u2 = b.node("ConvTranspose", [d3, w, b.const("convT_b", b.small(32))], prefix="convT",
                kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])  # 32 x 32 x 32
    d2 = double_conv(b.node("Concat", [u2, e2], axis=1), 64, 32)

    scales = b.const("scales", np.array([1, 1, 2, 2], dtype=np.float32))
    u1 = b.node("Resize", [d2, "", scales], mode="linear")                # 32 x 64 x 64, half_pixel
    u1 = b.relu(b.conv(u1, 32, 16, 3))
    d1 = double_conv(b.node("Concat", [u1, e1], axis=1), 32, 16)

    logits = b.conv(d1, 16, 1, 1, gain=1.0)
    b.nodes.append(helper.make_node("Sigmoid", [logits], ["mask"], name="sigmoid"))
    return b.model("unet_small", ["N", 3, 64, 64], ["N", 1, 64, 64], x, "mask",
                   "Small UNet with seeded random weights (fastconv embedded model)")


def build_dcgan_small() -> onnx.ModelProto:
    """DCGAN generator (Radford et al. 2016) with 16 base channels: z [N,100,1,1] -> tanh image [N,3,64,64]."""
    b = _Builder(seed=64)
    h = "z"
    layers = [(100, 128, 1, 0), (128, 64, 2, 1), (64, 32, 2, 1), (32, 16, 2, 1)]   # 4, 8, 16, 32 pixels
    for cin, cout, stride, pad in layers:
        w = b.const("convT_w", b.he((cin, cout, 4, 4), cin * 16 // (stride * stride)))
        h = b.node("ConvTranspose", [h, w], prefix="convT", kernel_shape=[4, 4], strides=[stride, stride],
                   pads=[pad] * 4)
        h = b.relu(b.bn(h, cout))
    w = b.const("convT_w", b.he((16, 3, 4, 4), 16 * 4, gain=1.0))
    h = b.node("ConvTranspose", [h, w, b.const("convT_b", b.small(3))], prefix="convT", kernel_shape=[4, 4],
               strides=[2, 2], pads=[1, 1, 1, 1])                                   # 3 x 64 x 64
    b.nodes.append(helper.make_node("Tanh", [h], ["image"], name="tanh"))
    return b.model("dcgan_small", ["N", 100, 1, 1], ["N", 3, 64, 64], "z", "image",
                   "DCGAN generator with seeded random weights (fastconv embedded model)")


MODELS = {   # in file-name order
    "dcgan_small.onnx": build_dcgan_small,
    "lenet5.onnx": build_lenet5,
    "resnet_small.onnx": build_resnet_small,
    "unet_small.onnx": build_unet_small,
}


def write_all(out_dir: str | None = None) -> list[str]:
    """Write every model to `out_dir` (default: this file's folder); returns the paths written."""
    out_dir = out_dir or os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for filename, build in MODELS.items():
        path = os.path.join(out_dir, filename)
        with open(path, "wb") as f:
            f.write(build().SerializeToString(deterministic=True))
        paths.append(path)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=None, help="where to write the models (default: models/)")
    args = parser.parse_args(argv)
    for path in write_all(args.out_dir):
        print(f"{path}: {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
