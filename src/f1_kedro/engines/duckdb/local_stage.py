"""A folder that stands for the Snowflake stage `@FORMULA1.ML.ML_STAGE` on the embedded engine."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from f1_kedro.identifiers import identifier
from f1_kedro.registry import RegistryError


class LocalStage:
    """A folder that stands for `@FORMULA1.ML.ML_STAGE`: versioned, write-once subfolders."""

    def __init__(self, stage_dir: str | Path, stage: str = "ML_STAGE"):
        self.root = Path(stage_dir) / stage
        self.stage = stage

    def path(self, model_name: str, version: int) -> Path:
        # The model name comes from configuration and becomes a folder: no `..`, no `/`.
        return self.root / identifier(model_name, "model name") / f"v{int(version)}"

    def write(self, model_name: str, version: int, files: dict[str, bytes]) -> Path:
        """Write `files` into the version's folder atomically; refuse if the folder exists."""
        target = self.path(model_name, version)
        if target.exists():
            raise RegistryError(
                f"stage folder {target} already exists: version {version} of {model_name} was "
                "written before and is never overwritten"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.parent / f".v{version}.tmp-{uuid.uuid4().hex[:8]}"
        temp.mkdir()
        try:
            for name, content in files.items():
                with open(temp / name, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
            os.rename(temp, target)  # atomic on one filesystem; fails if target appeared meanwhile
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return target
