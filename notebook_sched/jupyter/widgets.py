"""The widget classes the panel is built on, as type checkers should see them.

ipywidgets ships no annotations, and anywidget's ``AnyWidget`` derives from
ipywidgets' ``DOMWidget``: to a type checker both are unknown, and so would be
every class built on them (the panel, and ``Scheduler.panel()`` with it). At
run time these names are the real classes; under ``TYPE_CHECKING`` they are
declarations of the part of their API that the panel uses, with the types
ipywidgets documents. Code that needs more of a widget's API adds it here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["AnyWidget", "Button"]

if TYPE_CHECKING:
    from traitlets import HasTraits

    class AnyWidget(HasTraits):
        """``anywidget.AnyWidget``: a widget whose browser side is the
        class's ``_esm`` module (and ``_css``)."""

        def __init__(self, **kwargs: Any) -> None: ...
        def add_class(self, className: str) -> None: ...
        def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None: ...
        def on_msg(self, callback: Callable[[Any, Any, list[bytes]], None]) -> None: ...
        def close(self) -> None: ...
        def _repr_mimebundle_(
            self, **kwargs: Any
        ) -> tuple[dict[str, Any], dict[str, Any]] | None: ...

    class Button:
        """``ipywidgets.Button``."""

        description: str
        disabled: bool
        tooltip: str

        def __init__(self, *, description: str = "", disabled: bool = False) -> None: ...
        def on_click(self, callback: Callable[[Button], object]) -> None: ...
        def click(self) -> None: ...
        def close(self) -> None: ...

else:
    from anywidget import AnyWidget
    from ipywidgets import Button
