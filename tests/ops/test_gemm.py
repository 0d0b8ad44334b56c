"""Gemm and MatMul against onnxruntime: attribute and broadcast sweeps, constant and fed weights, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.errors import InvalidModelError, UnsupportedError
from fastconv.kernels.registry import kernels_for
from tests.util import assert_matches_ort, helper, make_model, rand, run_ort


def check_all_kernels(op, model, feeds, threads, rtol=1e-4, atol=1e-5):
    expected = run_ort(model, feeds)
    names = [k.name for k in kernels_for(op)]
    ran = []
    for name in names:
        try:
            sess = fastconv.InferenceSession(model, num_threads=threads, kernel_overrides={op: name})
        except ValueError as e:  # e.g. matmul_rows_f32 takes constant 2-D weights only
            assert "does not support this" in str(e), e
            continue
        ran.append(name)
        got = sess.run(None, feeds)
        for g, e in zip(got, expected):
            assert g.dtype == e.dtype and g.shape == e.shape, f"{name}: {g.dtype}{g.shape} != {e.dtype}{e.shape}"
            assert g.flags.c_contiguous
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"kernel {name}")
    assert len(ran) >= 2, ran      # the numpy kernel and at least one SIMD kernel


# C forms: every shape that broadcasts unidirectionally to (M, N)
C_FORMS = {"none": None, "scalar": lambda m, n: (), "one": lambda m, n: (1,), "row": lambda m, n: (n,),
           "row2d": lambda m, n: (1, n), "column": lambda m, n: (m, 1), "one2d": lambda m, n: (1, 1),
           "matrix": lambda m, n: (m, n)}


@st.composite
def gemm_cases(draw):
    m, k, n = (draw(st.integers(1, 9)) for _ in range(3))
    if draw(st.booleans()):  # sizes where BLAS takes its blocked path
        m, k, n = m * 7, k * 13, n * 11
    trans_a, trans_b = draw(st.booleans()), draw(st.booleans())
    attrs = {}
    if trans_a or draw(st.booleans()):
        attrs["transA"] = int(trans_a)
    if trans_b or draw(st.booleans()):
        attrs["transB"] = int(trans_b)
    for name in ("alpha", "beta"):
        if draw(st.booleans()):
            attrs[name] = draw(st.sampled_from([0.0, 1.0, -0.5, 2.25]))
    c_form = draw(st.sampled_from(sorted(C_FORMS)))
    seed = draw(st.integers(0, 2**16))
    a = rand(*((k, m) if trans_a else (m, k)), seed=seed)
    b = rand(*((n, k) if trans_b else (k, n)), seed=seed + 1)
    c = None if C_FORMS[c_form] is None else rand(*C_FORMS[c_form](m, n), seed=seed + 2)
    const_b, const_c = draw(st.booleans()), draw(st.booleans())
    return a, b, c, attrs, const_b, const_c


def gemm_model(a, b, c, attrs, const_b, const_c, opset=13, name="gemm"):
    feeds, inits, names = {"a": a}, {}, ["a", "b"]
    (inits if const_b else feeds)["b"] = b
    if c is not None:
        names.append("c")
        (inits if const_c else feeds)["c"] = c
    node = helper.make_node("Gemm", names, ["y"], name=name, **attrs)
    model = make_model([node], [(k, np.float32, list(v.shape)) for k, v in feeds.items()],
                       [("y", np.float32, None)], inits, opset)
    return model, feeds


@settings(max_examples=300, deadline=None)
@given(case=gemm_cases(), threads=st.sampled_from([1, 2]))
def test_gemm_sweep(case, threads):
    model, feeds = gemm_model(*case)
    # dot products of up to ~120 N(0, 1) terms, summed in a different order than onnxruntime's MLAS
    check_all_kernels("Gemm", model, feeds, threads, rtol=1e-4, atol=5e-5)


@pytest.mark.parametrize("opset", [7, 9, 11, 13, 22])
def test_gemm_opsets(opset):
    a, b, c = rand(5, 4, seed=1), rand(3, 4, seed=2), rand(3, seed=3)
    model, feeds = gemm_model(a, b, c, {"transB": 1, "alpha": 0.5, "beta": 2.0}, True, False, opset)
    assert_matches_ort(model, feeds)
    if opset >= 11:
        model, feeds = gemm_model(a, b, None, {"transB": 1}, True, False, opset)
        assert_matches_ort(model, feeds)


def test_gemm_float64():
    a, b, c = rand(4, 6, seed=4, dtype=np.float64), rand(6, 5, seed=5, dtype=np.float64), rand(5, seed=6)
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], alpha=1.5)
    model = make_model([node], [("a", np.float64, [4, 6])], [("y", np.float64, None)],
                       {"b": b, "c": c.astype(np.float64)})
    assert_matches_ort(model, {"a": a}, rtol=1e-12, atol=1e-12)


def test_gemm_does_not_modify_inputs():
    a, b, c = rand(3, 4, seed=7), rand(4, 5, seed=8), rand(3, 5, seed=9)
    copies = [v.copy() for v in (a, b, c)]
    model, feeds = gemm_model(a, b, c, {"alpha": 2.0, "beta": 0.5}, False, False)
    fastconv.InferenceSession(model).run(None, feeds)
    for v, v0 in zip((a, b, c), copies):
        np.testing.assert_array_equal(v, v0)


@st.composite
def matmul_shapes(draw):
    """Pairs of shapes numpy.matmul accepts: ranks 1-4, batch dims broadcasting both ways."""
    m, k, n = (draw(st.integers(1, 6)) for _ in range(3))
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))
    sa = (k,) if ra == 1 else (*[draw(st.sampled_from([d, 1])) for d in batch[4 - ra:]], m, k)
    sb = (k,) if rb == 1 else (*[draw(st.sampled_from([d, 1])) for d in batch[4 - rb:]], k, n)
    return sa, sb


@settings(max_examples=250, deadline=None)
@given(shapes=matmul_shapes(), const_b=st.booleans(), threads=st.sampled_from([1, 2]), seed=st.integers(0, 99))
def test_matmul_sweep(shapes, const_b, threads, seed):
    a, b = rand(*shapes[0], seed=seed), rand(*shapes[1], seed=seed + 1)
    feeds = {"a": a} if const_b else {"a": a, "b": b}
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = make_model([node], [(k, np.float32, list(v.shape)) for k, v in feeds.items()],
                       [("y", np.float32, None)], {"b": b} if const_b else {})
    check_all_kernels("MatMul", model, feeds, threads)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64, np.uint32, np.uint64])
def test_matmul_other_dtypes(dtype):
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 10, (2, 3, 4)).astype(dtype), rng.integers(0, 10, (4, 5)).astype(dtype)
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    model = make_model([node], [("a", dtype, [2, 3, 4]), ("b", dtype, [4, 5])], [("y", dtype, None)])
    assert_matches_ort(model, {"a": a, "b": b})


def test_matmul_stacked_activations_with_constant_weights():
    """(batch, seq, k) @ (k, n) runs as one product over batch * seq rows; the result keeps its shape."""
    a, w = rand(3, 7, 16, seed=10), rand(16, 9, seed=11)
    node = helper.make_node("MatMul", ["a", "w"], ["y"])
    model = make_model([node], [("a", np.float32, [3, 7, 16])], [("y", np.float32, None)], {"w": w})
    got = assert_matches_ort(model, {"a": a})[0]
    np.testing.assert_allclose(got, a @ w, rtol=1e-5, atol=1e-5)


def test_constant_inputs_are_folded():
    nodes = [helper.make_node("Gemm", ["c1", "c2", "c3"], ["t"], transB=1, alpha=0.5),
             helper.make_node("MatMul", ["t", "c4"], ["u"]),
             helper.make_node("Add", ["u", "x"], ["y"])]
    inits = {"c1": rand(3, 4, seed=12), "c2": rand(5, 4, seed=13), "c3": rand(5, seed=14), "c4": rand(5, 2, seed=15)}
    model = make_model(nodes, [("x", np.float32, [3, 2])], [("y", np.float32, None)], inits)
    assert_matches_ort(model, {"x": rand(3, 2, seed=16)})


# -- errors ----------------------------------------------------------------------------------------------------

GEMM_ERRORS = [  # (A shape, B shape, C shape or None, attrs, error, words)
    ((3, 4), (5, 6), None, {}, InvalidModelError, "inner dimensions"),
    ((3, 4), (6, 4), None, {}, InvalidModelError, "inner dimensions"),
    ((4, 3), (4, 5), None, {}, InvalidModelError, "transA=0"),
    ((3, 4), (4, 5), (3,), {}, InvalidModelError, "does not broadcast"),
    ((3, 4), (4, 5), (2, 5), {}, InvalidModelError, "does not broadcast"),
    ((3, 4), (4, 5), (1, 3, 5), {}, InvalidModelError, "does not broadcast"),
    ((2, 3, 4), (4, 5), None, {}, InvalidModelError, "2-D"),
    ((3, 4), (4,), None, {}, InvalidModelError, "2-D"),
]


@pytest.mark.parametrize("sa,sb,sc,attrs,error,words", GEMM_ERRORS, ids=[f"{e[0]}{e[1]}{e[2]}" for e in GEMM_ERRORS])
def test_gemm_bad_shapes_fail_when_planned(sa, sb, sc, attrs, error, words):
    inits = {"b": rand(*sb)}
    names = ["a", "b"]
    if sc is not None:
        inits["c"] = rand(*sc)
        names.append("c")
    node = helper.make_node("Gemm", names, ["y"], name="my_gemm", **attrs)
    model = make_model([node], [("a", np.float32, list(sa))], [("y", np.float32, None)], inits)
    with pytest.raises(error, match=f"my_gemm.*{words}"):
        fastconv.InferenceSession(model)


@pytest.mark.parametrize("sa,sb,words", [((3, 4), (5, 6), "inner dimensions"), ((2, 3, 4), (3, 4, 5), "batch"),
                                         ((4,), (5,), "inner dimensions"), ((), (3,), "rank")])
def test_matmul_bad_shapes_fail_when_planned(sa, sb, words):
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="my_matmul")
    model = make_model([node], [("a", np.float32, list(sa))], [("y", np.float32, None)], {"b": rand(*sb)})
    with pytest.raises(InvalidModelError, match=f"my_matmul.*{words}"):
        fastconv.InferenceSession(model)


def test_unsupported_dtypes_and_unknown_attributes_are_refused():
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="my_gemm")
    model = make_model([node], [("a", np.int32, [2, 3]), ("b", np.int32, [3, 2])], [("y", np.int32, None)])
    with pytest.raises(UnsupportedError, match="my_gemm.*dtype"):
        fastconv.InferenceSession(model)
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="my_matmul")
    model = make_model([node], [("a", np.int8, [2, 3]), ("b", np.int8, [3, 2])], [("y", np.int8, None)])
    with pytest.raises(UnsupportedError, match="my_matmul.*dtype"):
        fastconv.InferenceSession(model)
    node = helper.make_node("Gemm", ["a", "b"], ["y"], name="my_gemm", gamma=1.0)
    model = make_model([node], [("a", np.float32, [2, 3]), ("b", np.float32, [3, 2])], [("y", np.float32, None)])
    with pytest.raises(UnsupportedError, match="my_gemm.*unknown attribute"):
        fastconv.InferenceSession(model)


def test_matmul_with_constant_weights_takes_the_small_row_kernel():
    """1 x 200 @ 200 x 2 (PP-OCR's classifier head) and a stacked A: gemm_rows through matmul_rows_f32."""
    from fastconv.kernels.registry import select_kernel
    from fastconv.ops.gemm import MatMulConfig
    from fastconv.platform import Platform

    plat = Platform.detect(1)
    cfg = MatMulConfig("float32", (1, 200), (200, 2), (1, 2), True)
    assert select_kernel("MatMul", cfg, plat).name == "matmul_rows_f32"
    assert select_kernel("MatMul", MatMulConfig("float32", (1, 200), (200, 2), (1, 2), False), plat).name \
        != "matmul_rows_f32"     # B fed at run time
    for sa in ((1, 200), (2, 3, 200)):
        a, w = rand(*sa, seed=3), rand(200, 2, seed=4)
        node = helper.make_node("MatMul", ["a", "w"], ["y"])
        model = make_model([node], [("a", np.float32, list(sa))], [("y", np.float32, None)], {"w": w})
        got = assert_matches_ort(model, {"a": a})[0]
        np.testing.assert_allclose(got, a @ w, rtol=1e-5, atol=1e-5)
