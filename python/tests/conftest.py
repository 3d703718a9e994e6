"""Shared fixtures: the keel binary, the datasets, and a few models trained once per session.

Every fit uses ``trials`` (never a time budget): fast, and the same seed gives the same model.
``KEEL_HOME`` points at a temporary registry, so nothing is written into the checkout.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import keel

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def keel_home(tmp_path_factory) -> Path:
    """A registry of this session's own, and a keel binary that runs (the tests fail, not skip, without one)."""
    home = tmp_path_factory.mktemp("keel-home")
    previous = os.environ.get("KEEL_HOME")
    os.environ["KEEL_HOME"] = str(home)
    keel._binary.find_binary()
    yield home
    if previous is None:
        os.environ.pop("KEEL_HOME", None)
    else:
        os.environ["KEEL_HOME"] = previous


@pytest.fixture(scope="session")
def keel_bin() -> str:
    return keel._binary.find_binary()


@pytest.fixture(scope="session")
def datasets() -> Path:
    """``$KEEL_DATASETS``, else ``../shared/datasets`` beside the checkout (read in place)."""
    folder = Path(os.environ.get("KEEL_DATASETS") or REPOSITORY.parent / "shared" / "datasets")
    assert (folder / "glass.csv").exists(), f"the shared datasets are not at {folder}; set KEEL_DATASETS"
    return folder


def split(frame: pd.DataFrame, test_rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split; the test part keeps its (shuffled) original index labels."""
    shuffled = frame.sample(frac=1.0, random_state=seed)
    return shuffled.iloc[test_rows:], shuffled.iloc[:test_rows]


@pytest.fixture(scope="session")
def glass(datasets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Multiclass, 214 rows, classes 1, 2, 3, 5, 6, 7."""
    return split(pd.read_csv(datasets / "glass.csv"), 40)


@pytest.fixture(scope="session")
def glass_model(glass) -> keel.Model:
    train, _ = glass
    return keel.train(train, "Type", trials=4, seed=1, progress=False)


@pytest.fixture(scope="session")
def mpg(datasets) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regression, 398 rows: missing horsepower values, a string column, a text-ish name."""
    return split(pd.read_csv(datasets / "auto_mpg.csv"), 60)


@pytest.fixture(scope="session")
def mpg_model(mpg) -> keel.Model:
    train, _ = mpg
    return keel.train(train, "mpg", trials=4, seed=1, learners=["gbdt", "linear"], progress=False)


def mixed_frame(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    """Every kind the package hands over: categorical, string with missing values, nullable integers,
    floats with NaN, naive and time-zoned datetimes, booleans; a string index in shuffled order."""
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 50.0, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    frame = pd.DataFrame({
        "amount": np.where(rng.random(rows) < 0.1, np.nan, amount),
        "plan": pd.Categorical(plan, categories=["basic", "plus", "pro"]),
        "region": pd.array(rng.choice(["north", "south", None], rows, p=[0.45, 0.45, 0.1]), dtype="string"),
        "visits": pd.array(np.where(rng.random(rows) < 0.1, None, rng.integers(0, 40, rows)), dtype="Int64"),
        "signed_up": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, rows), unit="D"),
        "last_seen": (pd.Timestamp("2024-01-01", tz="Europe/Paris")
                      + pd.to_timedelta(rng.integers(0, 90 * 24, rows), unit="h")),
        "newsletter": rng.random(rows) < 0.4,
    }, index=pd.Index([f"c{k:04d}" for k in rng.permutation(rows)], name="customer"))
    score = 0.02 * np.nan_to_num(amount) + (plan == "pro") * 1.5 - (plan == "basic") + rng.normal(0, 0.8, rows)
    frame["churned"] = np.where(score > 1.5, "yes", "no")
    return frame


@pytest.fixture(scope="session")
def mixed() -> pd.DataFrame:
    return mixed_frame()


@pytest.fixture(scope="session")
def mixed_model(mixed) -> keel.Model:
    return keel.train(mixed.iloc[:300], "churned", trials=4, seed=1, learners=["gbdt", "linear"], progress=False)


@pytest.fixture()
def fake_keel(tmp_path, monkeypatch):
    """Makes a stand-in binary printing ``version`` and failing otherwise; returns a function taking the version."""
    def make(version: str) -> str:
        path = tmp_path / "keel"
        path.write_text(f"#!/bin/sh\nif [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\n"
                        "echo 'error: this stand-in does nothing' >&2; exit 1\n")
        path.chmod(0o755)
        monkeypatch.setenv("KEEL_BIN", str(path))
        return str(path)
    return make


def copy_binary(tmp_path: Path) -> str:
    """A copy of the real binary (for tests that change PATH)."""
    target = tmp_path / "bin" / "keel"
    target.parent.mkdir()
    shutil.copy(keel._binary.find_binary(), target)
    return str(target)
