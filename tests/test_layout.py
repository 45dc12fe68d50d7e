"""The test tree's own rules: helpers are shared through tests/support and fixtures through
conftest, never by importing another test module (which would also collect, or run, that
module's tests twice) or the root conftest."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, as dotted names (``from a import b`` counts ``a`` and ``a.b``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_test_module_imports_another_test_module() -> None:
    offenders = sorted(
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    )
    assert offenders == [], "move what is shared into tests/support:\n" + "\n".join(offenders)


def test_helpers_come_from_tests_support_not_the_root_conftest() -> None:
    paths = TESTS.rglob("*.py")
    offenders = sorted(str(p.relative_to(TESTS.parent)) for p in paths if "tests.conftest" in imported_modules(p))
    assert offenders == [], "import helpers from tests/support:\n" + "\n".join(offenders)
