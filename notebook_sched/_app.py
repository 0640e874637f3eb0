"""The public ``Scheduler``: the engine's, plus its face in a notebook.

The engine never imports ipywidgets; this thin layer adds ``panel()`` and the
rich display, importing the Jupyter layer only when asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._engine.scheduler import Scheduler as _EngineScheduler

if TYPE_CHECKING:
    from .jupyter.panel import SchedulerPanel

__all__ = ["Scheduler"]


class Scheduler(_EngineScheduler):
    __doc__ = _EngineScheduler.__doc__

    def panel(self) -> SchedulerPanel:
        """A new widget panel of this scheduler (needs ipywidgets)."""
        from .jupyter.panel import SchedulerPanel

        return SchedulerPanel(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # ``app`` as the last expression of a cell shows a panel; without
        # ipywidgets (a plain IPython shell) it is just the text.
        try:
            panel = self.panel()
        except ImportError:
            return {"text/plain": repr(self)}
        bundle: Any = panel._repr_mimebundle_(include=include, exclude=exclude)
        if isinstance(bundle, tuple):  # (data, metadata), as an anywidget gives it
            bundle = bundle[0]
        data: dict[str, Any] = bundle or {"text/plain": repr(self)}
        return data
