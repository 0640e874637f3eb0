"""Conditions written as strings, the way Rocketry users write them.

A tokenizer and a recursive-descent parser; nothing is evaluated. The grammar,
keywords in any case::

    expr    := and ('|' and)*
    and     := unary ('&' unary)*
    unary   := '~' unary | '(' expr ')' | atom
    atom    := ['always'] ('true' | 'false') | 'always' | 'never'
             | 'every' DURATION ['based' 'on' ('run' | 'success' | 'fail' | 'finish')]
             | PERIOD [window]
             | 'time' 'of' UNIT window
             | 'cron' (FIELD FIELD FIELD FIELD FIELD | NAME)
             | 'env' NAME | 'param' NAME (',' NAME)* 'exists' | 'param' NAME 'is' NAME
             | an atom about runs (``parse_runs.py``: after, task, running, has, ...)
    window  := 'between' VALUE 'and' VALUE | 'after' VALUE | 'before' VALUE
             | ('at' | 'on' | 'starting') VALUE
    PERIOD  := 'secondly' | 'minutely' | 'hourly' | 'daily' | 'weekly' | 'monthly'
    UNIT    := 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month'

NAME is quoted with ' or " (a backslash escapes the next character); a
DURATION is the words up to the next operator, parenthesis or the end; a
VALUE is one word, or for weeks and months a day and an optional time
(``Mon 08:00``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .base import All, Any, Condition, Not, false, true
from .calendar import DAILY, HOURLY, MINUTELY, MONTHLY, SECONDLY, WEEKLY, Scale
from .cron import Cron
from .every import BASED, Every
from .params import IsEnv, ParamExists
from .parse_runs import RUN_STARTS, RunAtoms
from .periods import Periodic, daily, hourly, minutely, monthly, secondly, weekly
from .phrases import Phrases
from .points import Point
from .time_windows import (
    WindowFactory,
    time_of_day,
    time_of_hour,
    time_of_minute,
    time_of_month,
    time_of_second,
    time_of_week,
)
from .tokens import ConditionSyntaxError, Token

__all__ = ["ConditionSyntaxError", "parse_condition", "to_condition"]

_CLOCK_LIKE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_STARTS = (
    "every",
    "secondly",
    "minutely",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "time",
    "cron",
    "always",
    "never",
    "env",
    "param",
)
_ATOM_HINT = (
    "a condition such as 'every 10 seconds', 'daily', 'time of day between 08:00 and 18:00', "
    "\"after task 'a' succeeded\", 'cron */5 * * * *', 'true', '~' or '('"
)
_PERIODS: dict[str, tuple[Periodic, Scale]] = {
    "secondly": (secondly, SECONDLY),
    "minutely": (minutely, MINUTELY),
    "hourly": (hourly, HOURLY),
    "daily": (daily, DAILY),
    "weekly": (weekly, WEEKLY),
    "monthly": (monthly, MONTHLY),
}
_WINDOW_WORDS = ("between", "after", "before", "at", "on", "starting")
_TIME_OF: dict[str, tuple[WindowFactory, Scale]] = {
    "second": (time_of_second, SECONDLY),
    "minute": (time_of_minute, MINUTELY),
    "hour": (time_of_hour, HOURLY),
    "day": (time_of_day, DAILY),
    "week": (time_of_week, WEEKLY),
    "month": (time_of_month, MONTHLY),
}


class _Parser(RunAtoms):
    starts = (*_STARTS, *RUN_STARTS)

    def __init__(self, text: str, phrases: Phrases | None = None) -> None:
        super().__init__(text)
        self.phrases = phrases

    # -- grammar ---------------------------------------------------------------

    def parse(self) -> Condition:
        if self.peek().kind == "end":
            raise self.fail(self.peek(), "it is empty; expected " + _ATOM_HINT)
        result = self.any_()
        token = self.peek()
        if token.kind == ")":
            raise self.fail(token, "unexpected ')' with no '(' to close")
        if token.kind != "end":
            raise self.unexpected(token, "&, | or the end")
        return result

    def any_(self) -> Condition:
        items = [self.all_()]
        while self.peek().kind == "|":
            self.take()
            items.append(self.all_())
        return items[0] if len(items) == 1 else Any(*items)

    def all_(self) -> Condition:
        items = [self.unary()]
        while self.peek().kind == "&":
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else All(*items)

    def unary(self) -> Condition:
        token = self.peek()
        if self.phrases and (own := self.phrase()) is not None:
            return own
        if token.kind == "~":
            self.take()
            return Not(self.unary())
        if token.kind == "(":
            self.take()
            inner = self.any_()
            close = self.peek()
            if close.kind == "end":
                raise self.fail(token, "this '(' is never closed")
            if close.kind != ")":
                raise self.unexpected(close, "&, | or ')'")
            self.take()
            return inner
        if token.kind != "word" or token.text.lower() not in (*self.starts, "true", "false"):
            raise self.unexpected(token, _ATOM_HINT, (*self.starts, "true", "false"))
        word = self.take().text.lower()
        result: Condition
        if word == "always":  # "always" alone is true, as Rocketry's time period
            if self.peek().kind in ("word", "name"):
                word = self.keyword("true", "false", expected="'true' or 'false'").text.lower()
            else:
                word = "true"
        elif word == "never":
            word = "false"
        if word in ("true", "false"):
            result = true if word == "true" else false
        elif word in _PERIODS:
            result = self.period(*_PERIODS[word])
        else:
            atoms: dict[str, Callable[[], Condition]] = {
                "every": self.atom_every,
                "time": self.atom_time,
                "after": self.atom_after,
                "task": self.atom_task,
                "while": self.atom_while,
                "running": self.atom_running,
                "has": self.atom_has,
                "retry": self.atom_retry,
                "scheduler": self.atom_scheduler,
                "cron": self.atom_cron,
                "env": self.atom_env,
                "param": self.atom_param,
            }
            result = atoms[word]()
        self.no_trailing_word()
        return result

    def phrase(self) -> Condition | None:
        """One of the scheduler's own phrases (``@app.cond``), if the words up to
        the next operator, parenthesis or the end are one."""
        assert self.phrases is not None
        last = self.i
        while self.tokens[last].kind in ("word", "name"):
            last += 1
        if last == self.i:
            return None
        start, end = self.tokens[self.i].start, self.tokens[last - 1].end
        found = self.phrases.match(self.source.text[start:end])
        if found is not None:
            self.i = last
        return found

    def no_trailing_word(self) -> None:
        token = self.peek()
        if token.kind in ("word", "name"):
            raise self.unexpected(token, "&, |, ')' or the end")

    def atom_every(self) -> Condition:
        seconds = self.duration("every", "every 10 seconds", stop=("based",))
        if not self.peek().is_word("based"):
            return Every(seconds)
        self.take()
        self.keyword("on", expected="'on', as in 'every 1 hour based on success'")
        based = self.keyword(*BASED, expected="run, success, fail or finish")
        return Every(seconds, based.text.lower())

    def atom_time(self) -> Condition:
        self.keyword("of", expected="'of', as in 'time of day'")
        unit = self.keyword(*_TIME_OF, expected="second, minute, hour, day, week or month")
        factory, scale = _TIME_OF[unit.text.lower()]
        clause = self.keyword(*_WINDOW_WORDS, expected="between, after, before, on or at")
        return self.window(factory, scale, clause)

    def period(self, base: Periodic, scale: Scale) -> Condition:
        token = self.peek()
        if token.is_word(*_WINDOW_WORDS):
            return self.window(base, scale, self.take())
        if token.kind in ("word", "name"):
            # say what may follow a period, not just what may follow a condition
            raise self.unexpected(
                token,
                "between, after, before, at, on, starting, &, |, ')' or the end",
                _WINDOW_WORDS,
            )
        return base

    def window(self, builder: object, scale: Scale, clause: Token) -> Condition:  # type: ignore[override]
        """``between X and Y`` / ``after X`` / ``before X`` / ``at X`` / ``on X``."""
        word = clause.text.lower()
        values = [self.value(scale, end=word == "before")]
        if word == "between":
            self.keyword("and", expected="'and', as in 'between 08:00 and 18:00'")
            values.append(self.value(scale, end=True))
        method = "at" if word == "on" else word  # Rocketry's alias
        try:
            return getattr(builder, method)(*(text for text, _ in values))
        except (TypeError, ValueError) as exc:  # each bound was fine: the pair is not
            raise self.source.error(clause.start, values[-1][1].end, str(exc)) from None

    def value(self, scale: Scale, *, end: bool) -> tuple[str, Token]:
        """The text of one window bound, checked on its own so that an error
        points at it; returns it with its last token."""
        first = self.peek()
        if first.kind != "word":
            raise self.unexpected(first, "a time or a day")
        last = self.take()
        if scale in (WEEKLY, MONTHLY) and _CLOCK_LIKE.fullmatch(self.peek().text):
            last = self.take()
        text = self.source.text[first.start : last.end]
        text = " ".join(text.split())
        try:
            point: Point = scale.read(text, end=end)
        except (TypeError, ValueError) as exc:
            raise self.source.error(first.start, last.end, str(exc)) from None
        return point.text, last

    def atom_env(self) -> Condition:
        """``env 'prod'``: ``app.params["env"]`` is ``'prod'``."""
        if self.peek().kind != "name":
            raise self.unexpected(self.peek(), "an environment in quotes after 'env', like 'prod'")
        return IsEnv(self.take().text)

    def atom_param(self) -> Condition:
        """``param 'a', 'b' exists``, ``param 'mode' is 'fast'``."""
        names = [self.param_name("param")]
        while self.peek().kind == "word" and self.peek().text == ",":
            self.take()
            names.append(self.param_name("','"))
        if len(names) == 1 and self.peek().is_word("is"):
            self.take()
            if self.peek().kind != "name":
                raise self.unexpected(self.peek(), "a value in quotes after 'is', like 'fast'")
            return ParamExists(**{names[0]: self.take().text})
        expected = "'exists' or 'is'" if len(names) == 1 else "'exists'"
        self.keyword("exists", expected=f"{expected}, as in \"param 'db' exists\"")
        return ParamExists(*names)

    def param_name(self, after: str) -> str:
        token = self.peek()
        if token.kind != "name":
            raise self.unexpected(token, f"a parameter name in quotes after {after!r}, like 'db'")
        return self.take().text

    def atom_cron(self) -> Condition:
        if self.peek().kind == "name":
            token = self.take()
            start, end, expression = token.start, token.end, token.text
        else:
            fields: list[Token] = []
            while len(fields) < 5 and self.peek().kind == "word":
                fields.append(self.take())
            if len(fields) < 5:
                raise self.unexpected(
                    self.peek(), f"five cron fields, like 'cron */5 * * * *' (got {len(fields)})"
                )
            start, end = fields[0].start, fields[-1].end
            expression = " ".join(f.text for f in fields)
        try:
            return Cron(expression)
        except ValueError as exc:
            raise self.source.error(start, end, str(exc)) from None


def parse_condition(text: str, *, phrases: Phrases | None = None) -> Condition:
    """The condition a string describes: ``"every 10 seconds"``, ``"daily
    between 08:00 and 18:00"``, ``"time of day after 08:00"``, ``"after task
    'a' succeeded"``, ``"cron */5 * * * *"``, ``"true"``, combined with
    ``&``, ``|``, ``~`` and parentheses; and a scheduler's own ``phrases``
    (``@app.cond("is ready")``). A bad string raises ``ValueError`` that quotes
    it and points at the offending word."""
    if not isinstance(text, str):
        raise TypeError(f"parse_condition() takes a string, got {text!r}")
    return _Parser(text, phrases).parse()


def to_condition(value: object, *, what: str, phrases: Phrases | None = None) -> Condition | None:
    """``value`` as a condition: ``None`` stays ``None``, a condition is kept, a
    string is parsed (knowing ``phrases``); anything else raises
    ``TypeError`` naming ``what``."""
    if value is None or isinstance(value, Condition):
        return value
    if isinstance(value, str):
        try:
            return parse_condition(value, phrases=phrases)
        except ConditionSyntaxError as exc:
            raise ConditionSyntaxError(f"{what}: {exc}") from None
    hint = "; wrap a function with condition(func)" if callable(value) else ""
    raise TypeError(
        f"{what} must be a condition or a condition string like 'every 10 seconds', "
        f"got {value!r}{hint}"
    )
