"""Conditions: when a task may start, when its run must end, when to shut down.

A condition answers two questions: ``is_true(ctx)`` — is it true now? — and
``next_change(ctx)`` — when, by the passing of time alone, might that answer
change? The scheduler sleeps until the earliest such moment instead of polling.
"""
