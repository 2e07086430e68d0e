"""The duckdb variant's loaders of dbt/models/ml/predictions.py, without dbt: the error paths."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest


def test_seasons_var(predictions_model: ModuleType) -> None:
    parse = predictions_model.parse_seasons
    assert parse("null") == parse("[]") == parse("") == []
    assert parse("2023") == [2023] and parse("[2024, 2023]") == [2023, 2024]
    with pytest.raises(predictions_model.ScoringError, match="score_seasons"):
        parse('["last"]')


def test_no_registry_says_to_train_and_register(
    predictions_model: ModuleType, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(predictions_model.ScoringError, match="no model registry.*--pipeline=train"):
        predictions_model.load_mlflow_champion(uri, "f1_race_outcome", "champion")
    assert not (tmp_path / "mlflow.db").exists()  # and it did not create an empty one


def test_missing_and_corrupt_stage_files_are_named(
    predictions_model: ModuleType, tmp_path: Path
) -> None:
    load = predictions_model.load_stage_folder
    folder = tmp_path / "m" / "v2"
    with pytest.raises(predictions_model.ScoringError, match=f"stage artifact {folder}/manifest"):
        load(str(tmp_path), "m", "2")
    folder.mkdir(parents=True)
    manifest = {"model_name": "m", "version": 2, "preprocessing_file": "p.joblib"}
    (folder / "manifest.json").write_text(json.dumps({**manifest, "input_columns": []}))
    with pytest.raises(predictions_model.ScoringError, match="manifest.json.*feature_columns"):
        load(str(tmp_path), "m", "2")
    manifest.update(input_columns=[], feature_columns=[])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "p.joblib").write_bytes(b"garbage")
    with pytest.raises(predictions_model.ScoringError, match=f"{folder}/p.joblib could not"):
        load(str(tmp_path), "m", "2")
    with pytest.raises(predictions_model.ScoringError, match="describes m v2"):
        predictions_model.read_manifest(json.dumps(manifest).encode(), "x", "m", "3")


def test_predictions_frame_rows_sum_to_one(predictions_model: ModuleType) -> None:
    keys = pd.DataFrame({"RACE_ID": [1, 1], "DRIVER_ID": [5, 6]})
    proba = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]], dtype="float32")

    frame = predictions_model.predictions_frame(keys, proba, "m", "3")

    assert list(frame.columns) == predictions_model.OUTPUT_COLUMNS
    sums = frame[predictions_model.PROBABILITY_COLUMNS].sum(axis=1)
    assert (sums - 1).abs().max() < 1e-12
    assert list(frame.PREDICTED_LABEL) == [2, 0]
