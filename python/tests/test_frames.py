"""DataFrames round-trip: categoricals, missing values, datetimes and a non-default index, as Parquet and as CSV."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

import keel
from keel import _frames


def kinds(model: keel.Model) -> dict:
    return {column["name"]: column["kind"] for column in model.info()["manifest"]["schema"]["columns"]}


def test_every_kind_arrives_as_what_it_is(mixed_model):
    found = kinds(mixed_model)
    assert found["amount"] == "numeric"
    assert found["plan"] == "categorical" and found["region"] == "categorical"
    assert found["signed_up"] == "datetime" and found["last_seen"] == "datetime"
    assert found["newsletter"] == "boolean"
    assert mixed_model.classes == ["no", "yes"]


def test_predictions_come_back_on_a_shuffled_string_index(mixed, mixed_model):
    rows = mixed.iloc[300:].drop(columns="churned")
    probabilities = mixed_model.predict_proba(rows)
    assert probabilities.index.equals(rows.index) and probabilities.index.name == "customer"
    assert probabilities.notna().all().all()
    predicted = mixed_model.predict(rows)
    assert set(predicted) <= {"yes", "no"}
    assert (predicted == mixed.iloc[300:]["churned"]).mean() > 0.75
    full = mixed_model.predictions(rows)
    assert list(full.columns) == ["prediction", "proba_no", "proba_yes"] and full.index.equals(rows.index)


def test_missing_values_in_every_optional_column_are_scored(mixed, mixed_model):
    rows = mixed.iloc[300:305].drop(columns="churned").copy()
    rows["amount"] = np.nan
    rows["region"] = pd.NA
    rows["visits"] = pd.NA
    assert mixed_model.predict_proba(rows).notna().all().all()


def test_csv_when_pyarrow_is_missing_gives_the_same_model_and_predictions(monkeypatch, mixed, mixed_model):
    rows = mixed.iloc[300:].drop(columns="churned")
    expected = mixed_model.predict_proba(rows)
    monkeypatch.setattr(_frames, "parquet_available", lambda: False)
    pd.testing.assert_frame_equal(mixed_model.predict_proba(rows), expected, atol=1e-5)
    from_csv = keel.train(mixed.iloc[:300], "churned", trials=4, seed=1, learners=["gbdt", "linear"], progress=False)
    assert kinds(from_csv) == kinds(mixed_model)


def test_csv_writes_iso_datetimes_and_empty_missing_cells(tmp_path, monkeypatch):
    monkeypatch.setattr(_frames, "parquet_available", lambda: False)
    frame = pd.DataFrame({
        "naive": pd.to_datetime(["2024-05-31 08:15:00", None]),
        "zoned": pd.to_datetime(["2024-05-31 08:15:00", "2024-06-01 00:00:00"]).tz_localize("Europe/Paris"),
        "day": [datetime.date(2024, 5, 31), None],
        "count": pd.array([1, None], dtype="Int64"),
    }, index=["a", "b"])
    path = _frames.write(_frames.checked(frame), str(tmp_path), "rows")
    assert path.endswith(".csv")
    assert open(path).read().splitlines() == [
        "naive,zoned,day,count",
        "2024-05-31T08:15:00,2024-05-31T08:15:00+02:00,2024-05-31,1",
        ",2024-06-01T00:00:00+02:00,,",
    ]


def test_object_columns_of_mixed_kinds_become_text_and_datetimes_stay_datetimes():
    frame = pd.DataFrame({"code": ["A1", 7, None, 2.5], "when": [datetime.datetime(2024, 1, k + 1) for k in range(4)]},
                         dtype=object)
    checked = _frames.checked(frame)
    assert list(checked["code"].dropna()) == ["A1", "7", "2.5"] and checked["code"].isna().tolist() == [False, False, True, False]
    assert checked["when"].dtype.kind == "M"
    assert checked.index.equals(pd.RangeIndex(4))


def test_non_string_column_names_are_named_by_their_text():
    checked = _frames.checked(pd.DataFrame({0: [1.0], 1: ["a"]}))
    assert list(checked.columns) == ["0", "1"]
    with pytest.raises(keel.KeelInputError, match="two columns named '1'"):
        _frames.checked(pd.DataFrame([[1, 2]], columns=[1, "1"]))
