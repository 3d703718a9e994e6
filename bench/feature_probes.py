"""LightGBM probes behind the search's feature and portfolio rules, decided on training rows only.

  .venv-bench/bin/python bench/feature_probes.py      (after bench/automl.sh or automl_peers.py split has written
                                                       bench/out/automl/NAME/train.csv)

Every probe is 5-fold cross-validation (shuffled, random_state 0) on the dataset's training part; the test part is
never read, so the benchmark's test scores stay a measurement of data the rules were not chosen on. One line per
variant: the mean cross-validated score and its standard error over the folds, and its paired difference from the
dataset's first variant on the same folds (the number a rule is decided by).
- taxi fares: trees alone vs trees from a ridge model's margins (init_score): the portfolio's linear base;
- taxi fares: the trip's duration (difference of two timestamps) and elapsed days of pickup and dropoff,
  fractional, whole, or left out (Keel's date parts);
- bike rentals: date parts with and without the day of the month; the calendar day as a categorical;
- glass: LightGBM's defaults, a random forest and extra trees (the portfolio's small-data forests).
"""
import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.metrics import log_loss, root_mean_squared_error as rmse
from sklearn.model_selection import KFold, StratifiedKFold

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "automl")


def load(name, target):
    tr = pd.read_csv(os.path.join(out, name, "train.csv"))
    return tr, tr.pop(target)


scored = {}


def report(dataset, label, scores, metric, against=None):
    """The mean over the folds ± its standard error and, `against` another variant of the dataset, the paired
    difference on the same folds ± its standard error: the number a rule is decided by."""
    scores = np.asarray(scores)
    scored[(dataset, label)] = scores
    line = f"{dataset:<6} {label:<44} {metric} {scores.mean():.4f} ± {scores.std(ddof=1) / np.sqrt(len(scores)):.4f}"
    if against is not None:
        d = scores - scored[(dataset, against)]
        line += f"   vs {against}: {d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(len(d)):.4f}"
    print(line)


def cross_validate(x, y, fit_predict, folds=None):
    """Per fold: fit on the other folds, score the held-out one (RMSE)."""
    folds = folds or KFold(5, shuffle=True, random_state=0)
    return [rmse(y.iloc[v], fit_predict(x.iloc[t], y.iloc[t], x.iloc[v])) for t, v in folds.split(x)]


def as_categories(x, columns):
    x = x.copy()
    for c in columns:
        x[c] = x[c].astype("category")
    return x


def taxi():
    tr, y = load("nyc_taxi_fare", "fare")
    categorical = ["color", "payment", "pickup_zone", "pickup_borough", "dropoff_borough"]

    def features(df, days, duration=True):
        p, q = pd.to_datetime(df.pickup), pd.to_datetime(df.dropoff)
        x = pd.DataFrame({"distance": df.distance, "passengers": df.passengers, "hour": p.dt.hour, "dow": p.dt.day_of_week})
        if duration:
            x["dur"] = (q - p).dt.total_seconds() / 3600
        if days is not None:
            x["dhour"], x["ddow"] = q.dt.hour, q.dt.day_of_week
            for name, t in (("pday", p), ("dday", q)):
                elapsed = (t - pd.Timestamp("2019-01-01")).dt.total_seconds() / 86400
                x[name] = np.floor(elapsed) if days == "whole" else elapsed
        for c in categorical:
            x[c] = df[c]
        return as_categories(x, categorical)

    params = dict(learning_rate=0.05, n_estimators=400, num_leaves=15, min_child_samples=20, verbose=-1, n_jobs=2)
    numeric = ["dur", "distance", "passengers"]
    x = features(tr, None)

    def trees(a, b, c):
        return lgb.LGBMRegressor(**params).fit(a, b).predict(c)

    def on_ridge(a, b, c):
        ridge = Ridge(1.0).fit(a[numeric].fillna(0), b)
        model = lgb.LGBMRegressor(**params).fit(a, b, init_score=ridge.predict(a[numeric].fillna(0)))
        return ridge.predict(c[numeric].fillna(0)) + model.predict(c)

    def ridge_alone(a, b, c):
        return Ridge(1.0).fit(a[numeric].fillna(0), b).predict(c[numeric].fillna(0))

    report("taxi", "ridge alone", cross_validate(x, y, ridge_alone), "RMSE")
    report("taxi", "trees alone", cross_validate(x, y, trees), "RMSE")
    report("taxi", "trees from ridge margins (linear base)", cross_validate(x, y, on_ridge), "RMSE", against="trees alone")
    params = dict(learning_rate=0.05, n_estimators=300, num_leaves=15, verbose=-1, n_jobs=2)
    report("taxi", "no duration, no elapsed days", cross_validate(features(tr, None, duration=False), y, trees), "RMSE")
    report("taxi", "duration", cross_validate(features(tr, None), y, trees), "RMSE", against="no duration, no elapsed days")
    report("taxi", "duration, fractional elapsed days", cross_validate(features(tr, "fractional"), y, trees), "RMSE", against="duration")
    report("taxi", "duration, whole elapsed days", cross_validate(features(tr, "whole"), y, trees), "RMSE", against="duration, fractional elapsed days")


def bike():
    tr, y = load("bike_sharing_hourly", "cnt")
    params = dict(learning_rate=0.05, n_estimators=1000, num_leaves=63, verbose=-1, n_jobs=2)

    def trees(a, b, c):
        return lgb.LGBMRegressor(**params).fit(a, b).predict(c)

    t = pd.to_datetime(tr.dteday)
    base = tr.drop(columns="dteday")
    base["day"] = (t - pd.Timestamp("2011-01-01")).dt.days
    with_dom = base.copy()
    with_dom["dom"] = t.dt.day
    calendar = with_dom.copy()
    calendar["dteday"] = tr.dteday.astype("category")
    # Keel's categorical bins stop at 255 levels: the most frequent 255 days, the rest missing.
    frequent = set(tr.dteday.value_counts().index[:255])
    capped = with_dom.copy()
    capped["dteday"] = tr.dteday.where(tr.dteday.isin(frequent)).astype("category")
    report("bike", "elapsed days", cross_validate(base, y, trees), "RMSE")
    report("bike", "elapsed days + day of month", cross_validate(with_dom, y, trees), "RMSE", against="elapsed days")
    report("bike", "+ calendar day categorical (all levels)", cross_validate(calendar, y, trees), "RMSE", against="elapsed days + day of month")
    report("bike", "+ calendar day categorical (255 levels)", cross_validate(capped, y, trees), "RMSE", against="elapsed days + day of month")


def glass():
    tr, y = load("glass", "Type")
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for label, make in [("LightGBM defaults", lambda: lgb.LGBMClassifier(verbose=-1, n_jobs=2)),
                        ("random forest, 500 trees", lambda: RandomForestClassifier(500, random_state=0, n_jobs=2)),
                        ("extra trees, 120 trees, leaves of 3", lambda: ExtraTreesClassifier(120, min_samples_leaf=3, random_state=0, n_jobs=2)),
                        ("extra trees, 300 trees, leaves of 1", lambda: ExtraTreesClassifier(300, random_state=0, n_jobs=2))]:
        scores = []
        for t, v in folds.split(tr, y):
            model = make().fit(tr.iloc[t], y.iloc[t])
            scores.append(log_loss(y.iloc[v], model.predict_proba(tr.iloc[v]), labels=model.classes_))
        against = {"LightGBM defaults": None, "extra trees, 300 trees, leaves of 1": "extra trees, 120 trees, leaves of 3"}
        report("glass", label, scores, "log loss", against=against.get(label, "LightGBM defaults"))


if __name__ == "__main__":
    if not os.path.isdir(out):
        sys.exit(f"no splits in {out}: run bench/automl.sh (or automl_peers.py split NAME) first")
    taxi()
    bike()
    glass()
