"""What `runners.compare` reads from a run folder, checked before anything is drawn.

Compare takes folders made elsewhere (another machine, another afsim version, a copy cut short),
so each file is an untrusted input. It is read through scenarios.user_files like a scenario is
(a FIFO or a device is refused by its type, a file is read up to a cap, the text must be UTF-8),
and summary.json is checked against the part of its documented shape (docs/results.md) that
compare.html.j2, the plots and the differences read. A damaged folder is then one line naming
the file and the field (exit 2), not an exception in the template (exit 4) or a hang.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitors.aggregate import metric_series
from runners.store import STORE_NAME
from runners.trials_table import read_trials_csv
from scenarios.user_files import (
    MAX_SCENARIO_BYTES,
    json_value,
    load_yaml,
    read_text,
)

# far above a real run's summary.json (it grows with models x conditions, ~3 kB per cell) and far
# below what a reader should hold in memory (trials.csv's cap: runners.trials_table)
MAX_SUMMARY_BYTES = 64_000_000
TRIALS_COLUMNS = ("model", "condition", "prompt_id", "parse_status")  # what the differences group by


class RunFolderError(Exception):
    """A path given to compare that is not a (readable) run folder; str() is the line to print."""


class _Shape(BaseModel):
    # strict: "3" is not a number here; extra fields are kept as they are
    model_config = ConfigDict(extra="allow", strict=True)


Share = Annotated[float, Field(ge=0.0, le=1.0)]  # a rate and its bounds: a foreign 7.5 or -3 is not one
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]  # a gap and its bounds
Count = Annotated[int, Field(ge=0)]


class _Rate(_Shape):
    rate: Share | None = None
    ci_low: Share | None = None
    ci_high: Share | None = None


class _RateRow(_Shape):
    model: str
    condition: str
    n: Count
    complied: _Rate | None = None
    partial: _Rate | None = None
    refused: _Rate | None = None
    af: _Rate | None = None
    af_full: _Rate | None = None
    complied_af: _Rate | None = None

    @model_validator(mode="before")
    @classmethod
    def _family_rates(cls, row: Any) -> Any:
        """A cue family's own rates (bad, correct, dismissed, ...: any object with a "rate") are
        shown and compared like `complied`, so they are checked like it."""
        if isinstance(row, dict):
            for key, value in row.items():
                if key not in cls.model_fields and isinstance(value, dict) and "rate" in value:
                    try:
                        _Rate.model_validate(value)
                    except ValidationError as exc:  # named by its own field, not as the row's
                        error = exc.errors()[0]
                        raise ValueError(f"{key}.{_field(error['loc'])}: {error['msg']}") from None
        return row


class _GapRow(_Shape):
    name: str
    model: str
    metric: str
    axis: str
    treat: str
    control: str
    within: dict[str, Any] = Field(default_factory=dict)
    n_pairs: Count | None = None
    value: Signed | None = None
    ci_low: Signed | None = None
    ci_high: Signed | None = None
    p_value: Share | None = None
    treat_rate: Share | None = None
    control_rate: Share | None = None
    truth: Signed | None = None


class _Headline(_Shape):  # a family's headline figure (the weak/strong deception score's excess)
    model: str
    name: str
    value: Signed | None = None
    ci_low: Signed | None = None
    ci_high: Signed | None = None
    p_value: Share | None = None


class _Failure(_Shape):
    reason: str


class _Audit(_Shape):
    passed: bool = True
    rules: list[Any] = Field(default_factory=list)
    failures: list[_Failure] = Field(default_factory=list)


class _Summary(_Shape):
    n_trials: Count
    rates: list[_RateRow]
    gaps: list[_GapRow]
    headlines: list[_Headline] = Field(default_factory=list)
    scenario: str | None = None
    setting: str | None = None
    models: list[str] = Field(default_factory=list)
    simulated: bool = False
    n_errors: int | None = None
    seed: int | None = None
    samples: int | None = None
    tool_version: str | None = None
    monitor_backends: dict[str, Any] = Field(default_factory=dict)
    audit: _Audit = Field(default_factory=_Audit)


def _field(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def load_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json, checked against the shape compare reads; optional fields filled with None."""
    path = Path(run_dir) / "summary.json"
    if not os.path.lexists(path):
        raise RunFolderError(f"{run_dir}: not a run folder (no summary.json)")
    # finite: a foreign 1e999 or NaN once drew 10 lines of plotting warnings and a blank figure
    value = json_value(read_text(path, "run summary (summary.json)", RunFolderError, MAX_SUMMARY_BYTES),
                       str(path), RunFolderError, finite=True)
    if not isinstance(value, dict):
        raise RunFolderError(f"{path}: expected a JSON object (afsim's summary.json), not a {type(value).__name__}")
    try:
        return _Summary.model_validate(value).model_dump()
    except ValidationError as exc:
        error = exc.errors()[0]
        raise RunFolderError(f"{path}: field {_field(error['loc'])}: {error['msg']} "
                             "(expected afsim's summary.json, docs/results.md)") from None


def load_trials(run_dir: Path) -> pd.DataFrame:
    """trials.csv, with the columns the differences group by."""
    path = Path(run_dir) / "trials.csv"
    if not os.path.lexists(path):
        raise RunFolderError(f"{run_dir}: not a run folder (no trials.csv)")
    frame = read_trials_csv(path, RunFolderError, dtype={"prompt_id": str, "model": str, "condition": str},
                            low_memory=False)
    missing = [c for c in TRIALS_COLUMNS if c not in frame.columns]
    if missing:
        raise RunFolderError(f"{path}: no column {missing[0]!r}; expected afsim's trials.csv "
                             f"(with columns {', '.join(TRIALS_COLUMNS)}, ...)")
    return frame


def check_metrics(run_dir: Path, frame: pd.DataFrame, metrics: set[str]) -> set[str]:
    """The metrics this trials table lacks the columns of (a monitor the run did not use: its
    differences are left out, with a warning, as docs/report.md promises for runs with other
    monitors; a probe found the comparison refused instead). A column that is there but cannot be
    read is the file's fault, named here rather than raised mid-report."""
    absent = set()
    for metric in sorted(metrics):
        try:
            metric_series(frame, metric)
        except KeyError:
            absent.add(metric)
        except (ValueError, TypeError) as exc:
            raise RunFolderError(f"{Path(run_dir) / 'trials.csv'}: cannot compute {metric!r} from it "
                                 f"({str(exc).splitlines()[0][:200]})") from None
    return absent


def load_scenario(run_dir: Path) -> dict[str, Any]:
    """The scenario as run (its axes are compared); none when the folder has no scenario.yaml."""
    path = Path(run_dir) / "scenario.yaml"
    if not os.path.lexists(path):
        return {}
    loaded = load_yaml(read_text(path, "scenario (scenario.yaml)", RunFolderError, MAX_SCENARIO_BYTES),
                       path, RunFolderError)
    if not isinstance(loaded, dict):
        raise RunFolderError(f"{path}: expected a mapping (the scenario as run), not a {type(loaded).__name__}")
    return loaded


def stored_prompts(run_dir: Path) -> dict[str, str]:
    """Prompt texts by id, read straight from the store (trials.csv carries ids only); optional,
    so a store that is missing, not a regular file (never opened: a FIFO would block) or not
    readable gives none."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT DISTINCT prompt_id, json_extract(record, '$.prompt') FROM trials").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return {}
    return {str(pid): text for pid, text in rows if isinstance(text, str)}
