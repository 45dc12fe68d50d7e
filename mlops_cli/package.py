"""Build the orchestrator's Lambda package: first-party code, Chalice's runtime, dependencies.

Dependencies are fetched as manylinux wheels for the Lambda Python version, so the package
is built correctly on any machine without that interpreter or Docker.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import chalice

from .bootstrap import ROOT

APP_DIR = ROOT / "orchestrator_api"
LAMBDA_PYTHON = "3.12"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")
_SKIP = ("__pycache__", ".pyc", ".dist-info/RECORD")


def first_party_files() -> dict[str, Path]:
    files = {"app.py": APP_DIR / "app.py"}
    for path in sorted((APP_DIR / "chalicelib").rglob("*")):
        if path.is_file() and not any(s in str(path) for s in _SKIP):
            files[str(path.relative_to(APP_DIR))] = path
    chalice_dir = Path(chalice.__file__).parent
    files["chalice/__init__.py"] = chalice_dir / "__init__.py"
    files["chalice/app.py"] = chalice_dir / "app.py"
    return files


def install_dependencies(target: Path) -> None:
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
         "--target", str(target), *platforms, "--python-version", LAMBDA_PYTHON,
         "--implementation", "cp", "--only-binary=:all:", "-r", str(APP_DIR / "requirements.txt")],
        check=True,
    )  # fmt: skip


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
    with tempfile.TemporaryDirectory() as tmp:
        deps = Path(tmp)
        install_dependencies(deps)
        files = {
            str(p.relative_to(deps)): p
            for p in sorted(deps.rglob("*"))
            if p.is_file() and not any(s in str(p) for s in _SKIP) and "/bin/" not in str(p)
        }
        files.update(first_party_files())
        return write_zip(out, files)


def copy_tree(out: Path) -> None:
    """Lay the package out as a directory (what SAM's makefile build expects)."""
    with tempfile.TemporaryDirectory() as tmp:
        zipped = build_package(Path(tmp) / "package.zip")
        shutil.unpack_archive(zipped, out)
