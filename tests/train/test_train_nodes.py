"""Train nodes on small synthetic frames: parameter checks, rows, backtest, served fit, metrics."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from f1_kedro.pipelines.train import decision, modeling, nodes
from tests.train.conftest import train_synthetic


def _train(features: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    return train_synthetic(params, features)


@pytest.mark.parametrize(
    ("seasons", "message"),
    [
        ({"train": [2015, 2019], "validation": [2019, 2019], "test": [2020, 2020]}, "time order"),
        ({"train": [2015, 2018], "validation": [2019, 2019], "test": [2018, 2020]}, "time order"),
        ({"train": [2018, 2015], "validation": [2019, 2019], "test": [2020, 2020]}, "empty"),
        (
            {"train": [2015, 2018], "validation": [2019, 2021, 2022], "test": [2020, 2020]},
            r"train.seasons.validation: .* is not \[first, last\]",
        ),
    ],
)
def test_bad_seasons_fail_before_any_work(features, params, seasons, message):
    params["seasons"] = seasons
    with pytest.raises(ValueError, match=message):
        nodes.select_rows(features, params)


@pytest.mark.parametrize("feature", ["FINISH_POSITION", "LABEL", "NOT_A_COLUMN"])
def test_outcomes_and_unknown_names_are_not_features(features, params, feature):
    params["numeric_features"] = [*params["numeric_features"], feature]
    with pytest.raises(ValueError, match="unknown feature"):
        nodes.select_rows(features, params)


def test_a_missing_column_is_named(features, params):
    with pytest.raises(ValueError, match="GRID"):
        nodes.select_rows(features.drop(columns=["GRID"]), params)


def test_rows_are_the_labelled_ones_from_the_first_season(features, params):
    upcoming = features[features.SEASON == 2020].head(12).assign(LABEL=np.nan, SEASON=2021)
    rows, fit = nodes.select_rows(pd.concat([features, upcoming]), {**params, "seasons": {
        **params["seasons"], "train": [2016, 2018]}})  # fmt: skip
    assert set(rows.SEASON) == set(fit.SEASON) == set(range(2016, 2021))
    assert rows[params["label"]].notna().all() and len(rows) == len(fit)


@pytest.mark.parametrize("window", ["backtest", "test"])
def test_a_window_past_the_latest_labelled_season_is_refused(features, params, window):
    # refused by the first node, before the backtest: test seasons without rows used to fail at
    # evaluate, after hyperparameter_search.json had been rewritten (issue 15)
    params["seasons"][window] = [2017 if window == "backtest" else 2020, 2021]
    with pytest.raises(ValueError, match=f"{window} ends at 2021, after the latest labelled"):
        nodes.select_rows(features, params)


def test_rows_work_on_a_snowpark_dataframe(features, params):
    """The same node filters a Snowpark DataFrame (Snowpark local testing).

    Only the selection is covered: snowflake-ml modeling needs real SQL, which local testing does
    not run, so fitting on Snowpark (pushed down to Snowflake) is not tested here.
    """
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    try:
        frame = session.create_dataframe(features.drop(columns=["RACE_DATE"]))
        rows, fit = nodes.select_rows(frame, params)
        assert {r["SEASON"] for r in fit.select("SEASON").distinct().collect()} == set(
            range(2015, 2021)
        )
        assert isinstance(rows, pd.DataFrame) and len(rows) == fit.count() == len(features)
    finally:
        session.close()


def test_same_data_and_params_give_the_same_metrics(features, params):
    first = _train(features, params)
    second = _train(features, copy.deepcopy(params))
    assert first["metrics"] == second["metrics"]
    assert first["train_summary"] == second["train_summary"]


def test_the_served_model_learns_from_every_labelled_season(trained_synthetic):
    summary, search = trained_synthetic["train_summary"], trained_synthetic["search"]
    assert summary["fit_seasons"] == [2015, 2020]
    assert search["chosen_on_season"] == 2020 and search["candidates_fit_seasons"] == [2015, 2019]
    assert summary["hyperparameters"]["max_depth"] == search["best"]["max_depth"]
    assert summary["decision"]["rule"] in {"argmax", "weighted_argmax"}
    assert any(c.startswith('"CONSTRUCTOR_REF_') for c in summary["feature_columns"])
    assert isinstance(nodes.plot_feature_importance(summary), Figure)


def test_evaluation_compares_model_and_baseline_on_the_same_rows(features, trained_synthetic):
    metrics = trained_synthetic["metrics"]
    test_rows = int((features.SEASON == 2020).sum())
    for name in ("model", "baseline"):
        block = metrics[name]
        assert block["rows"] == test_rows
        assert set(block["per_class"]) == {"podium", "points", "no_points"}
        assert np.array(block["confusion_matrix"]["matrix"]).sum() == test_rows
        assert 0 <= block["accuracy"] <= 1 and block["log_loss"] > 0
    assert metrics["test_seasons"] == [2020, 2020]
    # the test block is the backtest's season 2020: a model that never saw 2020
    season = next(s for s in metrics["by_season"] if s["season"] == 2020)
    for key in ("accuracy", "macro_f1", "log_loss"):
        assert metrics["model"][key] == pytest.approx(season["model"][key])
    assert isinstance(nodes.plot_confusion_matrices(metrics), Figure)


def test_test_seasons_outside_the_out_of_fold_ones_are_refused(trained_synthetic, params):
    params["seasons"]["test"] = [2016, 2016]
    with pytest.raises(ValueError, match=r"train.seasons.test \[2016, 2016\] must lie within"):
        nodes.evaluate(trained_synthetic["backtest_predictions"], params)


def test_the_search_picks_the_lowest_log_loss_on_the_latest_season(trained_synthetic):
    search = trained_synthetic["search"]
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


def _backtest(features: pd.DataFrame, params: dict[str, Any]) -> tuple[dict, pd.DataFrame]:
    rows, _ = nodes.select_rows(features, params)
    result, predictions, _, _ = nodes.backtest(rows, params)
    return result, predictions


def test_backtest_scores_each_season_on_a_model_that_never_saw_it(features, params):
    result, predictions = _backtest(features, params)
    assert [s["season"] for s in result["by_season"]] == [2017, 2018, 2019, 2020]
    for season in result["by_season"]:
        assert season["fit_seasons"] == [2015, season["season"] - 1]
        rows = int((features["SEASON"] == season["season"]).sum())
        assert season["model"]["rows"] == season["baseline"]["rows"] == rows
        for who in ("model", "baseline"):
            assert set(season[who]) == {"rows", "accuracy", "macro_f1", "log_loss", "brier", "rps"}
    assert result["model"]["rows"] == int(features["SEASON"].between(2017, 2020).sum())
    assert set(result["model_wins_seasons"]) == {"accuracy", "macro_f1", "log_loss", "brier", "rps"}
    assert result["calibration"]["applied"] is False
    mean = np.mean([s["model"]["macro_f1"] for s in result["by_season"]])
    assert result["mean_over_seasons"]["model"]["macro_f1"] == pytest.approx(mean)
    assert isinstance(nodes.plot_reliability(predictions, params), Figure)
    assert isinstance(nodes.plot_backtest(result), Figure)
    # a season the fit could not have seen: changing its outcomes changes only its own scores
    flipped = features.copy()
    flipped.loc[flipped["SEASON"] == 2020, "LABEL"] = 2
    again, _ = _backtest(flipped, params)
    assert again["by_season"][:3] == result["by_season"][:3]
    assert again["by_season"][3] != result["by_season"][3]


def test_each_seasons_decision_rule_is_tuned_on_earlier_seasons_only(features, params):
    params["decision"] = {**params["decision"], "min_seasons": 2}
    result, predictions = _backtest(features, params)
    decisions = {s["season"]: s["decision"] for s in result["by_season"]}
    assert decisions[2017] == decisions[2018] == {"rule": "argmax"}  # < 2 earlier seasons
    for season in (2019, 2020):
        earlier = predictions[predictions.SEASON < season]
        tuned = decision.tune(
            earlier.LABEL.to_numpy(dtype=int), modeling.probabilities(earlier), params["decision"]
        )
        assert decisions[season] == tuned
        this = predictions[predictions.SEASON == season]
        assert (this.PREDICTED_LABEL == decision.apply(modeling.probabilities(this), tuned)).all()


def test_backtest_needs_two_seasons_before_it(features, params):
    params = {**params, "seasons": {**params["seasons"], "backtest": [2016, 2020]}}
    rows, _ = nodes.select_rows(features, params)
    with pytest.raises(ValueError, match="train.seasons.backtest starts at 2016"):
        nodes.backtest(rows, params)


@pytest.mark.parametrize(("more", "threads"), [(0, -1), (1, 1)], ids=["at-the-limit", "below"])
def test_the_served_fit_uses_every_core_from_parallel_fit_rows_on(
    trained_synthetic, features, params, more, threads
):
    search = trained_synthetic["search"]
    rows, fit = nodes.select_rows(features, params)
    assert search["served_fit_rows"] == len(rows)
    params.update(n_jobs=1, parallel_fit_rows=len(rows) + more)
    _, classifier, _ = nodes.fit_final_model(fit, search, {"rule": "argmax"}, params)
    assert classifier.to_xgboost().n_jobs == threads
