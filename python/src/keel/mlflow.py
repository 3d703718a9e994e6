"""MLflow: a pyfunc flavour for keel models, and training runs logged to a tracking store.

>>> info = keel.mlflow.log_model(model, "model")
>>> mlflow.pyfunc.load_model(info.model_uri).predict(df)   # keel predict's output, on df's index
>>> keel.mlflow.log_run(model)                             # parameters, CV and holdout scores, files

The logged model holds the keel model file; loading it needs this package and a keel binary
(``KEEL_BIN`` or ``PATH``) where it is loaded.
"""

from __future__ import annotations

import json
import os
import tempfile

import mlflow
import pandas as pd

from .errors import KeelInputError
from .model import Model, leaderboard

FLAVOR = "keel"
_FILE = "model.keel"


def log_model(model: Model, name: str, *, input_example=None, registered_model_name: str | None = None, **kwargs):
    """Logs ``model`` to the active run (one is started if none is) as a pyfunc model named ``name``.

    ``mlflow.pyfunc.load_model(uri).predict(df)`` then gives ``model.predictions(df)``: keel predict's
    output. Returns MLflow's ModelInfo. Further keyword arguments go to ``mlflow.pyfunc.log_model``.
    """
    from . import __version__

    with tempfile.TemporaryDirectory(prefix="keel-mlflow-") as folder:
        path = model.save(os.path.join(folder, _FILE))
        requirements = [f"keel=={__version__}", f"pandas=={pd.__version__}"]
        try:
            import pyarrow
            requirements.append(f"pyarrow=={pyarrow.__version__}")
        except ImportError:
            pass
        arguments = dict(loader_module=__name__, data_path=path, pip_requirements=requirements,
                         input_example=input_example, registered_model_name=registered_model_name, **kwargs)
        manifest = model.info()["manifest"]
        arguments.setdefault("metadata", {"keel_version": manifest.get("keelVersion"), "task": manifest["schema"]["task"]["kind"],
                                          "target": manifest["schema"]["target"], "checksum": model.info().get("checksum")})
        with _active_run():
            return mlflow.pyfunc.log_model(name=name, **arguments)


def load_model(model_uri: str) -> Model:
    """The keel.Model of a model logged by ``log_model``."""
    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    return Model.load(_find_model_file(local))


def _load_pyfunc(data_path: str) -> "_PyfuncModel":
    """MLflow's pyfunc loader: ``data_path`` is the logged model file (or a folder holding it)."""
    return _PyfuncModel(Model.load(_find_model_file(data_path)))


class _PyfuncModel:
    """What ``mlflow.pyfunc.load_model`` wraps: ``predict(df)`` is keel predict's output."""

    def __init__(self, model: Model):
        self.model = model

    def predict(self, model_input, params=None) -> pd.DataFrame:
        return self.model.predictions(model_input)


def log_run(report, *, artifacts: bool = True) -> str:
    """Logs a training run to the active MLflow run (one is started if none is); returns the run id.

    ``report`` is a keel.Model from ``keel.train`` (or a registered one), the dict of ``report.json``,
    or the path of ``report.json`` or of a ``keel train --report`` folder. Logged: parameters (task,
    metric, seed, validation, trials, chosen trial, data rows and fingerprint), metrics (cv, its std,
    holdout, gap, baseline; each trial's cv score by trial number) and, with ``artifacts``, the report
    files and the leaderboard as ``leaderboard.csv``.
    """
    document, markdown = _report(report)
    search = document.get("search", document)
    metric = search.get("metric", "score")
    with _active_run() as run:
        mlflow.log_params({key: value for key, value in _params(document, search).items() if value is not None})
        mlflow.log_metrics({key: float(value) for key, value in _metrics(search, metric).items() if _finite(value)})
        for trial in search.get("trials", []):
            if trial.get("status") == "completed" and _finite(trial.get("mean")):
                mlflow.log_metric(f"trial_cv_{metric}", float(trial["mean"]), step=int(trial["id"]))
        if artifacts:
            mlflow.log_dict(document, "keel/report.json")
            if markdown:
                mlflow.log_text(markdown, "keel/report.md")
            mlflow.log_text(leaderboard(search).to_csv(index=False), "keel/leaderboard.csv")
        mlflow.set_tag("keel.task", search.get("task"))
        return run.info.run_id


def _params(document: dict, search: dict) -> dict:
    data = document.get("data", {})
    best = next((trial for trial in search.get("trials", []) if trial.get("id") == search.get("bestTrial")), {})
    return {"task": search.get("task"), "metric": search.get("metric"), "seed": search.get("seed"),
            "validation": search.get("validation"), "trials": len(search.get("trials", [])),
            "best_trial": search.get("bestTrial"), "best_learner": best.get("family"),
            "best_settings": best.get("summary"), "search_rows": search.get("searchRows"),
            "holdout_rows": search.get("holdoutRows"), "data_rows": data.get("rows"), "data_columns": data.get("columns"),
            "data_fingerprint": data.get("fingerprint"), "target": data.get("target"),
            "refitted_on_all_rows": search.get("refittedOnAllRows")}


def _metrics(search: dict, metric: str) -> dict:
    baseline = search.get("baseline") or {}
    return {f"cv_{metric}": search.get("crossValidatedScore"), f"cv_{metric}_std": search.get("crossValidatedStd"),
            f"holdout_{metric}": search.get("holdoutScore"), f"gap_{metric}": search.get("gap"),
            f"baseline_holdout_{metric}": baseline.get("holdoutScore"), "search_seconds": search.get("secondsUsed")}


def _report(report) -> tuple[dict, str | None]:
    """The report.json document and, when known, report.md's text."""
    if isinstance(report, Model):
        if not report.report:
            raise KeelInputError(f"{report.reference} carries no training report: log the Model keel.train returned, "
                             "a registered NAME@VERSION, or a report.json")
        return report.report, report.report_markdown
    if isinstance(report, dict):
        return report, None
    path = os.fspath(report)
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    with open(os.path.join(path, "report.json") if os.path.isdir(path) else path, encoding="utf-8") as file:
        document = json.load(file)
    markdown_path = os.path.join(folder, "report.md")
    markdown = open(markdown_path, encoding="utf-8").read() if os.path.exists(markdown_path) else None
    return document, markdown


def _find_model_file(path: str) -> str:
    if os.path.isfile(path):
        return path
    for root, _, files in os.walk(path):
        if _FILE in files:
            return os.path.join(root, _FILE)
    raise FileNotFoundError(f"no {_FILE} under {path}: was this model logged by keel.mlflow.log_model?")


def _finite(value) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return number == number and abs(number) != float("inf")


class _active_run:
    """The active MLflow run, or a new one ended on exit."""

    def __enter__(self):
        self._started = mlflow.active_run() is None
        return mlflow.start_run() if self._started else mlflow.active_run()

    def __exit__(self, *exc):
        if self._started:
            mlflow.end_run("FAILED" if exc[0] is not None else "FINISHED")
        return False
