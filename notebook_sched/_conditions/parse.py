"""The condition language Rocketry users write, parsed — never evaluated.

expr   := term ("|" term)*
term   := factor ("&" factor)*
factor := "~" factor | "(" expr ")" | phrase
phrase := "true" | "false" | "every <duration>" | "cron <five fields>"
        | ("hourly"|"daily"|"weekly"|"monthly") [window]
        | "time of day" window | "time of week" window
        | "after task 'a'" ["succeeded"|"failed"|"finished"]
        | "task 'a' running" ["more than <duration>"]
window := "between X and Y" | "after X" | "before X" | "at X" | "on X"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Condition, false, true
from .calendar import DAY, HOUR, MONTH, WEEK, Period, WindowBuilder
from .tasks import AfterTask, Running
from .timing import Cron, Every

__all__ = ["ConditionSyntaxError", "parse_condition", "to_condition"]


class ConditionSyntaxError(ValueError):
    """A condition string that cannot be read; the message points at the bad word."""


@dataclass(frozen=True)
class _Token:
    text: str
    pos: int
    quoted: bool = False

    @property
    def word(self) -> str:
        return "" if self.quoted else self.text.lower()


_TOKEN = re.compile(
    r"""\s*(?:(?P<op>[()&|~])|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<word>[^\s()&|~'"]+))"""
)
_OPS = "()&|~"
PERIODS = {"hourly": HOUR, "daily": DAY, "weekly": WEEK, "monthly": MONTH}
_HOW = {
    "succeeded": "success",
    "success": "success",
    "failed": "fail",
    "fail": "fail",
    "finished": "finish",
    "finish": "finish",
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.i = 0

    def error(self, why: str, pos: int | None = None, width: int = 1) -> ConditionSyntaxError:
        pos = len(self.text) if pos is None else pos
        caret = " " * (pos + 4) + "^" * max(width, 1)
        return ConditionSyntaxError(
            f"cannot parse condition {self.text!r}: {why}\n    {self.text}\n{caret}"
        )

    def at(self, token: _Token, why: str) -> ConditionSyntaxError:
        width = len(token.text) + (2 if token.quoted else 0)
        return self.error(why, token.pos, width)

    def _tokenize(self, text: str) -> list[_Token]:
        tokens, pos = [], 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            match = _TOKEN.match(text, pos)
            if match is None:
                start = len(text) - len(text[pos:].lstrip())
                raise self.error(f"unclosed quote at {text[start:]!r}", start)
            kind = match.lastgroup
            value = match.group(kind)  # type: ignore[arg-type]
            tokens.append(_Token(value, match.start(kind), quoted=kind in ("sq", "dq")))
            pos = match.end()
        return tokens

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def is_op(self, token: _Token | None, op: str) -> bool:
        return token is not None and not token.quoted and token.text == op

    def parse(self) -> Condition:
        if not self.tokens:
            raise self.error("it is empty", 0)
        cond = self.expr()
        token = self.peek()
        if token is not None:
            raise self.at(token, f"unexpected {token.text!r}")
        return cond

    def expr(self) -> Condition:
        cond = self.term()
        while self.is_op(self.peek(), "|"):
            self.i += 1
            cond = cond | self.term()
        return cond

    def term(self) -> Condition:
        cond = self.factor()
        while self.is_op(self.peek(), "&"):
            self.i += 1
            cond = cond & self.factor()
        return cond

    def factor(self) -> Condition:
        token = self.peek()
        if token is None:
            raise self.error("a condition is missing at the end")
        if self.is_op(token, "~"):
            self.i += 1
            return ~self.factor()
        if self.is_op(token, "("):
            self.i += 1
            cond = self.expr()
            if not self.is_op(self.peek(), ")"):
                raise self.at(token, "this parenthesis is never closed")
            self.i += 1
            return cond
        if not token.quoted and token.text in _OPS:
            raise self.at(token, f"expected a condition, found {token.text!r}")
        words = []
        while (t := self.peek()) is not None and (t.quoted or t.text not in _OPS):
            words.append(t)
            self.i += 1
        return _Phrase(self, words).parse()


class _Phrase:
    """One condition phrase: the words between operators."""

    def __init__(self, parser: _Parser, words: list[_Token]) -> None:
        self.p, self.words, self.i = parser, words, 0

    def next(self, what: str) -> _Token:
        if self.i >= len(self.words):
            end = self.words[-1]
            raise self.p.error(f"expected {what} after {end.text!r}", end.pos + len(end.text))
        token = self.words[self.i]
        self.i += 1
        return token

    def expect(self, *words: str) -> _Token:
        token = self.next(" or ".join(map(repr, words)))
        if token.word not in words:
            raise self.p.at(
                token, f"expected {' or '.join(map(repr, words))}, found {token.text!r}"
            )
        return token

    def rest(self, what: str, stop: str | None = None) -> tuple[str, _Token]:
        """The words up to ``stop`` (or the end), joined: a duration or a time."""
        first = self.next(what)
        parts = [first.text]
        while self.i < len(self.words) and self.words[self.i].word != (stop or "\0"):
            parts.append(self.words[self.i].text)
            self.i += 1
        return " ".join(parts), first

    def done(self, cond: Condition) -> Condition:
        if self.i < len(self.words):
            token = self.words[self.i]
            raise self.p.at(token, f"unexpected {token.text!r} after {str(cond)!r}")
        return cond

    def guard(self, token: _Token, build):  # type: ignore[no-untyped-def]
        try:
            return build()
        except (ValueError, TypeError) as exc:
            raise self.p.at(token, str(exc)) from None

    def parse(self) -> Condition:
        head = self.next("a condition")
        word = head.word
        if word in ("true", "false"):
            return self.done(true if word == "true" else false)
        if word == "every":
            text, first = self.rest("a duration")
            return self.done(self.guard(first, lambda: Every(text)))
        if word == "cron":
            fields = [self.next("five cron fields") for _ in range(5)]
            return self.done(self.guard(fields[0], lambda: Cron(" ".join(f.text for f in fields))))
        if word in PERIODS:
            period = Period(PERIODS[word], word)
            if self.i == len(self.words):
                return period
            return self.done(self.window(period))
        if word == "time":
            self.expect("of")
            unit = self.expect("day", "week")
            cycle = DAY if unit.word == "day" else WEEK
            return self.done(self.window(WindowBuilder(cycle, f"time of {unit.word}")))
        if word == "after":
            self.expect("task")
            name = self.task_name()
            how = "success"
            if self.i < len(self.words):
                token = self.next("succeeded, failed or finished")
                if token.word not in _HOW:
                    raise self.p.at(
                        token, f"expected succeeded, failed or finished, found {token.text!r}"
                    )
                how = _HOW[token.word]
            return self.done(AfterTask(name, how))
        if word == "task":
            name = self.task_name()
            self.expect("running")
            cond = Running(name)
            if self.i < len(self.words):
                self.expect("more")
                self.expect("than")
                text, first = self.rest("a duration")
                cond = self.guard(first, lambda: cond.more_than(text))
            return self.done(cond)
        raise self.p.at(head, f"unknown word {head.text!r}")

    def task_name(self) -> str:
        token = self.next("a task name in quotes")
        if not token.quoted or not token.text:
            raise self.p.at(token, f"expected a task name in quotes, found {token.text!r}")
        return token.text

    def window(self, builder):  # type: ignore[no-untyped-def]
        kind = self.expect("between", "after", "before", "at", "on")
        if kind.word == "between":
            start, first = self.rest("a start", stop="and")
            self.expect("and")
            end, _ = self.rest("an end")
            return self.guard(first, lambda: builder.between(start, end))
        value, first = self.rest("a time")
        if kind.word in ("at", "on"):
            if not isinstance(builder, Period):
                raise self.p.at(kind, f"{kind.text!r} needs hourly, daily, weekly or monthly")
            return self.guard(first, lambda: builder.at(value))
        method = builder.after if kind.word == "after" else builder.before
        return self.guard(first, lambda: method(value))


def parse_condition(text: str) -> Condition:
    """Parse a condition string such as ``"daily between 08:00 and 18:00 & ~running 'x'"``."""
    if not isinstance(text, str):
        raise TypeError(f"parse_condition() needs a string, got {text!r}")
    return _Parser(text).parse()


def to_condition(value: object, *, what: str) -> Condition | None:
    """``None``, a condition, or a condition string, as a condition."""
    if value is None or isinstance(value, Condition):
        return value
    if isinstance(value, str):
        try:
            return parse_condition(value)
        except ConditionSyntaxError as exc:
            raise ConditionSyntaxError(f"{what}: {exc}") from None
    raise TypeError(
        f"{what} must be a condition (see notebook_sched.conds) or a condition string, "
        f"got {value!r}"
    )
