"""The ``mlops`` command."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from typing import Any

import click

from . import model_commands
from .commands import register


@click.group()
@click.version_option(package_name="mlops-orchestrator")
@click.option("--api-url", envvar="MLOPS_API_URL", help="The orchestrator's API URL (the ApiUrl stack output).")
@click.option("--stack", envvar="MLOPS_STACK", help="The control-plane stack to read the API URL from.")
def cli(api_url: str | None, stack: str | None) -> None:
    """MLOps Workload Orchestrator: provision SageMaker pipelines from a request body.

    Requests are SigV4-signed with the standard AWS credential chain. Exit codes: 0 done,
    1 refused by the orchestrator or the pipeline failed, 2 usage, 3 API unreachable or 5xx.
    """


@cli.command()
@click.option("--port", default=8000, show_default=True, help="Port of the API on 127.0.0.1 (0: any free port).")
@click.option(
    "--multi-account", is_flag=True, help="Promote pipelines dev -> staging -> prod across three emulated accounts."
)
def local(port: int, multi_account: bool) -> None:
    """Serve the orchestrator API on this machine against an embedded AWS emulator."""
    raise SystemExit(_emulator("server").serve(port, multi_account=multi_account))


@cli.command()
@click.option(
    "--loop",
    is_flag=True,
    help="Run the ML loop instead: drift -> retraining -> a model pending approval -> approve-model -> deploy.",
)
def demo(loop: bool) -> None:
    """Run the demo (`make demo` runs both): local mode, two pipelines, a drift monitor, a deletion."""
    raise SystemExit(_emulator("demo_loop" if loop else "demo").main())


def _emulator(module: str) -> Any:
    """A module of local mode, whose packages the ``local`` extra installs."""
    missing = [name for name in _LOCAL_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f"local mode needs the local extra ({', '.join(missing)} missing): pip install 'mlops-orchestrator[local]'"
        )
    return importlib.import_module(f"mlops_local.{module}")


_LOCAL_EXTRA = ("moto", "flask", "cfnlint", "yaml")  # what `pip install '.[local]'` brings


def _read_lines(location: str) -> Iterator[str]:
    """Lines of a local file, of every file under a directory (in path order), or of every object
    under s3://bucket/prefix, streamed: memory holds one line (S3: one object's stream) at a time.

    A location that does not exist is refused here, before the first line is read.
    """
    from pathlib import Path

    if location.startswith("s3://"):
        import boto3

        from mlops_monitor import sources

        sources.split(location)  # a malformed URI is refused now
        return sources.lines(boto3.client("s3"), location)
    path = Path(location)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    elif path.is_file():
        files = [path]
    else:
        raise click.UsageError(f"{location}: no such file or directory")
    return _file_lines(files)


def _file_lines(files: list[Any]) -> Iterator[str]:
    for file in files:
        with file.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                yield line.rstrip("\r\n")


@cli.command()
@click.argument("baseline_csv")
@click.argument("capture_path")
@click.option("--ground-truth", help="Ground-truth JSON Lines (file, directory or s3:// prefix).")
@click.option(
    "--problem-type",
    type=click.Choice(["BinaryClassification", "MulticlassClassification", "Regression"]),
    help="Needed with --ground-truth.",
)
@click.option("--alpha", default=0.01, show_default=True, help="Family-wise false-alarm rate of the drift tests.")
@click.option(
    "--require-data/--allow-no-data",
    default=True,
    show_default=True,
    help="Exit 3 when no record could be checked (an empty window, malformed or non-capture lines).",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the report as one self-contained HTML page (charts per feature, violations first).",
)
def drift(
    baseline_csv: str,
    capture_path: str,
    ground_truth: str | None,
    problem_type: str | None,
    alpha: float,
    require_data: bool,
    html_path: str | None,
) -> None:
    """Check captured data against a baseline; print the report as JSON.

    BASELINE_CSV holds the model's input columns only, in the capture's order (a header row
    is optional); CAPTURE_PATH holds SageMaker data-capture JSON Lines. Reads both as streams:
    memory does not grow with the window (with --ground-truth, by one prediction per record).

    Exit status: 0 no violation, 1 violations, 2 bad input, 3 no record was checked (the
    report's "message" says why; --allow-no-data exits 0 instead).
    """
    import json

    from mlops_monitor import baseline, capture, model_quality, page, partial, quality

    if ground_truth and not problem_type:
        raise click.UsageError("--problem-type is required with --ground-truth")
    try:
        built = baseline.build(_read_lines(baseline_csv))
        window = partial.Partial(built)
        lines = _read_lines(capture_path)
        if ground_truth and problem_type:
            truth_lines = _read_lines(ground_truth)
            predictions = model_quality.Predictions(capture.records(lines, window.counts))
            report = quality.check(built, window.add(predictions), alpha)
            truth_counts = capture.Counts()
            report["model_quality"] = model_quality.evaluate(
                predictions.outputs, capture.ground_truth(truth_lines, truth_counts), problem_type, truth_counts
            )
            report["model_quality"]["malformed"] = truth_counts.malformed
        else:
            report = quality.check(built, window.add_lines(lines), alpha)
    except click.UsageError:
        raise
    except (OSError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    except Exception as exc:  # S3 access problems
        raise click.UsageError(f"cannot read input: {exc}") from exc
    click.echo(json.dumps(report, indent=2, sort_keys=True))
    if html_path:
        from pathlib import Path

        Path(html_path).write_text(page.render(report, title=f"Drift of {capture_path}"), encoding="utf-8")
        click.echo(f"mlops drift: HTML report written to {html_path}", err=True)
    if report["status"] == "no_data":
        click.echo(f"mlops drift: {report['message']}", err=True)
        raise SystemExit(3 if require_data else 0)
    raise SystemExit(1 if report["violations"] else 0)


register(cli)
model_commands.register(cli)  # approve-model, reject-model

if __name__ == "__main__":
    cli()
