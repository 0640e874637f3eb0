"""Splitting a condition string into tokens, and errors that point into it."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ConditionSyntaxError", "Source", "Token"]

_SPECIAL = "()&|~"
_QUOTES = "'\""
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


class ConditionSyntaxError(ValueError):
    """A condition string that cannot be read; the message quotes it and
    points at the offending word."""


@dataclass(frozen=True)
class Token:
    """A word, a quoted name (``kind="name"``, ``text`` its value), one of
    ``( ) & | ~``, or the end; ``start``/``end`` index the source text."""

    kind: str
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


class Source:
    """The text being parsed, and errors that point into it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, start: int, end: int, why: str) -> ConditionSyntaxError:
        # The text is shown raw under the message (tabs and newlines blanked
        # so that the carets line up).
        shown = re.sub(r"\s", " ", self.text)
        caret = " " * start + "^" * max(1, end - start)
        return ConditionSyntaxError(
            f"condition {self.text!r} is not understood at column {start + 1}: {why}\n"
            f"    {shown}\n    {caret}"
        )

    def tokens(self) -> list[Token]:
        """Words run up to whitespace, an operator, a parenthesis or a quote,
        so cron fields like ``*/5`` and ``mon-fri`` are single words."""
        text, found, i = self.text, [], 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
            elif char in _SPECIAL:
                found.append(Token(char, char, i, i + 1))
                i += 1
            elif char in _QUOTES:
                found.append(self._quoted(i))
                i = found[-1].end
            else:
                start = i
                while i < len(text) and not (
                    text[i].isspace() or text[i] in _SPECIAL or text[i] in _QUOTES
                ):
                    i += 1
                found.append(Token("word", text[start:i], start, i))
        found.append(Token("end", "", len(text), len(text)))
        return found

    def _quoted(self, start: int) -> Token:
        quote, text, chars, i = self.text[start], self.text, [], start + 1
        while i < len(text) and text[i] != quote:
            if text[i] == "\\" and i + 1 < len(text):
                i += 1
                chars.append(_ESCAPES.get(text[i], text[i]))
            else:
                chars.append(text[i])
            i += 1
        if i == len(text):
            raise self.error(start, len(text), f"the quote {quote} is never closed")
        return Token("name", "".join(chars), start, i + 1)
