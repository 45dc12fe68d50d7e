"""The image table is what the SageMaker SDK answers: every framework, version (and alias) and
region in it resolves to the URI that ``image_uris.retrieve(framework, region, version=version)``
gives with the layer's SDK (the original solution's call), and every framework it lists as
needing more than a version fails that call."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from chalicelib import image_uris

ROOT = Path(__file__).resolve().parents[2]
LAYER_PYTHON = ROOT / ".layer-venv" / "bin" / "python"

# Asks the SDK for each (framework, version, region) read from stdin. Only botocore's endpoint
# data is parsed once instead of on every call (it is constant); the SDK's code runs unchanged.
ASK_THE_SDK = """
import functools, json, sys
import sagemaker.utils
from sagemaker import image_uris
sagemaker.utils._botocore_resolver = functools.cache(sagemaker.utils._botocore_resolver)
answers = []
for framework, version, region in json.load(sys.stdin):
    try:
        answers.append(image_uris.retrieve(framework, region, version=version))
    except Exception as exc:
        answers.append("error: " + type(exc).__name__)
print(json.dumps(answers))
"""


def in_the_layer(script: str, payload: Any) -> Any:
    """What ``script``, run by the layer's Python with ``payload`` as JSON on stdin, prints last (JSON)."""
    run = subprocess.run(
        [str(LAYER_PYTHON), "-c", script],
        input=json.dumps(payload), capture_output=True, text=True, timeout=600,
        env={**os.environ, "SAGEMAKER_SUPPRESS_V2_WARNING": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def ask_the_sdk(questions: list[tuple[str, str, str]]) -> list[str]:
    return list(in_the_layer(ASK_THE_SDK, questions))


def test_every_entry_is_what_the_sdk_answers() -> None:
    table = image_uris._table()
    questions, ours = [], []
    for framework, versions in table["images"].items():
        names = [*versions, *table["aliases"].get(framework, {})]
        for version in names:
            canonical = table["aliases"].get(framework, {}).get(version, version)
            for region in table["registries"][versions[canonical][0]]:
                questions.append((framework, version, region))
                ours.append(image_uris.resolve(framework, version, region))
    assert len(questions) > 3000
    answers = ask_the_sdk(questions)
    wrong = [(q, o, a) for q, o, a in zip(questions, ours, answers, strict=True) if o != a]
    assert wrong == [], wrong[:5]


# For each framework read from stdin: every version the SDK's config lists that the original's
# call resolves in a region the config lists for it.
RESOLVED_BY_VERSION = """
import json, sys
from sagemaker import image_uris
found = {}
for framework in json.load(sys.stdin):
    config = image_uris.config_for_framework(framework)
    tables = [config[s] for s in ("inference", "training", "processing") if isinstance(config.get(s), dict)]
    for table in tables or [config]:
        for version, entry in table.get("versions", {}).items():
            regions = list(entry.get("registries", {})) or ["us-east-1"]
            for region in regions[:1]:
                try:
                    uri = image_uris.retrieve(framework, region, version=version)
                except Exception:
                    continue
                found.setdefault(framework, []).append([version, region, uri])
print(json.dumps(found))
"""


def test_frameworks_listed_as_needing_more_fail_the_originals_call() -> None:
    needs_more = image_uris._table()["needs_more"]
    assert {"pytorch", "tensorflow", "huggingface"} <= set(needs_more)
    assert in_the_layer(RESOLVED_BY_VERSION, needs_more) == {}
