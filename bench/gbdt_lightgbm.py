"""Trains LightGBM like bench gbdt-train and prints the same JSON line (same data, settings and threads)."""
import json
import resource
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn import metrics

train_path, test_path, target, rounds, leaves, rate, bins = sys.argv[1:8]


def load_raw(path):
    values = np.fromfile(path, dtype="<f8")
    columns = int(values[0])
    return values[1:].reshape(-1, columns), np.fromfile(path.replace(".f64", ".y.f64"), dtype="<f8")


if train_path.endswith(".f64"):
    x, y = load_raw(train_path)
    xt, yt = load_raw(test_path)
    task = "binary"
else:
    x, xt = pd.read_csv(train_path), pd.read_csv(test_path)
    y, yt = x.pop(target), xt.pop(target)
    for column in x.columns:
        if pd.api.types.is_numeric_dtype(x[column]):
            continue
        if x[column].astype(str).str.match(r"^\d{4}-\d{2}-\d{2}").all():
            x[column] = pd.to_datetime(x[column]).astype("int64") // 10**9
            xt[column] = pd.to_datetime(xt[column]).astype("int64") // 10**9
        else:
            levels = sorted(x[column].dropna().unique())
            x[column] = pd.Categorical(x[column], categories=levels)
            xt[column] = pd.Categorical(xt[column], categories=levels)
    numeric_target = pd.api.types.is_numeric_dtype(y)
    task = "regression" if numeric_target and y.nunique() > 20 else ("binary" if y.nunique() == 2 else "multiclass")
    if task == "binary":
        positive = sorted(y.unique())[-1]
        y, yt = (y == positive).astype(int), (yt == positive).astype(int)

params = dict(n_estimators=int(rounds), num_leaves=int(leaves), learning_rate=float(rate), max_bin=int(bins), n_jobs=2, verbose=-1)
model = lgb.LGBMRegressor(**params) if task == "regression" else lgb.LGBMClassifier(**params)
started = time.perf_counter()
model.fit(x, y)
train_seconds = time.perf_counter() - started
started = time.perf_counter()
predictions = model.predict(xt) if task == "regression" else model.predict_proba(xt)
predict_seconds = time.perf_counter() - started
if task == "regression":
    metric, score = "rmse", metrics.root_mean_squared_error(yt, predictions)
elif task == "binary":
    metric, score = "roc_auc", metrics.roc_auc_score(yt, predictions[:, 1])
else:
    metric, score = "log_loss", metrics.log_loss(yt, predictions, labels=model.classes_)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"train_seconds": train_seconds, "predict_rows_per_second": len(yt) / predict_seconds, "metric": metric,
                  "score": score, "peak_mb": peak, "trees": model.booster_.num_trees()}))
