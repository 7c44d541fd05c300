"""trials.parquet: the trials.csv frame with fixed column types, for analysis tools.

CSV loses types: `accepted` (True / False / empty) comes back as strings or floats, a prompt id
`007` as the number 7, and every reader must guess again. Parquet keeps the types, so
`pd.read_parquet("runs/x/trials.parquet")` (no afsim import) gives the same columns with the dtypes
documented in docs/results.md: pandas' nullable `string`, `boolean`, `Int64` and `float64`.

Known columns get their declared type; columns this module does not know (`truth_*`, `sup_*`,
and whatever later versions add) are typed from their values: all booleans -> `boolean`, all
whole numbers -> `Int64`, all numbers -> `float64`, anything else -> `string`. So a mixed column
never makes pyarrow fail, and a new column never needs a change here to be written.

A stored flat row whose values do not have their column's type (a number column holding text, a
row missing its model, a list where a flat row has only single values) cannot be typed, aggregated
or written: `readable_row_sql` and `row_fits`
say which rows fit, one rule in SQL (the store's readable-row filter) and in Python (full records
checked where they are parsed), so such a row counts as damaged, like a row that is not JSON.

The file is written atomically (a temporary file in the same folder, then `os.replace`): a reader
never sees half a table, and a killed sweep leaves the previous one in place.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from scenarios.user_files import check_regular_file

PARQUET_NAME = "trials.parquet"
# far above a real run's trials.csv (~600 bytes a trial) and far below what a reader should hold in memory
MAX_TRIALS_CSV_BYTES = 1_000_000_000

_STRING = ("run_id", "scenario", "model", "condition", "prompt_id", "category", "key", "parse_status", "error")
_INT = ("sample", "seed", "input_tokens", "output_tokens")
_FLOAT = ("cost_usd", "latency_s")
_BOOL = ("accepted", "cached", "complied")
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


# the JSON types (SQLite's json_type names) a column may hold, by dtype; the keys a row is grouped
# by must be present
_JSON_TYPES = {"string": ("text", "null"), "Int64": ("integer", "null"), "float64": ("integer", "real", "null"),
               "boolean": ("true", "false", "null")}
_KEYS = {"model": ("text",), "condition": ("text",), "prompt_id": ("text",), "parse_status": ("text",),
         "sample": ("integer",)}
_FIXED = {**{name: _JSON_TYPES["string"] for name in _STRING}, **{name: _JSON_TYPES["Int64"] for name in _INT},
          **{name: _JSON_TYPES["float64"] for name in _FLOAT}, **{name: _JSON_TYPES["boolean"] for name in _BOOL}, **_KEYS}
# monitor columns: a label or backend that is a number is typed as its str() and read as "not this
# label"; checking them too would cost 1.5 s more per 100k rows (the check below is per column)
_BY_SUFFIX = {suffix: _JSON_TYPES[dtype] for suffix, dtype in _SUFFIX_TYPES.items() if dtype != "string"}
_BY_PREFIX = {"cond_": ("text",)}  # a condition's axis values are strings (scenarios/schema.py)
_UNTYPED_PREFIXES = ("truth_", "sup_")  # typed from their values: any single value fits


# the types json.loads gives, looked up at once (row_fits runs per value of every record read);
# anything else goes through the isinstance chain below
_EXACT_JSON_TYPES = {type(None): "null", int: "integer", float: "real", str: "text", list: "array", dict: "object"}


def _json_type(value: object) -> str:
    exact = _EXACT_JSON_TYPES.get(type(value))
    if exact is not None:
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "text"
    return "array" if isinstance(value, list) else "object"


@lru_cache(maxsize=4096)
def _column_types(name: str) -> frozenset[str] | None:
    """The JSON types column `name` may hold besides the fixed columns' own rule (its prefix's, and
    its suffix's unless it is fixed or exempt), or None for any single value. Cached per name: the
    same few dozen names repeat in every row, and the per-row prefix and suffix scan cost ~30 µs a
    row where report rendering reads every record."""
    allowed: set[str] | None = None
    for prefix, types in _BY_PREFIX.items():
        if name.startswith(prefix):
            allowed = set(types) if allowed is None else allowed & set(types)
    if not (name in _FIXED or name.startswith((*_BY_PREFIX, *_UNTYPED_PREFIXES))):
        for suffix, types in _BY_SUFFIX.items():
            if name.endswith(suffix):
                allowed = set(types) if allowed is None else allowed & set(types)
    return None if allowed is None else frozenset(allowed)


def row_fits(row: object) -> bool:
    """`row` (a parsed flat row) holds single values only, of its column's type in typed columns."""
    if not isinstance(row, dict):
        return False
    if any(_json_type(row.get(name)) not in allowed for name, allowed in _FIXED.items()):
        return False
    for name, value in row.items():
        if isinstance(value, dict | list):
            return False
        allowed = _column_types(name)
        if allowed is not None and _json_type(value) not in allowed:
            return False
    return True


def readable_row_sql(column: str = "row") -> str:
    """`row_fits` as an SQL condition on a JSON text column known to be valid JSON. The columns
    named by a prefix or suffix (`cond_*`, `*_score`, `*_flag`) are found with json_each, about
    30 µs a row: a 100k-trial store takes ~3 s more per read (the named columns alone cost 0.4 s,
    but a misfit score or condition would then pass here and fail the typing or the summary)."""

    def one_of(types: tuple[str, ...]) -> str:
        return "(" + ", ".join(f"'{t}'" for t in dict.fromkeys(types)) + ")"

    fixed = [f"IFNULL(json_type({column}, '$.{name}'), 'null') IN {one_of(allowed)}" for name, allowed in _FIXED.items()]
    def starts(prefix: str) -> str:
        return f"substr(key, 1, {len(prefix)}) = '{prefix}'"

    by_prefix = [f"{starts(prefix)} AND type NOT IN {one_of(allowed)}" for prefix, allowed in _BY_PREFIX.items()]
    by_suffix = " OR ".join(f"substr(key, -{len(suffix)}) = '{suffix}' AND type NOT IN {one_of(allowed)}"
                            for suffix, allowed in _BY_SUFFIX.items())
    exempt = " OR ".join([*(starts(p) for p in (*_BY_PREFIX, *_UNTYPED_PREFIXES)), f"key IN {one_of(tuple(_FIXED))}"])
    misfit = " OR ".join(["type IN ('array', 'object')", *by_prefix, f"({by_suffix}) AND NOT ({exempt})"])
    suffixed = f"NOT EXISTS (SELECT 1 FROM json_each({column}) WHERE {misfit})"
    return "(" + " AND ".join([*fixed, suffixed]) + ")"


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


def read_trials_csv(path: Path, error: Callable[[str], Exception], **read_options: Any) -> pd.DataFrame:
    """A trials.csv the user points a tool at (another machine's, a damaged copy) as a frame; a file
    pandas cannot read (not UTF-8, an unterminated quote, empty) is one line naming it, raised as
    `error`, instead of a pandas exception reported as a bug."""
    check_regular_file(path, "trials table (trials.csv)", error)
    if path.stat().st_size > MAX_TRIALS_CSV_BYTES:
        raise error(f"{path}: larger than {MAX_TRIALS_CSV_BYTES:,} bytes; expected a trials table (is this the right file?)")
    try:
        _check_row_lengths(path, error)
        return pd.read_csv(path, **read_options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise error(f"{path}: not a readable trials table ({str(exc).splitlines()[0]})") from None


def _check_row_lengths(path: Path, error: Callable[[str], Exception]) -> None:
    """Every record has as many fields as the header. pandas refuses a longer row but pads a shorter
    one with missing values, so a cut or hand-edited line was read as a trial (found by a bad-input
    fuzz: `x,y` became a trial of model 'x' in condition 'y' in compare and condition_errors)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_TRIALS_CSV_BYTES)  # a reply's text may exceed the default 131,072
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    raise error(f"{path}:{reader.line_num}: {len(row)} fields, the header has {len(header)}; "
                                "expected afsim's trials.csv (a cut or edited line?)")
    finally:
        csv.field_size_limit(limit)


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


# columns whose text a server chose (its stop reason, its error message, notes quoting its values, the
# model it says answered: a reply's `model` field reached trials.csv as `=HYPERLINK(...)`, found by
# benchmarks/hostile_replies_fuzz.py); columns ending `_raw` are added (a model's raw text)
SERVER_TEXT_COLUMNS = ("stop_reason", "error", "repairs", "served_model")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame for trials.csv, with a server's text that a spreadsheet would run as a formula
    (`=HYPERLINK(...)` as a stop reason) prefixed with `'` (OWASP's CSV-injection advice).
    trials.parquet keeps the text as it came."""
    out = frame
    # and any raw text a model wrote into a column (a supervisor's grade: `sup_grade_raw`)
    for column in [*SERVER_TEXT_COLUMNS, *(c for c in frame.columns if str(c).endswith("_raw"))]:
        if column not in frame:
            continue
        values = frame[column]
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START)).astype(bool)
        if risky.any():
            out = out.copy() if out is frame else out
            out[column] = [f"'{v}" if r else v for v, r in zip(values, risky, strict=True)]
    # a carriage return inside a field: the csv writer quotes a field holding "\n" but not one holding a
    # lone "\r", which readers take for the end of the row. A server's `model` of "evil\r..." (kept by
    # clean_text, which keeps line breaks) split its row: runners.compare refused the run folder and
    # pandas read more rows than trials (hostile-server probe). Written as a line break, it is quoted.
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        try:
            has_cr = values.str.contains("\r", regex=False, na=False).astype(bool)
        except AttributeError:  # no text in the column (.str refuses it)
            continue
        if has_cr.any():
            out = out.copy() if out is frame else out
            out[column] = [v.replace("\r\n", "\n").replace("\r", "\n") if r else v
                           for v, r in zip(values, has_cr, strict=True)]
    return out
