"""A bootstrapped control plane per module, and the ``long`` marker.

One plane serves a whole module: nothing a hostile case sends may write anything, and each
case checks that, so the cases cannot disturb each other. Tests marked ``long`` run only when
asked for (``-m long``).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.plane import FAKE_ENV, Plane

LONG = "long"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if LONG in (config.getoption("markexpr") or ""):
        return
    long = [item for item in items if item.get_closest_marker(LONG)]
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = [item for item in items if not item.get_closest_marker(LONG)]


@dataclass
class Edge:
    """The app in-process over a bootstrapped plane, and what the plane holds."""

    plane: Plane
    api: Any

    def written(self, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every object version in the control plane's buckets and every stack, but ``ignore``d keys."""
        s3 = self.plane.client("s3")
        found: dict[str, Any] = {}
        for bucket in (self.plane.config.assets_bucket, self.plane.config.config_bucket):
            listed = s3.list_object_versions(Bucket=bucket)
            found[bucket] = sorted(
                (v["Key"], v["VersionId"])
                for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
                if v["Key"] not in ignore
            )
        found["stacks"] = sorted((s["StackName"], s["StackStatus"]) for s in self.plane.stacks())
        return found


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials as everywhere, but the app's clients live as long as the module's plane.

    Creating boto3 clients costs most of a second each; the plane and its endpoint do not
    change within a module, and ``edge`` resets the clients around it.
    """
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def edge(moto_url: str) -> Iterator[Edge]:
    from chalice.test import Client

    from app import app
    from chalicelib import aws
    from chalicelib import blueprint_store as blueprints
    from mlops_local.bootstrap import ControlPlane

    with pytest.MonkeyPatch.context() as env:
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
        for key, value in {**FAKE_ENV, "AWS_ENDPOINT_URL": moto_url, **ControlPlane().env()}.items():
            env.setenv(key, value)
        env.delenv("AWS_PROFILE", raising=False)
        aws.reset()
        blueprints.forget()
        plane = Plane(moto_url)
        with Client(app) as client:
            yield Edge(plane, client)
        aws.reset()
        blueprints.forget()
