"""The AutoML benchmark's Python side: the datasets README's split, peer systems, and scoring of Keel's output.

  split NAME            write out/automl/NAME/{train,test}.csv (75/25, random_state=42, stratified; train <= 200k)
  score NAME PRED       score Keel's predictions.csv against the test part with the manifest's metric
  run SYSTEM NAME       train and score a peer: lightgbm, hgb (defaults), flaml (60 s), autogluon (60 s, medium_quality);
                        each sees the same training part, string columns as pandas categories
Each scoring command prints one JSON line: {"name", "system", "metric", "score", "seconds"}.
"""
import json
import os
import shutil
import sys
import time

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.model_selection import train_test_split

here = os.path.dirname(os.path.abspath(__file__))
datasets = os.environ.get("KEEL_DATASETS", os.path.join(here, "..", "..", "shared", "datasets"))
manifest = {d["name"]: d for d in json.load(open(os.path.join(datasets, "manifest.json")))["datasets"]}


def folder(name):
    path = os.path.join(here, "out", "automl", name)
    os.makedirs(path, exist_ok=True)
    return path


def split(name):
    entry = manifest[name]
    df = pd.read_csv(os.path.join(datasets, entry["file"]))
    stratify = df[entry["target"]] if entry["task"] != "regression" else None
    train, test = train_test_split(df, test_size=0.25, random_state=42, stratify=stratify)
    train = train.iloc[:200_000]
    train.to_csv(os.path.join(folder(name), "train.csv"), index=False)
    test.to_csv(os.path.join(folder(name), "test.csv"), index=False)


def truth(name):
    entry = manifest[name]
    test = pd.read_csv(os.path.join(folder(name), "test.csv"))
    return entry, test, test[entry["target"]]


def evaluate(entry, y, proba=None, classes=None, values=None):
    if entry["task"] == "regression":
        return metrics.root_mean_squared_error(y, values)
    if entry["task"] == "binary":
        positive = str(entry["positive_class"])
        column = [str(c) for c in classes].index(positive)
        return metrics.roc_auc_score(y.astype(str) == positive, proba[:, column])
    return metrics.log_loss(y.astype(str), proba, labels=[str(c) for c in classes])


def score_keel(name, predictions, seconds):
    entry, test, y = truth(name)
    pred = pd.read_csv(predictions, dtype={"prediction": str})
    if entry["task"] == "regression":
        value = evaluate(entry, y, values=pred["prediction"].astype(float))
    else:
        columns = [c for c in pred.columns if c.startswith("proba_")]
        value = evaluate(entry, y, proba=pred[columns].to_numpy(), classes=[c[len("proba_"):] for c in columns])
    print(json.dumps({"name": name, "system": "keel", "metric": entry["metric"], "score": value, "seconds": float(seconds)}))


def features(train, test, target, max_levels=None):
    """String columns as pandas categories; past `max_levels` levels (HistGradientBoosting's limit), as codes."""
    x, xt = train.drop(columns=target), test.drop(columns=target)
    for column in x.columns:
        if pd.api.types.is_numeric_dtype(x[column]):
            continue
        levels = sorted(x[column].dropna().astype(str).unique())
        x[column] = pd.Categorical(x[column].astype(str).where(x[column].notna()), categories=levels)
        xt[column] = pd.Categorical(xt[column].astype(str).where(xt[column].notna() & xt[column].astype(str).isin(levels)), categories=levels)
        if max_levels is not None and len(levels) > max_levels:
            x[column] = x[column].cat.codes.replace(-1, np.nan).astype(float)
            xt[column] = xt[column].cat.codes.replace(-1, np.nan).astype(float)
    return x, xt


def run(system, name):
    entry = manifest[name]
    train = pd.read_csv(os.path.join(folder(name), "train.csv"))
    test = pd.read_csv(os.path.join(folder(name), "test.csv"))
    target = entry["target"]
    y, yt = train[target].astype(str) if entry["task"] != "regression" else train[target], test[target]
    x, xt = features(train, test, target, max_levels=255 if system == "hgb" else None)
    started = time.perf_counter()
    regression = entry["task"] == "regression"
    if system == "lightgbm":
        import lightgbm as lgb
        model = (lgb.LGBMRegressor if regression else lgb.LGBMClassifier)(verbose=-1, n_jobs=2).fit(x, y)
    elif system == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        model = (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(categorical_features="from_dtype").fit(x, y)
    elif system == "flaml":
        from flaml import AutoML
        model = AutoML()
        model.fit(x, y, task="regression" if regression else "classification", time_budget=60, n_jobs=2, verbose=0, seed=1)
    elif system == "autogluon":
        from autogluon.tabular import TabularPredictor
        problem = "regression" if regression else entry["task"]
        metric = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "root_mean_squared_error"}[entry["metric"]]
        frame = x.copy()
        frame[target] = y
        path = os.path.join(folder(name), "autogluon")
        shutil.rmtree(path, ignore_errors=True)
        model = TabularPredictor(label=target, problem_type=problem, eval_metric=metric, verbosity=0, path=path).fit(
            frame, time_limit=60, presets="medium_quality", num_cpus=2, num_gpus=0)
    else:
        raise SystemExit(f"unknown system {system}")
    seconds = time.perf_counter() - started
    if regression:
        value = evaluate(entry, yt, values=np.asarray(model.predict(xt)))
    elif system == "autogluon":
        proba = model.predict_proba(xt)
        value = evaluate(entry, yt, proba=proba.to_numpy(), classes=list(proba.columns))
    else:
        value = evaluate(entry, yt, proba=model.predict_proba(xt), classes=list(model.classes_))
    print(json.dumps({"name": name, "system": system, "metric": entry["metric"], "score": value, "seconds": seconds}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "split":
        split(sys.argv[2])
    elif command == "score":
        score_keel(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "run":
        run(sys.argv[2], sys.argv[3])
    elif command == "names":
        print(" ".join(manifest))
