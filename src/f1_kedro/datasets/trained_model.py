"""What one train run hands register, written as one unit: all of it, or nothing.

`data/06_models/trained_model` is a symlink to a folder named by the run id holding the fitted
preprocessing pipeline and classifier (`model.joblib`) and the run's summary, metrics and search
(`*.json`, each with the same `run_id`). A save writes a new folder completely, then replaces the
symlink in one `rename`: a kill at any moment leaves the previous run whole, and register never
reads one run's model with another run's metrics.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import joblib
from kedro.io import AbstractDataset, DatasetError

_JSON_PARTS = ("summary", "metrics", "search")
_MODEL_PARTS = ("preprocessing", "classifier")


class TrainedModelDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """A train run as a folder, swapped in atomically (see the module docstring)."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None):
        self._path = Path(path)
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        run_id = str(data["run_id"])
        if not run_id.isalnum():
            raise DatasetError(f"run id {run_id!r} must be letters and digits")
        parent = self._path.parent
        parent.mkdir(parents=True, exist_ok=True)
        folder = parent / f".{self._path.name}.{run_id}"
        temp = parent / f".{self._path.name}.{run_id}.tmp"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        try:
            _write(
                temp / "model.joblib", lambda f: joblib.dump({k: data[k] for k in _MODEL_PARTS}, f)
            )
            for part in _JSON_PARTS:
                text = json.dumps(data[part], indent=2, default=str).encode()
                _write(temp / f"{part}.json", lambda f, text=text: f.write(text))
            os.rename(temp, folder)
            link = parent / f".{self._path.name}.{run_id}.link"
            link.unlink(missing_ok=True)
            link.symlink_to(folder.name)
            previous = self._target()
            os.replace(link, self._path)  # the one atomic step: readers see old or new
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        if previous is not None and previous != folder:
            shutil.rmtree(previous, ignore_errors=True)
        for stale in parent.glob(f".{self._path.name}.*"):  # left by runs killed before the swap
            if stale != folder:
                shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()

    def load(self) -> dict[str, Any]:
        folder = self._target()
        if folder is None:
            raise DatasetError(
                f"no trained model at {self._path}: run `kedro run --pipeline=train` first"
            )
        try:
            data: dict[str, Any] = joblib.load(folder / "model.joblib")
            for part in _JSON_PARTS:
                data[part] = json.loads((folder / f"{part}.json").read_text())
        except (OSError, ValueError, EOFError) as err:
            raise DatasetError(
                f"trained model at {folder} is damaged ({err}): train again"
            ) from None
        data["run_id"] = folder.name.rsplit(".", 1)[-1]
        return data

    def _target(self) -> Path | None:
        if not self._path.is_symlink():
            return None
        return self._path.parent / os.readlink(self._path)

    def _exists(self) -> bool:
        return self._target() is not None

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


def _write(path: Path, write: Any) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
