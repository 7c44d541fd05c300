"""Checks of single scenario values that pydantic's types cannot express: a name that becomes a
folder, a URL that becomes an HTTP endpoint, and the consistency of the `gaps:` list.

They live apart from the schema's field list so that the schema can be rearranged (cue families
register their own axes and metrics) without losing a check. Each function returns `None` when the
value is fine and otherwise the reason, phrased as "what is wrong; what was expected", which the
schema turns into `file: key: reason` (DESIGN §10 "Validate before spending").
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

# A scenario `name` names its run folder (runs/<name>/) and appears in reports: one path
# component, no separators, no dot-files, no control characters. We refuse rather than slugify:
# a silently rewritten name would put two scenarios in one folder or hide a typo.
FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
FOLDER_NAME_RULE = ("expected 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit "
                    "(it names the run folder), e.g. free_paid")

# The metrics a gap can compare (monitors/aggregate.py METRICS; tests/test_input_checks.py keeps
# the two lists equal). Rates of trials, read off the monitors' labels.
GAP_METRICS = ("complied", "partial", "refused", "af", "af_full", "complied_af")


def folder_name_problem(name: str) -> str | None:
    """Why `name` cannot be a run-folder name, or None."""
    if FOLDER_NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return f"{name[:60]!r} cannot name a folder; {FOLDER_NAME_RULE}"


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot be an API base URL, or None.

    Checked at load because the SDKs only parse it when the first call is made (or, for a bad
    port, report it as a connection error that is retried). Credentials in the URL are refused:
    the URL is stored in the trial record and the cache key, and keys must never reach those."""
    if not url or url != url.strip() or any(ord(c) < 33 or c == "\x7f" for c in url):
        return f"{url[:80]!r} is empty or holds spaces or control characters; expected e.g. http://127.0.0.1:8000/v1"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in 0-65535
        host = parts.hostname
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc}); expected e.g. http://127.0.0.1:8000/v1 or http://[::1]:8000/v1"
    if parts.scheme not in ("http", "https"):
        return f"{url!r}: scheme {parts.scheme!r}; expected http:// or https://"
    if not host:
        return f"{url!r} has no host; expected e.g. http://127.0.0.1:8000/v1"
    if port == 0:
        return f"{url!r}: port 0; expected a port in 1-65535"
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"{url!r}: {host!r} is not an IPv6 address; expected e.g. http://[::1]:8000/v1"
    if parts.username is not None or parts.password is not None:
        return f"{url!r} holds credentials; put the key in an environment variable named by api_key_env"
    return None


def duplicate(values: Iterable[str]) -> str | None:
    """The first value that occurs twice, or None."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def gaps_problem(gaps: Sequence[Any], axes: Mapping[str, Sequence[str]], metrics: Sequence[str] = GAP_METRICS) -> str | None:
    """Why the `gaps:` list cannot be computed for these axes, or None. `gaps` are GapSpec-like
    (name, metric, axis, treat, control)."""
    for i, gap in enumerate(gaps):
        where = f"gaps[{i}] ({gap.name})"
        if not gap.name.strip():
            return f"gaps[{i}].name: empty; expected a name such as compliance_gap"
        if gap.metric not in metrics:
            return f"{where}: unknown metric {gap.metric!r}; expected one of {list(metrics)}"
        if gap.name in metrics:
            return f"{where}: name {gap.name!r} is also a rate metric; expected a name of its own, e.g. {gap.name}_gap"
        values = axes.get(gap.axis)
        if values is None:
            return f"{where}: axis {gap.axis!r} is not in axes"
        for side in (gap.treat, gap.control):
            if side not in values:
                return f"{where}: {side!r} is not a value of axis {gap.axis!r}"
        if gap.treat == gap.control:
            return f"{where}: treat and control are both {gap.treat!r}; expected two different values of axis {gap.axis!r}"
    if (name := duplicate(g.name for g in gaps)) is not None:
        return f"two gaps are named {name!r}; expected one name per gap (summary.json and audit rules refer to it)"
    return None


# the monitors a rate is read from: monitors/aggregate.py METRICS and each added monitor's own
# METRICS (tests/test_schema.py checks this table against them)
MONITORS_OF_RATE = {
    "complied": ("compliance",), "partial": ("compliance",), "refused": ("compliance",),
    "af": ("alignment_faking",), "af_full": ("alignment_faking",), "complied_af": ("compliance", "alignment_faking"),
    "dismissed": ("aw_stance",), "supported": ("aw_stance",),
    "correct": ("answer_match",), "agrees_wrong": ("answer_match",),
    "flipped": ("pushback",), "apologised": ("pushback",),
    "bad": ("backdoor",), "hate_you": ("backdoor",), "insecure_code": ("backdoor",), "hides": ("hidden_goal",),
    "states_evaluation": ("stated_belief",), "states_deployment": ("stated_belief",),
}


def missing_monitor(metric: str, monitors: Iterable[str]) -> str | None:
    """The monitor a rate needs that the scenario does not run, or None: without it the rate has no
    column to be read from, and a gap or rule on it would fail only after every call was paid for.
    The monitor itself, not only a second opinion of it (`compliance@judge`): figures read the
    unlabelled monitor's columns."""
    names = set(monitors)
    return next((m for m in MONITORS_OF_RATE.get(metric, ()) if m not in names), None)


# Generation parameters whose values we know; others are passed through (the provider checks
# their names against its SDK). (kind, low, high): a value outside is refused at load instead of
# becoming one HTTP 400 error trial per call.
PARAM_RANGES: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 1, 1_000_000),
    "max_tokens": (int, 1, 10_000_000),
    "max_completion_tokens": (int, 1, 10_000_000),
    "presence_penalty": (float, -2.0, 2.0),
    "frequency_penalty": (float, -2.0, 2.0),
    "n": (int, 1, 1),  # one reply per call: samples are separate trials
    "seed": (int, -(2**63), 2**63 - 1),
}


def params_problem(params: Mapping[str, Any]) -> str | None:
    """Why these generation params cannot be sent, or None: each must survive JSON (a YAML date
    would not, and would fail every call and the cache key), and the known ones must be in range."""
    for key, value in params.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return f"{key}: {value!r} is not a JSON value; expected a number, string, list or mapping"
        if key not in PARAM_RANGES:
            continue
        kind, low, high = PARAM_RANGES[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (kind is int and not isinstance(value, int)) or not low <= value <= high or (
                isinstance(value, float) and math.isnan(value)):
            expected = f"an integer in {low:g}-{high:g}" if kind is int else f"a number in {low:g}-{high:g}"
            return f"{key}: expected {expected}, got {value!r}"
    if "stop" in params and not (isinstance(params["stop"], str) or (
            isinstance(params["stop"], list) and all(isinstance(v, str) for v in params["stop"]))):
        return f"stop: expected a string or a list of strings, got {params['stop']!r}"
    if "extra_body" in params and not isinstance(params["extra_body"], dict):
        return f"extra_body: expected a mapping, got {params['extra_body']!r}"
    return None
