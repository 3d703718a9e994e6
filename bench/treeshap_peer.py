"""The shap side of bench/treeshap.sh. `data` writes a seeded synthetic binary dataset (numeric features, a share
missing, nonlinear margin); `run` trains LightGBM with the given settings and times shap.TreeExplainer on the
first ROWS rows (for a LightGBM booster shap hands the work to LightGBM's own C++ TreeSHAP, pred_contrib);
`forest` trains scikit-learn's RandomForestClassifier and times shap.TreeExplainer on it, where shap runs its
own C++ path-dependent algorithm. Prints one JSON line."""
import json
import sys
import time

import numpy as np


def data(folder, rows, features, missing=0.05):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, features))
    margin = 1.2 * x[:, 0] - x[:, 1] ** 2 / 2 + np.sin(2 * x[:, 2]) + 0.8 * x[:, 3] * x[:, 4] + 0.3 * x[:, 5:].sum(axis=1) / np.sqrt(features)
    y = (rng.random(rows) < 1 / (1 + np.exp(-margin))).astype(int)
    x[rng.random(x.shape) < missing] = np.nan
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


def forest(folder, trees, depth, rows, threads):
    import pandas as pd
    import shap
    from sklearn.ensemble import RandomForestClassifier

    train = pd.read_csv(f"{folder}/train.csv")
    explain = pd.read_csv(f"{folder}/explain.csv").drop(columns=["label"]).iloc[:rows]
    model = RandomForestClassifier(n_estimators=trees, max_depth=depth, n_jobs=threads, random_state=7).fit(
        train.drop(columns=["label"]).to_numpy(), train["label"])
    leaves = float(np.mean([e.tree_.n_leaves for e in model.estimators_]))
    explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    started = time.perf_counter()
    values = explainer.shap_values(explain.to_numpy(), check_additivity=False)
    seconds = time.perf_counter() - started
    print(json.dumps({"explain_seconds": seconds, "rows": len(explain), "threads": 1, "trees": trees, "mean_leaves": leaves,
                      "shape": list(np.shape(values))}))


if __name__ == "__main__":
    if sys.argv[1] == "data":
        data(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) if len(sys.argv) > 5 else 0.05)
    elif sys.argv[1] == "forest":
        forest(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
