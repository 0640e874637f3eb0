"""The benchmark suite of notebook_sched: ``bench/run`` (or ``python -m bench``).

Scenario modules run in their own processes, with the interpreter of the
scheduler they measure: ``ns_script`` (notebook_sched in a script),
``rocketry_script`` and ``aps_script`` (the peers, from their virtualenvs under
``bench/.venvs/``), and ``kernel_bench`` (a real ipykernel driven with
jupyter_client). ``__main__`` starts them, bounds them in time, stops whatever
they leave behind, and writes the table and ``results/latest.json``.

This package imports nothing but the standard library at its top, so the
peers' interpreters can import ``bench._util``.
"""
