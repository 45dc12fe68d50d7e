"""Developer tooling beside the Lambda package: the `mlops` CLI and the demo."""
