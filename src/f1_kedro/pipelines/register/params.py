"""Schema of `params:register` (conf/*/parameters_register.yml); see f1_kedro.params.

Whether `promotion.metric` is one train produced is checked by the register node before any
write: the metric names come from the trained unit, not from configuration.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool

from f1_kedro.identifiers import identifier
from f1_kedro.params import Schema as _Schema  # extra="forbid": a typo'd key is an error


class Promotion(_Schema):
    mode: Literal["always", "never", "if_better"] = "if_better"
    metric: Annotated[str, Field(min_length=1)] = "backtest_macro_f1"
    higher_is_better: StrictBool = True


class Params(_Schema):
    # becomes an MLflow model name and a stage folder: a plain identifier, no `/` or `..`
    model_name: Annotated[str, AfterValidator(lambda v: identifier(v, "register.model_name"))]
    promotion: Promotion = Promotion()
