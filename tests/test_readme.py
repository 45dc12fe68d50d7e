"""The README's examples are the request bodies under tests/events, byte for byte in meaning."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Each type's example (<!-- example: ... -->), and those of a capability, in its section
# (<!-- realtime example: ... -->, batch, monitor).
EXAMPLE = re.compile(r"<!-- (?:[a-z]+ )?example: (\S+) -->\n```json\n(.*?)\n```", re.S)


def test_readme_examples_are_the_event_files() -> None:
    readme = (ROOT / "README.md").read_text()
    found = dict(EXAMPLE.findall(readme))
    valid = ROOT / "tests/events/valid"
    # every valid body is an example: each type's, the ML loop's and each capability's
    expected = {f"tests/events/valid/{p.relative_to(valid)}" for p in valid.rglob("*.json")}
    assert set(found) == expected
    for path, block in found.items():
        assert json.loads(block) == json.loads((ROOT / path).read_text()), path


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.splitlines()] == [["make", "demo"], ["make", "test"]]
