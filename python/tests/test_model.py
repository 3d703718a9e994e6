"""keel.train and keel.Model on two datasets of the suite: glass (multiclass) and auto_mpg (regression)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import keel
from keel._options import train_flags


def test_multiclass_predictions_come_back_typed_on_the_callers_index(glass, glass_model):
    _, test = glass
    assert glass_model.task == "multiclass"
    assert glass_model.classes == [1, 2, 3, 5, 6, 7]  # integer labels, typed like the target column
    predicted = glass_model.predict(test)
    assert predicted.index.equals(test.index) and predicted.name == "Type"
    assert set(predicted) <= set(glass_model.classes)
    assert (predicted == test["Type"]).mean() > 0.5  # the baseline (the largest class) is about 0.35
    probabilities = glass_model.predict_proba(test)
    assert list(probabilities.columns) == glass_model.classes
    assert probabilities.index.equals(test.index)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities.idxmax(axis=1) == predicted).all()


def test_regression_beats_the_mean_and_keeps_the_index(mpg, mpg_model):
    _, test = mpg
    assert mpg_model.task == "regression" and mpg_model.classes == []
    predicted = mpg_model.predict(test.drop(columns="mpg"))
    assert predicted.index.equals(test.index) and predicted.dtype == float
    rmse = float(np.sqrt(((predicted - test["mpg"]) ** 2).mean()))
    assert rmse < 0.6 * test["mpg"].std()
    with pytest.raises(keel.KeelError, match="needs a classifier"):
        mpg_model.predict_proba(test)


def test_the_report_and_leaderboard_come_from_keel(glass_model):
    report = glass_model.report
    assert report["data"]["target"] == "Type" and report["search"]["metric"] == "log_loss"
    board = glass_model.leaderboard()
    assert list(board.columns[:5]) == ["rank", "trial", "learner", "settings", "status"]
    assert len(board) == 4 and "cv_log_loss" in board
    ranked = board[board["rank"].notna()]
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["cv_log_loss"].is_monotonic_increasing  # lower is better for log loss
    assert "Leaderboard" in glass_model.report_markdown


def test_same_seed_and_trials_give_the_same_model(glass, glass_model):
    train, test = glass
    again = keel.train(train, "Type", trials=4, seed=1, progress=False)
    pd.testing.assert_frame_equal(again.predict_proba(test), glass_model.predict_proba(test))
    columns = ["rank", "trial", "learner", "settings", "status", "cv_log_loss", "std"]
    pd.testing.assert_frame_equal(again.leaderboard()[columns], glass_model.leaderboard()[columns])


def test_explain_gives_attributions_that_add_up_and_reason_codes(glass, glass_model):
    _, test = glass
    rows = test.head(4)
    explanation = glass_model.explain(rows, top_k=2)
    assert explanation.attributions.index.equals(rows.index)
    assert set(explanation.attributions.columns) <= set(rows.columns) - {"Type"}
    total = explanation.rows["base"] + explanation.attributions.sum(axis=1)
    np.testing.assert_allclose(total, explanation.rows["margin"], rtol=1e-6, atol=1e-6)
    assert set(explanation.reasons["row"]) <= set(rows.index)
    assert explanation.reasons.groupby(["row", "direction"]).size().max() <= 2
    assert explanation.reasons["text"].str.contains("probability").all()


def test_a_saved_file_loads_and_predicts_the_same(tmp_path, glass, glass_model):
    _, test = glass
    path = glass_model.save(tmp_path / "glass.keel")
    loaded = keel.Model.load(path)
    pd.testing.assert_series_equal(loaded.predict(test), glass_model.predict(test))
    assert loaded.info()["manifest"]["metric"] == "log_loss"
    with pytest.raises(keel.KeelError, match="no training report"):
        loaded.leaderboard()


def test_a_registered_version_loads_by_name_with_its_report(tmp_path, mpg):
    train, test = mpg
    registry = tmp_path / "registry"
    trained = keel.train(train, "mpg", trials=2, learners=["linear"], name="mpg", registry=registry, progress=False)
    assert trained.reference == "mpg@1"
    loaded = keel.Model.load("mpg@1", registry=registry)
    assert loaded.reference == "mpg@1" and loaded.leaderboard()["trial"].notna().all()
    pd.testing.assert_series_equal(loaded.predict(test), trained.predict(test))
    with pytest.raises(keel.KeelDataError, match="keel models show failed"):
        keel.Model.load("mpg@7", registry=registry)


def test_progress_is_shown_as_keel_writes_it(capfd, glass):
    train, _ = glass
    keel.train(train.head(120), "Type", trials=1, learners=["linear"])
    assert "trial 1 linear" in capfd.readouterr().err


def test_pickled_models_carry_their_file(glass, glass_model):
    import pickle
    _, test = glass
    copy = pickle.loads(pickle.dumps(glass_model))
    assert copy.reference != glass_model.reference
    pd.testing.assert_series_equal(copy.predict(test), glass_model.predict(test))


def test_options_become_flags():
    assert train_flags({"trials": 20, "learners": ["gbdt", "ebm"], "stack": True, "refit_full": False,
                        "costs": (1, 5), "monotone": {"age": 1, "debt": -1}, "positive_class": "yes", "metric": None}) == [
        "--trials", "20", "--learner", "gbdt", "--learner", "ebm", "--stack", "--costs", "1,5",
        "--monotone", "age=+1", "--monotone", "debt=-1", "--positive-class", "yes"]
    with pytest.raises(keel.KeelInputError, match="set by the keel package"):
        train_flags({"json": True})
