"""The control plane publishes to the Serverless Application Repository."""

from __future__ import annotations

from pathlib import Path

from mlops_dev.translate import load, translate

SNAPSHOT = Path(__file__).with_name("sar_supported_resources.txt")


def supported() -> set[str]:
    lines = SNAPSHOT.read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_resource_type_is_one_sar_deploys() -> None:
    template = load()
    declared = {r["Type"] for r in template["Resources"].values()}
    generated = {r["Type"] for r in translate(template)["Resources"].values()}
    assert declared - supported() == set()
    assert generated - supported() == set()


def test_the_application_metadata_names_readme_license_and_version() -> None:
    metadata = load()["Metadata"]["AWS::ServerlessRepo::Application"]
    root = Path(__file__).resolve().parents[2]
    assert (root / "sam" / metadata["LicenseUrl"]).resolve() == root / "LICENSE"
    assert (root / "sam" / metadata["ReadmeUrl"]).resolve() == root / "README.md"
    assert metadata["SpdxLicenseId"] == "MIT"
    import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    installed = load()["Resources"]["BlueprintInstall"]["Properties"]["Version"]
    assert metadata["SemanticVersion"] == installed == project
