"""Zip the orchestrator's Lambda package for measurement (``make bench``).

The package itself is laid out by ``orchestrator_api/Makefile``, the same target `sam build`
runs, so what is measured is what is deployed.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the source checkout

APP_DIR = ROOT / "orchestrator_api"
_SKIP = ("__pycache__", ".pyc")


def first_party_files() -> dict[str, Path]:
    """Our own code in the package: app.py and chalicelib/ (not Chalice's runtime, not pydantic)."""
    files = {"app.py": APP_DIR / "app.py"}
    for path in sorted((APP_DIR / "chalicelib").rglob("*")):
        if path.is_file() and not any(s in str(path) for s in _SKIP):
            files[str(path.relative_to(APP_DIR))] = path
    return files


def write_zip(out: Path, files: dict[str, Path]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].read_bytes())
    return out


def build_first_party(out: Path) -> Path:
    return write_zip(out, first_party_files())


def build_package(out: Path) -> Path:
    """The function package exactly as `sam build` lays it out, zipped."""
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "package"
        subprocess.run(
            ["make", "-s", "-C", str(APP_DIR), "package", f"ARTIFACTS_DIR={staging}", f"PYTHON={sys.executable}"],
            check=True,
        )
        files = {str(p.relative_to(staging)): p for p in sorted(staging.rglob("*")) if p.is_file()}
        return write_zip(out, files)
