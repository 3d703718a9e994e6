"""``keel.train`` and ``keel.Model``: a trained model (a file, or a registered version) and what keel does with it.

Every method runs the keel binary on the DataFrame written to a temporary folder; nothing here
predicts, explains or validates by itself. Results come back on the caller's index.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import weakref

import pandas as pd

from . import _binary, _frames
from ._options import train_flags
from .errors import KeelCommandError, KeelError, KeelInputError, warn
from .explanation import Explanation

_log = logging.getLogger("keel")

#: Metrics where lower is better; the others rank higher first.
_LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae"}


def train(data, target, time="60s", *, name=None, registry=None, out=None, progress=True, **options) -> "Model":
    """Trains a model on ``data`` (a DataFrame) to predict ``target`` with ``keel train``.

    ``time`` is the budget (``"60s"``, ``"5m"`` or seconds); ``trials=N`` replaces it with exactly N
    trials (reproducible for a seed). Further keyword options become ``keel train`` flags:
    ``metric="log_loss"``, ``learners=["gbdt", "ebm"]``, ``seed=3``, ``stack=True``, ``ids=["id"]``…
    ``progress`` shows keel's progress lines as they come (under the cell in a notebook).
    The model is registered only when ``name`` is given (in ``registry``, default ``$KEEL_HOME`` else
    ``./.keel``); ``out`` keeps the model file there (by default it lives as long as the Model).
    """
    frame = _frames.as_frame(data)
    columns = [str(column) for column in frame.columns]
    if str(target) not in columns:
        shown = ", ".join(columns[:20]) + (", …" if len(columns) > 20 else "")
        raise KeelInputError(f"the DataFrame has no target column {str(target)!r}; its columns are: {shown}")
    if registry is not None and name is None:
        raise KeelInputError("registry= registers the model, which needs a name=")
    if options.get("trials") is None:  # trials replaces the time budget
        options.pop("trials", None)
        options["time"] = f"{time}s" if isinstance(time, (int, float)) else str(time)
    checked = _frames.checked(frame)
    categorical = _as_list(options.get("categorical"))
    if _is_text(checked[str(target)]) and str(target) not in categorical and options.get("task") != "regression":
        # Keep labels as spelled: keel would read labels such as "01" as numbers.
        options["categorical"] = [str(target), *categorical]
    owned = None if out is not None else tempfile.mkdtemp(prefix="keel-model-")
    model_path = os.path.abspath(os.fspath(out)) if out is not None else os.path.join(owned, "model.keel")
    with tempfile.TemporaryDirectory(prefix="keel-train-") as work:
        path = _frames.write(checked, work, "data")
        report_folder = os.path.join(work, "report")
        arguments = ["train", path, "--target", str(target), "--out", model_path, "--report", report_folder]
        arguments += ["--name", str(name)] if name is not None else ["--no-registry"]
        arguments += ["--registry", os.fspath(registry)] if registry is not None else []
        try:
            done = _binary.run(arguments + train_flags(options), echo=_binary.echo_to_stderr if progress else None)
        except BaseException as error:
            if isinstance(error, KeelCommandError) and error.returncode == 3 and os.path.exists(model_path):
                error.model = Model(model_path, _owned_folder=owned)  # keel wrote it "for inspection"
            elif owned is not None:
                shutil.rmtree(owned, ignore_errors=True)
            raise
        with open(os.path.join(report_folder, "report.json"), encoding="utf-8") as file:
            report = json.load(file)
        with open(os.path.join(report_folder, "report.md"), encoding="utf-8") as file:
            markdown = file.read()
    if not progress:
        for warning in report.get("search", {}).get("warnings", []):
            warn(warning)
    reference = f"{name}@{_registered_version(name, registry)}" if name is not None else model_path
    model = Model(model_path if name is None else reference, registry=registry, report=report,
                  summary=done.stdout, _owned_folder=owned, _file=model_path)
    model.report_markdown = markdown
    return model


class Model:
    """A keel model: a model file, or a registered ``NAME@VERSION`` in a registry."""

    def __init__(self, reference, *, registry=None, report=None, summary="", _owned_folder=None, _file=None):
        self.reference = os.fspath(reference)
        self.registry = os.fspath(registry) if registry is not None else None
        self.report = report
        self.summary = summary
        self.report_markdown = None
        self._file = _file if _file is not None else (self.reference if os.path.isfile(self.reference) else None)
        self._info = None
        self._owned_folder = _owned_folder
        if _owned_folder is not None:
            weakref.finalize(self, shutil.rmtree, _owned_folder, True)

    @classmethod
    def load(cls, model, *, registry=None) -> "Model":
        """A model file path, or a registered ``NAME``, ``NAME@VERSION`` or ``NAME@STAGE`` (the version is
        pinned at load) from ``registry`` (default ``$KEEL_HOME``, else ``./.keel``)."""
        reference = os.fspath(model)
        if os.path.isfile(reference) or os.sep in reference or reference.endswith(".keel"):
            loaded = cls(os.path.abspath(reference), registry=registry)
            loaded.info()
            return loaded
        shown = json.loads(_binary.run(["models", "show", reference, "--json", *_registry(registry)]).stdout)
        run = dict(shown.get("run") or {})
        report = {"search": json.loads(run.pop("reportJSON", "null") or "null"), "run": run, "model": shown.get("model")}
        registered = shown["model"]
        loaded = cls(f"{registered['name']}@{registered['version']}", registry=registry, report=report,
                     _file=shown.get("artifactPath"))
        loaded.info()
        return loaded

    # What the model is.

    def info(self) -> dict:
        """``keel model info --json``: the manifest (task, schema, scores, version, seed) and checksum."""
        if self._info is None:
            self._info = json.loads(_binary.run(["model", "info", self.reference, "--json",
                                                 *_registry(self.registry)]).stdout)
        return self._info

    @property
    def task(self) -> str:
        """``binary``, ``multiclass`` or ``regression``."""
        return self._schema()["task"]["kind"]

    @property
    def target(self) -> str:
        return self._schema()["target"]

    @property
    def classes(self) -> list:
        """The class labels (typed like the target: numbers, booleans or strings); empty for regression."""
        return [self._label(name) for name in self._schema()["task"].get("classes", [])]

    @property
    def features(self) -> list[str]:
        return [column["name"] for column in self._schema()["columns"] if column["role"] == "feature"]

    def leaderboard(self) -> pd.DataFrame:
        """The search's trials, ranked by cross-validated score (trials that did not complete last, unranked)."""
        search = (self.report or {}).get("search")
        if not search:
            raise KeelError(f"{self.reference} carries no training report: a model file holds no leaderboard; "
                            "use the Model keel.train returned, or load a registered NAME@VERSION")
        return leaderboard(search)

    # What the model does.

    def predictions(self, data) -> pd.DataFrame:
        """``keel predict``'s output on the caller's index: id columns, ``prediction`` (as keel spells it),
        and for classifiers one ``proba_<class>`` column per class."""
        frame = _frames.as_frame(data)
        checked = _frames.checked(frame)
        text = [*self._id_columns(), *(["prediction"] if self.task != "regression" else [])]
        with tempfile.TemporaryDirectory(prefix="keel-predict-") as work:
            path = _frames.write(checked, work, "rows")
            out = os.path.join(work, "predictions" + (".parquet" if path.endswith(".parquet") else ".csv"))
            done = _binary.run(["predict", self.reference, path, "--out", out, *_registry(self.registry)])
            _forward(done.stderr)
            result = _frames.read(out, text)
        if len(result) != len(frame):
            raise KeelError(f"keel predict wrote {len(result)} predictions for {len(frame)} rows")
        result.index = frame.index
        return result

    def predict(self, data) -> pd.Series:
        """The predicted class (typed like the target) or value per row, on the caller's index."""
        predicted = self.predictions(data)["prediction"]
        if self.task != "regression":
            predicted = predicted.map(self._label)
        return predicted.rename(self.target)

    def predict_proba(self, data) -> pd.DataFrame:
        """One column per class (labels typed like the target) of probabilities, on the caller's index."""
        if self.task == "regression":
            raise KeelError(f"predict_proba needs a classifier; {self.reference} is a regression model")
        names = self._schema()["task"]["classes"]
        result = self.predictions(data)[["proba_" + name for name in names]].astype(float)
        result.columns = pd.Index([self._label(name) for name in names])
        return result

    def explain(self, data, top_k: int = 3) -> Explanation:
        """``keel explain``: exact Shapley attributions and ``top_k`` reason codes per direction, for every row."""
        frame = _frames.as_frame(data)
        checked = _frames.checked(frame)
        with tempfile.TemporaryDirectory(prefix="keel-explain-") as work:
            path = _frames.write(checked, work, "rows")
            done = _binary.run(["explain", self.reference, path, "--rows", f"0-{len(frame) - 1}",
                                "--top-k", str(int(top_k)), "--json", *_registry(self.registry)])
        _forward(done.stderr)
        return Explanation.from_json(json.loads(done.stdout), frame.index, self._label)

    def save(self, path) -> str:
        """Copies the model file to ``path`` (keel predict, serve and explain take it); returns the path."""
        if self._file is None:
            raise KeelError(f"no model file for {self.reference}; `keel models export` exports a registered version")
        shutil.copyfile(self._file, os.fspath(path))
        return os.fspath(path)

    # Internals.

    def _schema(self) -> dict:
        return self.info()["manifest"]["schema"]

    def _id_columns(self) -> list[str]:
        return [column["name"] for column in self._schema()["columns"] if column["role"] == "id"]

    def _label(self, name: str):
        """A class label as keel spells it, typed like the training target: boolean, number or text."""
        column = next((c for c in self._schema()["columns"] if c["name"] == self.target), {})
        if column.get("kind") == "boolean":
            return {"true": True, "false": False}.get(str(name).lower(), name)
        if column.get("kind") == "numeric" or "integer-codes" in column.get("flags", []):
            for parse in (int, float):
                try:
                    return parse(name)
                except (TypeError, ValueError):
                    pass
        return name

    def __getstate__(self) -> dict:
        state = {key: value for key, value in self.__dict__.items() if key != "_owned_folder"}
        if self._owned_folder is not None:
            with open(self._file, "rb") as file:
                state["_bytes"] = file.read()
        return state

    def __setstate__(self, state: dict) -> None:
        payload = state.pop("_bytes", None)
        self.__dict__.update(state)
        self._owned_folder = None
        if payload is not None:
            self._owned_folder = tempfile.mkdtemp(prefix="keel-model-")
            copied = os.path.join(self._owned_folder, "model.keel")
            if self.reference == self._file:  # a registered NAME@VERSION stays a reference to the registry
                self.reference = copied
            self._file = copied
            with open(self._file, "wb") as file:
                file.write(payload)
            weakref.finalize(self, shutil.rmtree, self._owned_folder, True)

    def __repr__(self) -> str:
        try:
            manifest = self.info()["manifest"]
            return (f"keel.Model({self.reference!r}: {self.task} model of {self.target!r}, {manifest.get('modelKind')}, "
                    f"cv {manifest.get('metric')} {manifest.get('crossValidatedScore'):.4g}, "
                    f"holdout {manifest.get('holdoutScore'):.4g})")
        except Exception:  # repr must not fail in a notebook
            return f"keel.Model({self.reference!r})"


def leaderboard(search: dict) -> pd.DataFrame:
    """The trials of a report's ``search`` section as a DataFrame, completed ones ranked by cv score."""
    metric = search.get("metric", "score")
    score = "cv_" + metric
    trials = pd.DataFrame([{
        "trial": trial.get("id"), "learner": trial.get("family"), "settings": trial.get("summary"),
        "status": trial.get("status"), score: trial.get("mean"), "std": trial.get("std"),
        "fit_seconds": trial.get("fitSeconds"), "predict_ms_per_1000": trial.get("predictMillisecondsPer1000"),
        "message": trial.get("message"),
    } for trial in search.get("trials", [])])
    if trials.empty:
        return trials
    for column in (score, "std"):
        trials[column] = pd.to_numeric(trials[column], errors="coerce")  # keel writes "nan" for pruned trials
    completed = trials["status"].eq("completed") & trials[score].notna()
    # The report has no ranks, so the order is the metric's direction (keel's terminal leaderboard agrees).
    ascending = metric in _LOWER_IS_BETTER
    ranked = trials[completed].sort_values([score, "trial"], ascending=[ascending, True], kind="stable")
    ranked.insert(0, "rank", pd.array(range(1, len(ranked) + 1), dtype="Int64"))
    rest = trials[~completed].assign(rank=pd.array([pd.NA] * int((~completed).sum()), dtype="Int64"))
    return pd.concat([ranked, rest[ranked.columns]], ignore_index=True)


def _registry(registry) -> list[str]:
    return ["--registry", os.fspath(registry)] if registry is not None else []


def _registered_version(name, registry) -> int:
    """The version keel train just registered under ``name``: the newest (keel's report does not say;
    only its terminal text does)."""
    listed = json.loads(_binary.run(["models", "list", str(name), "--json", *_registry(registry)]).stdout)
    return max(entry["version"] for entry in listed)


def _forward(stderr: str) -> None:
    """keel's warnings become KeelWarning; its notes go to the ``keel`` logger."""
    for line in stderr.splitlines():
        if line.startswith("warning:"):
            warn(line[len("warning:"):].strip())
        elif line.strip():
            _log.info("%s", line.strip())


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    return isinstance(dtype, pd.StringDtype) or (dtype == object and column.dropna().map(type).eq(str).all())


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]
