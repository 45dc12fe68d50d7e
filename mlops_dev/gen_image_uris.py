"""Regenerate orchestrator_api/chalicelib/data/image_uris.json from the SageMaker SDK.

The orchestrator must not import the SDK (about 1.9 s of cold start), so framework images are
resolved from this table: every framework, version and region for which the SDK's
``image_uris.retrieve(framework, region, version=version)`` answers, the call the original
solution made for ``model_framework`` and ``model_framework_version``; frameworks the SDK knows
but resolves only with more than a version (an instance type, a Python version, an image scope)
are listed as ``needs_more``. Run it with the SageMaker SDK layer's packages (`make layer-venv`),
a few seconds:

    SAGEMAKER_SUPPRESS_V2_WARNING=1 .layer-venv/bin/python mlops_dev/gen_image_uris.py [OUT]
    (default OUT: the table in chalicelib)
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import sagemaker
from sagemaker import image_uris

# Files in the SDK's image_uri_config that describe no framework.
NOT_FRAMEWORKS = {"instance_gpu_info"}
URI = re.compile(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)/(.+)")
OUT = Path(__file__).resolve().parents[1] / "orchestrator_api/chalicelib/data/image_uris.json"


def frameworks() -> list[str]:
    folder = Path(image_uris.__file__).parent / "image_uri_config"
    return sorted(p.stem for p in folder.glob("*.json") if p.stem not in NOT_FRAMEWORKS)


def scopes(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The config's version tables: one per image scope, or the config itself."""
    found = [config[s] for s in ("inference", "training", "processing") if isinstance(config.get(s), dict)]
    return found or [config]


def versions_and_aliases(config: dict[str, Any]) -> tuple[list[str], dict[str, str], list[str]]:
    versions: set[str] = set()
    aliases: dict[str, str] = {}
    regions: set[str] = set()
    for scoped in scopes(config):
        for version, entry in scoped.get("versions", {}).items():
            versions.add(version)
            regions |= set(entry.get("registries", {}))
            for scope in entry.values():  # per-scope entries nest their registries one level down
                if isinstance(scope, dict) and isinstance(scope.get("registries"), dict):
                    regions |= set(scope["registries"])
        for alias, target in scoped.get("version_aliases", {}).items():
            aliases.setdefault(alias, target)
    return sorted(versions), aliases, sorted(regions)


def _parse_once() -> None:
    """retrieve() parses the framework's JSON and botocore's endpoint data on every call, and
    only reads them: parse each once (some minutes less for the whole table)."""
    image_uris.config_for_framework = functools.cache(image_uris.config_for_framework)
    sagemaker.utils._botocore_resolver = functools.cache(sagemaker.utils._botocore_resolver)
    logging.getLogger("sagemaker").setLevel(logging.ERROR)


def resolve(framework: str, version: str, regions: list[str]) -> tuple[dict[str, str], str] | None:
    """Region -> registry account, and the repository path, of one framework version."""
    paths: Counter[str] = Counter()
    found: dict[str, tuple[str, str]] = {}
    for region in regions:
        try:
            uri = image_uris.retrieve(framework, region, version=version)
        except (ValueError, KeyError, TypeError) as exc:
            if not found and "region" not in str(exc).lower():
                return None  # the call needs more than a version (instance type, scope, Python)
            continue
        match = URI.fullmatch(uri)
        if match is None or match.group(2) != region:
            continue  # a partition whose domain the table does not model (ISO regions)
        found[region] = (match.group(1), match.group(4))
        paths[match.group(4)] += 1
    if not found:
        return None
    path = paths.most_common(1)[0][0]
    table = {region: account for region, (account, p) in found.items() if p == path}
    return table, path


def main() -> int:
    _parse_once()
    registries: dict[str, dict[str, str]] = {}
    by_table: dict[str, str] = {}

    def registry(table: dict[str, str]) -> str:
        """The id of a region -> account map, shared by every image that has the same one."""
        key = json.dumps(table, sort_keys=True)
        if key not in by_table:
            by_table[key] = f"r{len(registries)}"
            registries[by_table[key]] = table
        return by_table[key]

    images: dict[str, dict[str, list[str]]] = {}
    aliases_out: dict[str, dict[str, str]] = {}
    needs_more: list[str] = []
    for framework in frameworks():
        config = image_uris.config_for_framework(framework)
        versions, aliases, regions = versions_and_aliases(config)
        if not regions:  # versionless images (model-monitor) list their registries at the top
            regions = sorted({r for s in scopes(config) for r in s.get("registries", {})})
        resolved: dict[str, list[str]] = {}
        for version in versions or [""]:
            answer = resolve(framework, version, regions)
            if answer is not None:
                resolved[version] = [registry(answer[0]), answer[1]]
        if versions and not resolved:
            needs_more.append(framework)  # the SDK knows it, but not from a version alone
        for alias, target in sorted(aliases.items()):
            if alias in resolved or target not in resolved:
                continue
            answer = resolve(framework, alias, regions)  # the SDK may tag an alias's image by the alias
            if answer is not None and [registry(answer[0]), answer[1]] != resolved[target]:
                resolved[alias] = [registry(answer[0]), answer[1]]
            elif answer is not None:
                aliases_out.setdefault(framework, {})[alias] = target
        if resolved:
            images[framework] = resolved
    data = {
        "sagemaker_sdk_version": sagemaker.__version__,
        "registries": registries,
        "images": images,
        "aliases": aliases_out,
        "needs_more": needs_more,
    }
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
    count = sum(len(v) for v in images.values())
    size = out.stat().st_size
    print(f"wrote {out} ({size} bytes): {len(images)} frameworks, {count} versions, SDK {sagemaker.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
