"""Keel from Python: pandas in, keel's models out.

A thin layer over the ``keel`` binary (``$KEEL_BIN``, else ``keel`` on ``PATH``): DataFrames go to
keel as Parquet (with pyarrow) or CSV files in a temporary folder, and its results come back as
DataFrames and dicts. ``keel.sklearn`` has scikit-learn estimators, ``keel.Client`` talks to
``keel serve``, ``keel.mlflow`` logs models and runs to MLflow.

>>> import keel
>>> model = keel.train(df, target="churned", trials=20)
>>> model.leaderboard()
>>> model.predict_proba(new_rows)
>>> model.explain(new_rows.head(3)).reasons
"""

from .client import Client
from .errors import (KeelCommandError, KeelDataError, KeelError, KeelInputError, KeelNotFoundError,
                     KeelServerError, KeelVersionError, KeelWarning)
from .explanation import Explanation
from .model import Model, train

__version__ = "0.1.0"

__all__ = ["Client", "Explanation", "KeelCommandError", "KeelDataError", "KeelError", "KeelInputError",
           "KeelNotFoundError", "KeelServerError", "KeelVersionError", "KeelWarning", "Model", "train"]
