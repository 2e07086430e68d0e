"""A copied or moved project keeps to its own registry files (issues 12.7 and 15.2).

MLflow stores absolute artefact paths: a copy of the project used to read the original clone's
files and register new versions into them, and scoring created a stray mlflow.db in the working
directory (registry URI set, tracking URI not).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from f1_kedro.engines.duckdb import MlflowModelRegistry
from f1_kedro.project_config import resolved_config
from tests import dbt_python_models
from tests.register.conftest import make_registry

ROOT = Path(__file__).resolve().parents[2]


def _predictions_model() -> Any:
    path = ROOT / "dbt" / "models" / "ml" / "predictions.py"
    spec = importlib.util.spec_from_file_location("predictions_model_relocation", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _registry(project: Path) -> MlflowModelRegistry:
    return make_registry(project / "data" / "06_models")


def test_a_moved_project_scores_and_registers_into_its_own_folder(
    tmp_path: Path, register_with: Any, trained: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    original, moved = tmp_path / "original", tmp_path / "moved"
    first = register_with(_registry(original))
    assert first["version"] == 1
    shutil.copytree(original, moved)
    shutil.rmtree(original)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    # scoring (docs/contracts.md "Registry") loads the champion from the moved folder's files,
    # re-basing the stored path as predictions.py does, without opening the registry's writer
    uri = f"sqlite:///{moved / 'data/06_models/mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias("f1_race_outcome", "champion")
    location = _predictions_model().relocated_artifacts(client, champion, uri)
    assert location is not None and location.startswith(str(moved)), location
    model = mlflow.pyfunc.load_model(location)
    columns = json.loads(champion.tags["input_columns"])
    proba = np.asarray(model.predict(trained["test_rows"][columns]))
    assert proba.shape == (len(trained["test_rows"]), 3)
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


def test_a_copy_registers_into_itself_and_leaves_the_original_untouched(
    tmp_path: Path, register_with: Any, trained: dict[str, Any]
) -> None:
    """Issue 15.2: copy a project, register in the copy: the original's files are untouched."""
    original, copy = tmp_path / "original", tmp_path / "copy"
    register_with(_registry(original))
    shutil.copytree(original, copy)
    before = {p: p.stat().st_mtime_ns for p in original.rglob("*")}
    second = register_with(_registry(copy), macro_f1=1.0)
    assert second["version"] == 2 and Path(second["stage_path"]).is_relative_to(copy)
    assert {p: p.stat().st_mtime_ns for p in original.rglob("*")} == before
    original_client = _registry(original).client()
    versions = original_client.search_model_versions("name='f1_race_outcome'")
    assert [str(v.version) for v in versions] == ["1"]


@pytest.mark.parametrize("model", ["predictions", "prediction_explanations"])
def test_a_copy_scores_from_its_own_files_while_the_original_is_still_there(
    tmp_path: Path, register_with: Any, model: str
) -> None:
    """Both scoring models load a copied project's version from the copy, not from the original
    folder its store still names (the copy's store is re-based only when register opens it)."""
    original, copy = tmp_path / "original", tmp_path / "copy"
    register_with(_registry(original))
    shutil.copytree(original, copy)
    scoring = dbt_python_models.load(model)
    for project, expected in ((copy, copy), (original, None)):
        uri = f"sqlite:///{project / 'data/06_models/mlflow.db'}"
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        champion = client.get_model_version_by_alias("f1_race_outcome", "champion")
        location = scoring.relocated_artifacts(client, champion, uri)
        if expected is None:  # the original: loaded as stored
            assert location is None, location
        else:
            assert location is not None and Path(location).is_relative_to(expected), location


def test_the_scoring_model_looks_for_artefacts_where_the_catalog_puts_them() -> None:
    """predictions.py re-bases under the folder beside the registry file: the catalog's layout."""
    entry = resolved_config("catalog")["model_registry"]
    database = Path(entry["tracking_uri"].removeprefix("sqlite:///"))
    artifacts = Path(entry["artifacts_dir"])
    assert artifacts == database.parent / _predictions_model().ARTIFACTS_FOLDER
