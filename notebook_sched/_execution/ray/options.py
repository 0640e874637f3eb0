"""What a task asks of Ray, checked without importing Ray: that it is
installed, and the resources it reserves for a run.

Validated when the decorator runs, so a typo fails at once and not when the
first run is sent to the cluster an hour later.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Mapping

__all__ = [
    "RESOURCE_KEYS",
    "Resources",
    "describe_resources",
    "parse_resources",
    "require_ray",
]

RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory")

# Ray's own option names and values: counts may be fractional, memory is bytes.
Resources = tuple[tuple[str, float | int], ...]

_UNITS = {
    "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$", re.IGNORECASE)


def require_ray(what: str) -> None:
    """Fail now, not at the first run, when Ray is missing (without importing it:
    importing notebook_sched never imports Ray)."""
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        found = False
    if not found:
        raise ImportError(
            f"{what}: execution 'ray' needs Ray, which is not installed; "
            "install it with: pip install 'notebook_sched[ray]'"
        )


def parse_resources(value: object, label: str) -> Resources:
    """``{"num_cpus": 2, "num_gpus": 0.5, "memory": "2 GiB"}`` as Ray options.

    Raises ``TypeError``/``ValueError`` naming the task and the bad value."""
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{label}: resources must be a dict such as {{'num_cpus': 2, 'memory': '4 GB'}}, "
            f"got {value!r}"
        )
    parsed: list[tuple[str, float | int]] = []
    for key, amount in value.items():
        if key not in RESOURCE_KEYS:
            raise ValueError(
                f"{label}: unknown resource {key!r}; the resources are: {', '.join(RESOURCE_KEYS)}"
            )
        if key == "memory":
            parsed.append((key, _bytes(amount, label)))
        else:
            parsed.append((key, _count(key, amount, label)))
    return tuple(parsed)


def _count(key: str, amount: object, label: str) -> float | int:
    ok = isinstance(amount, int | float) and not isinstance(amount, bool)
    if not ok or not math.isfinite(amount) or amount < 0:  # type: ignore[arg-type,operator]
        raise ValueError(f"{label}: resource {key!r} must be a number >= 0, got {amount!r}")
    return amount  # type: ignore[return-value]


def _bytes(amount: object, label: str) -> int:
    if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
        return amount
    if isinstance(amount, str) and (match := _SIZE.match(amount)):
        number, unit = match.groups()
        size = int(float(number) * _UNITS[(unit or "b").lower()])
        if size > 0:
            return size
    raise ValueError(
        f"{label}: resource 'memory' must be a number of bytes > 0 or a size "
        f"such as '512 MB' or '2 GiB', got {amount!r}"
    )


def describe_resources(resources: Resources) -> str:
    """``"2 CPU · 1 GPU · 2.0 GiB"`` for the panel; ``""`` for none."""
    parts = []
    for key, amount in resources:
        if key == "memory":
            parts.append(_size_text(int(amount)))
        else:
            unit = "CPU" if key == "num_cpus" else "GPU"
            parts.append(f"{amount:g} {unit}")
    return " · ".join(parts)


def _size_text(size: int) -> str:
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"
