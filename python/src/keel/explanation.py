"""``Model.explain``'s result: keel explain's per-row attributions and reason codes as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd


@dataclass
class Explanation:
    """Exact Shapley attributions and reason codes for some rows, on the caller's index.

    ``attributions``: one row per explained row, one column per data column, in the model's margin
    (``units``: log-odds for classifiers, target units for regression); ``base`` + the row's sum is its
    ``margin``. ``rows``: prediction, probability (classifiers), margin, base and the explained class.
    ``reasons``: one row per reason code, ``direction`` up or down, ranked within the row.
    ``raw``: keel explain's JSON document as it came.
    """

    task: str
    target: str
    units: str
    classes: list = field(default_factory=list)
    attributions: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, document: dict, index: pd.Index, label: Callable[[str], object]) -> "Explanation":
        """Builds the DataFrames from keel explain's ``--json`` document; ``row`` n is ``index[n]``."""
        explained = document.get("rows", [])
        labels = [index[row["row"]] for row in explained]
        frame_index = pd.Index(labels, name=index.name)
        attributions = pd.DataFrame([row.get("attributions", {}) for row in explained], index=frame_index)
        summary = pd.DataFrame({
            "prediction": [_label(row.get("prediction"), label) for row in explained],
            "probability": [row.get("probability") for row in explained],
            "margin": [row.get("margin") for row in explained],
            "base": [row.get("base") for row in explained],
            "explained_class": [_label(row.get("explained_class"), label) for row in explained],
        }, index=frame_index)
        if document.get("task") == "regression":
            summary = summary.drop(columns=["probability", "explained_class"])
        reasons = []
        for at, row in zip(labels, explained):
            for direction in ("up", "down"):
                for rank, reason in enumerate(row.get(direction, []), start=1):
                    reasons.append({"row": at, "direction": direction, "rank": rank, "column": reason.get("column"),
                                    "value": reason.get("value"), "attribution": reason.get("attribution"),
                                    "probability_change": reason.get("probability_change"), "text": reason.get("text")})
        columns = ["row", "direction", "rank", "column", "value", "attribution", "probability_change", "text"]
        return cls(task=document.get("task", ""), target=document.get("target", ""), units=document.get("units", ""),
                   classes=[label(name) for name in document.get("classes", [])], attributions=attributions,
                   rows=summary, reasons=pd.DataFrame(reasons, columns=columns), notes=document.get("notes", []),
                   raw=document)

    def __repr__(self) -> str:
        return (f"Explanation({len(self.rows)} rows of a {self.task} model of {self.target!r}, "
                f"attributions in {self.units}, {len(self.reasons)} reason codes)")


def _label(value, label: Callable[[str], object]):
    return None if value is None else label(value)
