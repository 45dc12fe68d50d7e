"""What the acceptance suite uploads: a tiny XGBoost model, a training CSV and a baseline CSV.

All made here, without network or an ML library. The model is one XGBoost tree with a single
split (a "stump") in XGBoost's JSON model format, which the SageMaker XGBoost container loads
from the one file in ``model.tar.gz``: ``xgboost-model``. It scores 3 numeric features and
answers about 0.12 when the first is below 0, about 0.88 otherwise.
"""

from __future__ import annotations

import io
import json
import random
import tarfile
from typing import Any

FEATURES = 3
THRESHOLD = 0.0
LEAVES = (-2.0, 2.0)  # the margins left and right of the split; sigmoid(-2) ~ 0.12, sigmoid(2) ~ 0.88


def stump(
    features: int = FEATURES, threshold: float = THRESHOLD, leaves: tuple[float, float] = LEAVES
) -> dict[str, Any]:
    """An XGBoost 1.7 JSON model of one tree: ``feature 0 < threshold`` chooses the leaf."""
    low, high = leaves
    tree = {
        "id": 0,
        "tree_param": {"num_deleted": "0", "num_feature": str(features), "num_nodes": "3", "size_leaf_vector": "0"},
        "left_children": [1, -1, -1],
        "right_children": [2, -1, -1],
        "parents": [2147483647, 0, 0],
        "split_indices": [0, 0, 0],
        "split_conditions": [threshold, low, high],  # leaves keep their value here
        "split_type": [0, 0, 0],
        "default_left": [1, 0, 0],
        "base_weights": [0.0, low, high],
        "loss_changes": [1.0, 0.0, 0.0],
        "sum_hessian": [2.0, 1.0, 1.0],
        "categories": [],
        "categories_nodes": [],
        "categories_segments": [],
        "categories_sizes": [],
    }
    return {
        "learner": {
            "attributes": {},
            "feature_names": [],
            "feature_types": [],
            "gradient_booster": {
                "name": "gbtree",
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "1", "size_leaf_vector": "0"},
                    "tree_info": [0],
                    "trees": [tree],
                },
            },
            "learner_model_param": {
                "base_score": "5E-1",
                "boost_from_average": "0",
                "num_class": "0",
                "num_feature": str(features),
                "num_target": "1",
            },
            "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}},
        },
        "version": [1, 7, 6],
    }


def model_tar_gz() -> bytes:
    """``model.tar.gz`` holding the stump as ``xgboost-model``, as the XGBoost container expects."""
    model = json.dumps(stump()).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(model)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(model))
    return buffer.getvalue()


def _rows(seed: int, count: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[round(rng.gauss(0.0, 1.0), 4) for _ in range(FEATURES)] for _ in range(count)]


def training_csv(rows: int = 200, seed: int = 7) -> bytes:
    """Built-in XGBoost's CSV: no header, the label first (1 when feature 0 is positive)."""
    lines = [",".join([str(int(r[0] > 0)), *map(str, r)]) for r in _rows(seed, rows)]
    return ("\n".join(lines) + "\n").encode()


def baseline_csv(rows: int = 500, seed: int = 11) -> bytes:
    """The features the endpoint receives, with a header row: the data-quality baseline."""
    header = ",".join(f"f{i}" for i in range(FEATURES))
    lines = [header, *(",".join(map(str, r)) for r in _rows(seed, rows))]
    return ("\n".join(lines) + "\n").encode()


def request_rows() -> str:
    """Two rows to send the endpoint (text/csv): one each side of the split."""
    return "-1.5,0.2,0.3\n1.5,0.2,0.3"
