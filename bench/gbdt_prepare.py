"""Prepares the GBDT benchmark data in bench/out: the protocol's 75/25 split of a shared dataset as CSV, or a
seeded synthetic binary task as raw float64 files (first value = column count, then row-major values)."""
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def split(path, target, task, out):
    df = pd.read_csv(path)
    train, test = train_test_split(df, test_size=0.25, random_state=42, stratify=df[target] if task != "regression" else None)
    train = train.iloc[:200_000]
    train.to_csv(f"{out}_train.csv", index=False)
    test.to_csv(f"{out}_test.csv", index=False)


def synthetic(rows, columns, out):
    rng = np.random.default_rng(7)
    for part, n in (("train", rows), ("test", rows // 5)):
        x = rng.standard_normal((n, columns))
        x[rng.random((n, columns)) < 0.02] = np.nan
        filled = np.nan_to_num(x)
        margin = filled[:, 0] * 1.5 - filled[:, 1] ** 2 + np.sin(3 * filled[:, 2]) + filled[:, 3] * filled[:, 4] + 0.3 * filled[:, 5:15].sum(1)
        y = (rng.random(n) < 1 / (1 + np.exp(-margin))).astype(np.float64)
        np.concatenate([[float(columns)], x.ravel()]).astype("<f8").tofile(f"{out}_{part}.f64")
        y.astype("<f8").tofile(f"{out}_{part}.y.f64")


if sys.argv[1] == "split":
    split(*sys.argv[2:6])
else:
    synthetic(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
