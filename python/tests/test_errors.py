"""Bad input gives a KeelError with a clear message (keel's own error line where keel found the problem),
never a raw CalledProcessError traceback or a silently wrong result."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest

import keel
from keel import _binary

from conftest import copy_binary


def assert_no_subprocess_trace(error: BaseException) -> None:
    assert not isinstance(error.__cause__, subprocess.CalledProcessError)
    assert not isinstance(error.__context__, subprocess.CalledProcessError)


def test_a_missing_target_column_names_the_columns(mixed):
    with pytest.raises(keel.KeelInputError, match=r"no target column 'churn'; its columns are: amount, plan"):
        keel.train(mixed, "churn", trials=2)


def test_a_target_with_one_class_quotes_keel(mixed):
    one_class = mixed.assign(churned="no")
    with pytest.raises(keel.KeelDataError) as caught:
        keel.train(one_class, "churned", trials=2, progress=False)
    error = caught.value
    assert str(error).startswith("keel train failed (exit code 1): error: target column 'churned' has a single class")
    assert error.returncode == 1 and "single class" in error.message
    assert isinstance(error, ValueError)
    assert_no_subprocess_trace(error)


@pytest.mark.parametrize("values, says", [
    ([1 + 2j, 3 - 1j, 0j], "complex numbers"),
    ([[1, 2], [3], []], "holds a list at index 'r0'"),
    ([{"a": 1}, {"b": 2}, {}], "holds a dict at index 'r0'"),
    ([b"x", b"y", b"z"], "holds a bytes at index 'r0'"),
    (pd.to_timedelta([1, 2, 3], unit="D"), "timedeltas"),
    (pd.period_range("2024-01", periods=3, freq="M"), "period"),
])
def test_unsupported_dtypes_are_refused_naming_the_column(mixed_model, values, says):
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0], "odd": values}, index=["r0", "r1", "r2"])
    with pytest.raises(keel.KeelInputError, match=says) as caught:
        mixed_model.predict(frame)
    assert "'odd'" in str(caught.value)
    with pytest.raises(keel.KeelInputError, match="'odd'"):
        keel.train(frame.assign(y=[0, 1, 0]), "y", trials=2)


def test_a_column_the_model_needs_quotes_keel(mixed, mixed_model):
    with pytest.raises(keel.KeelDataError, match=r"keel predict failed \(exit code 1\): error: 'plan' is required: it had no missing values in training"):
        mixed_model.predict(mixed.drop(columns="plan"))


def test_a_value_of_the_wrong_kind_quotes_keel(mixed, mixed_model):
    rows = mixed.iloc[300:310].drop(columns="churned").astype({"amount": object})
    rows.iloc[3, rows.columns.get_loc("amount")] = "lots"
    with pytest.raises(keel.KeelDataError, match="keel predict failed.*amount") as caught:
        mixed_model.predict(rows)
    assert_no_subprocess_trace(caught.value)


def test_a_missing_model_file_and_an_unknown_option_quote_keel(tmp_path, mixed):
    with pytest.raises(keel.KeelDataError, match="cannot read model file"):
        keel.Model.load(tmp_path / "absent.keel")
    with pytest.raises(keel.KeelDataError, match=r"exit code 2\): error: Unknown option '--bogus-flag'"):
        keel.train(mixed, "churned", trials=2, bogus_flag=3, progress=False)


def test_a_model_no_better_than_the_baseline_is_an_error_with_the_model_attached():
    rng = np.random.default_rng(0)
    noise = pd.DataFrame({"x": rng.normal(size=200), "y": rng.choice(["a", "b"], 200)})
    with pytest.raises(keel.KeelCommandError, match="no better than the baseline") as caught:
        keel.train(noise, "y", trials=2, require_better_than_baseline=True, progress=False)
    assert caught.value.returncode == 3 and not isinstance(caught.value, keel.KeelDataError)
    assert caught.value.model.task == "binary"  # written "for inspection", as keel says


def test_a_too_old_binary_names_the_supported_versions(fake_keel, mixed):
    fake_keel("0.0.9")
    with pytest.raises(keel.KeelVersionError, match=r"keel 0\.0\.9 at .* is too old: this package supports keel 0\.1\.x"):
        keel.train(mixed, "churned", trials=2)


def test_a_binary_without_a_version_is_refused(fake_keel):
    fake_keel("no version here")
    with pytest.raises(keel.KeelVersionError, match="did not print a version"):
        _binary.find_binary()


def test_a_newer_binary_warns_and_a_failing_one_is_quoted(fake_keel, mixed):
    fake_keel("0.9.0")
    with pytest.warns(keel.KeelWarning, match="newer than this package knows"):
        _binary.find_binary()
    with pytest.raises(keel.KeelDataError, match="error: this stand-in does nothing") as caught:
        keel.train(mixed, "churned", trials=2, progress=False)
    assert_no_subprocess_trace(caught.value)


def test_no_binary_names_keel_bin_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("KEEL_BIN", str(tmp_path / "absent"))
    with pytest.raises(keel.KeelNotFoundError, match="KEEL_BIN is .*absent'.*not an executable"):
        _binary.find_binary()
    monkeypatch.delenv("KEEL_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(keel.KeelNotFoundError, match="KEEL_BIN is not set and there is no `keel` on PATH"):
        _binary.find_binary()


def test_keel_on_path_is_found_without_keel_bin(monkeypatch, tmp_path):
    copied = copy_binary(tmp_path)
    monkeypatch.delenv("KEEL_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert _binary.find_binary() == copied


def test_an_empty_frame_is_refused_before_keel(mixed, mixed_model):
    with pytest.raises(keel.KeelInputError, match="no rows"):
        mixed_model.predict(mixed.iloc[:0])
    with pytest.raises(keel.KeelInputError, match="no columns"):
        mixed_model.predict(pd.DataFrame(index=[1, 2]))


def test_registering_needs_a_name_and_data_must_be_a_frame(mixed):
    with pytest.raises(keel.KeelInputError, match="needs a name"):
        keel.train(mixed, "churned", trials=2, registry="somewhere")
    with pytest.raises(keel.KeelInputError, match="must be a pandas DataFrame"):
        keel.train(np.zeros((3, 2)), "y", trials=2)
