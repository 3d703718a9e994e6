"""``keel.Client``: predictions, explanations and feedback from a running ``keel serve``.

Standard library HTTP only. A DataFrame is sent in batches of at most ``batch_rows`` rows (the server's
``--max-rows``, 1000 by default; explanations 200); the answers come back as one DataFrame on the
caller's index. An error response raises KeelServerError with the server's ``code``, ``field``,
``row`` (counted in the caller's rows, not the batch's) and ``message``.
"""

from __future__ import annotations

import datetime
import json
import math
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd

from .errors import KeelError, KeelInputError, KeelServerError
from .explanation import Explanation


class Client:
    """A client of ``keel serve`` at ``url``; ``key`` is an API key (``keel keys create``) when the server has keys.

    ``model`` names a registered model when the server runs with ``--registry`` (then requests go to
    ``/v1/models/NAME/…``).
    """

    def __init__(self, url: str, key: str | None = None, *, model: str | None = None, timeout: float = 30.0,
                 batch_rows: int = 1000, explain_batch_rows: int = 200):
        self.url = url.rstrip("/")
        self.key = key
        self.model_name = model
        self.timeout = timeout
        self.batch_rows = batch_rows
        self.explain_batch_rows = explain_batch_rows

    def predict(self, rows) -> pd.DataFrame:
        """Predictions for ``rows`` (a DataFrame, a dict for one row, or a list of dicts).

        Columns: ``prediction``, for classifiers ``proba_<class>`` per class, ``warnings`` (the inputs
        training never saw), and ``request_id`` and ``request_row`` (what ``feedback`` needs).
        """
        frame = _frame(rows)
        records = []
        for start, batch in _batches(frame, self.batch_rows):
            answer = self._post(self._path("predict"), {"rows": _records(batch)}, offset=start)
            for row, item in enumerate(answer["predictions"]):
                record = {"prediction": item.get("prediction")}
                for name, probability in (item.get("probabilities") or {}).items():
                    record["proba_" + name] = probability
                record.update(warnings=item.get("warnings", []), request_id=answer.get("request_id"), request_row=row)
                records.append(record)
        return pd.DataFrame(records, index=frame.index)

    def explain(self, rows) -> Explanation:
        """Attributions and reason codes for ``rows`` from ``POST /v1/explain`` (the rows of ``keel explain --json``)."""
        frame = _frame(rows)
        explained, document = [], {}
        for start, batch in _batches(frame, self.explain_batch_rows):
            document = self._post(self._path("explain"), {"rows": _records(batch)}, offset=start)
            explained += [{**item, "row": item.get("row", k) + start} for k, item in enumerate(document["explanations"])]
        document = {**document, "rows": explained}
        # keel writes a regression's explained prediction as text (its predict endpoint, as a number).
        label = float if document.get("task") == "regression" else (lambda name: name)
        return Explanation.from_json(document, frame.index, label)

    def feedback(self, request_id, label=None, row: int = 0) -> int:
        """Stores true outcomes for logged predictions (the server needs ``--log-predictions``).

        Either one: ``feedback("ab12-3", "yes", row=0)``, or many: ``feedback(predictions, labels)`` with
        the DataFrame ``predict`` returned and one label per row, in its order. Returns how many were accepted.
        The server writes its prediction log in the background: a label sent right after its prediction may
        get ``unknown_prediction`` (404) until the prediction is written; send it again shortly.
        """
        if isinstance(request_id, pd.DataFrame):
            labels = list(label)
            if len(labels) != len(request_id):
                raise KeelInputError(f"{len(labels)} labels for {len(request_id)} predictions; give one per row, in order")
            items = [{"request_id": str(rid), "row": int(at), "label": _json_value(value)}
                     for rid, at, value in zip(request_id["request_id"], request_id["request_row"], labels)]
        else:
            items = [{"request_id": str(request_id), "row": int(row), "label": _json_value(label)}]
        accepted = 0
        for start in range(0, len(items), self.batch_rows):
            accepted += self._post("/v1/feedback", {"feedback": items[start:start + self.batch_rows]}, offset=start)["accepted"]
        return accepted

    def model(self) -> dict:
        """The served model's manifest (``GET /v1/model``, or ``/v1/models/NAME``)."""
        path = f"/v1/models/{urllib.parse.quote(self.model_name)}" if self.model_name else "/v1/model"
        return self._request("GET", path, None, 0)

    def health(self) -> bool:
        """Whether ``/readyz`` answers 200 (a model is loaded and the server takes requests)."""
        try:
            self._request("GET", "/readyz", None, 0)
        except KeelError:
            return False
        return True

    def _path(self, action: str) -> str:
        return f"/v1/models/{urllib.parse.quote(self.model_name)}/{action}" if self.model_name else f"/v1/{action}"

    def _post(self, path: str, body: dict, offset: int) -> dict:
        return self._request("POST", path, body, offset)

    def _request(self, method: str, path: str, body, offset: int) -> dict:
        data = json.dumps(body, allow_nan=False).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise _server_error(error, offset) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise KeelError(f"cannot reach keel serve at {self.url}: {reason}") from None
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            return {"text": text}

    def __repr__(self) -> str:
        return f"keel.Client({self.url!r}" + (f", model={self.model_name!r}" if self.model_name else "") + ")"


def _server_error(error: urllib.error.HTTPError, offset: int) -> KeelServerError:
    text = error.read().decode("utf-8", errors="replace")
    request_id = error.headers.get("X-Request-Id") if error.headers else None
    try:
        body = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return KeelServerError(error.code, "http_error", text.strip()[:500] or str(error.reason), request_id=request_id)
    row = body.get("row")
    return KeelServerError(error.code, body.get("code", "unknown"), body.get("message", ""), field=body.get("field"),
                           row=row + offset if isinstance(row, int) else row, request_id=request_id)


def _frame(rows) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, dict):
        return pd.DataFrame([rows])
    if isinstance(rows, list):
        return pd.DataFrame(rows)
    raise KeelError(f"rows must be a DataFrame, a dict or a list of dicts (got {type(rows).__name__})")


def _batches(frame: pd.DataFrame, size: int):
    if len(frame) == 0:
        raise KeelError("no rows to send")
    for start in range(0, len(frame), size):
        yield start, frame.iloc[start:start + size]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON objects: missing values as null, datetimes in ISO 8601, numpy scalars as numbers."""
    names = [str(name) for name in frame.columns]
    return [{name: _json_value(value) for name, value in zip(names, values)}
            for values in frame.itertuples(index=False, name=None)]


def _json_value(value):
    if value is None or (not isinstance(value, (list, dict, str)) and _is_missing(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise KeelInputError(f"{value} cannot be sent as JSON: keel serve takes finite numbers, or null for missing")
    return value


def _is_missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
