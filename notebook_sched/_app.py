"""Where the package plugs its Jupyter layer into the engine.

The engine's ``Scheduler`` is the one public class; its ``panel()`` and rich
display ask ``_engine.display`` for a panel, and this module, imported with
the package, tells it how to make one: a ``jupyter.SchedulerPanel``, whose
module (and ipywidgets with it) is imported only when the first panel is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._engine.display import use_panel

if TYPE_CHECKING:
    from ._engine.scheduler import Scheduler
    from .jupyter.panel import SchedulerPanel

__all__: list[str] = []


def _make_panel(scheduler: Scheduler) -> SchedulerPanel:
    from .jupyter.panel import SchedulerPanel

    return SchedulerPanel(scheduler)


use_panel(_make_panel)
