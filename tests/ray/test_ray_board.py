"""The flag board answers right and holds nothing after a run, whatever order
its calls arrive in: Ray runs an async actor's calls as they come, even one
caller's (a worker's ``wait`` then ``release``, sent back to back, were seen
to arrive the other way round). The board itself is plain asyncio, driven
here call by call in the orders Ray may deliver; the last tests drive the
real actor on a local Ray."""

from __future__ import annotations

import asyncio

import pytest

from notebook_sched._execution.ray.board import RELEASED_FOR, FlagBoard
from tests.conftest import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def within(main):
    """Run ``main`` on a loop of its own (a call left unanswered fails it)."""
    return asyncio.run(asyncio.wait_for(main, timeout=10))


def run(*steps):
    """Run the board's calls one after another; their answers."""

    async def main():
        return [await step for step in steps]

    return within(main())


def test_a_release_before_the_wait_answers_it_at_once_and_holds_nothing():
    board = FlagBoard()
    assert run(board.release("k"), board.wait("k"), board.size()) == [None, False, 0]


def test_a_flag_set_after_the_release_holds_nothing():
    board = FlagBoard()
    assert run(board.release("k"), board.set("k"), board.size()) == [None, None, 0]


def test_a_report_or_a_watch_after_the_release_holds_nothing():
    board = FlagBoard()
    steps = board.release("k"), board.progress("k", 1, 0.5, "half"), board.next_progress("k", 0)
    assert run(*steps, board.size()) == [None, None, None, 0]


def test_the_flag_answers_a_wait_before_or_after_it():
    board = FlagBoard()

    async def main():
        waiting = asyncio.ensure_future(board.wait("early"))
        await asyncio.sleep(0)
        await board.set("early")
        await board.set("late")
        answers = [await waiting, await board.wait("late")]
        pending = asyncio.ensure_future(board.wait("unset"))
        await asyncio.sleep(0)
        for key in ("early", "late", "unset"):
            await board.release(key)
        return [*answers, await pending, await board.size()]

    assert within(main()) == [True, True, False, 0]


def test_a_cancelled_wait_leaves_the_flag_to_the_others():
    board = FlagBoard()

    async def main():
        cancelled = asyncio.ensure_future(board.wait("k"))
        await asyncio.sleep(0)
        cancelled.cancel()
        other = asyncio.ensure_future(board.wait("k"))
        await asyncio.sleep(0)
        await board.set("k")
        return [cancelled.cancelled(), await other]

    assert within(main()) == [True, True]


def test_a_report_that_arrives_late_never_replaces_a_newer_one():
    board = FlagBoard()
    steps = board.progress("k", 2, 1.0, "step 1000"), board.progress("k", 1, 0.0, "step 0")
    assert run(*steps, board.next_progress("k", 0)) == [None, None, (2, (1.0, "step 1000"))]


def test_a_watch_is_answered_by_the_next_report_and_by_the_release():
    board = FlagBoard()

    async def main():
        watch = asyncio.ensure_future(board.next_progress("k", 0))
        await asyncio.sleep(0)
        await board.progress("k", 1, 0.5, "half")
        first = await watch
        watch = asyncio.ensure_future(board.next_progress("k", 1))
        await asyncio.sleep(0)
        await board.release("k")
        return [first, await watch, await board.size()]

    assert within(main()) == [(1, (0.5, "half")), None, 0]


def test_released_keys_are_forgotten_after_a_while():
    clock = Clock()
    board = FlagBoard(clock)
    run(board.release("old"))
    clock.now += RELEASED_FOR / 2
    run(board.release("newer"))
    assert run(board.remembered()) == [2]
    clock.now += RELEASED_FOR / 2 + 1
    run(board.release("newest"))
    assert run(board.remembered()) == [2]  # "old" is forgotten, the others kept
    assert run(board.wait("newer")) == [False]


@pytest.mark.ray
def test_the_actor_holds_nothing_after_waits_and_releases_sent_back_to_back(local_ray):
    """What each flagged run's worker does. Against the board before it
    remembered releases, 17 of 200 such runs left a waiting entry behind."""
    ray = local_ray.ray
    board = local_ray.board()

    @ray.remote(num_cpus=0.25)
    def waits_then_releases(board, key):
        board.wait.remote(key)
        board.release.remote(key)

    ray.get([waits_then_releases.remote(board, f"back-to-back:{n}") for n in range(200)])
    wait_until(lambda: ray.get(board.size.remote()) == 0, timeout=30)


@pytest.mark.ray
def test_the_actor_answers_a_wait_that_arrives_after_the_release(local_ray):
    ray = local_ray.ray
    board = local_ray.board()
    ray.get(board.release.remote("late-wait"))
    assert ray.get(board.wait.remote("late-wait"), timeout=30) is False
    ray.get(board.progress.remote("late-wait", 1, 0.5, "half"))
    assert ray.get(board.next_progress.remote("late-wait", 0), timeout=30) is None
    wait_until(lambda: ray.get(board.size.remote()) == 0, timeout=30)
