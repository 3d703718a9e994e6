"""LightGBM probes behind the search's feature and portfolio choices, on the AutoML benchmark's split.

  python bench/feature_probes.py      (with .venv-bench/bin/python, after bench/automl.sh has written the splits)

Prints one line per probe: what was tried and its score (test RMSE, or cross-validated log loss for glass).
- taxi fares: trees alone vs trees from a ridge model's margins (init_score), the portfolio's linear base;
- taxi fares: elapsed days of pickup and dropoff fractional, whole, or left out (Keel's date parts);
- bike rentals: date parts with and without the day of the month; the calendar day as a categorical, with all
  levels and with the 255 most frequent (Keel's categorical bins stop at 255);
- glass: 5-fold cross-validated log loss of LightGBM's defaults, a random forest and extra trees.
"""
import os
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.metrics import log_loss, root_mean_squared_error as rmse
from sklearn.model_selection import StratifiedKFold, cross_val_predict

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "automl")


def load(name, target):
    tr, te = pd.read_csv(os.path.join(out, name, "train.csv")), pd.read_csv(os.path.join(out, name, "test.csv"))
    return tr, tr.pop(target), te, te.pop(target)


def categories(x, xt, columns):
    for c in columns:
        x[c] = x[c].astype("category")
        xt[c] = pd.Categorical(xt[c], categories=x[c].cat.categories)


def taxi():
    tr, y, te, yt = load("nyc_taxi_fare", "fare")

    def features(df, days):
        p, q = pd.to_datetime(df.pickup), pd.to_datetime(df.dropoff)
        x = pd.DataFrame({"dur": (q - p).dt.total_seconds() / 3600, "distance": df.distance, "passengers": df.passengers,
                          "hour": p.dt.hour, "dow": p.dt.dayofweek})
        if days is not None:
            x["dhour"], x["ddow"] = q.dt.hour, q.dt.dayofweek
            for name, t in (("pday", p), ("dday", q)):
                elapsed = (t - pd.Timestamp("2019-01-01")).dt.total_seconds() / 86400
                x[name] = np.floor(elapsed) if days == "whole" else elapsed
        for c in ["color", "payment", "pickup_zone", "pickup_borough", "dropoff_borough"]:
            x[c] = df[c]
        return x

    x, xt = features(tr, None), features(te, None)
    categories(x, xt, ["color", "payment", "pickup_zone", "pickup_borough", "dropoff_borough"])
    params = dict(learning_rate=0.05, n_estimators=400, num_leaves=15, min_child_samples=20, verbose=-1)
    print(f"taxi   trees alone                      test RMSE {rmse(yt, lgb.LGBMRegressor(**params).fit(x, y).predict(xt)):.4f}")
    numeric = ["dur", "distance", "passengers"]
    ridge = Ridge(1.0).fit(x[numeric].fillna(0), y)
    base, test_base = ridge.predict(x[numeric].fillna(0)), ridge.predict(xt[numeric].fillna(0))
    m = lgb.LGBMRegressor(**params).fit(x, y, init_score=base)
    print(f"taxi   trees from ridge margins         test RMSE {rmse(yt, test_base + m.predict(xt)):.4f}")
    params = dict(learning_rate=0.05, n_estimators=300, num_leaves=15, verbose=-1)
    for days in [None, "fractional", "whole"]:
        x, xt = features(tr, days), features(te, days)
        categories(x, xt, ["color", "payment", "pickup_zone", "pickup_borough", "dropoff_borough"])
        label = {None: "no elapsed days", "fractional": "fractional elapsed days", "whole": "whole elapsed days"}[days]
        print(f"taxi   {label:<33}test RMSE {rmse(yt, lgb.LGBMRegressor(**params).fit(x, y).predict(xt)):.4f}")


def bike():
    tr, y, te, yt = load("bike_sharing_hourly", "cnt")
    params = dict(learning_rate=0.05, n_estimators=1000, num_leaves=63, verbose=-1)
    days = sorted(tr.dteday.unique())
    frequent = set(tr.dteday.value_counts().index[:255])
    for label in ["elapsed days", "elapsed days + day of month", "calendar day categorical (all levels)",
                  "calendar day categorical (255 levels)"]:
        x, xt = tr.copy(), te.copy()
        for frame in (x, xt):
            t = pd.to_datetime(frame.dteday)
            frame["day"] = (t - pd.Timestamp("2011-01-01")).dt.days
            if label.endswith("day of month"):
                frame["dom"] = t.dt.day
        if "categorical" in label:
            kept = days if "all" in label else sorted(frequent)
            x["dteday"] = pd.Categorical(x.dteday.where(x.dteday.isin(kept)), categories=kept)
            xt["dteday"] = pd.Categorical(xt.dteday.where(xt.dteday.isin(kept)), categories=kept)
        else:
            x, xt = x.drop(columns="dteday"), xt.drop(columns="dteday")
        print(f"bike   {label:<38}test RMSE {rmse(yt, lgb.LGBMRegressor(**params).fit(x, y).predict(xt)):.4f}")


def glass():
    tr, y, _, _ = load("glass", "Type")
    folds = StratifiedKFold(5, shuffle=True, random_state=1)
    for label, model in [("LightGBM defaults", lgb.LGBMClassifier(verbose=-1)),
                         ("random forest, 500 trees", RandomForestClassifier(500, random_state=0)),
                         ("extra trees, 500 trees", ExtraTreesClassifier(500, random_state=0))]:
        oof = cross_val_predict(model, tr, y, cv=folds, method="predict_proba")
        print(f"glass  {label:<33}cross-validated log loss {log_loss(y, oof):.4f}")


if __name__ == "__main__":
    if not os.path.isdir(out):
        sys.exit(f"no splits in {out}: run bench/automl.sh (or automl_peers.py split NAME) first")
    taxi()
    bike()
    glass()
