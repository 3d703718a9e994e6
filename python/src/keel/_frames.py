"""DataFrames to files keel reads, and keel's output files back to DataFrames.

Parquet when pyarrow is installed (keel reads it natively: types, categoricals, datetimes and missing
values arrive as they are), CSV otherwise (datetimes written in ISO 8601, missing values as empty
cells). The caller's index is never written: keel sees rows by position, and results are put back on
the caller's index.

Column types keel has no reading for are refused here, naming the column and the first offending
value: complex numbers, timedeltas, periods, intervals, and objects such as lists, dicts or bytes.
"""

from __future__ import annotations

import datetime
import numbers
import os

import numpy as np
import pandas as pd

from .errors import KeelInputError

_SCALARS = (str, bool, numbers.Real, datetime.date, np.bool_)


def parquet_available() -> bool:
    """Whether pyarrow is installed, so frames go to keel as Parquet."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def as_frame(data, what: str = "data") -> pd.DataFrame:
    """``data`` as a DataFrame: a DataFrame as is, a dict of columns or a list of row dicts converted."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (dict, list)):
        return pd.DataFrame(data)
    raise KeelInputError(f"{what} must be a pandas DataFrame (got {type(data).__name__}); "
                         "keel.sklearn's estimators take numpy arrays too")


def checked(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy ready to write: string column names, a fresh index, values keel can read; else KeelInputError."""
    if frame.shape[1] == 0:
        raise KeelInputError("the DataFrame has no columns")
    if frame.shape[0] == 0:
        # keel refuses a CSV file without data rows; as Parquet it would misreport the file as damaged.
        raise KeelInputError("the DataFrame has no rows; keel needs at least one")
    names = [str(name) for name in frame.columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise KeelInputError(f"the DataFrame has two columns named {name!r}; keel needs unique column names")
        seen.add(name)
    out = {}
    for name, (label, column) in zip(names, frame.items()):
        out[name] = _column(name, column)
    return pd.DataFrame(out).reset_index(drop=True)


def _column(name: str, column: pd.Series) -> pd.Series:
    dtype = column.dtype
    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        _categories(name, dtype)
        return column
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow(name, column)
    if isinstance(dtype, pd.SparseDtype):
        return _column(name, column.sparse.to_dense())
    if types.is_complex_dtype(dtype):
        raise _unsupported(name, column, "complex numbers", "split them into real and imaginary columns")
    if types.is_timedelta64_dtype(dtype):
        raise _unsupported(name, column, "timedeltas", "convert them to numbers, e.g. .dt.total_seconds()")
    if dtype == object:
        return _objects(name, column)
    if types.is_float_dtype(dtype) and getattr(dtype, "itemsize", 8) < 4:
        return column.astype("float32")  # Parquet has no half-precision floats keel reads
    if (types.is_bool_dtype(dtype) or types.is_numeric_dtype(dtype) or types.is_datetime64_any_dtype(dtype)
            or types.is_string_dtype(dtype)):
        return column
    raise _unsupported(name, column, f"values of dtype {dtype}", "convert them to numbers, strings or datetimes")


def _categories(name: str, dtype: pd.CategoricalDtype) -> None:
    categories = dtype.categories
    if categories.dtype == object:
        for value in categories:
            if not isinstance(value, _SCALARS):
                raise KeelInputError(f"column {name!r} is categorical with a category of type {type(value).__name__} "
                                     f"({value!r}); keel reads categories that are strings, numbers or booleans")
    elif categories.dtype.kind not in "biufMO" and not isinstance(categories.dtype, (pd.StringDtype, pd.DatetimeTZDtype)):
        raise KeelInputError(f"column {name!r} is categorical with categories of dtype {categories.dtype}; "
                             "keel reads categories that are strings, numbers, booleans or datetimes")


def _arrow(name: str, column: pd.Series) -> pd.Series:
    import pyarrow as pa
    kind = column.dtype.pyarrow_dtype
    simple = (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
              or pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_timestamp(kind)
              or pa.types.is_date(kind) or pa.types.is_dictionary(kind))
    if not simple:
        raise _unsupported(name, column, f"Arrow values of type {kind}", "convert them to numbers, strings or datetimes")
    return column


def _objects(name: str, column: pd.Series) -> pd.Series:
    """An object column: scalars only; mixed kinds (say strings and numbers) become strings."""
    present = column[column.notna()] if len(column) else column
    kinds = set()
    for label, value in present.items():
        if not isinstance(value, _SCALARS) or isinstance(value, (complex, np.complexfloating)):
            raise KeelInputError(f"column {name!r} holds a {type(value).__name__} at index {label!r} "
                                 f"({_short(value)}); keel reads strings, numbers, booleans and datetimes, "
                                 "so flatten or drop that column first")
        kinds.add(_kind(value))
    if len(kinds) <= 1:
        if kinds == {"datetime"}:
            converted = pd.to_datetime(column, errors="coerce", utc=_has_timezone(present))
            return converted
        return column
    # Mixed kinds: keel would read the column as text anyway; write every present value as its text.
    return column.map(lambda value: value if _missing(value) else str(value)).astype(object)


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, datetime.datetime):
        return "datetime"
    if isinstance(value, datetime.date):
        return "date"
    return "str"


def _has_timezone(values: pd.Series) -> bool:
    return any(getattr(value, "tzinfo", None) is not None for value in values)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unsupported(name: str, column: pd.Series, what: str, fix: str) -> KeelInputError:
    return KeelInputError(f"column {name!r} holds {what} (dtype {column.dtype}), which keel cannot read; {fix}")


def write(frame: pd.DataFrame, folder: str, stem: str) -> str:
    """Writes a ``checked`` frame into ``folder`` as ``stem.parquet`` (pyarrow) or ``stem.csv``; returns the path."""
    if parquet_available():
        path = os.path.join(folder, stem + ".parquet")
        try:
            frame.to_parquet(path, index=False)
        except Exception as error:  # pyarrow's ArrowInvalid, ArrowTypeError, ArrowNotImplementedError
            raise KeelInputError(f"cannot write the DataFrame as Parquet for keel: {error}") from None
        return path
    path = os.path.join(folder, stem + ".csv")
    csv = frame.copy()
    for name, column in csv.items():
        if column.dtype.kind == "M" or isinstance(column.dtype, pd.DatetimeTZDtype):
            csv[name] = column.map(lambda value: "" if pd.isna(value) else value.isoformat())
        elif column.dtype == object:
            csv[name] = column.map(lambda value: value.isoformat() if isinstance(value, datetime.date) else value)
    csv.to_csv(path, index=False, na_rep="")
    return path


def read(path: str, text_columns: list[str]) -> pd.DataFrame:
    """Reads keel's output (Parquet or CSV); ``text_columns`` keep their spelling (labels such as ``01``)."""
    if path.endswith(".parquet"):
        frame = pd.read_parquet(path)
        for name in text_columns:
            if name in frame.columns:
                frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
        return frame
    return pd.read_csv(path, dtype={name: str for name in text_columns}, keep_default_na=False,
                       na_values=[""])
