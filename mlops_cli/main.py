"""The ``mlops`` command."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="mlops-orchestrator")
def cli() -> None:
    """MLOps Workload Orchestrator: provision SageMaker pipelines from a request body."""


@cli.command()
@click.option("--port", default=8000, show_default=True, help="Port of the API on 127.0.0.1 (0: any free port).")
def local(port: int) -> None:
    """Serve the orchestrator API on this machine against an embedded AWS emulator."""
    from .local import serve

    raise SystemExit(serve(port))


if __name__ == "__main__":
    cli()
