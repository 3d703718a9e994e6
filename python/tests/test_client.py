"""keel.Client against a real ``keel serve``, started on a free loopback port and stopped after."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

import keel


@contextlib.contextmanager
def serving(model_path: str, *flags: str, log_file):
    """Runs ``keel serve MODEL --port 0`` and yields its URL, from the line it prints on standard error
    (the rest of which goes to ``log_file``)."""
    process = subprocess.Popen([keel._binary.find_binary(), "serve", model_path, "--host", "127.0.0.1", "--port", "0", *flags],
                               stdout=log_file, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in process.stderr:
            log_file.write(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=30)
            assert line is not None, f"keel serve exited with code {process.wait()} before listening"
            found = re.search(r"listening on (http://\S+)", line)
            url = found[1] if found else None
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, mixed_model) -> str:
    return mixed_model.save(tmp_path_factory.mktemp("served") / "churn.keel")


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_file):
    folder = tmp_path_factory.mktemp("server")
    with open(folder / "serve.log", "w") as log, \
            serving(model_file, "--log-predictions", "--registry-path", str(folder / "registry"), log_file=log) as url:
        yield url


@pytest.fixture()
def rows(mixed) -> pd.DataFrame:
    return mixed.iloc[300:330].drop(columns="churned")


def test_predictions_match_keel_predict_on_the_callers_index(server, rows, mixed_model):
    answer = keel.Client(server).predict(rows)
    assert answer.index.equals(rows.index)
    expected = mixed_model.predictions(rows)
    assert (answer["prediction"] == expected["prediction"]).all()
    np.testing.assert_allclose(answer[["proba_no", "proba_yes"]], expected[["proba_no", "proba_yes"]], atol=1e-9)
    assert answer["request_id"].nunique() == 1 and list(answer["request_row"]) == list(range(len(rows)))


def test_rows_are_sent_in_batches_and_errors_name_the_callers_row(server, rows):
    client = keel.Client(server, batch_rows=7)
    assert len(client.predict(rows)) == len(rows)
    broken = rows.astype({"amount": object})
    broken.iloc[11, broken.columns.get_loc("amount")] = "lots"
    with pytest.raises(keel.KeelServerError) as caught:
        client.predict(broken)
    error = caught.value
    assert (error.status, error.code, error.field, error.row) == (422, "wrong_type", "amount", 11)
    assert "'amount' must be a number" in error.message and error.request_id
    assert str(error).startswith("keel serve answered 422 wrong_type (field 'amount', row 11): ")


def test_a_missing_required_field_is_a_server_error(server, rows):
    with pytest.raises(keel.KeelServerError) as caught:
        keel.Client(server).predict(rows.drop(columns="plan"))
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "missing_field", "plan")


def test_explain_and_model(server, rows, mixed_model):
    client = keel.Client(server)
    explanation = client.explain(rows.head(3))
    assert explanation.attributions.index.equals(rows.head(3).index)
    local = mixed_model.explain(rows.head(3))
    np.testing.assert_allclose(explanation.rows["margin"], local.rows["margin"], atol=1e-9)
    assert client.model()["manifest"]["schema"]["target"] == "churned"
    assert client.health()


def test_feedback_labels_logged_predictions(server, rows, mixed):
    client = keel.Client(server)
    answer = client.predict(rows.head(5))
    # The server writes its prediction log in the background: a label may wait for its prediction.
    deadline = time.monotonic() + 15
    while True:
        try:
            accepted = client.feedback(answer, mixed.loc[answer.index, "churned"])
            break
        except keel.KeelServerError as error:
            if error.code != "unknown_prediction" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert accepted == 5
    assert client.feedback(answer["request_id"].iloc[0], "yes", row=0) == 1
    with pytest.raises(keel.KeelServerError) as caught:
        client.feedback("no-such-request", "yes")
    assert (caught.value.status, caught.value.code, caught.value.field) == (404, "unknown_prediction", "request_id")


def test_a_server_with_keys_needs_one(tmp_path, model_file, rows):
    keys = tmp_path / "api-keys.json"
    created = subprocess.run([keel._binary.find_binary(), "keys", "create", "--role", "predict", "--keys-file", str(keys)],
                             capture_output=True, text=True, check=True)
    key = created.stdout.strip().splitlines()[-1]
    with open(tmp_path / "serve.log", "w") as log, serving(model_file, "--keys-file", str(keys), log_file=log) as url:
        with pytest.raises(keel.KeelServerError) as caught:
            keel.Client(url).predict(rows)
        assert caught.value.status == 401
        assert len(keel.Client(url, key=key).predict(rows)) == len(rows)


def test_no_server_is_a_keel_error():
    with pytest.raises(keel.KeelError, match="cannot reach keel serve at http://127.0.0.1:9"):
        keel.Client("http://127.0.0.1:9", timeout=2).predict({"amount": 1.0})
    assert not keel.Client("http://127.0.0.1:9", timeout=2).health()
