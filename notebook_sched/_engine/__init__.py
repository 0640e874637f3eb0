"""The scheduling engine: clock, deadlines, tasks, runs and the scheduler loop.

Nothing in this package imports IPython or ipywidgets.
"""
