"""The backtest's fast path is the served model one level down; the decision rule and its tuning."""

from __future__ import annotations

import numpy as np
import pytest

from f1_kedro.pipelines.train import backtest, decision, modeling, nodes


@pytest.fixture
def rows(features, params):
    return nodes.select_rows(features, params)[0]


def test_the_fast_path_predicts_what_the_served_snowflake_ml_pipeline_predicts(rows, params):
    """scikit-learn + xgboost on pandas == snowflake-ml's Pipeline and XGBClassifier (the same
    estimators wrapped): same fit rows, same hyperparameters, same probabilities."""
    fit, scored = rows[rows.SEASON <= 2019], rows[rows.SEASON == 2020]
    hyper = {"max_depth": 3, "n_estimators": 20}
    preprocessing, classifier = modeling.fit_pipeline(fit, hyper, params)
    served = modeling.probabilities(
        modeling.predict_probabilities(preprocessing, classifier, scored, params["label"])
    )
    fast = dict(
        (h["max_depth"], p)
        for h, p in backtest.window_predictions(fit, scored, {**params, "search": {"grid": {
            "max_depth": [3], "n_estimators": [20]}}})
    )  # fmt: skip
    np.testing.assert_allclose(fast[3], served, atol=1e-6)


def test_the_first_n_trees_of_a_longer_fit_are_the_n_tree_model(rows, params):
    """Why one fit per grid point serves every n_estimators."""
    fit, scored = rows[rows.SEASON <= 2019], rows[rows.SEASON == 2020]
    grid = {"max_depth": [2], "n_estimators": [5, 12]}
    read = backtest.window_predictions(fit, scored, {**params, "search": {"grid": grid}})
    alone = backtest.window_predictions(
        fit, scored, {**params, "search": {"grid": {"max_depth": [2], "n_estimators": [5]}}}
    )
    assert [h["n_estimators"] for h, _ in read] == [5, 12]
    np.testing.assert_allclose(read[0][1], alone[0][1], atol=1e-7)
    assert not np.allclose(read[0][1], read[1][1])


def test_the_windows_give_the_same_results_on_any_number_of_threads(rows, params):
    """backtest_workers only changes how many windows are fitted at once (issue 13)."""
    first, last = 2015, int(rows["SEASON"].max())
    alone = backtest.rolling(rows, first, last, {**params, "backtest_workers": 1})
    for workers in (2, 3):
        threaded = backtest.rolling(rows, first, last, {**params, "backtest_workers": workers})
        assert threaded["searches"] == alone["searches"]
        assert threaded["proba"].keys() == alone["proba"].keys()
        for season, proba in alone["proba"].items():
            np.testing.assert_array_equal(threaded["proba"][season], proba)


def test_a_season_without_labelled_rows_stops_the_backtest_before_any_fit(rows, params):
    gap = rows[rows["SEASON"] != 2018]
    with pytest.raises(ValueError, match="model_input_table: season 2018 has no labelled rows"):
        backtest.rolling(gap, 2015, int(rows["SEASON"].max()), {**params, "backtest_workers": 2})


def test_weighted_argmax_applies_the_class_weights():
    proba = np.array([[0.30, 0.30, 0.40], [0.5, 0.2, 0.3]])
    assert decision.apply(proba, {"rule": "argmax"}).tolist() == [2, 0]
    rule = {"rule": "weighted_argmax", "class_weights": [1.5, 1.0, 1.0]}
    assert decision.apply(proba, rule).tolist() == [0, 0]
    with pytest.raises(ValueError, match="unknown decision rule 'vote'"):
        decision.apply(proba, {"rule": "vote"})


def test_tuning_finds_the_weights_that_recover_a_rare_class():
    """Class 0 is never the argmax, though it happens whenever its probability tops 0.3."""
    rng = np.random.default_rng(0)
    p0 = rng.uniform(0.0, 0.45, 600)
    proba = np.column_stack([p0, (1 - p0) / 2, (1 - p0) / 2])
    y = np.where(p0 > 0.3, 0, rng.integers(1, 3, 600))
    params = {"rule": "weighted_argmax", "objective": "macro_f1",
              "weight_candidates": [1.0, 1.5, 2.0, 3.0]}  # fmt: skip
    tuned = decision.tune(y, proba, params)
    assert tuned["rule"] == "weighted_argmax" and tuned["class_weights"][0] > 1
    before = decision.objective(y, proba.argmax(axis=1), "macro_f1", 3)
    after = decision.objective(y, decision.apply(proba, tuned), "macro_f1", 3)
    assert after > before
    assert decision.tune(y, proba, {**params, "rule": "argmax"}) == {"rule": "argmax"}


def test_the_objective_matches_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(1)
    y, predicted = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    assert decision.objective(y, predicted, "macro_f1", 3) == pytest.approx(
        f1_score(y, predicted, average="macro")
    )
    assert decision.objective(y, predicted, "accuracy", 3) == pytest.approx(
        accuracy_score(y, predicted)
    )


def test_a_column_without_values_in_a_window_fits_quietly(rows, params):
    """The data's first season has no circuit history yet: no warning, the same row count."""
    import warnings

    rows = rows.assign(SPRINT_POSITION=np.nan)
    params = {**params, "numeric_features": [*params["numeric_features"], "SPRINT_POSITION"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (_, proba), *_ = backtest.window_predictions(
            rows[rows.SEASON <= 2019], rows[rows.SEASON == 2020], params
        )
    assert proba.shape == (int((rows.SEASON == 2020).sum()), 3)
