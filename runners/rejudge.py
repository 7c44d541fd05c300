"""A sweep run again scores again the stored verdicts that are no longer the scenario's: those whose
LLM-judge calls failed, and those made under other monitor settings.

Why: a stored trial is reused as it is, with its stored verdicts. After a judge outage (HTTP errors,
timeouts after every retry) those verdicts carry votes that abstained for call errors, and every
later run reused them and exited 3 ("judge unusable"). After a change of a monitor's settings (a
judge's votes 3 -> 20, its threshold, temperature, max_tokens, prompt or model; embedded -> judge;
a monitor added) the run's figures mixed verdicts of the old settings with the new. The trial key
rightly leaves monitor settings out (the model's reply does not depend on them); the verdicts do.

Which verdicts, of the trials this run reuses (done, request unchanged):
- settings changed (`stale_verdicts`): the monitor's stored verdict is missing, one it failed to make
  (`MONITOR_ERROR`: a bug met on that reply, perhaps fixed since), or its `settings`
  digest (monitors/registry.py stamps one on every verdict) is not the scenario's. A verdict stored
  before that field has none: an embedded one is scored again (it costs no call); a judge's is taken
  as made under the current settings unless its backend tag differs (`judge:openai/gpt-4o@af-v1` vs
  `embedded`), so old folders are not judged again whole. The new verdict replaces the stored one
  whatever it is; one made with another backend (a judge runners.rescore put there) is kept as
  `NAME@was-<backend>`, as runners.rescore keeps what it replaces, so a re-run of the scenario as
  written loses no verdict a judge was paid for.
- failed calls (`failed_judgements`): written by a judge the scenario still runs (the same backend
  tag) with at least one vote that failed (`abstained_votes.call_errors`, or the rationale of
  verdicts stored before that field). Not judged again: votes that were unparseable only (the
  judge's real answer: another prompt or model through `runners.rescore` is the remedy), error
  trials and stored trials whose request changed (both run again whole, replies and verdicts). The
  new verdict replaces the stored one when it has more usable votes, or as many with fewer failed;
  otherwise the record stays as it was, so a judge that is still down (or that now answers nonsense
  to votes the cache no longer holds) loses nothing.

How: only the monitors named read the stored reply, through the sweep's MonitorSuite; the model
under test is not called. A judge's votes are cached by request and sample index (monitors/judge.py)
and errors are never cached, so the votes whose request is unchanged come from the cache: failed
votes are paid again, a votes 3 -> 20 change pays 17 votes per trial, a threshold change none.
Records are written through the store's normal write, while the sweep owns the folder, and the
folder's judge counters lose the votes of the verdicts that are no longer stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitors.judge import Judge, Tally
from monitors.registry import EMBEDDED, MONITOR_ERROR, TAG, MonitorSuite, kept_name, monitor_kind
from runners.records import parsed_of, trial_of
from runners.store import ResultStore

BATCH = 64  # stored replies judged together (their votes run concurrently), as runners.rescore

# every verdict with a failed vote says "N call errors" in its rationale: a substring test on the
# record column finds the candidates without parsing the JSON of every stored trial
_CANDIDATES = ("SELECT key, json_extract(record, '$.monitors') FROM trials "
               "WHERE instr(record, 'call errors') > 0 AND json_valid(record)")


def failed_judgements(db: sqlite3.Connection, backends: Mapping[str, str], keys: Iterable[str],
                      stale: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Tally]]:
    """Stored key -> {monitor: the tally of its stored verdict}, for the trials of `keys` whose verdict
    from a judge of `backends` (monitor name -> the backend tag its LLM judge writes) had votes whose
    call failed. A verdict with failed votes written by another backend is stale (its settings
    differ), so `stale_verdicts` has it scored again.

    `stale` (`stale_verdicts`): verdicts scored again anyway, whatever their votes: left out.

    Takes a connection, not a store, so `--dry-run` counts them from a read-only one."""
    wanted = set(keys)
    if not backends or not wanted:
        return {}
    out: dict[str, dict[str, Tally]] = {}
    for key, monitors in db.execute(_CANDIDATES):
        if key not in wanted or not isinstance(monitors, str):
            continue
        try:
            verdicts = json.loads(monitors)
        except ValueError:
            continue
        if not isinstance(verdicts, dict):
            continue
        for name, backend in backends.items():
            if stale is not None and name in stale.get(key, ()):
                continue
            verdict = verdicts.get(name)
            if not isinstance(verdict, dict):
                continue
            tally = Tally.of_verdict(verdict)
            if tally is None or not tally.errors:
                continue
            if verdict.get("backend") == backend:
                out.setdefault(key, {})[name] = tally
    return out


_STORED = "SELECT key, json_extract(record, '$.monitors') FROM trials WHERE json_valid(record)"


def _stale_query(current: Mapping[str, tuple[str, str | None]]) -> tuple[str, list[str]]:
    """The rows where some monitor of `current` looks stale, found by SQLite (0.4 s for 100k rows;
    parsing every row's verdicts in Python cost 1.1 s, on every re-run); the Python test decides."""
    if any('"' in name for name in current):  # not expressible as a JSON path: every row
        return _STORED, []
    tests, params = [], []
    for name, (backend, settings) in current.items():
        path = f'$.monitors."{name}"'
        tests.append("json_extract(record, ?) IS NOT ?")
        params += [f"{path}.backend", backend]
        tests.append("json_extract(record, ?) IS ?")  # a verdict its monitor failed to make
        params += [f"{path}.label", MONITOR_ERROR]
        if settings is not None and backend == TAG:  # no digest: stale (scoring again costs no call)
            tests.append("json_extract(record, ?) IS NOT ?")
            params += [f"{path}.settings", settings]
        elif settings is not None:
            tests.append("coalesce(json_extract(record, ?), ?) IS NOT ?")
            params += [f"{path}.settings", settings, settings]
    return f"{_STORED} AND ({' OR '.join(tests)})", params


def stale_verdicts(db: sqlite3.Connection, current: Mapping[str, tuple[str, str | None]],
                   keys: Iterable[str]) -> dict[str, dict[str, Tally | None]]:
    """Stored key -> {monitor: what its stored verdict added to the judge counters (`Tally.counted`)},
    for the trials of `keys` whose verdict of a monitor of `current` (name -> (the backend tag it
    writes, its `settings` digest)) is missing or was made under other settings.

    A stored verdict without a digest (written before the field) is stale when it is embedded (scoring
    it again costs no call) or its backend tag differs, not for a judge's same tag (that would pay a
    whole judge run for settings that may not have changed); a monitor whose digest is None (unknown)
    only when its verdict is missing or of another backend. Takes a connection, not a store, so `--dry-run` counts them from a read-only one."""
    wanted = set(keys)
    if not current or not wanted:
        return {}
    out: dict[str, dict[str, Tally | None]] = {}
    for key, monitors in db.execute(*_stale_query(current)):
        if key not in wanted:
            continue
        try:
            verdicts = json.loads(monitors) if isinstance(monitors, str) else None
        except ValueError:
            continue  # a damaged row: the sweep runs it again
        if not isinstance(verdicts, dict):
            verdicts = {}
        for name, (backend, settings) in current.items():
            verdict = verdicts.get(name)
            if not isinstance(verdict, dict):
                out.setdefault(key, {})[name] = None
                continue
            stored = verdict.get("settings")
            known = stored is not None or backend == TAG
            if (verdict.get("backend") != backend or (known and settings is not None and stored != settings)
                    or verdict.get("label") == MONITOR_ERROR):
                out.setdefault(key, {})[name] = Tally.counted(verdict)
    return out


def current_settings(suite: MonitorSuite) -> dict[str, tuple[str, str | None]]:
    """Every monitor of `suite`: name -> (backend tag, settings digest its verdicts carry)."""
    return {name: (backend, suite.settings.get(name)) for name, backend in suite.backends.items()}


def count_stale(stale: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """monitor -> stored trials whose verdict of it is stale (`stale_verdicts`)."""
    out: dict[str, int] = {}
    for names in stale.values():
        for name in names:
            out[name] = out.get(name, 0) + 1
    return out


@dataclass
class RejudgeOutcome:
    """What a re-judge did, kept up to date batch by batch (an interrupted one is counted as far as it went)."""

    judged: int = 0  # stored trials whose failed verdicts were judged again
    improved: int = 0  # of them, records rewritten with a verdict with fewer failed votes
    # monitor -> stored trials it scored again because its settings changed (or its verdict was missing)
    rescored: dict[str, int] = field(default_factory=dict)
    # monitor -> vote counters of verdicts that are no longer (or never were) in the store: the old
    # verdict when replaced, else the new attempt; subtracted from the folder's judge counters, so
    # their vote shares (and the sweep's "judge unusable" exit) describe the verdicts stored
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    # monitor -> {name its previous verdicts went under: how many}, for those made with another backend
    kept: dict[str, dict[str, int]] = field(default_factory=dict)

    def drop(self, monitor: str, tally: Tally) -> None:
        self.drop_counts(monitor, tally.counters())

    def drop_counts(self, monitor: str, counts: Mapping[str, int]) -> None:
        into = self.dropped.setdefault(monitor, {})
        for name, value in counts.items():
            into[name] = into.get(name, 0) + value


async def rejudge(store: ResultStore, suite: MonitorSuite, failed: Mapping[str, Mapping[str, Tally]],
                  setting: str, outcome: RejudgeOutcome, stale: Mapping[str, Mapping[str, Tally | None]] | None = None,
                  trials: Mapping[str, Any] | None = None) -> None:
    """Score again, with the monitors of `suite`, the stored verdicts named by `failed`
    (`failed_judgements`) and `stale` (`stale_verdicts`), and write back the records that changed.
    `trials`: key -> TrialSpec, for the embedded monitors that read the trial (a reference answer)."""
    stale = stale or {}
    records = list(store.records(set(failed) | set(stale)))  # read before writing back: one connection
    judges = {name: judge for name, judge in suite.judges.items() if hasattr(judge, "counters")}
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        changed: dict[str, dict[str, Any]] = {}
        dropped: list[tuple[str, Tally]] = []
        rescored: dict[str, int] = {}
        kept: dict[str, dict[str, int]] = {}
        names = {name for record in batch for name in (*failed.get(record["key"], ()), *stale.get(record["key"], ()))}
        before = {name: vote_counts(judges[name]) for name in names if name in judges}
        try:
            for name in suite.backends:
                mine = [r for r in batch if name in failed.get(r["key"], ()) or name in stale.get(r["key"], ())]
                if not mine:
                    continue
                # as the sweep's monitors saw the reply (monitors/registry.py), so the votes'
                # requests, and with them the cache keys, are the ones of the first judgement
                parsed = [parsed_of(r, r.get("setting") or setting) for r in mine]
                specs = None if trials is None else [
                    None if (spec := trials.get(r["key"])) is None else trial_of(r, spec) for r in mine]
                verdicts = [v[name] for v in await suite.classify_batch(parsed, specs, {name})]
                _compare(judges.get(name), name, mine, verdicts, failed, stale, changed, dropped, rescored, kept)
        except BaseException:
            # interrupted (Ctrl-C) before this batch was written: none of its new verdicts is
            # stored, so the votes the judges counted for them are taken out again (found by a
            # fuzz: an interrupted re-judge left the folder counting 214 verdicts for 200 trials,
            # for good). The calls and cost stay: they were paid
            for name, counts in before.items():
                now = vote_counts(judges[name])
                outcome.drop_counts(name, {key: now[key] - value for key, value in counts.items()})
            raise
        store.write(changed.values())
        for name, tally in dropped:  # once written: the counters then match the store
            outcome.drop(name, tally)
        for name, n in rescored.items():
            outcome.rescored[name] = outcome.rescored.get(name, 0) + n
        for name, into in kept.items():
            for where, n in into.items():
                outcome.kept.setdefault(name, {})[where] = outcome.kept.get(name, {}).get(where, 0) + n
        judged = [r for r in batch if set(failed.get(r["key"], ())) - set(stale.get(r["key"], ()))]
        outcome.judged += len(judged)
        outcome.improved += sum(r["key"] in changed for r in judged)


def _another_backend(stored: Any, now: str) -> bool:
    """A stored verdict's backend is another than `now`'s: not the same judge tag, and not both embedded
    (`heuristic` is the embedded backend's old name; a new embedded release is a settings change)."""
    if not isinstance(stored, str) or stored == now:
        return False
    return not (stored in EMBEDDED and now in EMBEDDED)


def _kept_already(monitors: Mapping[str, Any], name: str, previous: dict[str, Any]) -> str | None:
    """The name a verdict equal to `previous` is kept under already (`KIND@was-...`), or None."""
    prefix = f"{monitor_kind(name)}@was-"
    return next((other for other, verdict in monitors.items() if other.startswith(prefix) and verdict == previous), None)


_VOTE_COUNTS = ("verdicts", "votes", "unparseable_votes", "error_votes", "unparseable_verdicts", "skipped")


def vote_counts(judge: Judge) -> dict[str, int]:
    """The counters of a judge that describe its verdicts (not its calls and cost, which were paid)."""
    return {key: getattr(judge.counters, key) for key in _VOTE_COUNTS}


def _compare(judge: Any, name: str, mine: list[dict[str, Any]], verdicts: list[Any],
             failed: Mapping[str, Mapping[str, Tally]], stale: Mapping[str, Mapping[str, Tally | None]],
             changed: dict[str, dict[str, Any]], dropped: list[tuple[str, Tally]], rescored: dict[str, int],
             kept: dict[str, dict[str, int]]) -> None:
    """Put each new verdict in its record (into `changed`) when it replaces the stored one, and note
    the vote counts of the verdict that will not be stored (into `dropped`).

    A stale verdict is always replaced. A verdict with failed calls only by a better one: more
    usable votes, or as many with fewer failed calls. Fewer failed calls alone is not: votes that had
    worked are asked again when the cache no longer holds them (another --cache-dir), and may now come
    back unparseable."""
    for record, verdict in zip(mine, verdicts, strict=True):
        key = record["key"]
        if name in stale.get(key, ()):
            monitors = record.setdefault("monitors", {})
            previous = monitors.get(name)
            if isinstance(previous, dict) and _another_backend(previous.get("backend"), verdict.backend):
                # made with another backend (a judge that runners.rescore added, which the scenario run
                # now does not name): kept under its own name, as runners.rescore keeps the ones it replaces
                # once: a folder scored in turn by rescore's judge and the scenario's own backend kept
                # the same verdicts again on every round (NAME@was-judge-...-2, -3: review)
                into = _kept_already(monitors, name, previous) or kept_name(name, str(previous["backend"]), set(monitors))
                monitors[into] = previous
                kept.setdefault(name, {}).setdefault(into, 0)
                kept[name][into] += 1
            monitors[name] = verdict.as_dict()
            changed[key] = record
            if (old := stale[key][name]) is not None:
                dropped.append((name, old))
            rescored[name] = rescored.get(name, 0) + 1
            if judge is not None:
                judge.counters.rescored += 1
            continue
        if judge is not None:
            judge.counters.rejudged += 1
        if verdict.abstained and verdict.abstained_votes is None:  # nothing to judge: no vote was asked
            continue
        old = failed[key][name]
        new = Tally.of_verdict(verdict.as_dict()) or Tally(judge.spec.votes)
        if (new.votes - new.abstained, -new.errors) > (old.votes - old.abstained, -old.errors):
            record["monitors"][name] = verdict.as_dict()
            changed[key] = record
            dropped.append((name, old))
        else:
            dropped.append((name, new))
