"""Train nodes on small synthetic frames: parameter checks, the split, search, fit, evaluation."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from f1_kedro.pipelines.train import modeling, nodes


def _train(features: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, Any, dict, dict]:
    train, validation, fit, test = nodes.split_by_season(features, params)
    search = nodes.search_hyperparameters(train, validation, params)
    preprocessing, classifier, summary = nodes.fit_final_model(fit, search, params)
    return (
        preprocessing,
        classifier,
        summary,
        nodes.evaluate(preprocessing, classifier, fit, test, params),
    )


@pytest.mark.parametrize(
    ("seasons", "message"),
    [
        ({"train": [2015, 2019], "validation": [2019, 2019], "test": [2020, 2020]}, "time order"),
        ({"train": [2015, 2018], "validation": [2019, 2019], "test": [2018, 2020]}, "time order"),
        ({"train": [2018, 2015], "validation": [2019, 2019], "test": [2020, 2020]}, "empty"),
        ({"train": [2015, 2018], "validation": [2019], "test": [2020, 2020]}, r"\[first, last\]"),
    ],
)
def test_bad_seasons_fail_before_any_work(features, params, seasons, message):
    params["seasons"] = seasons
    with pytest.raises(ValueError, match=message):
        nodes.split_by_season(features, params)


@pytest.mark.parametrize("feature", ["FINISH_POSITION", "LABEL", "NOT_A_COLUMN"])
def test_outcomes_and_unknown_names_are_not_features(features, params, feature):
    params["numeric_features"] = [*params["numeric_features"], feature]
    with pytest.raises(ValueError, match="unknown feature"):
        nodes.split_by_season(features, params)


def test_a_missing_column_is_named(features, params):
    with pytest.raises(ValueError, match="GRID"):
        nodes.split_by_season(features.drop(columns=["GRID"]), params)


def test_split_keeps_later_seasons_out_of_fitting(features, params):
    train, validation, fit, test = nodes.split_by_season(features, params)
    assert set(train.SEASON) == {2015, 2016, 2017, 2018}
    assert set(validation.SEASON) == {2019}
    assert set(fit.SEASON) == set(train.SEASON) | set(validation.SEASON)
    assert set(test.SEASON) == {2020}


def test_split_works_on_a_snowpark_dataframe(features, params):
    """The same node filters a Snowpark DataFrame (Snowpark local testing).

    Only the split is covered: snowflake-ml modeling needs real SQL, which local testing does
    not run, so fitting on Snowpark (pushed down to Snowflake) is not tested here.
    """
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    try:
        frame = session.create_dataframe(features.drop(columns=["RACE_DATE"]))
        train, validation, fit, test = nodes.split_by_season(frame, params)
        assert {r["SEASON"] for r in fit.select("SEASON").distinct().collect()} == set(
            range(2015, 2020)
        )
        assert test.count() == int((features.SEASON == 2020).sum())
    finally:
        session.close()


def test_same_data_and_params_give_the_same_metrics(features, params):
    first = _train(features, params)
    second = _train(features, copy.deepcopy(params))
    assert first[3] == second[3]
    assert first[2] == second[2]


def test_evaluation_compares_model_and_baseline_on_the_same_rows(features, params):
    _, _, summary, metrics = _train(features, params)
    test_rows = int((features.SEASON == 2020).sum())
    for name in ("model", "baseline"):
        block = metrics[name]
        assert block["rows"] == test_rows
        assert set(block["per_class"]) == {"podium", "points", "no_points"}
        assert np.array(block["confusion_matrix"]["matrix"]).sum() == test_rows
        assert 0 <= block["accuracy"] <= 1 and block["log_loss"] > 0
    assert metrics["test_seasons"] == [2020, 2020]
    assert summary["fit_seasons"] == [2015, 2019]
    assert any(c.startswith('"CONSTRUCTOR_REF_') for c in summary["feature_columns"])
    assert isinstance(nodes.plot_confusion_matrices(metrics), Figure)
    assert isinstance(nodes.plot_feature_importance(summary), Figure)


def test_search_picks_the_lowest_validation_log_loss(features, params):
    train, validation, _, _ = nodes.split_by_season(features, params)
    search = nodes.search_hyperparameters(train, validation, params)
    assert len(search["candidates"]) == 2
    best = min(search["candidates"], key=lambda c: c["log_loss"])
    assert search["best"] == best["hyperparameters"]


def test_grid_rule_and_smoothed_grid_frequencies():
    grid = pd.Series([1, 3, 4, 10, 11, 0, None])
    assert modeling.grid_rule(grid).tolist() == [0, 0, 1, 1, 2, 2, 2]
    fit = pd.DataFrame({"GRID": [1, 1, 1, 5], "LABEL": [0, 0, 1, 1]})
    freq = modeling.grid_class_frequencies(fit, "LABEL", smoothing=1.0, max_grid=20)
    assert freq[1].tolist() == pytest.approx([3 / 6, 2 / 6, 1 / 6])
    assert freq[7].tolist() == pytest.approx([1 / 3] * 3)  # unseen slot: uniform
    probs = modeling.baseline_probabilities(freq, pd.Series([1, 25, None]))
    assert probs.sum(axis=1) == pytest.approx([1, 1, 1])


def test_brier_and_ranked_probability_scores():
    y = np.array([0, 2])
    sure = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert modeling.brier_score(y, sure) == 0 and modeling.ranked_probability_score(y, sure) == 0
    wrong = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    far = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    # ordered classes: "points" for a podium is less wrong than "no points"
    assert modeling.ranked_probability_score(y, wrong) < modeling.ranked_probability_score(y, far)
    assert modeling.brier_score(y, wrong) == modeling.brier_score(y, far) == 2.0


def test_backtest_scores_each_season_on_a_model_that_never_saw_it(features, params):
    params = {**params, "seasons": {**params["seasons"], "backtest": [2017, 2020]}}
    result = nodes.backtest(features, params)
    assert [s["season"] for s in result["by_season"]] == [2017, 2018, 2019, 2020]
    for season in result["by_season"]:
        assert season["fit_seasons"] == [2015, season["season"] - 1]
        rows = int((features["SEASON"] == season["season"]).sum())
        assert season["model"]["rows"] == season["baseline"]["rows"] == rows
        for who in ("model", "baseline"):
            assert set(season[who]) == {"rows", "accuracy", "macro_f1", "log_loss", "brier", "rps"}
    assert result["model"]["rows"] == int(features["SEASON"].between(2017, 2020).sum())
    assert set(result["model_wins_seasons"]) == {"accuracy", "macro_f1", "log_loss", "brier", "rps"}
    # a season the fit could not have seen: changing its outcomes changes only its own scores
    flipped = features.copy()
    flipped.loc[flipped["SEASON"] == 2020, "LABEL"] = 2
    again = nodes.backtest(flipped, params)
    assert again["by_season"][:3] == result["by_season"][:3]
    assert again["by_season"][3] != result["by_season"][3]


def test_backtest_needs_two_seasons_before_it(features, params):
    params = {**params, "seasons": {**params["seasons"], "backtest": [2016, 2020]}}
    with pytest.raises(ValueError, match="train.seasons.backtest starts at 2016"):
        nodes.backtest(features, params)
