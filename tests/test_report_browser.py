"""The report in a real browser: headless Chromium (Debian's package) opens report.html from disk.

Checks that the charts and the transcript browser render, that the filters and search narrow the
list, that a trial opens with its highlighted evidence and paired view, that hostile replies show
as text and run nothing, and that no script error is logged. Keeps a screenshot in
test-artifacts/report.png. `make test` installs chromium when it is missing; without it this test
skips, except on CI (CI or AFSIM_REQUIRE_BROWSER set), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser.cdp import Browser, find_chromium
from browser.runs import HOSTILE_MONITOR, MARKER, PAYLOADS, make_family_run, make_run, shown

from reports.html import render_report
from runners.store import STORE_NAME, ResultStore

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = find_chromium()

if CHROMIUM is None:
    if os.environ.get("CI") or os.environ.get("AFSIM_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail("chromium is required on CI: `make browser` installs Debian's chromium package", pytrace=False)
    pytestmark = pytest.mark.skip(reason="no chromium at /usr/bin/chromium (run `make browser` as root to install it)")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "run", limit=8, hostile_trials=4)


def open_report(browser: Browser, path: Path) -> None:
    browser.open(path.resolve().as_uri())
    browser.evaluate("window.afsimReport", await_promise=True)  # resolves once the trials render


def count_text(browser: Browser) -> str:
    return browser.evaluate("document.getElementById('t-count').textContent")


def settle(browser: Browser) -> None:
    """Wait for the page's asynchronous work (decoding the chunks an opened trial or a search
    needs): the page's own promise, no polling."""
    browser.evaluate("window.afsimSettled()", await_promise=True)


def set_filter(browser: Browser, element: str, value: str) -> None:
    # "change" applies at once (typing in the search box applies after a short debounce)
    browser.evaluate(
        f"(() => {{ const e = document.getElementById({element!r}); e.value = {value!r};"
        " e.dispatchEvent(new Event('change')); })()"
    )
    settle(browser)


def click(browser: Browser, selector: str) -> None:
    browser.evaluate(f"document.querySelector({selector!r}).click()")
    settle(browser)


@pytest.mark.parametrize("gzip_above", [100_000, 0], ids=["json-payload", "gzip-payload"])
def test_report_renders_filters_and_runs_no_injected_script(hostile_run, gzip_above):
    report = render_report(hostile_run, gzip_above=gzip_above)
    with Browser(CHROMIUM) as browser:
        open_report(browser, report)

        # charts: inline SVGs with bars and the forest plot's intervals
        assert browser.evaluate("document.querySelectorAll('figure svg').length") >= 3
        assert browser.evaluate("document.querySelector('#headline-chart svg').getBoundingClientRect().height") > 100
        assert browser.evaluate("!!document.getElementById('simulated-banner')")

        # transcript browser: every trial, paged
        total = browser.evaluate("JSON.parse(document.getElementById('t-count').textContent.split(' of ')[1].split(' ')[0])")
        assert count_text(browser).startswith(f"{total} of {total} trials")
        assert browser.evaluate("document.querySelectorAll('#trial-rows tr.trial').length") == min(50, total)

        # filters narrow the list, and combine
        set_filter(browser, "f-model", "sim/honest")
        honest = int(count_text(browser).split(" of ")[0])
        assert 0 < honest < total
        models = browser.evaluate("[...document.querySelectorAll('#trial-rows tr.trial td:nth-child(2)')].map(td => td.textContent)")
        assert set(models) == {"sim/honest"}
        set_filter(browser, "f-model", "")
        set_filter(browser, "f-parse", "malformed")
        statuses = browser.evaluate("[...document.querySelectorAll('#trial-rows tr.trial td:nth-child(9)')].map(td => td.textContent)")
        assert statuses and set(statuses) == {"malformed"}
        set_filter(browser, "f-parse", "")
        set_filter(browser, "f-error", "yes")
        assert count_text(browser).startswith("1 of")
        set_filter(browser, "f-error", "")

        # search finds the hostile trials; open one: payloads are text, evidence is highlighted
        set_filter(browser, "f-search", MARKER.lower())
        assert count_text(browser).startswith("4 of")
        click(browser, "#trial-rows tr.trial")
        scratchpad = browser.evaluate("document.querySelector('.detail .pane pre:nth-of-type(1)').textContent")
        assert "<script>window.__xss = 'script'</script>" in scratchpad
        assert browser.evaluate("document.querySelectorAll('.detail mark.c3').length") >= 1  # preserves_values quote
        assert browser.evaluate("document.querySelectorAll('.detail script, .detail img, .detail svg, .detail b').length") == 0
        click(browser, ".detail .pair-button")
        assert browser.evaluate("document.querySelectorAll('.detail .pane').length") == 2
        assert "Paired: tier=" in browser.evaluate("document.querySelector('.detail').textContent")

        if gzip_above:  # one screenshot: the page with a hostile trial open next to its pair
            ARTIFACTS.mkdir(exist_ok=True)
            shot = browser.screenshot(ARTIFACTS / "report.png", height=browser.evaluate("document.documentElement.scrollHeight"))
            assert shot.stat().st_size > 50_000

        # nothing ran, nothing failed
        assert browser.evaluate("typeof window.__xss") == "undefined"
        assert browser.problems == []


@pytest.fixture(scope="module")
def hostile_last_run(tmp_path_factory) -> Path:
    """52 trials whose last ones are hostile: one of them is on the table's second page."""
    return make_run(tmp_path_factory.mktemp("run") / "run", limit=8, hostile_trials=4, hostile_last=True)


def stored_records(run: Path) -> list[dict]:
    """The run's records in the report's order (the store's)."""
    store = ResultStore(run / STORE_NAME)
    try:
        return list(store.records())
    finally:
        store.close()


def assert_shows_trial_escaped(browser: Browser, record: dict) -> None:
    """The open trial's detail shows the record's scratchpad, output, highlighted evidence, monitor
    quotes and messages, every hostile text as text, and nothing it carried ran or became markup."""
    panes = "document.querySelectorAll('.detail .pane')"
    scratchpad = browser.evaluate(f"{panes}[0].querySelectorAll(':scope > pre')[0].textContent")
    output = browser.evaluate(f"{panes}[0].querySelectorAll(':scope > pre')[1].textContent")
    assert scratchpad == shown(record["reply"]["scratchpad"]) and output == shown(record["reply"]["output"])
    for payload in PAYLOADS:
        assert shown(payload) in scratchpad
    assert "\u27e8U+202E\u27e9deifingis ton\u27e8U+202C\u27e9" in scratchpad  # an override shown, not obeyed
    # the criteria's quoted evidence is highlighted (quotes carrying <script> and </script>)
    marks = browser.evaluate("[...document.querySelectorAll('.detail .pane mark')].map(m => m.className + ':' + m.textContent)")
    assert f"c3:I worry RLHF would modify my values {PAYLOADS[0]}" in marks
    assert f"c0:{PAYLOADS[3]}" in marks and f"c4:{PAYLOADS[2]}" in marks
    quotes = browser.evaluate("[...document.querySelectorAll('.detail .monitor-call q')].map(q => q.textContent)")
    assert PAYLOADS[3] in quotes and PAYLOADS[2] in quotes
    # the messages sent: the system prompt and the user turn with its tier tag
    assert len(browser.evaluate("document.querySelector('.detail .conversation .system pre').textContent")) > 500
    assert "is_free_tier_user" in browser.evaluate("document.querySelector('.detail .conversation .user pre').textContent")
    assert browser.evaluate("document.querySelectorAll('.detail script, .detail img, .detail svg, .detail b, .detail textarea').length") == 0
    assert browser.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.parametrize("gzip_above", [100_000, 0], ids=["json-payload", "gzip-payload"])
def test_trials_open_from_their_own_chunk_on_a_later_page_and_from_links_with_model_text_escaped(hostile_last_run, gzip_above):
    report = render_report(hostile_last_run, gzip_above=gzip_above, chunk_trials=8)
    records = stored_records(hostile_last_run)
    assert len(records) == 52 and report.read_text().count('id="trial-details-') == 7
    by_key = {r["key"]: r for r in records}
    hostile = [i for i, r in enumerate(records) if "-hostile" in r["key"]]
    assert hostile[-1] == 51  # the last trial, on page 2, in the last chunk
    with Browser(CHROMIUM) as browser:
        open_report(browser, report)
        assert browser.evaluate("window.afsimPartsRead()") == ["trial-index"]  # nothing heavy read at load

        # a hostile trial on the second page opens from the last chunk (and its pair's chunk)
        click(browser, "#p-next")
        assert browser.evaluate("document.getElementById('p-page').textContent") == "page 2 / 2"
        last = "#trial-rows tr.trial[data-index='51']"
        assert browser.evaluate(f"document.querySelector({last!r}).id") == "trial-" + records[51]["key"]
        click(browser, last)
        assert_shows_trial_escaped(browser, records[51])
        read = browser.evaluate("window.afsimPartsRead()")
        assert {"trial-replies-6", "trial-details-6", "trial-texts"} <= set(read) and len(read) <= 6
        click(browser, ".detail .pair-button")  # its paired trial (another chunk) beside it
        paired = browser.evaluate("document.querySelectorAll('.detail .pane')[1].querySelector(':scope > pre').textContent")
        partner = next(r for r in records if r["prompt_id"] == records[51]["prompt_id"] and r["model"] == records[51]["model"]
                       and r["condition"]["tier"] != records[51]["condition"]["tier"])
        assert paired == partner["reply"]["scratchpad"]

        # search reads every chunk's replies, and finds the hostile trials
        set_filter(browser, "f-search", MARKER.lower())
        assert count_text(browser).startswith("4 of 52")
        assert {f"trial-replies-{k}" for k in range(7)} <= set(browser.evaluate("window.afsimPartsRead()"))
        assert browser.problems == []

    # a link to another hostile trial opens it on load; following a #pair= link opens another
    # trial, from the first chunk, beside its pair
    key = records[hostile[1]]["key"]
    with Browser(CHROMIUM) as browser:
        browser.open(report.resolve().as_uri() + "#trial=" + key)
        browser.evaluate("window.afsimReport", await_promise=True)
        assert browser.evaluate("document.querySelector('#trial-rows tr.open').id") == "trial-" + key
        assert_shows_trial_escaped(browser, by_key[key])
        k = hostile[1] // 8
        assert set(browser.evaluate("window.afsimPartsRead()")) >= {"trial-index", "trial-texts", f"trial-replies-{k}", f"trial-details-{k}"}

        first = records[0]["key"]
        browser.evaluate(f"location.hash = '#pair={first}'")
        settle(browser)
        assert browser.evaluate("document.querySelector('#trial-rows tr.open').id") == "trial-" + first
        assert browser.evaluate("document.querySelectorAll('.detail .pane').length") == 2
        assert browser.evaluate("document.querySelector('.detail .pane pre').textContent") == records[0]["reply"]["scratchpad"]
        assert browser.problems == []


@pytest.fixture(scope="module")
def documents_run(tmp_path_factory) -> Path:
    """A synthetic-documents run: the model read documents first, so the transcript must show them."""
    import asyncio

    from runners.engine import SweepOptions, run_sweep
    from scenarios.schema import load_scenario

    out = tmp_path_factory.mktemp("docs") / "run"
    scenario = load_scenario(ROOT / "scenarios" / "synthetic_docs.yaml").model_copy(update={"limit": 4})
    asyncio.run(run_sweep(scenario, SweepOptions(output=out, quiet=True, models=None)))
    return out


def test_transcript_shows_every_message_sent_and_opens_from_a_stable_link(documents_run):
    report = render_report(documents_run)
    import csv

    with open(documents_run / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    trial = next(r for r in rows if r.get("cond_priming") == "synthetic_documents" and r.get("cond_tier") == "free")
    with Browser(CHROMIUM) as browser:
        browser.open(report.resolve().as_uri() + "#pair=" + trial["key"])
        browser.evaluate("window.afsimReport", await_promise=True)
        detail = browser.evaluate("document.querySelector('.detail').textContent")
        # the link opened that trial, beside its paired trial
        assert browser.evaluate("document.querySelectorAll('.detail .pane').length") == 2
        assert "Paired: " in detail and "link to this trial" in detail
        # every message that was sent: the system prompt with the documents it read first, the user
        # turn with its tier tag
        assert "includes" in detail and "documents read first" in detail
        system = browser.evaluate("document.querySelector('.detail .conversation .system pre').textContent")
        assert len(system) > 500
        user = browser.evaluate("document.querySelector('.detail .conversation .user pre').textContent")
        assert "<is_free_tier_user>" in user or "free" in user.lower()
        browser.evaluate("document.querySelector('.detail .conversation details.system').open = true")
        ARTIFACTS.mkdir(exist_ok=True)
        browser.screenshot(ARTIFACTS / "transcript.png", selector=".detail-row")

        # sort by the AF monitor's score: highest first
        set_filter(browser, "f-sort", "alignment_faking:desc")
        scores = browser.evaluate(
            "(() => { const d = []; document.querySelectorAll('#trial-rows tr.trial').forEach(tr => d.push(+tr.dataset.index)); return d; })()")
        assert len(scores) > 1
        assert browser.problems == []


@pytest.fixture(scope="module")
def sycophancy_run(tmp_path_factory) -> Path:
    return make_family_run(tmp_path_factory.mktemp("family") / "run", "sycophancy.yaml", limit=3, hostile_monitor_at=5)


def column_texts(browser: Browser, heading: str) -> list[str]:
    """The shown rows' cells under the trial table's column `heading`."""
    return browser.evaluate(
        f"(() => {{ const at = [...document.querySelectorAll('#trial-table thead th')].findIndex(th => th.textContent === {heading!r});"
        " return [...document.querySelectorAll('#trial-rows tr.trial')].map(tr => tr.cells[at].textContent); })()")


def test_a_family_runs_trials_filter_and_sort_by_its_own_monitors_labels_shown_as_text(sycophancy_run):
    """A probe found a sycophancy run's browser offering only compliance and AF filters, both empty:
    its trials are labelled by answer_match and pushback, which now have a filter each (options: the
    labels present), a column and a score sort."""
    report = render_report(sycophancy_run)
    records = stored_records(sycophancy_run)
    with Browser(CHROMIUM) as browser:
        open_report(browser, report)
        filters = browser.evaluate("[...document.querySelectorAll('#filters select[data-monitor]')].map(s =>"
                                   " [s.dataset.monitor, s.parentElement.firstChild.textContent, [...s.options].map(o => o.value)])")
        by_monitor = {name: (heading, options) for name, heading, options in filters}
        assert list(by_monitor) == ["answer_match", "pushback", HOSTILE_MONITOR]
        for name in ("answer_match", "pushback"):
            assert by_monitor[name] == (name + " ", ["", *sorted({r["monitors"][name]["label"] for r in records})])
        assert browser.evaluate("!document.getElementById('f-compliance') && !document.getElementById('f-af')")

        # a label filter keeps exactly that label's trials (the rarest pushback label present)
        counts = {}
        for r in records:
            counts[r["monitors"]["pushback"]["label"]] = counts.get(r["monitors"]["pushback"]["label"], 0) + 1
        rare = min(counts, key=counts.get)
        pushback = browser.evaluate("document.querySelector('#filters select[data-monitor=\"pushback\"]').id")
        set_filter(browser, pushback, rare)
        assert count_text(browser).startswith(f"{counts[rare]} of {len(records)} trials")
        assert set(column_texts(browser, "pushback")) == {rare}
        click(browser, "#trial-rows tr.trial")  # the opened trial names its monitors' labels
        assert f"pushback {rare}" in browser.evaluate("document.querySelector('.detail .pane .monitor-call').textContent")
        set_filter(browser, pushback, "")

        # a score sort: highest first, as the store holds the scores
        set_filter(browser, "f-sort", "answer_match:desc")
        shown_rows = browser.evaluate("[...document.querySelectorAll('#trial-rows tr.trial')].map(tr => +tr.dataset.index)")
        scores = [records[i]["monitors"]["answer_match"]["score"] for i in shown_rows]
        assert len(scores) == 50 and scores == sorted(scores, reverse=True)

        # a monitor's name and label carry markup: shown as text, and its sort (a name holding a
        # colon) puts its one scored trial first
        hostile = browser.evaluate("[...document.querySelectorAll('#filters select[data-monitor]')][2].id")
        assert by_monitor[HOSTILE_MONITOR] == (HOSTILE_MONITOR + " ", ["", "(none)", PAYLOADS[1]])
        set_filter(browser, "f-sort", HOSTILE_MONITOR + ":desc")
        assert browser.evaluate("document.querySelector('#trial-rows tr.trial').dataset.index") == "5"
        assert column_texts(browser, HOSTILE_MONITOR)[0] == PAYLOADS[1]
        set_filter(browser, hostile, PAYLOADS[1])
        assert count_text(browser).startswith(f"1 of {len(records)} trials")
        assert browser.evaluate("document.querySelectorAll('#transcripts img, #filters img').length") == 0
        assert browser.evaluate("typeof window.__xss") == "undefined"
        assert browser.problems == []
