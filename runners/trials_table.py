"""trials.parquet: the trials.csv frame with fixed column types, for analysis tools.

CSV loses types: `accepted` (True / False / empty) comes back as strings or floats, a prompt id
`007` as the number 7, and every reader must guess again. Parquet keeps the types, so
`pd.read_parquet("runs/x/trials.parquet")` (no afsim import) gives the same columns with the dtypes
documented in docs/results.md: pandas' nullable `string`, `boolean`, `Int64` and `float64`.

Known columns get their declared type; columns this module does not know (`truth_*`, `sup_*`,
and whatever later versions add) are typed from their values: all booleans -> `boolean`, all
whole numbers -> `Int64`, all numbers -> `float64`, anything else -> `string`. So a mixed column
never makes pyarrow fail, and a new column never needs a change here to be written.

The file is written atomically (a temporary file in the same folder, then `os.replace`): a reader
never sees half a table, and a killed sweep leaves the previous one in place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

PARQUET_NAME = "trials.parquet"

_STRING = ("run_id", "scenario", "model", "condition", "prompt_id", "category", "key", "parse_status", "error")
_INT = ("sample", "seed", "input_tokens", "output_tokens")
_FLOAT = ("cost_usd", "latency_s")
_BOOL = ("accepted", "cached")
_SUFFIX_TYPES = {"_label": "string", "_backend": "string", "_score": "float64", "_flag": "boolean"}


def column_dtype(name: str, values: pd.Series) -> str:
    """The pandas dtype a trials column is stored with (docs/results.md lists them)."""
    if name in _STRING or name.startswith("cond_"):
        return "string"
    if name in _INT:
        return "Int64"
    if name in _FLOAT:
        return "float64"
    if name in _BOOL:
        return "boolean"
    if not name.startswith(("truth_", "sup_")):
        for suffix, dtype in _SUFFIX_TYPES.items():
            if name.endswith(suffix):
                return dtype
    return _inferred_dtype(values)


def _inferred_dtype(values: pd.Series) -> str:
    present = [v for v in values if v is not None and not (isinstance(v, float) and pd.isna(v))]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "Int64"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float64"
    return "string"


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every column converted to its documented dtype."""
    typed = {}
    for name in frame.columns:
        column = frame[name]
        dtype = column_dtype(name, column)
        if dtype == "string":
            # str() of a non-string (a list, a number in an otherwise text column), missing stays missing
            column = column.map(lambda v: v if v is None or isinstance(v, str) or (isinstance(v, float) and pd.isna(v))
                                else str(v))
        elif dtype == "boolean":
            column = column.map(lambda v: v if isinstance(v, bool) else None)
        typed[name] = column.astype(dtype)
    return pd.DataFrame(typed, index=frame.index)


def write_trials_parquet(frame: pd.DataFrame, run_dir: Path) -> Path:
    """Write `run_dir/trials.parquet` atomically; returns its path."""
    path = Path(run_dir) / PARQUET_NAME
    fd, tmp = tempfile.mkstemp(prefix=".trials-", suffix=".parquet.tmp", dir=path.parent)
    os.close(fd)
    try:
        typed_frame(frame).to_parquet(tmp, engine="pyarrow", index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
