"""Call a Lambda handler from unpacked function code; also a script for another interpreter.

:mod:`.lambdas` calls :func:`call` in-process for functions without layers. A function
that uses the SageMaker SDK layer runs in a child process of the layer's interpreter instead:
``python lambda_runner.py CODE_DIR HANDLER RESULT_FILE < payload.json``. This file imports
nothing of the project, so any Python with the function's packages can run it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


class HandlerError(Exception):
    """The handler raised (``error`` is the exception's type) or could not be loaded."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def call(code_dir: str, handler: str, payload: Any, name: str = "_local_lambda") -> Any:
    """``handler`` ("module.function") of the code in ``code_dir`` called with ``payload``."""
    module_name, _, attribute = handler.rpartition(".")
    path = Path(code_dir, *module_name.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.exists():
        raise HandlerError("Runtime.ImportModuleError", f"no module {module_name} in the function's code")
    sys.path.insert(0, code_dir)
    try:
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except ImportError as exc:
            raise HandlerError("Runtime.ImportModuleError", f"{module_name}: {exc}") from exc
        try:
            result = getattr(module, attribute)(payload, None)
        except Exception as exc:
            raise HandlerError(type(exc).__name__, str(exc)) from exc
        return json.loads(json.dumps(result, default=str))
    finally:
        sys.path.remove(code_dir)


def _name_resources_in_errors() -> None:
    """As in local mode's own process: AWS errors name the resource they concern (``fidelity``).

    Loaded from its file beside this one, which imports nothing of the project either."""
    spec = importlib.util.spec_from_file_location("_mlops_fidelity", Path(__file__).with_name("fidelity.py"))
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.name_resources_in_errors()


def main(argv: list[str]) -> int:
    code_dir, handler, result_file = argv
    _name_resources_in_errors()
    try:
        outcome = {"result": call(code_dir, handler, json.load(sys.stdin))}
    except HandlerError as failed:
        outcome = {"errorType": failed.error, "errorMessage": str(failed)}
    Path(result_file).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
