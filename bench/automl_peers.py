"""The AutoML benchmark's Python side: the split, the peers as their users run them, and one scorer for all.

  split NAME                      write out/automl/NAME/{train,test}.csv (75/25, random_state=42, stratified;
                                  train <= 200k rows)
  run SYSTEM NAME OUT SEED        train a peer on train.csv and write its test predictions to OUT in Keel's
                                  format (prediction, proba_CLASS...): lightgbm, hgb (defaults), flaml (60 s),
                                  autogluon (60 s, medium_quality), autogluon_best (60 s, best_quality)
  score NAME SYSTEM PRED SECONDS RUN
                                  score any system's predictions against the test part with the manifest's
                                  metric; prints one JSON line {"name", "system", "run", "metric", "score", "seconds"}
  names                           the suite's dataset names
  target NAME                     the dataset's target column

Each peer gets the data as its users would give it (bench/automl.sh measures the wall time around the whole
process, reading included, the same way for every system):
- AutoGluon: the DataFrame `pandas.read_csv` returns, nothing converted; its own feature generators find the
  dates and the free text.
- FLAML: the same DataFrame with the date columns parsed to datetime64 (its own date features then apply).
- LightGBM and HistGradientBoosting: the features a user adds by hand: year, month, day, weekday and hour of
  each date column, and the difference in hours of two timestamps where a table has two; string columns as
  pandas categories; free text (string columns with several words a value, most values distinct) dropped.
Which columns hold dates is the datasets manifest's `date_columns`, as a user knows their own table.
The thread count is BENCH_THREADS (default 2), given to each system's own setting; SEED reaches LightGBM,
HistGradientBoosting and FLAML (AutoGluon is run with its own default seeding).
"""
import json
import os
import shutil
import sys

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.model_selection import train_test_split

here = os.path.dirname(os.path.abspath(__file__))
datasets = os.environ.get("KEEL_DATASETS", os.path.join(here, "..", "..", "shared", "datasets"))
manifest = {d["name"]: d for d in json.load(open(os.path.join(datasets, "manifest.json")))["datasets"]}
threads = int(os.environ.get("BENCH_THREADS", "2"))
budget = int(os.environ.get("BENCH_SECONDS", "60"))


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


def evaluate(entry, y, proba=None, classes=None, values=None):
    if entry["task"] == "regression":
        return metrics.root_mean_squared_error(y, values)
    if entry["task"] == "binary":
        positive = str(entry["positive_class"])
        column = [str(c) for c in classes].index(positive)
        return metrics.roc_auc_score(y.astype(str) == positive, proba[:, column])
    return metrics.log_loss(y.astype(str), proba, labels=[str(c) for c in classes])


def score(name, system, predictions, seconds, run):
    entry = manifest[name]
    y = pd.read_csv(os.path.join(folder(name), "test.csv"))[entry["target"]]
    pred = pd.read_csv(predictions, dtype={"prediction": str})
    if entry["task"] == "regression":
        value = evaluate(entry, y, values=pred["prediction"].astype(float))
    else:
        columns = [c for c in pred.columns if c.startswith("proba_")]
        value = evaluate(entry, y, proba=pred[columns].to_numpy(), classes=[c[len("proba_"):] for c in columns])
    print(json.dumps({"name": name, "system": system, "run": int(run), "metric": entry["metric"], "score": value,
                      "seconds": float(seconds)}))


def is_free_text(column):
    """Several words a value and most values distinct: a name or a sentence, not a category."""
    values = column.dropna().astype(str)
    if values.empty:
        return False
    return values.str.split().str.len().mean() >= 2.5 and values.nunique() > 0.5 * len(values)


def hand_made(train, test, entry):
    """The features a LightGBM or scikit-learn user adds by hand (see the module's docstring)."""
    x, xt = train.copy(), test.copy()
    dates = [c for c in entry.get("date_columns", []) if c in x.columns]
    for frame in (x, xt):
        parsed = {c: pd.to_datetime(frame[c], errors="coerce") for c in dates}
        for c, values in parsed.items():
            frame[f"{c}_year"] = values.dt.year
            frame[f"{c}_month"] = values.dt.month
            frame[f"{c}_day"] = values.dt.day
            frame[f"{c}_weekday"] = values.dt.weekday
            if (values.dt.hour.fillna(0) != 0).any() or (values.dt.minute.fillna(0) != 0).any():
                frame[f"{c}_hour"] = values.dt.hour
        if len(dates) == 2:
            frame[f"{dates[1]}_minus_{dates[0]}_hours"] = (parsed[dates[1]] - parsed[dates[0]]).dt.total_seconds() / 3600
        frame.drop(columns=dates, inplace=True)
    text = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c]) and is_free_text(x[c])]
    x, xt = x.drop(columns=text), xt.drop(columns=text)
    for c in x.columns:
        if pd.api.types.is_numeric_dtype(x[c]):
            continue
        levels = sorted(x[c].dropna().astype(str).unique())
        x[c] = pd.Categorical(x[c].astype(str).where(x[c].notna()), categories=levels)
        xt[c] = pd.Categorical(xt[c].astype(str).where(xt[c].notna()), categories=levels)
    return x, xt


def with_dates(frame, entry):
    frame = frame.copy()
    for c in entry.get("date_columns", []):
        if c in frame.columns:
            frame[c] = pd.to_datetime(frame[c], errors="coerce")
    return frame


def run(system, name, out, seed):
    entry = manifest[name]
    target = entry["target"]
    regression = entry["task"] == "regression"
    train = pd.read_csv(os.path.join(folder(name), "train.csv"))
    test = pd.read_csv(os.path.join(folder(name), "test.csv")).drop(columns=target)
    y = train.pop(target)
    if not regression:
        y = y.astype(str)
    if system in ("lightgbm", "hgb"):
        x, xt = hand_made(train, test, entry)
        if system == "lightgbm":
            import lightgbm as lgb
            model = (lgb.LGBMRegressor if regression else lgb.LGBMClassifier)(verbose=-1, n_jobs=threads, random_state=seed).fit(x, y)
        else:
            from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
            # HistGradientBoosting takes at most 255 levels a categorical; past that a user passes the codes.
            for c in x.columns:
                if isinstance(x[c].dtype, pd.CategoricalDtype) and len(x[c].cat.categories) > 255:
                    x[c] = x[c].cat.codes.replace(-1, np.nan).astype(float)
                    xt[c] = xt[c].cat.codes.replace(-1, np.nan).astype(float)
            kind = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
            model = kind(categorical_features="from_dtype", random_state=seed).fit(x, y)
        classes = None if regression else list(model.classes_)
        proba = None if regression else model.predict_proba(xt)
        values = model.predict(xt) if regression else None
    elif system == "flaml":
        from flaml import AutoML
        model = AutoML()
        model.fit(with_dates(train, entry), y, task="regression" if regression else "classification",
                  time_budget=budget, n_jobs=threads, verbose=0, seed=seed)
        xt = with_dates(test, entry)
        classes = None if regression else list(model.classes_)
        proba = None if regression else model.predict_proba(xt)
        values = model.predict(xt) if regression else None
    elif system in ("autogluon", "autogluon_best"):
        from autogluon.tabular import TabularPredictor
        problem = "regression" if regression else entry["task"]
        metric = {"roc_auc": "roc_auc", "log_loss": "log_loss", "rmse": "root_mean_squared_error"}[entry["metric"]]
        frame = train.copy()
        frame[target] = y
        path = os.path.join(folder(name), system)
        shutil.rmtree(path, ignore_errors=True)
        presets = "best_quality" if system == "autogluon_best" else "medium_quality"
        model = TabularPredictor(label=target, problem_type=problem, eval_metric=metric, verbosity=0, path=path).fit(
            frame, time_limit=budget, presets=presets, num_cpus=threads, num_gpus=0)
        if regression:
            values, classes, proba = np.asarray(model.predict(test)), None, None
        else:
            frame = model.predict_proba(test)
            classes, proba, values = list(frame.columns), frame.to_numpy(), None
    else:
        raise SystemExit(f"unknown system {system}")
    if regression:
        pd.DataFrame({"prediction": np.asarray(values, dtype=float)}).to_csv(out, index=False)
    else:
        proba = np.asarray(proba, dtype=float)
        columns = {"prediction": [str(classes[i]) for i in proba.argmax(axis=1)]}
        columns.update({f"proba_{c}": proba[:, i] for i, c in enumerate(classes)})
        pd.DataFrame(columns).to_csv(out, index=False)


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "split":
        split(sys.argv[2])
    elif command == "score":
        score(*sys.argv[2:7])
    elif command == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif command == "names":
        print(" ".join(manifest))
    elif command == "target":
        print(manifest[sys.argv[2]]["target"])
    else:
        raise SystemExit(f"unknown command {command}")
