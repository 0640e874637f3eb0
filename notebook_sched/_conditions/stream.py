"""Reading a condition string's tokens: what the grammar (``parse.py``) and
the atoms about runs (``parse_runs.py``) share."""

from __future__ import annotations

import difflib

from .._durations import DurationError, parse_timedelta
from .tokens import ConditionSyntaxError, Source, Token

__all__ = ["COMBINE_HINT", "TokenStream"]

COMBINE_HINT = "combine conditions with & (and), | (or) and ~ (not)"


class TokenStream:
    """The tokens of one string, read front to back; errors point into it."""

    starts: tuple[str, ...] = ()  # the words that begin a condition

    def __init__(self, text: str) -> None:
        self.source = Source(text)
        self.tokens = self.source.tokens()
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, token: Token, why: str) -> ConditionSyntaxError:
        return self.source.error(token.start, token.end, why)

    def unexpected(
        self, token: Token, expected: str, choices: tuple[str, ...] = ()
    ) -> ConditionSyntaxError:
        if token.kind == "end":
            return self.fail(token, f"the condition ends too early; expected {expected}")
        what = "quoted name " if token.kind == "name" else ""
        why = f"unexpected {what}{token.text!r}; expected {expected}"
        close = difflib.get_close_matches(token.text.lower(), choices, n=1, cutoff=0.6)
        if token.kind == "word" and close:
            why += f" (did you mean {close[0]!r}?)"
        if token.is_word("and", "or", "not"):
            why += f"; {COMBINE_HINT}"
        return self.fail(token, why)

    def keyword(self, *words: str, expected: str | None = None) -> Token:
        token = self.peek()
        if not token.is_word(*words):
            raise self.unexpected(token, expected or " or ".join(map(repr, words)), words)
        return self.take()

    def name(self, after: str) -> str:
        token = self.peek()
        if token.kind != "name":
            raise self.unexpected(token, f"a task name in quotes after {after!r}, like 'a'")
        return self.take().text

    def duration(self, what: str, example: str, stop: tuple[str, ...] = ()) -> float:
        """The words up to the next operator, parenthesis, end or ``stop`` word."""
        words = []
        while self.peek().kind == "word" and not self.peek().is_word(*stop):
            words.append(self.take())
        if not words:
            raise self.unexpected(self.peek(), f"a duration, like {example!r}")
        start, end = words[0].start, words[-1].end
        try:
            return parse_timedelta(self.source.text[start:end], what=what)
        except DurationError as exc:
            span = (start + exc.span[0], start + exc.span[1]) if exc.span else (start, end)
            bad = self.source.text[span[0] : span[1]].lower()
            hint = f"; {COMBINE_HINT}" if bad in (*self.starts, "and", "or", "not") else ""
            why = f"{exc.why}; durations look like '10 seconds', '1 hour 20 min' or '1h20m'"
            raise self.source.error(*span, why + hint) from None
