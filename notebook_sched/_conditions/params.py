"""Conditions on the scheduler's ``params`` (Rocketry's session parameters):
``IsEnv("prod")`` (``"env 'prod'"``) is true while ``app.params["env"]`` is
``"prod"`` — Rocketry's ``session.env``, here ``app.session.env`` too — and
``ParamExists("db")`` (``"param 'db' exists"``) while ``app.params`` has
``"db"``; ``ParamExists(mode="fast")`` (``"param 'mode' is 'fast'"``) while
it is that value.

Parameters change when the user's code sets them, which no event tells the
scheduler, so these are re-checked every ``cycle_sleep``, like
``condition(func)``.
"""

from __future__ import annotations

from .base import Context, Paced

__all__ = ["IsEnv", "ParamExists"]

_MISSING = object()


class IsEnv(Paced):
    """True while the scheduler's ``params["env"]`` equals ``env``."""

    def __init__(self, env: str) -> None:
        if not isinstance(env, str) or not env:
            raise ValueError(f"IsEnv() takes the name of an environment, like 'prod', got {env!r}")
        self.env = env

    def _is_true(self, ctx: Context) -> bool:
        return ctx.params().get("env", _MISSING) == self.env

    def __str__(self) -> str:
        return f"env {self.env!r}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IsEnv) and other.env == self.env

    def __hash__(self) -> int:
        return hash((IsEnv, self.env))


class ParamExists(Paced):
    """True while the scheduler's ``params`` has every one of ``names``, and
    each key of ``values`` with that value."""

    def __init__(self, *names: str, **values: object) -> None:
        if not names and not values:
            raise ValueError("ParamExists() needs the name of a parameter, like ParamExists('db')")
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"ParamExists() takes names of parameters, got {name!r}")
        self.names: tuple[str, ...] = names
        self.values: dict[str, object] = values

    def _is_true(self, ctx: Context) -> bool:
        params = ctx.params()
        if any(name not in params for name in self.names):
            return False
        return all(params.get(key, _MISSING) == value for key, value in self.values.items())

    def __str__(self) -> str:
        parts = []
        if self.names:
            parts.append(f"param {', '.join(map(repr, self.names))} exists")
        parts += [f"param {key!r} is {value!r}" for key, value in self.values.items()]
        return " & ".join(parts)

    def _key(self) -> tuple[object, ...]:
        return (self.names, tuple(sorted(self.values.items(), key=lambda kv: kv[0])))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamExists) and other._key() == self._key()

    def __hash__(self) -> int:
        try:
            return hash((ParamExists, *self._key()))
        except TypeError:  # a value that is not hashable
            return hash((ParamExists, self.names))
