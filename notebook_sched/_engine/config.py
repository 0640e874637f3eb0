"""The session configuration: validated once, at construction."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from .._conditions.base import Condition

__all__ = ["EXECUTIONS", "Execution", "SessionConfig", "build_config"]

Execution = Literal["async", "thread", "process", "main", "ray"]
EXECUTIONS: tuple[Execution, ...] = get_args(Execution)


@dataclass(frozen=True)
class SessionConfig:
    """The validated config. ``timeout`` is seconds, or ``None`` for none."""

    timeout: float | None = None
    instant_shutdown: bool = False
    shut_cond: Condition | None = None
    execution: str | None = None
    cycle_sleep: float = 0.1
    terminate_grace: float = 3.0
    runs_db: str | None = None
    ray_address: str | None = None  # None: a local Ray, started on first use
    pools: Mapping[str, int] = field(default_factory=dict)  # name -> slots
    catch_up: bool = False
    capture_output: bool = True
    output_limit: int = 65536

    def as_dict(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "instant_shutdown": self.instant_shutdown,
            "shut_cond": self.shut_cond,
            "execution": self.execution,
            "cycle_sleep": self.cycle_sleep,
            "terminate_grace": self.terminate_grace,
            "runs_db": self.runs_db,
            "ray_address": self.ray_address,
            "pools": dict(self.pools),
            "catch_up": self.catch_up,
            "capture_output": self.capture_output,
            "output_limit": self.output_limit,
        }


def _positive(key: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number) and (number > 0 or (allow_zero and number == 0)):
            return number
    kind = "a number >= 0" if allow_zero else "a number > 0"
    raise ValueError(f"config {key!r} must be {kind} of seconds, got {value!r}")


def build_config(config: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> SessionConfig:
    """Merge ``config`` and keyword arguments, and validate every value."""
    from .._conditions.parse import to_condition
    from .._durations import parse_timeout

    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict, got {config!r}")
    merged = dict(config or {})
    for key in kwargs:
        if key in merged:
            raise ValueError(f"config {key!r} is given twice: in config and as a keyword")
    merged.update(kwargs)
    known = SessionConfig.__dataclass_fields__
    for key in merged:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"unknown config key {key!r}{hint}; the keys are: {', '.join(sorted(known))}"
            )
    values: dict[str, Any] = {}
    if (timeout := merged.get("timeout")) is not None:
        try:
            values["timeout"] = parse_timeout(timeout)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"config 'timeout': {exc}") from None
    for key in ("instant_shutdown", "capture_output"):
        if key in merged:
            if not isinstance(merged[key], bool):
                raise ValueError(f"config {key!r} must be True or False, got {merged[key]!r}")
            values[key] = merged[key]
    if "output_limit" in merged:
        limit = merged["output_limit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(
                f"config 'output_limit' must be a whole number of characters >= 0, got {limit!r}"
            )
        values["output_limit"] = limit
    if merged.get("shut_cond") is not None:
        try:
            values["shut_cond"] = to_condition(merged["shut_cond"], what="config 'shut_cond'")
        except TypeError as exc:
            raise ValueError(str(exc)) from None
    if (execution := merged.get("execution")) is not None:
        if execution not in EXECUTIONS:
            raise ValueError(
                f"config 'execution' must be one of {', '.join(map(repr, EXECUTIONS))}, "
                f"got {execution!r}"
            )
        if execution == "ray":
            from .._execution.ray.options import require_ray

            require_ray("config 'execution'")
        values["execution"] = execution
    if "cycle_sleep" in merged:
        values["cycle_sleep"] = _positive("cycle_sleep", merged["cycle_sleep"])
    if "terminate_grace" in merged:
        values["terminate_grace"] = _positive(
            "terminate_grace", merged["terminate_grace"], allow_zero=True
        )
    if (runs_db := merged.get("runs_db")) is not None:
        if not isinstance(runs_db, str | os.PathLike):
            raise ValueError(f"config 'runs_db' must be a path or None, got {runs_db!r}")
        values["runs_db"] = os.fspath(runs_db)
    if (address := merged.get("ray_address")) is not None:
        if not isinstance(address, str) or not address.strip():
            raise ValueError(
                "config 'ray_address' must be a Ray address such as 'auto', "
                f"'10.0.0.5:6379' or 'ray://head:10001', got {address!r}"
            )
        values["ray_address"] = address.strip()
    if "pools" in merged:
        from .pools import parse_pools

        values["pools"] = parse_pools(merged["pools"])
    if "catch_up" in merged:
        catch_up = merged["catch_up"]
        if not isinstance(catch_up, bool):
            raise ValueError(f"config 'catch_up' must be True or False, got {catch_up!r}")
        values["catch_up"] = catch_up
    return SessionConfig(**values)
