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
        self,
        func: Callable[..., object],
        text: str | None,
        kwargs: dict[str, Any] | None = None,
        args: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(func)
        self.text: str | None = text
        self.args: tuple[Any, ...] = args
        self.kwargs: dict[str, Any] = dict(kwargs or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Phrase:
        """The same condition with these arguments for the function
        (Rocketry's ``file_exists("myfile.csv")``)."""
        return Phrase(self.func, self.text, kwargs, args)

    def _is_true(self, ctx: Context) -> bool:
        return bool(self.func(*self.args, **self.kwargs))

    def __str__(self) -> str:
        if self.text is not None and not self.args:
            return self.text  # a regular expression's match reads back as it was written
        shown = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(shown)})"

    def _key(self) -> tuple[object, ...]:
        return (self.func, self.text, self.args, tuple(sorted(self.kwargs.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((Phrase, self.func, self.text))


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def _callable(func: Callable[..., object]) -> Callable[..., object]:
    if not callable(func):
        raise TypeError(f"@app.cond decorates a function returning bool, got {func!r}")
    return func


def _shown(form: Syntax) -> str:
    return " ".join(form.split()) if isinstance(form, str) else form.pattern


class Phrases:
    """The phrases one scheduler knows, newest first."""

    def __init__(self) -> None:
        # (the phrase as matched, as str() writes it, the function)
        self._known: list[tuple[Syntax, str, Callable[..., object]]] = []

    def decorator(
        self, syntax: Syntax | Sequence[Syntax] | None = None
    ) -> Callable[[Callable[..., object]], Phrase]:
        """``@app.cond("is ready")``: see the module's doc. Without a phrase
        (``@app.cond()``) the condition is for the Python form only."""
        if syntax is None:
            return lambda func: Phrase(_callable(func), None)
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
            _callable(func)
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
