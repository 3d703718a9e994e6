"""The shap side of bench/treeshap.sh. `data` writes a seeded synthetic binary dataset (numeric features, 5%
missing, nonlinear margin); `run` trains LightGBM with the given settings and times shap.TreeExplainer's
exact (path-dependent) TreeSHAP on the first ROWS rows. Prints one JSON line."""
import json
import sys
import time

import numpy as np


def data(folder, rows, features):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, features))
    margin = 1.2 * x[:, 0] - x[:, 1] ** 2 / 2 + np.sin(2 * x[:, 2]) + 0.8 * x[:, 3] * x[:, 4] + 0.3 * x[:, 5:].sum(axis=1) / np.sqrt(features)
    y = (rng.random(rows) < 1 / (1 + np.exp(-margin))).astype(int)
    x[rng.random(x.shape) < 0.05] = np.nan
    header = ",".join([f"f{i}" for i in range(features)] + ["label"])
    cut = rows * 4 // 5
    for name, part in [("train", slice(0, cut)), ("explain", slice(cut, rows))]:
        table = np.column_stack([x[part], y[part]])
        np.savetxt(f"{folder}/{name}.csv", table, delimiter=",", header=header, comments="", fmt="%.6g")


def run(folder, rounds, leaves, rate, rows, threads):
    import lightgbm as lgb
    import pandas as pd
    import shap

    train = pd.read_csv(f"{folder}/train.csv")
    explain = pd.read_csv(f"{folder}/explain.csv").drop(columns=["label"]).iloc[:rows]
    booster = lgb.train({"objective": "binary", "num_leaves": leaves, "learning_rate": rate, "verbose": -1, "num_threads": threads,
                         "min_data_in_bin": 1, "max_bin": 255},
                        lgb.Dataset(train.drop(columns=["label"]), train["label"]), num_boost_round=rounds)
    explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
    started = time.perf_counter()
    values = explainer.shap_values(explain.to_numpy())
    seconds = time.perf_counter() - started
    print(json.dumps({"explain_seconds": seconds, "rows": len(explain), "threads": threads, "trees": booster.num_trees(),
                      "shape": list(np.shape(values))}))


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
