"""Keyword options to ``keel train`` flags: ``trials=20`` is ``--trials 20``, ``learners=["gbdt"]`` is
``--learner gbdt`` (repeated for each), ``stack=True`` is ``--stack``, ``costs=(1, 5)`` is ``--costs 1,5``,
``monotone={"age": 1}`` is ``--monotone age=+1``. Underscores become dashes; ``False`` and ``None`` leave a
flag out. Unknown names reach keel, which refuses them with its own message.
"""

from __future__ import annotations

from .errors import KeelInputError

#: Plural keyword names for repeatable flags.
_PLURALS = {"learners": "learner", "ids": "id", "features": "feature", "protected_columns": "protected",
            "categoricals": "categorical", "numerics": "numeric", "ignores": "ignore", "missing_values": "missing"}

#: Flags the package sets itself.
_RESERVED = {"out", "report", "json", "quiet", "no_registry", "format", "target", "registry", "name"}


def train_flags(options: dict) -> list[str]:
    """``keel train`` arguments for keyword ``options``."""
    flags: list[str] = []
    for key, value in options.items():
        if key in _RESERVED:
            raise KeelInputError(f"the option {key}= is set by the keel package itself; "
                                 "keel.train has its own parameter for it where one makes sense")
        flag = "--" + _PLURALS.get(key, key).replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            flags.append(flag)
        elif key == "costs":
            flags += [flag, ",".join(str(cost) for cost in value)]
        elif isinstance(value, dict):
            for column, direction in value.items():
                flags += [flag, f"{column}={direction:+d}" if isinstance(direction, int) else f"{column}={direction}"]
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            for item in items:
                flags += [flag, str(item)]
        else:
            flags += [flag, str(value)]
    return flags
