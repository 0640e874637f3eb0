"""The public API as a user's type checker sees it (SPEC 13: every public name
typed): ``pyright --verifytypes`` rates the share of the package's public
symbols whose types are known, and names the ones that are not. Types that
come from other packages are left out (``--ignoreexternal``): ipywidgets ships
no annotations, and the panel's widget classes are typed in
``notebook_sched/jupyter/widgets.py``. A few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYRIGHT = Path(sys.executable).parent / "pyright"  # pyright[nodejs], from the dev extra


def test_verifytypes_rates_the_public_api_at_least_95_percent():
    done = subprocess.run(
        [PYRIGHT, "--pythonpath", sys.executable, "--outputjson",
         "--verifytypes", "notebook_sched", "--ignoreexternal"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.stdout.startswith("{"), done.stderr[-2000:]
    report = json.loads(done.stdout)["typeCompleteness"]
    assert Path(report["packageRootDirectory"]) == ROOT / "notebook_sched"  # this checkout's
    assert report["pyTypedPath"], "the package ships no py.typed"
    symbols = {s["name"]: s for s in report["symbols"]}
    not_known = sorted(
        f"{s['name']}: {'; '.join(d['message'] for d in s['diagnostics'])}"
        for s in symbols.values()
        if s["isExported"] and not s["isTypeKnown"]
    )
    assert report["completenessScore"] >= 0.95, "\n".join(not_known)
    # The one class every user touches, and what it returns, are known whole.
    for name in ["notebook_sched.Scheduler", "notebook_sched.Task", "notebook_sched.RunRecord"]:
        assert symbols[name]["isTypeKnown"], name
