"""Execution methods: where a run's function runs and how it is stopped.

Each method is one small module with a ``start(job) -> RunHandle`` function.
A handle has two steps of termination, both thread-safe: ``stop()`` — the
polite step, at once (set the flag, cancel, SIGTERM) — and ``force()`` — after
the grace period (inject an exception, SIGKILL). The handle reports the end of
the run once, from any thread, through ``job.done(outcome)``.
"""
