"""``python -m notebook_sched``: the version, and where to start."""

from __future__ import annotations

import argparse

from . import __version__

HELP = """\
notebook_sched runs scheduled tasks on a Jupyter kernel's own asyncio loop,
with timeouts, end conditions and graceful or forced shutdown.

Open the quick start (from a clone of the repository):
    bash scripts/lab          # JupyterLab on notebooks/quickstart.ipynb

In a notebook or a script:
    from notebook_sched import Scheduler
    app = Scheduler()

    @app.task("every 10 seconds")
    def refresh(): ...

    app.start()     # in a notebook: returns at once; show the panel with `app`
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m notebook_sched",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"notebook_sched {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
