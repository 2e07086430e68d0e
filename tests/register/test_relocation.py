"""A copied or moved project keeps to its own registry files (issues 12.7 and 15.2).

MLflow stores absolute artefact paths: a copy of the project used to read the original clone's
files and register new versions into them, and scoring created a stray mlflow.db in the working
directory (registry URI set, tracking URI not).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from f1_kedro.engines.mlflow_registry import MlflowModelRegistry

ROOT = Path(__file__).resolve().parents[2]


def _predictions_model() -> Any:
    path = ROOT / "dbt" / "models" / "ml" / "predictions.py"
    spec = importlib.util.spec_from_file_location("predictions_model_relocation", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _registry(project: Path) -> MlflowModelRegistry:
    models = project / "data" / "06_models"
    return MlflowModelRegistry(
        tracking_uri=f"sqlite:///{models / 'mlflow.db'}",
        artifacts_dir=str(models / "mlartifacts"),
        stage_dir=str(models / "ml_stage"),
    )


def test_a_moved_project_scores_and_registers_into_its_own_folder(
    tmp_path: Path, register_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, moved = tmp_path / "original", tmp_path / "moved"
    first = register_with(_registry(original))
    assert first["version"] == 1
    shutil.copytree(original, moved)
    shutil.rmtree(original)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    # scoring loads the champion from the moved folder's files
    uri = f"sqlite:///{moved / 'data/06_models/mlflow.db'}"
    version, classifier = _predictions_model().load_mlflow_champion(
        uri, "f1_race_outcome", "champion"
    )
    assert version == "1" and hasattr(classifier, "predict_proba")
    assert not (elsewhere / "mlflow.db").exists()  # tracking URI set beside the registry URI

    # registering in the moved project writes there, and nothing reappears at the old place
    second = register_with(_registry(moved), macro_f1=1.0)
    assert second["version"] == 2
    assert not original.exists()
    client = _registry(moved).client()
    for number in ("1", "2"):
        source = client.get_model_version("f1_race_outcome", number).source  # models:/m-<id>
        location = client.get_logged_model(source.removeprefix("models:/")).artifact_location
        assert location.startswith((moved / "data/06_models/mlartifacts").as_uri()), location
    assert not (elsewhere / "mlflow.db").exists()


def test_the_scoring_model_looks_for_artefacts_where_the_catalog_puts_them() -> None:
    """predictions.py re-bases under the folder beside the registry file: the catalog's layout."""
    entry = yaml.safe_load((ROOT / "conf/base/catalog_register.yml").read_text())["model_registry"]
    database = Path(entry["tracking_uri"].removeprefix("sqlite:///"))
    artifacts = Path(entry["artifacts_dir"])
    assert artifacts == database.parent / _predictions_model().ARTIFACTS_FOLDER
