"""Short deterministic fuzz run for CI (tests/fuzz/run.py is the long one): fuzzed models are either computed
exactly as onnxruntime computes them or refused with a FastconvError; never another exception."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import ATTRIBUTE_SPACES, SEEDS, check, mutated_model

CI = settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_seed_models_match_ort(seed):
    assert check(SEEDS[seed]) == "matched"


@pytest.mark.parametrize("space", sorted(ATTRIBUTE_SPACES))
def test_attribute_space(space):
    @CI
    @given(st.data())
    def run(data):
        check(ATTRIBUTE_SPACES[space](data.draw))

    run()


@CI
@given(st.data())
def test_mutated_model_bytes(data):
    check(mutated_model(data.draw))
