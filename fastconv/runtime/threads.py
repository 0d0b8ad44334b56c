"""How Numba's OpenMP worker threads wait between parallel kernels: the `thread_wait` session option.

Waking a sleeping worker costs a futex round trip (20-60 us per kernel measured here); a spinning worker
catches the next kernel at once but burns its core. Policies:
  "brief"   (default) workers spin ~20,000 iterations (tens of microseconds) after a kernel, then sleep:
            they stay hot between the kernels of one inference and rest between inferences;
  "passive" workers sleep at once: for machines whose cores are shared with other busy processes, where a
            spinning worker waits for preempted ones (each kernel then pays the wake-up);
  "active"  workers never sleep: the lowest latency for back-to-back inferences on dedicated cores, at the
            cost of the workers' cores (100% busy even while the session is idle).

libgomp reads its wait settings (OMP_WAIT_POLICY, GOMP_SPINCOUNT) once, when Numba first loads it, and has
no API to change them later: the policy is per process. The first session (or parallel kernel) fixes it; a
later session asking for another policy gets a RuntimeWarning naming the policy in force. A user's own
OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment wins over the default ("environment").
"""
from __future__ import annotations

import os
import warnings

POLICIES = {
    "brief": {"GOMP_SPINCOUNT": "20000"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "active": {"OMP_WAIT_POLICY": "ACTIVE"},
}
_ENV_KEYS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
_policy = "environment"     # the policy in force: a POLICIES key, or "environment" (the user's variables)


def _pool_started() -> bool:
    try:
        from numba.np.ufunc import parallel
    except ImportError:  # pragma: no cover - numba without its parallel backend
        return True
    return bool(parallel._is_initialized)


def current_policy() -> str:
    """The policy in force: a POLICIES key, or "environment" when the user's OMP_WAIT_POLICY / GOMP_SPINCOUNT
    decide."""
    return _policy


def _write(policy: str) -> None:
    global _policy
    for k in _ENV_KEYS:
        os.environ.pop(k, None)
    os.environ.update(POLICIES[policy])
    _policy = policy


def apply_default() -> None:
    """At import: the "brief" policy unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT."""
    if not any(k in os.environ for k in _ENV_KEYS):
        _write("brief")


def request(policy: str | None) -> str:
    """Ask for `policy` (None: keep the current one) before Numba's pool starts; returns the policy in force."""
    if policy is None or policy == _policy:
        return _policy
    if policy not in POLICIES:
        raise ValueError(f"thread_wait must be one of {sorted(POLICIES)} or None, got {policy!r}")
    if _pool_started() or _policy == "environment":
        why = ("libgomp read its wait policy when the first parallel kernel ran and cannot change it"
               if _pool_started() else "OMP_WAIT_POLICY / GOMP_SPINCOUNT are set in the environment")
        warnings.warn(f"thread_wait={policy!r} ignored: this process runs with {_policy!r} ({why})",
                      RuntimeWarning, stacklevel=3)
        return _policy
    _write(policy)
    return policy
