import subprocess
import sys

from notebook_sched import __version__


def test_version_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "notebook_sched", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == f"notebook_sched {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "notebook_sched", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "scripts/lab" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "notebook_sched", "--bogus"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "--bogus" in out.stderr
