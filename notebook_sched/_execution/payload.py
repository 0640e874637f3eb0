"""What a process or Ray run receives: the task's function and its flag
parameters, cloudpickled — with the names and the lines of its source kept.

cloudpickle renames every code object it ships by value to
``"<dynamic-code>"`` (to make payloads deterministic), so the traceback of a
cell-defined function failing in a child would show neither the cell nor the
line. Here code objects travel whole, marshalled (both ends run the same
Python, which cloudpickle's by-value code already requires), together with
their source lines when the source is not a file the child can read — a
notebook cell's source lives only in the kernel's ``linecache``. Loading puts
those lines into the child's ``linecache``, so a task's traceback reads as it
would in the kernel.

A run's arguments (``Return``, ``Arg``, ``FuncArg``, ...) travel resolved, in
a payload of their own made per run (``serialize_args``). Their markers, the
parameter defaults of the function, travel as placeholders: a ``FuncArg``'s
function is called in the kernel, never needed where the run goes, so it
need not be picklable.
"""

from __future__ import annotations

import io
import linecache
import marshal
import os
import types
from collections import ChainMap
from typing import Any

import cloudpickle

from .. import args

__all__ = ["Unresolved", "serialize", "serialize_args"]


def serialize(func: object, flag_params: tuple[str, ...]) -> bytes:
    """The payload a run needs; raises when ``func`` cannot travel."""
    buffer = io.BytesIO()
    _SourceKeepingPickler(buffer).dump((func, flag_params))
    return buffer.getvalue()


def serialize_args(values: dict[str, object]) -> bytes:
    """A run's resolved arguments, by parameter name; raises when one cannot travel."""
    buffer = io.BytesIO()
    _SourceKeepingPickler(buffer).dump(values)
    return buffer.getvalue()


class Unresolved:
    """Where a run goes, the marker of an argument it received resolved."""

    __slots__ = ("marker",)

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __repr__(self) -> str:
        return f"<{self.marker}: resolved by the scheduler when a run starts>"


def _reduce_argument(marker: args.Argument) -> tuple[Any, tuple[Any, ...]]:
    return Unresolved, (repr(marker),)


def _reduce_code(code: types.CodeType) -> tuple[Any, tuple[Any, ...]]:
    filename = code.co_filename
    lines = [] if os.path.isfile(filename) else linecache.getlines(filename)
    return _load_code, (marshal.dumps(code), filename, lines)


def _load_code(data: bytes, filename: str, lines: list[str]) -> types.CodeType:
    """Runs where the payload is loaded: the code object, its source known."""
    if lines and filename not in linecache.cache:
        # mtime None: linecache.checkcache() keeps the entry (there is no file).
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    code = marshal.loads(data)
    assert isinstance(code, types.CodeType)
    return code


class _SourceKeepingPickler(cloudpickle.Pickler):  # type: ignore[misc]
    # Functions are still reduced by cloudpickle (by value where needed); only
    # their code objects take the reducer above instead of cloudpickle's.
    # A live view: reducers registered later (copyreg) are still seen.
    dispatch_table = ChainMap(
        {types.CodeType: _reduce_code}
        | dict.fromkeys(
            (args.Return, args.Arg, args.FuncArg, args.EnvArg, args.Session, args.Task),
            _reduce_argument,
        ),
        cloudpickle.Pickler.dispatch_table,  # pyright: ignore[reportArgumentType]
    )
