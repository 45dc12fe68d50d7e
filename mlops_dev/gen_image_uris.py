"""Regenerate orchestrator_api/chalicelib/data/image_uris.json from the SageMaker SDK.

The orchestrator must not import the SDK (about 1.9 s of cold start), so built-in
algorithm images are resolved from this table. Run it with the SageMaker SDK layer's packages
(`make layer-venv`):

    .layer-venv/bin/python mlops_dev/gen_image_uris.py [OUT]    (default: the table in chalicelib)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import sagemaker
from sagemaker import image_uris
from sagemaker.image_uris import config_for_framework

# Built-in algorithms a BYOM, training or tuning request may name, plus the monitor images.
FRAMEWORKS = [
    "xgboost", "sklearn", "linear-learner", "knn", "kmeans", "pca", "factorization-machines",
    "blazingtext", "image-classification", "object-detection", "semantic-segmentation",
    "seq2seq", "ntm", "lda", "ipinsights", "randomcutforest", "forecasting-deepar", "object2vec",
    "model-monitor", "clarify",
]  # fmt: skip
URI = re.compile(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)/(.+)")
OUT = Path(__file__).resolve().parents[1] / "orchestrator_api/chalicelib/data/image_uris.json"


def versions_scope(config: dict) -> dict:
    return config.get("inference") or config.get("training") or config.get("processing") or config


def versions_of(config: dict) -> tuple[list[str], dict[str, str]]:
    scoped = versions_scope(config)
    versions = list(scoped.get("versions", {}))
    aliases = dict(scoped.get("version_aliases", {}))
    return versions, aliases


def main() -> int:
    registries: dict[str, dict[str, str]] = {}
    images: dict[str, dict[str, list[str]]] = {}
    aliases_out: dict[str, dict[str, str]] = {}
    for framework in FRAMEWORKS:
        config = config_for_framework(framework)
        versions, aliases = versions_of(config)
        images[framework] = {}
        if aliases:
            aliases_out[framework] = aliases
        for version in versions:
            scoped = versions_scope(config)["versions"][version]
            table: dict[str, str] = {}
            suffix = ""
            for region in sorted(scoped.get("registries", {})):
                try:
                    uri = image_uris.retrieve(
                        framework, region, version=version, instance_type="ml.m5.large",
                        image_scope="inference" if "inference" in config.get("scope", []) else None,
                    )  # fmt: skip
                except (ValueError, KeyError):
                    continue
                match = URI.fullmatch(uri)
                if not match:
                    continue
                table[region] = match.group(1)
                suffix = match.group(4)
            if not table:
                continue
            key = json.dumps(table, sort_keys=True)
            registry_id = next((k for k, v in registries.items() if json.dumps(v, sort_keys=True) == key), None)
            if registry_id is None:
                registry_id = f"r{len(registries)}"
                registries[registry_id] = table
            images[framework][version] = [registry_id, suffix]
    data = {
        "sagemaker_sdk_version": sagemaker.__version__,
        "registries": registries,
        "images": images,
        "aliases": aliases_out,
    }
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes) from SageMaker SDK {sagemaker.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
