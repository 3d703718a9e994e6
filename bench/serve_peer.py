"""The Python peer of bench/serve.sh: LightGBM behind FastAPI + uvicorn, the usual way to serve a model in
Python. `train` fits 500 trees on the bundled example data and saves the booster and category codes;
`app` is the ASGI application (uvicorn serve_peer:app --workers 2), with a bearer key and pydantic
validation, answering like Keel's POST /v1/predict. Requests are scored through numpy, not a DataFrame, so
the peer is as fast as plain Python serving gets."""
import datetime
import json
import os
import sys

import numpy as np

CATEGORICAL = ["plan", "internet", "region", "contract"]
NUMERIC = ["monthly_fee", "tenure_months", "support_calls", "usage_hours", "satisfaction"]
DATES = ["snapshot_month", "signup_date"]
FEATURES = DATES + CATEGORICAL + NUMERIC + ["autopay"]
STATE = os.environ.get("PEER_STATE", "bench/out/serve/peer")


def days(text):
    return (datetime.date.fromisoformat(text) - datetime.date(1970, 1, 1)).days if text else np.nan


def train(csv_path):
    import lightgbm as lgb
    import pandas as pd

    frame = pd.read_csv(csv_path)
    codes = {c: sorted(frame[c].dropna().astype(str).unique().tolist()) for c in CATEGORICAL}
    x = np.empty((len(frame), len(FEATURES)))
    for j, name in enumerate(FEATURES):
        column = frame[name]
        if name in DATES:
            x[:, j] = [days(v) if isinstance(v, str) else np.nan for v in column]
        elif name in CATEGORICAL:
            index = {level: i for i, level in enumerate(codes[name])}
            x[:, j] = [index.get(str(v), np.nan) if isinstance(v, str) else np.nan for v in column]
        elif name == "autopay":
            x[:, j] = column.map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0}).astype(float)
        else:
            x[:, j] = column.astype(float)
    y = (frame["churned"] == "yes").astype(int).to_numpy()
    booster = lgb.train({"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "verbose": -1},
                        lgb.Dataset(x, y, categorical_feature=[FEATURES.index(c) for c in CATEGORICAL]), num_boost_round=500)
    os.makedirs(STATE, exist_ok=True)
    booster.save_model(f"{STATE}/model.txt")
    with open(f"{STATE}/codes.json", "w") as f:
        json.dump(codes, f)
    print(f"trained {booster.num_trees()} trees")


def make_app():
    from typing import Optional

    import lightgbm as lgb
    from fastapi import FastAPI, Header, HTTPException
    from pydantic import BaseModel, ConfigDict

    booster = lgb.Booster(model_file=f"{STATE}/model.txt")
    codes = json.load(open(f"{STATE}/codes.json"))
    index = {c: {level: float(i) for i, level in enumerate(levels)} for c, levels in codes.items()}
    key = os.environ["PEER_KEY"]

    class Row(BaseModel):
        model_config = ConfigDict(extra="forbid")
        customer_id: Optional[str] = None
        snapshot_month: str
        signup_date: str
        plan: str
        internet: Optional[str] = None
        region: Optional[str] = None
        monthly_fee: float
        tenure_months: float
        support_calls: float
        usage_hours: Optional[float] = None
        autopay: Optional[bool] = None
        satisfaction: Optional[float] = None
        contract: str

    app = FastAPI()

    @app.post("/v1/predict")
    def predict(row: Row, authorization: Optional[str] = Header(None)):
        if authorization != f"Bearer {key}":
            raise HTTPException(status_code=401, detail="unauthorized")
        values = [days(row.snapshot_month), days(row.signup_date)]
        for c in CATEGORICAL:
            level = getattr(row, c)
            values.append(index[c].get(level, np.nan) if level is not None else np.nan)
        values += [np.nan if getattr(row, n) is None else getattr(row, n) for n in NUMERIC]
        values.append(np.nan if row.autopay is None else float(row.autopay))
        p = float(booster.predict(np.array([values]))[0])
        return {"model": {"name": "churn", "version": "lightgbm"},
                "predictions": [{"prediction": "yes" if p >= 0.5 else "no", "probabilities": {"no": 1 - p, "yes": p}}]}

    return app


if __name__ == "__main__" and sys.argv[1] == "train":
    train(sys.argv[2])
elif __name__ != "__main__":
    app = make_app()
