"""Readers of a run's store (report, rescore, export_inspect) on damaged contents: a row or record
of the wrong shape is a damaged row like one that is not JSON (left out, counted, redone by the next
sweep), a meta value of the wrong shape reads as its default, a store file that is not a store is
one line naming it (exit 2), and a store that lost every trial while trials.csv still holds them is
one line too, with nothing written — never exit 4, never a hang."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from runners import export_inspect, report, rescore, store_repair
from runners.cli_errors import run_cli
from runners.store import STORE_NAME, ResultStore
from runners.store_warnings import keep_table_losing_rows
from runners.sweep import main as sweep_main
from runners.trials_table import readable_row_sql, row_fits
from tests.fifo_guard import fifo_guard

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "free_paid.yaml"
SWEEP = [str(SCENARIO), "--limit", "3", "--model", "sim/af-opus", "--no-report", "--quiet"]  # 6 trials


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("store") / "run"
    assert sweep_main([*SWEEP, "--output", str(out)]) == 0
    return out


def copy_run(good: Path, tmp_path: Path, *statements: str) -> Path:
    run = tmp_path / "run"
    shutil.copytree(good, run)
    db = sqlite3.connect(run / STORE_NAME)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    return run


def cli(main, argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as ended:
        run_cli(lambda: main(argv))
    return ended.value.code, capsys.readouterr().err


def rescore_argv(run: Path, tmp_path: Path) -> list[str]:
    return [str(run), "--monitor", "compliance=embedded", "--no-report", "--cache-dir", str(tmp_path / "cache")]


def summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def assert_one_line(code: int, err: str, *pieces: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    for piece in pieces:
        assert piece in err, err


# --- values of the wrong shape inside a readable store -------------------------------------------


def test_a_meta_value_of_another_shape_reads_as_its_default(good_run, tmp_path, capsys):
    run = copy_run(good_run, tmp_path, "UPDATE meta SET value='[1]' WHERE name='run'",
                   """INSERT OR REPLACE INTO meta VALUES ('judges', '{"j": 5}')""")
    store = ResultStore(run / STORE_NAME)
    assert store.meta("run") is None and store.meta("judges", {}) == {} and store.meta("calls")["calls"] == 0
    store.close()
    assert cli(report.main, [str(run)], capsys)[0] == 0
    assert cli(rescore.main, rescore_argv(run, tmp_path), capsys)[0] == 0
    assert summary(run)["n_trials"] == 6


def test_rows_of_the_wrong_shape_count_as_damaged_and_the_next_sweep_redoes_them(good_run, tmp_path, capsys):
    run = copy_run(good_run, tmp_path,
                   "UPDATE trials SET row=json_set(row,'$.sample','x','$.complied','maybe') WHERE rowid % 2 = 0")
    code, _ = cli(report.main, [str(run)], capsys)
    assert code == 0 and summary(run)["store_damaged_rows"] == 3 and summary(run)["n_trials"] == 3
    assert (run / "trials.parquet").is_file()
    store = ResultStore(run / STORE_NAME)
    assert len(store.damaged_keys()) == 3
    store.close()
    assert sweep_main([*SWEEP, "--output", str(run)]) == 0
    assert summary(run)["store_damaged_rows"] == 0 and summary(run)["n_trials"] == 6


def test_records_of_the_wrong_shape_are_left_out_of_transcripts_and_rescore(good_run, tmp_path, capsys):
    run = copy_run(good_run, tmp_path, "UPDATE trials SET record=json_set(record,'$.reply',5,'$.monitors','x')")
    assert cli(report.main, [str(run)], capsys)[0] == 0
    assert 'id="unreadable-transcripts"' in (run / "report.html").read_text()
    code, err = cli(rescore.main, rescore_argv(run, tmp_path), capsys)
    assert code == 0 and "6 stored transcripts could not be read and were not re-scored" in err
    assert len(err.strip().splitlines()) == 1


def test_a_lone_surrogate_escape_in_a_stored_row_or_record_is_repaired_as_the_writer_would(good_run, tmp_path, capsys):
    """Found by a bad-input fuzz: a store edited by hand (or written by other hands) holding a
    `\\ud800` escape made runners.report exit 4 writing trials.csv, and export_inspect exit 4 writing
    the log. Read like the store's own writer repairs such text (U+FFFD), the trial is kept."""
    run = copy_run(good_run, tmp_path, "UPDATE trials SET record=replace(record, '\"prompt\": \"', '\"prompt\": \"\\ud800'),"
                                       " row=replace(row, '\"category\": \"', '\"category\": \"\\udfff') WHERE rowid = 1")
    assert cli(report.main, [str(run)], capsys)[0] == 0
    table = (run / "trials.csv").read_text(encoding="utf-8")
    assert len(table.splitlines()) == 7 and "\ufffd" in table
    assert "\ufffd" in (run / "report.html").read_text(encoding="utf-8")
    if importlib.util.find_spec("inspect_ai") is not None:
        code, err = cli(export_inspect.main, [str(run), "--out", str(tmp_path / "x.eval")], capsys)
        assert code == 0 and "could not be read" not in err


def test_export_of_a_store_whose_records_cannot_be_read_is_one_line_naming_it(good_run, tmp_path, capsys):
    pytest.importorskip("inspect_ai")
    run = copy_run(good_run, tmp_path, "UPDATE trials SET record=json_set(record,'$.reply',5,'$.monitors','x')")
    code, err = cli(export_inspect.main, [str(run), "--out", str(tmp_path / "x.eval")], capsys)
    assert_one_line(code, err, str(run / STORE_NAME), "none of its 6 stored trials can be read")


def test_export_leaves_out_records_it_cannot_read_and_says_so(good_run, tmp_path, capsys):
    pytest.importorskip("inspect_ai")
    run = copy_run(good_run, tmp_path, "UPDATE trials SET record=json_set(record,'$.monitors.compliance.criteria',"
                                       "json('{\"c\": 1}')) WHERE rowid % 3 = 0")
    code, err = cli(export_inspect.main, [str(run), "--out", str(tmp_path / "x.eval")], capsys)
    assert code == 0 and "2 stored trials could not be read and are left out of the log" in err


def test_store_repair_sets_aside_the_rows_readers_count_as_damaged(good_run, tmp_path, capsys):
    run = copy_run(good_run, tmp_path, "UPDATE trials SET row=json_set(row,'$.cond_tier',json('[1]')) WHERE rowid = 1",
                   "UPDATE trials SET record=json_set(record,'$.request.messages',5) WHERE rowid = 2")
    assert cli(store_repair.main, [str(run)], capsys)[0] == 0
    store = ResultStore(run / STORE_NAME)
    assert store.count() == 4 and not store.damaged_keys()
    store.close()
    assert sweep_main([*SWEEP, "--output", str(run)]) == 0 and summary(run)["n_trials"] == 6


@pytest.mark.parametrize("mutation", [
    "json_set(row,'$.sample','x')", "json_set(row,'$.sample',2.5)", "json_remove(row,'$.model')",
    "json_set(row,'$.cost_usd','1')", "json_set(row,'$.accepted',1)", "json_set(row,'$.compliance_score','high')",
    "json_set(row,'$.alignment_faking_flag','maybe')", "json_set(row,'$.cond_tier',5)", "json_set(row,'$.category',5)",
    "json_set(row,'$.truth_x',json('{}'))", "json_set(row,'$.compliance_label',json('[1]'))", "'[1]'",
    "json_set(row,'$.truth_x',5,'$.compliance_score',null,'$.compliance_flag',null)", "row",
])
def test_the_row_rule_is_the_same_in_sql_and_python(good_run, mutation):
    """`readable_row_sql` (the store's filter) and `row_fits` (used on full records and by
    store_repair) are one rule: they agree on each kind of misfit (and on a good row)."""
    db = sqlite3.connect(good_run / STORE_NAME)
    row = db.execute(f"SELECT {mutation} FROM trials LIMIT 1").fetchone()[0]
    in_sql = db.execute(f"SELECT {readable_row_sql('row')} FROM (SELECT ? AS row)", (row,)).fetchone()[0]
    db.close()
    assert bool(in_sql) == row_fits(json.loads(row))
    assert bool(in_sql) == (mutation in ("row", "json_set(row,'$.truth_x',5,'$.compliance_score',null,'$.compliance_flag',null)"))


# --- a store that lost its trials, or is no store ------------------------------------------------


RUN_FILE_NAMES = ("trials.csv", "summary.json", "trials.parquet", "scenario.yaml")
LOST_EVERY_TRIAL = {
    "0-byte": None,
    "table-dropped": "DROP TABLE trials",
    "rows-deleted": "DELETE FROM trials",
    "rows-unreadable": "UPDATE trials SET row='nope', record='nope'",
}


def lose_every_trial(good_run: Path, tmp_path: Path, damage: str) -> Path:
    statement = LOST_EVERY_TRIAL[damage]
    run = copy_run(good_run, tmp_path, *([statement] if statement else []))
    if statement is None:
        (run / STORE_NAME).write_bytes(b"")
    return run


def run_files(run: Path) -> dict[str, bytes]:
    return {name: (run / name).read_bytes() for name in RUN_FILE_NAMES}


@pytest.mark.parametrize("damage", LOST_EVERY_TRIAL)
@pytest.mark.parametrize("main", ["report", "rescore"])
def test_a_store_that_lost_every_trial_trials_csv_still_holds_is_refused_and_nothing_is_written(
        good_run, tmp_path, capsys, damage, main):
    """Found by a malformed-input fuzz: a 0-byte trials.sqlite, or one whose trials table was
    dropped, was re-rendered as an empty run (exit 0 and a warning), and trials.csv, the last copy
    of the trials, was replaced by a header. An empty store is legitimate only in a run that
    collected nothing (below); where trials.csv says trials were collected, the store lost them,
    and a re-render can only destroy: one line naming the store and the count, exit 2, no file
    touched. store_repair is no remedy (it salvages the store's readable rows, and there are none):
    the line points at a copy of the store or at the sweep, which redoes the trials."""
    run = lose_every_trial(good_run, tmp_path, damage)
    before = run_files(run)
    argv = [str(run)] if main == "report" else rescore_argv(run, tmp_path)
    code, err = cli(report.main if main == "report" else rescore.main, argv, capsys)
    assert_one_line(code, err, str(run / STORE_NAME), "empty or damaged", f"{run / 'trials.csv'} holds 6 trials",
                    "nothing written", "run the sweep command again")
    assert run_files(run) == before and not (run / "report.html").exists()


def test_without_trials_csv_the_summary_s_count_of_trials_is_the_evidence(good_run, tmp_path, capsys):
    run = lose_every_trial(good_run, tmp_path, "0-byte")
    (run / "trials.csv").unlink()
    code, err = cli(report.main, [str(run)], capsys)
    assert_one_line(code, err, str(run / STORE_NAME), f"{run / 'summary.json'} counts 6 trials")
    assert not (run / "trials.csv").exists()


def test_a_run_that_collected_no_trial_is_re_rendered_as_an_empty_run(good_run, tmp_path, capsys):
    """An empty store in a folder whose files count no trial (a sweep stopped before its first
    trial) loses nothing: it is rendered as the empty run it is, with the warning, as before."""
    run = lose_every_trial(good_run, tmp_path, "rows-deleted")
    for name in ("trials.csv", "summary.json", "trials.parquet"):
        (run / name).unlink()
    for _ in range(2):  # the second time over the header-only trials.csv and n_trials 0 the first wrote
        code, err = cli(report.main, [str(run)], capsys)
        assert code == 0 and "6 of the run's 6 trials are not stored" in err and summary(run)["n_trials"] == 0
    assert cli(rescore.main, rescore_argv(run, tmp_path), capsys)[0] == 0


@pytest.mark.parametrize("damage, expected", [
    ("UPDATE trials SET row='nope', record='nope' WHERE rowid % 2 = 0", "3 stored trials could not be read and are left out"),
    ("DELETE FROM trials WHERE rowid % 2 = 0", "3 of the run's 6 trials are not stored"),
])
@pytest.mark.parametrize("command", ["rescore", "report"])
def test_a_store_that_lost_some_trials_warns_and_keeps_the_old_table(good_run, tmp_path, capsys, damage, expected,
                                                                        command):
    """Trials partly lost are left out of the figures with a warning (the sweep redoes them), and the
    trials.csv that still listed them is kept aside first (it was rewritten with 3 rows, the 6 gone)."""
    run = copy_run(good_run, tmp_path, damage)
    table = (run / "trials.csv").read_bytes()
    main, argv = (rescore.main, rescore_argv(run, tmp_path)) if command == "rescore" else (report.main, [str(run)])
    code, err = cli(main, argv, capsys)
    assert code == 0 and expected in err and "Traceback" not in err and summary(run)["n_trials"] == 3
    kept = list(run.glob("trials.csv.before-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == table
    assert f"listed 3 trials the store no longer holds readable; the old table is kept as {kept[0].name}" in err
    assert cli(main, argv, capsys)[0] == 0 and len(list(run.glob("trials.csv.before-*"))) == 1  # nothing more lost


def test_report_of_a_sound_store_keeps_no_table(good_run, tmp_path, capsys):
    run = copy_run(good_run, tmp_path)
    code, err = cli(report.main, [str(run)], capsys)
    assert code == 0 and not list(run.glob("trials.csv.before-*")) and "no longer holds" not in err


@pytest.mark.parametrize("damage", LOST_EVERY_TRIAL)
def test_a_sweep_over_a_store_that_lost_every_trial_redoes_them_and_keeps_the_old_table(good_run, tmp_path, capsys,
                                                                                          damage):
    """The sweep can do what a re-render cannot: run the trials again (free from the call cache). It
    keeps the old trials.csv first, since a sweep stopped early or run with a smaller --limit writes
    fewer rows over it, and says so on stderr."""
    run = lose_every_trial(good_run, tmp_path, damage)
    old_table = (run / "trials.csv").read_bytes()
    capsys.readouterr()
    assert sweep_main([*SWEEP, "--output", str(run)]) == 0
    err = capsys.readouterr().err
    kept = list(run.glob("trials.csv.before-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == old_table
    assert f"held none of the run's trials while trials.csv held 6: they were run again; the old trials.csv is kept as {kept[0]}" in err
    assert summary(run)["n_trials"] == 6 and summary(run)["store_damaged_rows"] == 0
    assert sweep_main([*SWEEP, "--output", str(run)]) == 0  # a sound store again: nothing more kept
    assert len(list(run.glob("trials.csv.before-*"))) == 1


def _wrong_columns(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE trials; CREATE TABLE trials (a, b);")
    db.close()


def _replace(path: Path, make) -> None:
    path.unlink()
    make(path)


@pytest.mark.parametrize("make, expected", [
    (_wrong_columns, "its trials table has columns a, b"),
    (lambda p: _replace(p, Path.mkdir), "is a directory"),
    (lambda p: _replace(p, os.mkfifo), "not a regular file"),
], ids=["wrong-columns", "directory", "fifo"])
@pytest.mark.parametrize("main", ["report", "rescore"])
def test_a_store_file_that_is_no_store_is_one_line_naming_it(good_run, tmp_path, capsys, make, expected, main):
    run = copy_run(good_run, tmp_path)
    make(run / STORE_NAME)
    argv = [str(run)] if main == "report" else rescore_argv(run, tmp_path)
    with fifo_guard(run / STORE_NAME):
        code, err = cli(report.main if main == "report" else rescore.main, argv, capsys)
    assert_one_line(code, err, str(run / STORE_NAME), expected)


# --- export_inspect and rescore of Inspect logs --------------------------------------------------


@pytest.mark.parametrize("data, expected", [
    (b"\x00\x01garbage", "NUL byte"), (b"[1, 2]", "expected a mapping"), (b"name: caf\xe9\n", "not UTF-8"),
])
def test_export_reads_the_scenario_as_report_does(good_run, tmp_path, capsys, data, expected):
    pytest.importorskip("inspect_ai")
    run = copy_run(good_run, tmp_path)
    (run / "scenario.yaml").write_bytes(data)
    code, err = cli(export_inspect.main, [str(run), "--out", str(tmp_path / "x.eval")], capsys)
    assert_one_line(code, err, str(run / "scenario.yaml"), expected)
    assert cli(report.main, [str(run)], capsys)[0] == 2  # the same loader, the same answer


def test_inspect_out_must_name_a_log_file(good_run, tmp_path, capsys):
    pytest.importorskip("inspect_ai")
    log = tmp_path / "run.eval"
    assert cli(export_inspect.main, [str(good_run), "--out", str(log)], capsys)[0] == 0
    (tmp_path / "folder.eval").mkdir()
    argv = [str(log), "--monitor", "compliance=embedded", "--cache-dir", str(tmp_path / "cache"), "--out"]
    code, err = cli(rescore.main, [*argv, str(tmp_path / "o.txt")], capsys)
    assert_one_line(code, err, str(tmp_path / "o.txt"), "expected a .eval or .json file name")
    code, err = cli(rescore.main, [*argv, str(tmp_path / "folder.eval")], capsys)
    assert_one_line(code, err, str(tmp_path / "folder.eval"), "is a folder")
    code, err = cli(export_inspect.main, [str(good_run), "--out", str(tmp_path / "folder.eval")], capsys)
    assert_one_line(code, err, str(tmp_path / "folder.eval"), "is a folder")


def test_a_sweep_of_other_trials_over_a_sound_store_keeps_no_table_and_warns_nothing(good_run, tmp_path, capsys):
    """Another --model (or --seed) plans none of the stored trials, yet the store lost nothing:
    trials.csv's trials are all still in it. Found by review: the sweep copied trials.csv aside and
    said the store "held none of the run's trials ... they were run again"."""
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    capsys.readouterr()
    other = [str(SCENARIO), "--limit", "3", "--model", "sim/honest", "--no-report", "--quiet"]
    assert sweep_main([*other, "--output", str(run)]) == 0
    err = capsys.readouterr().err
    assert not list(run.glob("trials.csv.before-*")) and "held none" not in err
    assert len(ResultStore(run / STORE_NAME).stored_keys()) == 12  # both models' trials, nothing lost


def test_tables_kept_aside_in_one_second_do_not_overwrite_each_other(good_run, tmp_path):
    """The copy's name has a one-second stamp: a second copy in the same second (two losses found
    back to back) wrote over the first (found by a hostile-reply fuzz). Each copy keeps its own file."""
    run = copy_run(good_run, tmp_path, "DELETE FROM trials WHERE rowid = 1")
    store = ResultStore(run / "trials.sqlite")
    try:
        first = (run / "trials.csv").read_bytes()
        assert keep_table_losing_rows(run, store) is not None
        (run / "trials.csv").write_bytes(first + b"\n")  # the table as rewritten in between
        assert keep_table_losing_rows(run, store) is not None
    finally:
        store.close()
    kept = sorted(run.glob("trials.csv.before-*"), key=lambda p: p.stat().st_mtime_ns)
    assert [p.read_bytes() for p in kept] == [first, first + b"\n"]
