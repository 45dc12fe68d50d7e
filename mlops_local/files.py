"""Where local mode finds what it deploys: the blueprints, the control-plane template, the example bodies.

In a source checkout these are the checkout's own folders (``blueprints/``, ``sam/``,
``tests/events/valid/``). An installed wheel (``pip install 'mlops-orchestrator[local]'``)
carries copies of the same folders under ``mlops_local/_data/``; ``pyproject.toml`` maps them
in. Every other module of local mode asks this one, so both layouts behave the same.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
PACKAGED = _HERE / "_data"
CHECKOUT = _HERE.parent
# name -> the folder in a source checkout; the wheel has each at _data/<name>
_IN_CHECKOUT = {"blueprints": "blueprints", "sam": "sam", "examples": "tests/events/valid"}
LAYER_PYTHON_ENV = "MLOPS_LAYER_PYTHON"


def folder(name: str) -> Path:
    """The folder ``name`` (blueprints, sam or examples) of this installation."""
    packaged = PACKAGED / name
    return packaged if packaged.is_dir() else CHECKOUT / _IN_CHECKOUT[name]


BLUEPRINTS = folder("blueprints")
CONTROL_PLANE = folder("sam") / "template.yaml"
EXAMPLES = folder("examples")


def layer_python() -> Path:
    """The interpreter that stands for the SageMaker SDK layer.

    ``MLOPS_LAYER_PYTHON`` if set; in a checkout, ``.layer-venv``'s (``make layer-venv``);
    otherwise this interpreter when it has the SDK (``pip install sagemaker`` beside the wheel).
    The path may not exist: the caller says how to provide it.
    """
    given = os.environ.get(LAYER_PYTHON_ENV)
    if given:
        return Path(given)
    checkout_venv = CHECKOUT / ".layer-venv" / "bin" / "python"
    if checkout_venv.exists() or not PACKAGED.is_dir():
        return checkout_venv
    if importlib.util.find_spec("sagemaker") is not None:
        return Path(sys.executable)
    return checkout_venv
