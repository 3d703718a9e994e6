"""scikit-learn estimators that train with keel: ``KeelClassifier`` and ``KeelRegressor``.

Each ``fit`` is one ``keel train`` search (``trials=N`` for a fast, reproducible one; otherwise the
``time`` budget); ``predict`` and ``predict_proba`` run ``keel predict``. DataFrames keep their
columns and dtypes (categoricals, strings, datetimes, missing values); numpy arrays become columns
``x0``, ``x1``, …. They work in ``Pipeline``, ``cross_val_score``, ``GridSearchCV`` and ``clone``.

They pass scikit-learn's estimator checks (``tests/test_estimator_checks.py``) but for the two in
``EXPECTED_FAILED_CHECKS`` below, which say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .errors import KeelError, KeelInputError
from .model import Model, train

#: The estimator checks keel's estimators fail, and why (``parametrize_with_checks(expected_failed_checks=…)``).
#: Sparse-data checks do not run: the estimators declare no sparse support and refuse sparse input.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data":
        "keel cuts its holdout and cross-validation folds by rows, so a row repeated twice and a row of "
        "weight 2 lead to different searches and models",
    "check_fit2d_1sample":
        "keel refuses a one-row fit, but with its own message ('target column … has a single class …; "
        "a classifier needs at least two'), none of the phrases the check looks for ('1 sample', 'one class', …)",
}


class _KeelEstimator(BaseEstimator):
    """What the two estimators share: parameters, data conversion and the fitted ``model_``."""

    def __init__(self, time="60s", trials=None, metric=None, seed=1, learners=None, options=None):
        self.time = time
        self.trials = trials
        self.metric = metric
        self.seed = seed
        self.learners = learners
        self.options = options

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.trials is None  # a time budget's search depends on the machine's speed
        return tags

    def _fit_model(self, X, y, task: str, sample_weight=None) -> Model:
        frame = self._frame(X, reset=True)
        target = _free_name("target", frame.columns)
        frame = frame.assign(**{target: y})
        options = {"task": task, "seed": self.seed, "metric": self.metric, "learners": self.learners,
                   "trials": self.trials, **(self.options or {})}
        if task != "regression":
            options["categorical"] = [target, *_listed(options.get("categorical"))]
        if sample_weight is not None:
            weight = _free_name("sample_weight", frame.columns)
            frame = frame.assign(**{weight: np.asarray(sample_weight, dtype=float)})
            options["weight"] = weight
            # keel reads a column of few distinct whole numbers as categorical, and --weight needs a numeric one.
            options["numeric"] = [weight, *_listed(options.get("numeric"))]
        return train(frame, target, time=self.time, progress=False, **options)

    def _frame(self, X, reset: bool) -> pd.DataFrame:
        """X as a DataFrame keel can read: DataFrames as they are, arrays checked and named x0, x1, …."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0:
                raise KeelInputError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
            frame = X
        else:
            array = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan", accept_sparse=False)
            if array.dtype.kind in "fc" and np.isinf(array).any():
                raise KeelInputError("Input contains infinity; keel reads finite numbers (missing values may be NaN).")
            frame = pd.DataFrame(array, columns=[f"x{k}" for k in range(array.shape[1])])
        return frame

    def _model(self) -> Model:
        check_is_fitted(self, "model_")
        return self.model_

    @property
    def feature_importances_(self) -> np.ndarray:
        """Holdout permutation importance per input column (keel's report), in the order of the columns."""
        model = self._model()
        found = {row["column"]: row["importance"] for row in model.report["search"].get("importance", [])}
        names = self.feature_names_in_ if hasattr(self, "feature_names_in_") else [f"x{k}" for k in range(self.n_features_in_)]
        return np.array([found.get(str(name), 0.0) for name in names])


class KeelClassifier(ClassifierMixin, _KeelEstimator):
    """A keel classifier: ``KeelClassifier(trials=20).fit(X, y).predict_proba(X_new)``.

    Parameters: ``time`` (the search budget, ``"60s"``), ``trials`` (exactly this many trials instead of
    the budget; reproducible), ``metric`` (``roc_auc``, ``log_loss``, …; default by task), ``seed``,
    ``learners`` (families: ``linear``, ``gbdt``, ``random_forest``, ``extra_trees``, ``ebm``) and
    ``options`` (further ``keel train`` flags as a dict, e.g. ``{"stack": True}``).
    Fitted: ``model_`` (a keel.Model), ``classes_``, ``n_features_in_``, ``feature_names_in_``.
    """

    def fit(self, X, y, sample_weight=None):
        y = _labels(y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        spellings = [_spell(label) for label in self.classes_]
        if len(set(spellings)) != len(spellings):
            raise KeelInputError(f"the class labels {list(self.classes_)!r} are not distinct as text, as keel needs")
        written = pd.Series([_spell(label) for label in y], dtype=object)
        task = "binary" if len(self.classes_) == 2 else "multiclass"
        self.model_ = self._fit_model(X, written.to_numpy(), task, sample_weight)
        self._names = _match(self.model_.info()["manifest"]["schema"]["task"]["classes"], spellings)
        return self

    def predict(self, X) -> np.ndarray:
        model = self._model()
        predicted = model.predictions(self._frame(X, reset=False))["prediction"]
        position = {name: k for k, name in enumerate(self._names)}
        return self.classes_[[position[str(label)] for label in predicted]]

    def predict_proba(self, X) -> np.ndarray:
        model = self._model()
        result = model.predictions(self._frame(X, reset=False))
        return result[["proba_" + name for name in self._names]].to_numpy(dtype=float)

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class KeelRegressor(RegressorMixin, _KeelEstimator):
    """A keel regressor: ``KeelRegressor(trials=20).fit(X, y).predict(X_new)``; parameters as KeelClassifier."""

    def fit(self, X, y, sample_weight=None):
        y = _labels(y)
        try:
            values = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            raise KeelInputError("a regression target must be numeric") from None
        if not np.isfinite(values).all():
            raise KeelInputError("Input y contains NaN or infinity; a regression target needs a finite value per row.")
        self.model_ = self._fit_model(X, values, "regression", sample_weight)
        return self

    def predict(self, X) -> np.ndarray:
        model = self._model()
        return model.predictions(self._frame(X, reset=False))["prediction"].to_numpy(dtype=float)


def _labels(y) -> np.ndarray:
    if y is None:
        raise KeelInputError("requires y to be passed, but the target y is None")
    return column_or_1d(y, warn=True)


def _spell(label) -> str:
    """A class label as text for keel (labels come back by this spelling)."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


def _match(names: list[str], spellings: list[str]) -> list[str]:
    """keel's class names in the order of ``spellings`` (keel writes booleans as true/false whatever their case)."""
    exact = {name: name for name in names}
    folded = {name.lower(): name for name in names}
    matched = [exact.get(spelling) or folded.get(spelling.lower()) for spelling in spellings]
    if None in matched or len(set(matched)) != len(names):
        raise KeelError(f"keel's classes {names} do not match the labels {spellings}")
    return matched


def _listed(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _free_name(name: str, taken) -> str:
    taken = {str(column) for column in taken}
    candidate, k = name, 1
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    return candidate
