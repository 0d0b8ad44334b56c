"""ONNX's own node conformance cases, run for every op fastconv registers."""
import warnings

import numpy as np
import pytest

import fastconv
from fastconv.errors import UnsupportedError
from fastconv.ops import registry

from .conformance_xfail import XFAIL

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from onnx.backend.test.case.node import collect_testcases

    _CASES = [c for c in collect_testcases(None) if c.kind == "node"]

SUPPORTED = set(registry.supported_ops())


def _is_supported(case) -> bool:
    return all(n.op_type in SUPPORTED for n in case.model.graph.node) and \
        all(n.domain in ("", "ai.onnx") for n in case.model.graph.node)


SELECTED = [c for c in _CASES if _is_supported(c)]


def _param(case):
    marks = [pytest.mark.xfail(reason=XFAIL[case.name], strict=True)] if case.name in XFAIL else []
    return pytest.param(case, id=case.name, marks=marks)


def run_case(case):
    sess = fastconv.InferenceSession(case.model)
    names = [o.name for o in case.model.graph.output]
    input_names = [i.name for i in sess.get_inputs()]
    for inputs, expected in case.data_sets:
        feed = dict(zip(input_names, inputs))
        got = sess.run(None, feed)
        assert len(got) == len(expected)
        for name, g, e in zip(names, got, expected):
            e = np.asarray(e)
            assert g.dtype == e.dtype, f"{name}: dtype {g.dtype} != {e.dtype}"
            assert g.shape == e.shape, f"{name}: shape {g.shape} != {e.shape}"
            if e.dtype.kind == "f":
                np.testing.assert_allclose(g, e, rtol=max(case.rtol, 1e-4), atol=max(case.atol, 1e-5),
                                           err_msg=name)
            else:
                np.testing.assert_array_equal(g, e, err_msg=name)


@pytest.mark.parametrize("case", [_param(c) for c in SELECTED])
def test_node_conformance(case):
    run_case(case)


def test_xfail_list_names_real_cases():
    names = {c.name for c in _CASES}
    stale = sorted(set(XFAIL) - names)
    assert not stale, f"XFAIL names cases that do not exist: {stale}"


def test_conformance_pass_rate():
    """At least 95% of the supported ops' cases must pass (the rest are listed with reasons in XFAIL)."""
    if not SELECTED:
        pytest.fail("no conformance case selected")
    failing = [c.name for c in SELECTED if c.name in XFAIL]
    assert len(failing) <= 0.05 * len(SELECTED), f"{len(failing)}/{len(SELECTED)} cases are expected failures"
