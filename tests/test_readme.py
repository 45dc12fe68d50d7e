"""The README's examples are the request bodies under tests/events, byte for byte in meaning."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```json\n(.*?)\n```", re.S)


def test_readme_examples_are_the_event_files() -> None:
    readme = (ROOT / "README.md").read_text()
    found = dict(EXAMPLE.findall(readme))
    valid = ROOT / "tests/events/valid"
    # each type's example, and the ML loop's (model_loop/)
    paths = [*valid.glob("*.json"), *valid.glob("model_loop/*.json")]
    expected = {f"tests/events/valid/{p.relative_to(valid)}" for p in paths}
    assert set(found) == expected
    for path, block in found.items():
        assert json.loads(block) == json.loads((ROOT / path).read_text()), path


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "demo"], ["make", "test"]]
