"""Conditions of the user's own that strings can name: Rocketry's
``@app.cond("is ready")``.

Each scheduler keeps its own phrases (``Phrases``): a phrase is a string,
matched whole (any case, any spacing), or a compiled regular expression
whose named groups become the function's keyword arguments
(``@app.cond(re.compile(r"file '(?P<path>.+)' exists"))``). The decorated
name becomes the condition itself, as in Rocketry: ``@app.task(is_ready)``
works as well as ``@app.task("is ready")``, and calling it
(``file_exists(path="x")``) makes the condition with those arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .base import Context, FuncCondition

__all__ = ["Phrase", "Phrases"]

Syntax = str | re.Pattern[str]


class Phrase(FuncCondition):
    """A function as a condition, named by a phrase; re-checked every
    ``cycle_sleep`` seconds, like ``condition(func)``."""

    def __init__(
        self, func: Callable[..., object], text: str, kwargs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(func, name=text)
        self.text, self.kwargs = text, dict(kwargs or {})

    def __call__(self, **kwargs: Any) -> Phrase:
        """The same condition with these keyword arguments for the function."""
        return Phrase(self.func, self.text, kwargs)

    def _is_true(self, ctx: Context) -> bool:
        return bool(self.func(**self.kwargs))

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (other.func, other.text, other.kwargs) == (
            self.func,
            self.text,
            self.kwargs,
        )

    def __hash__(self) -> int:
        return hash((Phrase, self.func, self.text))


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def _shown(form: Syntax) -> str:
    return " ".join(form.split()) if isinstance(form, str) else form.pattern


class Phrases:
    """The phrases one scheduler knows, newest first."""

    def __init__(self) -> None:
        # (the phrase as matched, as str() writes it, the function)
        self._known: list[tuple[Syntax, str, Callable[..., object]]] = []

    def decorator(
        self, syntax: Syntax | Sequence[Syntax]
    ) -> Callable[[Callable[..., object]], Phrase]:
        """``@app.cond("is ready")``: see the module's doc."""
        many = isinstance(syntax, (list, tuple))
        forms: list[Syntax] = list(syntax) if many else [syntax]  # type: ignore[arg-type, list-item]
        if not forms:
            raise ValueError("app.cond() needs a phrase, like 'is ready'")
        for form in forms:
            if isinstance(form, str):
                if not form.strip():
                    raise ValueError(f"app.cond() needs a phrase, like 'is ready', got {form!r}")
            elif not isinstance(form, re.Pattern):
                raise TypeError(
                    f"app.cond() takes a phrase or a compiled regular expression, got {form!r}"
                )

        def decorate(func: Callable[..., object]) -> Phrase:
            if not callable(func):
                raise TypeError(f"@app.cond decorates a function returning bool, got {func!r}")
            for form in forms:
                key: Syntax = _normal(form) if isinstance(form, str) else form
                # a cell run again defines the phrase again: the new function replaces the old
                self._known = [entry for entry in self._known if entry[0] != key]
                self._known.insert(0, (key, _shown(form), func))
            return Phrase(func, _shown(forms[0]))

        return decorate

    def match(self, text: str) -> Phrase | None:
        """The condition ``text`` names, or ``None``."""
        normal = " ".join(text.split())
        for syntax, shown, func in self._known:
            if isinstance(syntax, str):
                if _normal(normal) == syntax:
                    return Phrase(func, shown)
            elif (found := syntax.fullmatch(normal)) is not None:
                return Phrase(func, normal, found.groupdict())
        return None

    def __bool__(self) -> bool:
        return bool(self._known)
