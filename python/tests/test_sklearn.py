"""keel.sklearn's estimators in scikit-learn's machinery: Pipeline, cross_val_score, clone, params."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from keel import KeelInputError, Model
from keel.sklearn import KeelClassifier, KeelRegressor


def test_cross_val_score_runs_a_pipeline(glass):
    train, _ = glass
    X, y = train.drop(columns="Type").to_numpy(), train["Type"].to_numpy()
    pipeline = make_pipeline(StandardScaler(), KeelClassifier(trials=2, learners=["gbdt"]))
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.5


def test_a_dataframe_keeps_its_columns_and_labels(mixed):
    X, y = mixed.drop(columns="churned"), mixed["churned"]
    classifier = KeelClassifier(trials=2, learners=["gbdt", "linear"]).fit(X.iloc[:300], y.iloc[:300])
    assert list(classifier.classes_) == ["no", "yes"]
    assert list(classifier.feature_names_in_) == list(X.columns) and classifier.n_features_in_ == 7
    assert isinstance(classifier.model_, Model) and classifier.model_.features == list(X.columns)
    probabilities = classifier.predict_proba(X.iloc[300:])
    assert probabilities.shape == (100, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert classifier.score(X.iloc[300:], y.iloc[300:]) > 0.75
    assert classifier.feature_importances_.shape == (7,)


def test_arrays_are_named_x0_x1_and_labels_keep_their_spelling():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=150) > 0, "01", "02")  # keel would read these as numbers
    classifier = KeelClassifier(trials=2, learners=["linear"]).fit(X, y)
    assert classifier.model_.features == ["x0", "x1", "x2"] and not hasattr(classifier, "feature_names_in_")
    assert set(classifier.predict(X)) == {"01", "02"}
    assert classifier.score(X, y) > 0.8
    with pytest.raises(ValueError, match="features"):
        classifier.predict(X[:, :2])


def test_integer_float_and_boolean_labels_come_back_as_they_went_in():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    side = X[:, 0] > 0
    for y in (side.astype(int) * 5, side.astype(float) * 2, side):
        predicted = KeelClassifier(trials=1, learners=["linear"]).fit(X, y).predict(X)
        assert predicted.dtype == y.dtype and set(predicted) <= set(y)


def test_clone_and_params():
    regressor = KeelRegressor(trials=3, metric="mae", learners=["gbdt"], options={"stack": True})
    assert regressor.get_params() == {"time": "60s", "trials": 3, "metric": "mae", "seed": 1,
                                      "learners": ["gbdt"], "options": {"stack": True}}
    copy = clone(regressor).set_params(trials=5, seed=7)
    assert copy.trials == 5 and copy.seed == 7 and regressor.trials == 3
    assert not hasattr(copy, "model_")


def test_a_regressor_takes_sample_weights_and_dataframes(mpg):
    train, test = mpg
    X, y = train.drop(columns=["mpg", "name"]), train["mpg"]
    weights = np.where(train["origin"] == "usa", 2.0, 1.0)
    regressor = KeelRegressor(trials=2, learners=["linear"]).fit(X, y, sample_weight=weights)
    predicted = regressor.predict(test.drop(columns=["mpg", "name"]))
    assert predicted.shape == (len(test),) and regressor.score(test.drop(columns=["mpg", "name"]), test["mpg"]) > 0.6


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown label type"):
        KeelClassifier(trials=1).fit(np.zeros((20, 2)), np.linspace(0, 1, 20))
    with pytest.raises(KeelInputError, match="complex"):
        KeelRegressor(trials=1).fit(pd.DataFrame({"z": [1j] * 20}), np.arange(20.0))
