"""The SageMaker layer build: the Docker branch (with a stand-in docker, as no daemon runs
here), trimming, and the size limit. The pip branch runs for real in `make build`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "sagemaker"

# Answers `docker info` like a running daemon; for `docker run` records its arguments and
# installs a small package tree into the /out mount, as the build image's pip would.
FAKE_DOCKER = """#!/usr/bin/env python3
import os, sys, pathlib
args = sys.argv[1:]
log = pathlib.Path(os.environ["FAKE_DOCKER_LOG"])
log.write_text(log.read_text() + " ".join(args) + "\\n" if log.exists() else " ".join(args) + "\\n")
if args[0] == "run":
    out = next(a.split(":")[0] for a in args if a.endswith(":/out"))
    pkg = pathlib.Path(out, "python", "sagemaker")
    (pkg / "tests").mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("VERSION = '2'\\n")
    (pkg / "core.py").write_text("# " + "y" * 5_000 + "\\n")
    (pkg / "tests" / "test_big.py").write_text("x" * 10_000)
    (pkg / "__pycache__").mkdir(exist_ok=True)
    (pkg / "__pycache__" / "a.pyc").write_bytes(b"0" * 10_000)
"""


def make(tmp_path: Path, docker_body: str, limit: str = "150") -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(docker_body)
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_DOCKER_LOG": str(tmp_path / "docker.log")}
    out = tmp_path / "artifacts"
    out.mkdir()
    return subprocess.run(
        ["make", "-s", "-C", str(LAYER), "build-SageMakerLayer", f"ARTIFACTS_DIR={out}",
         f"PYTHON={sys.executable}", f"LIMIT_MIB={limit}"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_with_a_docker_daemon_the_layer_is_built_in_the_lambda_build_image(tmp_path: Path) -> None:
    run = make(tmp_path, FAKE_DOCKER)
    assert run.returncode == 0, run.stdout + run.stderr
    calls = (tmp_path / "docker.log").read_text().splitlines()
    assert calls[0] == "info"
    assert calls[1].startswith("run --rm -v ") and "public.ecr.aws/sam/build-python3.12" in calls[1]
    assert "pip install --quiet -r /src/requirements.txt --target /out/python" in calls[1]
    package = tmp_path / "artifacts" / "python" / "sagemaker"
    assert (package / "__init__.py").exists()
    assert not (package / "tests").exists() and not (package / "__pycache__").exists()


def test_a_layer_over_the_limit_fails_the_build(tmp_path: Path) -> None:
    run = make(tmp_path, FAKE_DOCKER, limit="0.001")
    assert run.returncode != 0
    assert "layer is over the 0 MiB limit" in run.stderr


@pytest.mark.parametrize("kept", ["numpy/testing/__init__.py", "pandas/_testing/__init__.py"])
def test_trimming_keeps_test_helpers_the_libraries_import(tmp_path: Path, kept: str) -> None:
    path = tmp_path / "python" / kept
    path.parent.mkdir(parents=True)
    path.write_text("x = 1\n")
    (tmp_path / "python" / "pip").mkdir()
    run = subprocess.run(
        [sys.executable, str(LAYER / "trim.py"), str(tmp_path / "python"), "150"], capture_output=True, text=True
    )
    assert run.returncode == 0 and path.exists() and not (tmp_path / "python" / "pip").exists()


def test_the_trimmed_layer_still_runs_the_clarify_function(tmp_path: Path) -> None:
    """The layer's packages for this machine's Python (.layer-venv), trimmed as the build trims
    them, are all the Clarify function needs: it builds a bias config with nothing else on the path."""
    import shutil

    venv = ROOT / ".layer-venv"
    site = next((venv / "lib").glob("python3*/site-packages"))
    layer = tmp_path / "python"
    shutil.copytree(site, layer, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "pip", "_distutils_hack"))
    trimmed = subprocess.run(
        [sys.executable, str(LAYER / "trim.py"), str(layer), "1000"], capture_output=True, text=True
    )
    assert trimmed.returncode == 0, trimmed.stderr
    code = (
        "import json, handler\n"
        "event = {'monitor_type': 'ModelBias', 'endpoint_name': 'e', 'dataset_uri': 's3://b/d.csv',"
        " 'output_uri': 's3://b/out', 'bias_config': {'label_values_or_threshold': [1], 'facet_name': 'age'}}\n"
        "print(json.dumps(handler.build(event)[1]))\n"
    )
    function = ROOT / "blueprints" / "functions" / "clarify_config"
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-S", "-c", code],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": f"{function}:{layer}", "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {
        "label_values_or_threshold": [1], "facet": [{"name_or_index": "age"}], "label": 0,
    }  # fmt: skip
