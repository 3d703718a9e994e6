"""keel.mlflow: the pyfunc flavour and training runs, in a local file store under tmp_path."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import keel
import keel.mlflow


@pytest.fixture()
def store(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store in maintenance mode behind this switch; it needs no database.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri
    while mlflow.active_run() is not None:
        mlflow.end_run()


def test_a_logged_model_predicts_what_keel_predicts(store, mixed, mixed_model):
    rows = mixed.iloc[300:340].drop(columns="churned")
    with mlflow.start_run():
        info = keel.mlflow.log_model(mixed_model, "churn")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    pd.testing.assert_frame_equal(loaded.predict(rows), mixed_model.predictions(rows))
    again = keel.mlflow.load_model(info.model_uri)
    assert again.info()["checksum"] == mixed_model.info()["checksum"]


def test_a_training_run_is_logged_with_scores_leaderboard_and_report(store, glass_model):
    run_id = keel.mlflow.log_run(glass_model)
    run = MlflowClient(store).get_run(run_id)
    search = glass_model.report["search"]
    assert run.info.status == "FINISHED"
    assert run.data.params["metric"] == "log_loss" and run.data.params["seed"] == "1"
    assert run.data.params["trials"] == "4" and run.data.params["target"] == "Type"
    assert run.data.metrics["cv_log_loss"] == pytest.approx(search["crossValidatedScore"])
    assert run.data.metrics["holdout_log_loss"] == pytest.approx(search["holdoutScore"])
    history = MlflowClient(store).get_metric_history(run_id, "trial_cv_log_loss")
    assert {point.step for point in history} <= {trial["id"] for trial in search["trials"]}
    files = {artifact.path for artifact in MlflowClient(store).list_artifacts(run_id, "keel")}
    assert files == {"keel/report.json", "keel/report.md", "keel/leaderboard.csv"}
    board = pd.read_csv(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="keel/leaderboard.csv"))
    assert list(board["trial"]) == list(glass_model.leaderboard()["trial"])
    document = json.load(open(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="keel/report.json")))
    assert document["search"]["holdoutScore"] == search["holdoutScore"]


def test_a_run_from_a_report_file_joins_the_active_run(store, tmp_path, mpg_model):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(mpg_model.report))
    with mlflow.start_run() as active:
        assert keel.mlflow.log_run(path) == active.info.run_id
    metrics = MlflowClient(store).get_run(active.info.run_id).data.metrics
    assert np.isfinite(metrics["holdout_rmse"]) and "cv_rmse_std" in metrics


def test_a_model_file_without_a_report_is_refused(store, tmp_path, glass_model):
    loaded = keel.Model.load(glass_model.save(tmp_path / "glass.keel"))
    with pytest.raises(keel.KeelInputError, match="no training report"):
        keel.mlflow.log_run(loaded)
