"""The built wheel, installed with the ``local`` extra in a fresh venv outside the checkout.

`mlops local` and `mlops demo` must work from what the wheel carries (the blueprints, the
control-plane template and the example bodies as package data), never from the source tree.
Without the extra, `mlops local` says which extra to install in one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

# About 90 s, most of it pip installing the extra: run by make test-long, so make test stays
# within CI's time.
pytestmark = pytest.mark.long

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLOPS_", "PYTHON", "VIRTUAL_ENV"))}


def _run(*args: str | Path, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


def test_the_wheel_with_the_local_extra_runs_local_mode_and_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    # One test, so that one venv serves every step (xdist would give each worker its own).
    work = tmp_path / "work"
    work.mkdir()
    assert ROOT not in tmp_path.parents
    built = _run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", ROOT, cwd=work)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    installed = tmp_path / "venv" / "bin"
    pip = _run(installed / "python", "-m", "pip", "install", "-q", f"{wheel}[local]", cwd=work)
    assert pip.returncode == 0, pip.stderr[-3000:]

    where = _run(installed / "python", "-c", "import mlops_local, chalicelib; print(mlops_local.__file__)", cwd=work)
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout
    # every example body, those in folders too (the ML loop's demo reads tests/events/valid/model_loop/)
    carried = Path(where.stdout.strip()).parent / "_data" / "examples"
    expected = sorted(p.relative_to(ROOT / "tests/events/valid") for p in (ROOT / "tests/events/valid").rglob("*.json"))
    assert sorted(p.relative_to(carried) for p in carried.rglob("*.json")) == expected

    # mlops local serves the API, and the CLI of the same install talks to it
    process = subprocess.Popen(
        [str(installed / "mlops"), "local", "--port", "0"],
        cwd=work,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        api = next(line.split(" ", 1)[1].strip() for line in process.stdout if line.startswith("API: "))
        listed = _run(installed / "mlops", "--api-url", api, "list", cwd=work, timeout=60)
        assert listed.returncode == 0, listed.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)

    # the demo provisions, deploys and monitors from the wheel's own package data
    demo = _run(installed / "mlops", "demo", cwd=work)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "both pipelines deployed" in demo.stdout
    assert "the monitor flagged the drifted feature" in demo.stdout
    assert "site-packages/mlops_local/_data/examples/byom_realtime_builtin.json" in demo.stdout

    # without the extra's packages, one line says what to install
    removed = _run(installed / "python", "-m", "pip", "uninstall", "-y", "-q", "moto", cwd=work)
    assert removed.returncode == 0, removed.stderr
    answer = _run(installed / "mlops", "local", "--port", "0", cwd=work, timeout=60)
    assert answer.returncode == 1
    assert "pip install 'mlops-orchestrator[local]'" in answer.stderr
    assert "Traceback" not in answer.stderr
