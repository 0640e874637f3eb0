"""How a scheduler shows itself in a notebook, without the engine knowing notebooks.

``Scheduler.panel()`` and the rich display (``app`` as a cell's last
expression) belong to the one public ``Scheduler``, but the panel is an
ipywidgets widget, and the engine never imports the Jupyter layer: it runs in
plain scripts, and a process run's child must start fast. So the engine owns
only this seam: what it knows of a panel (``Panel``, for ``panel()``'s return
type) and a slot for the function that makes one, which the package fills
when it is imported (``notebook_sched/_app.py``); that function imports the
Jupyter layer when first called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["Panel", "PanelButton", "PanelRow", "mimebundle", "panel_of", "use_panel"]


class PanelButton(Protocol):
    """A panel's button (an ``ipywidgets.Button``): what it says, whether it
    would do anything, and ``click()`` to press it from code."""

    @property
    def description(self) -> str: ...
    @property
    def disabled(self) -> bool: ...
    def click(self) -> None: ...


class PanelRow(Protocol):
    """A task's row of the panel (``panel.rows[name]``)."""

    @property
    def run_button(self) -> PanelButton: ...
    @property
    def terminate_button(self) -> PanelButton: ...


class Panel(Protocol):
    """What ``Scheduler.panel()`` returns, as type checkers see it: an
    ipywidgets widget (``notebook_sched.jupyter.SchedulerPanel``) with the
    contract's buttons and rows; display it, or put it in a layout."""

    @property
    def start_button(self) -> PanelButton: ...
    @property
    def shutdown_button(self) -> PanelButton: ...
    @property
    def force_button(self) -> PanelButton: ...
    @property
    def rows(self) -> Mapping[str, PanelRow]: ...
    def close(self) -> None: ...
    def _repr_mimebundle_(self, **kwargs: Any) -> Any: ...


_make_panel: Callable[[Any], Panel] | None = None


def use_panel(make: Callable[[Any], Panel]) -> None:
    """Make the panels of every scheduler with ``make(scheduler)``."""
    global _make_panel
    _make_panel = make


def panel_of(scheduler: object) -> Panel:
    if _make_panel is None:  # only the engine was imported, never the package
        raise ImportError("the panel is notebook_sched.jupyter's; import notebook_sched")
    return _make_panel(scheduler)


def mimebundle(scheduler: object, include: Any, exclude: Any) -> dict[str, Any]:
    """The rich display of a scheduler: its panel's, or, without ipywidgets
    (a plain IPython shell), just the text."""
    try:
        panel = panel_of(scheduler)
    except ImportError:
        return {"text/plain": repr(scheduler)}
    bundle: Any = panel._repr_mimebundle_(include=include, exclude=exclude)
    if isinstance(bundle, tuple):  # (data, metadata), as an anywidget gives it
        bundle = bundle[0]
    data: dict[str, Any] = bundle or {"text/plain": repr(scheduler)}
    return data
