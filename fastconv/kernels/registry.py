"""Kernel registry: for each compute op, the kernels able to run it, best first.

A kernel declares which configurations it supports (`supports(cfg, platform)`); the op's `lower` asks for the
best supported one, so the general kernel is always the fallback and faster kernels slot in by registering
with a higher priority, without touching the op. Tests walk `kernels_for(op)` to check every kernel.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Kernel:
    op: str
    name: str
    priority: int
    supports: Callable[[Any, Any], bool]
    build: Callable[..., Callable]   # build(cfg, platform, *constants) -> callable(*arrays) -> tuple
    # automatic selection also requires prefer(cfg, platform): a kernel may run a configuration correctly
    # (supports, and so be forced by an override) without being the fast choice for it
    prefer: Callable[[Any, Any], bool] | None = None


_KERNELS: dict[str, list[Kernel]] = {}


def register_kernel(op: str, name: str, priority: int = 0, supports: Callable[[Any, Any], bool] | None = None,
                    prefer: Callable[[Any, Any], bool] | None = None):
    def deco(build):
        k = Kernel(op, name, priority, supports or (lambda cfg, platform: True), build, prefer)
        lst = _KERNELS.setdefault(op, [])
        if any(x.name == name for x in lst):
            raise RuntimeError(f"kernel {name} registered twice for {op}")
        lst.append(k)
        lst.sort(key=lambda x: -x.priority)
        return build

    return deco


def kernels_for(op: str) -> list[Kernel]:
    return list(_KERNELS.get(op, []))


def select_kernel(op: str, cfg, platform, override: str | None = None) -> Kernel:
    candidates = _KERNELS.get(op, [])
    if override is not None:
        for k in candidates:
            if k.name == override:
                if not k.supports(cfg, platform):
                    raise ValueError(f"kernel {override} does not support this {op} configuration: {cfg}")
                return k
        raise ValueError(f"no kernel named {override} for {op}; have {[k.name for k in candidates]}")
    for k in candidates:
        if k.supports(cfg, platform) and (k.prefer is None or k.prefer(cfg, platform)):
            return k
    raise LookupError(f"no kernel supports this {op} configuration: {cfg}")
