"""`mlops drift --html` in a real browser: headless Chromium (Debian's package) lays the page out,
the charts have size, the drifted feature is named first, and a screenshot is kept.

The screenshot goes to build/test-artifacts/drift-report.png. ``make test`` installs Chromium
first (``make browser``); the test installs nothing.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_cli.main import cli
from tests.unit.monitor.synthetic import baseline_csv, window

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "build" / "test-artifacts"
SIZE = (1280, 2200)

# Appended to a copy of the page only: the shipped page has no script. It reports what the
# browser laid out, which --dump-dom then prints.
PROBE = """<script>
const size = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const charts = [...document.querySelectorAll("svg.chart")].map(svg => ({
  feature: svg.dataset.feature, size: size(svg),
  baseline: [...svg.querySelectorAll("rect.baseline")].filter(r => size(r)[1] > 0).length,
  window: [...svg.querySelectorAll("rect.window")].filter(r => size(r)[1] > 0).length }));
const firstCard = document.querySelector(".card h3").textContent;
const violations = [...document.querySelectorAll("tr.violation td:first-child")].map(td => td.textContent);
document.body.insertAdjacentHTML("beforeend",
  "<pre id=probe>" + JSON.stringify({charts, firstCard, violations}) + "</pre>");
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: `make browser` installs Debian's chromium package")
    return found


def browse(page: Path, profile: Path, *args: str) -> str:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", *args]
    done = subprocess.run([*command, page.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_the_html_report_renders_names_the_drifted_feature_and_is_screenshotted(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.csv"
    baseline.write_text(baseline_csv(rows=5_000))
    capture = tmp_path / "capture.jsonl"
    capture.write_text("\n".join(window(11, rows=2_000, mean_shift={6: 0.8})) + "\n")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["drift", str(baseline), str(capture), "--html", str(page)])
    assert result.exit_code == 1, result.output
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html  # nothing to fetch

    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = browse(probed, tmp_path / "profile", "--dump-dom")
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    found = json.loads(dom[start : dom.index("</pre>", start)])
    assert found["violations"] == ["x6"]
    assert found["firstCard"].startswith("x6")  # the violated feature's card comes first
    charts = {c["feature"]: c for c in found["charts"]}
    assert len(charts) == 15
    for chart in charts.values():
        assert chart["size"][0] > 400 and chart["size"][1] > 100
        assert chart["baseline"] > 0 and chart["window"] > 0  # bars with height, both series

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "drift-report.png"
    shot.unlink(missing_ok=True)
    window_size = f"--window-size={SIZE[0]},{SIZE[1]}"
    browse(page, tmp_path / "profile", "--hide-scrollbars", window_size, f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == SIZE
    assert len(data) > 50_000  # charts and text, not a blank page
