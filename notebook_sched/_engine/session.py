"""``app.session``: the handle Rocketry's documentation spells its examples
with (``app.session.shut_down()``, ``session.config``, ``session.tasks``). It
adds nothing of its own: every member is the scheduler's (``env`` is its
``params["env"]``, as Rocketry's ``session.env`` is a parameter)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .arguments import Params
from .task import Task

__all__ = ["Session"]


class _Scheduler(Protocol):
    """What a session hands on (``Scheduler``)."""

    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def tasks(self) -> Mapping[str, Task]: ...
    @property
    def params(self) -> Params: ...
    def shut_down(self, force: bool = False, *, force_after: float | str | None = None) -> None: ...


class Session:
    """``app.session``: the Rocketry-style handle on a scheduler."""

    def __init__(self, scheduler: _Scheduler) -> None:
        self._scheduler = scheduler

    @property
    def config(self) -> dict[str, Any]:
        """The validated configuration (a copy)."""
        return self._scheduler.config

    @property
    def tasks(self) -> Mapping[str, Task]:
        """The tasks by name, as ``Scheduler.tasks``."""
        return self._scheduler.tasks

    @property
    def parameters(self) -> Params:
        """The scheduler's ``params`` (Rocketry's name for them)."""
        return self._scheduler.params

    @property
    def env(self) -> Any:
        """``params["env"]`` (``None`` when unset): what ``IsEnv("prod")`` and
        ``"env 'prod'"`` compare with. Setting it sets the parameter."""
        return self._scheduler.params.get("env")

    @env.setter
    def env(self, value: Any) -> None:
        self._scheduler.params["env"] = value

    def shut_down(self, force: bool = False, *, force_after: float | str | None = None) -> None:
        """Same as ``Scheduler.shut_down``."""
        self._scheduler.shut_down(force=force, force_after=force_after)

    def __repr__(self) -> str:
        return f"<Session of {self._scheduler!r}>"
