"""Project pipelines."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The order in which `kedro run` (the __default__ pipeline) runs the stages.
RUN_ORDER = ("bootstrap", "ingest", "features", "train", "register", "score")


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under `pipelines/`; `__default__` runs them all, in run order."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipelines[name] for name in RUN_ORDER if name in pipelines), Pipeline([])
    )
    return pipelines
