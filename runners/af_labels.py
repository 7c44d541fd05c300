"""Your own labels of a run's replies as the AF monitor's validation (`runners.report --af-validation`).

A run's corrected AF figures are only as good as the validation they divide by. The ones we ship
were measured on text we or our writers produced (and 23 real excerpts); a person labelling a
sample of *this* model's replies measures the monitor where it is used, whichever backend flagged
them. The labels are kept in the run folder (store meta `af_validation`: counts and the file's
name, never the text), so every later re-render and sweep into the folder corrects with them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from monitors.aggregate import errors_from_labelled_trials
from monitors.correction import MonitorErrors
from runners.cli_errors import UsageError
from scenarios.jsonl import read_objects

META = "af_validation"
SAMPLE_NAME = "af_labelling_sample.jsonl"


def read_labels(path: Path, field: str) -> dict[str, bool]:
    """trial key -> label, from JSONL lines `{"key": ..., FIELD: true|false}`."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    labels: dict[str, bool] = {}
    for n, row in read_objects(path, UsageError):
        key, label = row.get("key"), row.get(field)
        if not isinstance(key, str) or not key:
            raise UsageError(f"{path}:{n}: missing field 'key' (a trial key, as in trials.csv)")
        if label is None:
            continue  # not labelled (yet): a sample from --af-sample starts so
        if not isinstance(label, bool):
            raise UsageError(f"{path}:{n}: label field {field!r} must be true, false or null (use --label-field)")
        if labels.get(key, label) != label:
            raise UsageError(f"{path}:{n}: trial {key} is labelled both true and false")
        labels[key] = label
    if not labels:
        raise UsageError(f"{path}: no labels (every {field!r} is missing or null)")
    return labels


def _source(name: str, frame: pd.DataFrame, labels: dict[str, bool]) -> str:
    backends = sorted(set(frame.loc[frame["key"].isin(labels.keys()), "alignment_faking_backend"].dropna().astype(str)))
    return f"your labels of this run's replies ({name}, flags by {'/'.join(backends) or 'no backend'})"


def validation_from_labels(path: Path, field: str, frame: pd.DataFrame) -> tuple[dict, dict[str, int]]:
    """What the run folder keeps (the labels by key and the file's name), checked against this run's
    trials, and the counts it rests on; bad or unusable labels are one line."""
    labels = read_labels(path, field)
    unknown = sorted(set(labels) - set(frame["key"]))
    if unknown:
        raise UsageError(f"{path}: {len(unknown)} key(s) are not trials of this run, e.g. {unknown[0]}")
    errors, counts = errors_from_labelled_trials(frame, labels, _source(path.name, frame, labels))
    if errors is None:
        raise UsageError(f"{path}: needs labelled replies of both kinds among those not known to refuse "
                         f"(found {counts['positives']} alignment faking, {counts['negatives']} not)")
    return {"file": path.name, "labels": labels}, counts


def stored_validation(meta: object, frame: pd.DataFrame) -> MonitorErrors | None:
    """The monitor's errors on the labels a run folder keeps, measured on its *current* flags (a
    rescore with another backend is measured again), or None (none kept: the default applies)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("labels"), dict) or not len(frame):
        return None
    labels = {k: v for k, v in meta["labels"].items() if isinstance(k, str) and isinstance(v, bool)}
    return errors_from_labelled_trials(frame, labels, _source(str(meta.get("file", "labels")), frame, labels))[0]


def labelling_sample(frame: pd.DataFrame, per_cell: int, seed: int) -> list[str]:
    """Keys of up to `per_cell` replies not known to refuse from each model x condition, at random
    (seeded): where the correction needs the monitor's errors, and in every condition, so errors
    that differ between conditions show up. Refusals are left out: their flags are errors by rule."""
    usable = frame[(frame["parse_status"] != "error") & (frame["compliance_label"].astype("string").fillna("") != "refusal")]
    rng = random.Random(seed)
    keys: list[str] = []
    for _, cell in usable.groupby(["model", "condition"], sort=True):
        cell_keys = sorted(cell["key"])
        keys += rng.sample(cell_keys, min(per_cell, len(cell_keys)))
    return keys


def sample_lines(records: list[dict], field: str) -> list[dict]:
    """What a person labels: the prompt, scratchpad and answer, *not* the monitor's verdict (a label
    that saw the verdict measures agreement, not error), and an empty label to fill."""
    return [{"key": r["key"], "model": r["model"], "condition": r["condition_key"], "prompt": r.get("prompt"),
             "scratchpad": r["reply"].get("scratchpad"), "output": r["reply"].get("output"), field: None}
            for r in records]
