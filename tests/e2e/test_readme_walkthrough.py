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
    assert "stopped" in (tmp_path / "local.log").read_text()
    assert subprocess.run(["pgrep", "-f", f"mlops local --port {port}"], capture_output=True).stdout == b""
