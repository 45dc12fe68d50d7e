"""Trim an installed layer tree and fail if it is over the size limit.

Removes what a Lambda never imports: bytecode caches, test suites, packaging tools and
type stubs. Usage: python trim.py <layer python dir> <limit MiB>
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DROP_DIRS = {"__pycache__", "tests", "test", "testing"}
DROP_TOP = {"pip", "setuptools", "wheel", "_distutils_hack", "pkg_resources", "bin"}
DROP_SUFFIXES = (".pyc", ".pyi", ".pxd", ".c", ".h")
KEEP_TEST_DIRS = {"numpy/testing", "pandas/_testing"}  # imported at runtime by the libraries themselves


def size_mib(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


def trim(root: Path) -> None:
    for name in DROP_TOP:
        for path in root.glob(name):
            shutil.rmtree(path, ignore_errors=True)
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        relative = path.relative_to(root).as_posix()
        if path.is_dir() and path.name in DROP_DIRS and not any(relative.endswith(k) for k in KEEP_TEST_DIRS):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in DROP_SUFFIXES:
            path.unlink()


def main() -> int:
    root, limit = Path(sys.argv[1]), float(sys.argv[2])
    before = size_mib(root)
    trim(root)
    after = size_mib(root)
    print(f"layer: {before:.1f} MiB installed, {after:.1f} MiB after trimming (limit {limit:.0f} MiB)")
    if after > limit:
        print(f"layer is over the {limit:.0f} MiB limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
