"""The README's local-mode walk-through runs as written (only the port is changed)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_walkthrough(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)```", readme, re.S)
    assert block, "the README has a walk-through block"
    port = str(_free_port())
    script = block.group(1).replace("8000", port).replace("local.log", str(tmp_path / "local.log"))
    # `make install` is what the reader runs first; here the venv running the tests is that install.
    script = script.replace("make install\n", "")
    venv = Path(sys.executable).parent
    script = script.replace(".venv/bin/", f"{venv}/")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = run.stdout
    assert f"API: http://127.0.0.1:{port}" in out
    assert '"message": "success: stack creation started"' in out
    result = json.loads(out[out.index('{\n  "action"') :].split("\n}\n", 1)[0] + "\n}")
    assert result["outcome"] == "provisioned" and result["config"].endswith("team-a/mlops-config.json")
    assert '"pipeline_stack": {' in out
    # mlops status, as tables: a row per stage, the outputs (the endpoint has the request's name)
    assert re.search(r"^ *Deploy +Succeeded ", out, re.M) and re.search(
        r"^ *EndpointName +churn-endpoint *$", out, re.M
    )
    assert "stopped" in (tmp_path / "local.log").read_text()
    assert subprocess.run(["pgrep", "-f", f"mlops local --port {port}"], capture_output=True).stdout == b""


def test_a_port_in_use_stops_local_mode_in_one_line_and_the_walkthroughs_wait_with_it(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)```", readme, re.S)
    assert block
    start = [line for line in block.group(1).splitlines() if "mlops local" in line or "local.log" in line][:3]
    assert start[0].startswith(".venv/bin/mlops local --port 8000")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        venv = Path(sys.executable).parent
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        direct = subprocess.run([str(venv / "mlops"), "local", "--port", port], capture_output=True, text=True,
                                timeout=60, env=env)  # fmt: skip
        assert direct.returncode == 2
        assert direct.stderr.strip().count("\n") == 0 and f"cannot serve on 127.0.0.1:{port}" in direct.stderr
        assert direct.stdout == ""
        # The README's start and ready-wait end, with local mode's one line, instead of waiting forever.
        script = "\n".join(start).replace("8000", port).replace("local.log", str(tmp_path / "local.log"))
        script = script.replace(".venv/bin/", f"{venv}/")
        waited = subprocess.run(["bash", "-e", "-c", script + "\necho READY"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=90)  # fmt: skip
    assert waited.returncode != 0 and "READY" not in waited.stdout
    assert f"cannot serve on 127.0.0.1:{port}" in waited.stdout  # the log, shown
    assert subprocess.run(["git", "check-ignore", "-q", "local.log"], cwd=ROOT).returncode == 0
