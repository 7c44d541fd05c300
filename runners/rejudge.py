"""A sweep run again judges again the stored verdicts whose LLM-judge calls failed.

Why: after a judge outage (HTTP errors, timeouts after every retry) the stored trials carry
verdicts whose votes abstained for call errors. A stored trial is reused as it is, so every later
run of the sweep reused those verdicts and exited 3 ("judge unusable") until the user ran
`runners.rescore` by hand; a user who re-runs the sweep once the judge answers expects them judged.

Which verdicts: those of the trials this run reuses (done, request unchanged) written by a judge the
scenario still runs (the same backend tag, `judge:openai/gpt-4o@af-v1`) with at least one vote that
failed (`abstained_votes.call_errors`, or the rationale of verdicts stored before that field). Not
judged again: votes that were unparseable only (the judge's real answer: another prompt or model
through `runners.rescore` is the remedy), error trials and stored trials whose request changed
(both run again whole, replies and verdicts).

How: only the judge(s) whose votes failed read the stored reply; the model under test is not
called. The judge's votes are cached by request and sample index (monitors/judge.py) and errors are
never cached, so the votes that worked before come from the cache and only the failed ones are paid.
The new verdict replaces the stored one when it has more usable votes, or as many with fewer
failed; otherwise the record stays as it was, so a judge that is still down (or that now answers
nonsense to votes the cache no longer holds) loses nothing. Records are written through the store's
normal write, while the sweep owns the folder.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from monitors.judge import Judge, Tally
from monitors.parse import for_monitors
from runners.records import parsed_of
from runners.store import ResultStore

BATCH = 64  # stored replies judged together (their votes run concurrently), as runners.rescore

# every verdict with a failed vote says "N call errors" in its rationale: a substring test on the
# record column finds the candidates without parsing the JSON of every stored trial
_CANDIDATES = ("SELECT key, json_extract(record, '$.monitors') FROM trials "
               "WHERE instr(record, 'call errors') > 0 AND json_valid(record)")


def failed_judgements(db: sqlite3.Connection, backends: Mapping[str, str | None], keys: Iterable[str],
                      elsewhere: dict[str, dict[str, int]] | None = None) -> dict[str, dict[str, Tally]]:
    """Stored key -> {monitor: the tally of its stored verdict}, for the trials of `keys` whose verdict
    from a judge of `backends` (monitor name -> the backend tag it writes; None for a monitor that is
    not an LLM judge) had votes whose call failed.

    `elsewhere`, when given, receives monitor -> {backend tag: count} for the verdicts with failed
    votes written by another judge than the one the scenario now runs for that monitor: they are not
    judged again, and the sweep's "judge unusable" line must not say a re-run would.

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
            verdict = verdicts.get(name)
            if not isinstance(verdict, dict):
                continue
            tally = Tally.of_verdict(verdict)
            if tally is None or not tally.errors:
                continue
            if backend is not None and verdict.get("backend") == backend:
                out.setdefault(key, {})[name] = tally
            elif elsewhere is not None:
                into = elsewhere.setdefault(name, {})
                into[str(verdict.get("backend"))] = into.get(str(verdict.get("backend")), 0) + 1
    return out


@dataclass
class RejudgeOutcome:
    """What a re-judge did, kept up to date batch by batch (an interrupted one is counted as far as it went)."""

    judged: int = 0  # stored trials whose failed verdicts were judged again
    improved: int = 0  # of them, records rewritten with a verdict with fewer failed votes
    # monitor -> vote counters of verdicts that are no longer (or never were) in the store: the old
    # verdict when replaced, else the new attempt; subtracted from the folder's judge counters, so
    # their vote shares (and the sweep's "judge unusable" exit) describe the verdicts stored
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def drop(self, monitor: str, tally: Tally) -> None:
        self.drop_counts(monitor, tally.counters())

    def drop_counts(self, monitor: str, counts: Mapping[str, int]) -> None:
        into = self.dropped.setdefault(monitor, {})
        for name, value in counts.items():
            into[name] = into.get(name, 0) + value


async def rejudge(store: ResultStore, judges: Mapping[str, Judge], failed: Mapping[str, Mapping[str, Tally]],
                  setting: str, outcome: RejudgeOutcome) -> None:
    """Judge again, with `judges`, the stored verdicts named by `failed` (`failed_judgements`), and
    write back the records whose verdicts improved."""
    records = list(store.records(set(failed)))  # read before writing back: one connection
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        improved: dict[str, dict[str, Any]] = {}
        dropped: list[tuple[str, Tally]] = []
        before = {name: _vote_counts(judge) for name, judge in judges.items() if name in _names(failed, batch)}
        try:
            for name, judge in judges.items():
                mine = [record for record in batch if name in failed[record["key"]]]
                if not mine:
                    continue
                # as the sweep's monitors saw the reply (monitors/registry.py), so the votes'
                # requests, and with them the cache keys, are the ones of the first judgement
                verdicts = await judge([for_monitors(parsed_of(r, r.get("setting") or setting)) for r in mine])
                _compare(judge, name, mine, verdicts, failed, improved, dropped)
        except BaseException:
            # interrupted (Ctrl-C) before this batch was written: none of its new verdicts is
            # stored, so the votes the judges counted for them are taken out again (found by a
            # fuzz: an interrupted re-judge left the folder counting 214 verdicts for 200 trials,
            # for good). The calls and cost stay: they were paid
            for name, counts in before.items():
                now = _vote_counts(judges[name])
                outcome.drop_counts(name, {key: now[key] - value for key, value in counts.items()})
            raise
        store.write(improved.values())
        for name, tally in dropped:  # once written: the counters then match the store
            outcome.drop(name, tally)
        outcome.judged += len(batch)
        outcome.improved += len(improved)


_VOTE_COUNTS = ("verdicts", "votes", "unparseable_votes", "error_votes", "unparseable_verdicts")


def _vote_counts(judge: Judge) -> dict[str, int]:
    return {key: getattr(judge.counters, key) for key in _VOTE_COUNTS}


def _names(failed: Mapping[str, Mapping[str, Tally]], batch: list[dict[str, Any]]) -> set[str]:
    return {name for record in batch for name in failed[record["key"]]}


def _compare(judge: Judge, name: str, mine: list[dict[str, Any]], verdicts: list[Any],
             failed: Mapping[str, Mapping[str, Tally]], improved: dict[str, dict[str, Any]],
             dropped: list[tuple[str, Tally]]) -> None:
    """Keep each new verdict that is better than the stored one (into `improved`), and note the vote
    counts of the verdict that will not be stored (into `dropped`). Better: more usable votes, or as
    many with fewer failed calls. Fewer failed calls alone is not: votes that had worked are asked
    again when the cache no longer holds them (another --cache-dir), and may now come back unparseable."""
    judge.counters.rejudged += len(mine)
    for record, verdict in zip(mine, verdicts, strict=True):
        if verdict.abstained and verdict.abstained_votes is None:  # nothing to judge: no vote was asked
            continue
        old = failed[record["key"]][name]
        new = Tally.of_verdict(verdict.as_dict()) or Tally(judge.spec.votes)
        if (new.votes - new.abstained, -new.errors) > (old.votes - old.abstained, -old.errors):
            record["monitors"][name] = verdict.as_dict()
            improved[record["key"]] = record
            dropped.append((name, old))
        else:
            dropped.append((name, new))
