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
from browser.runs import MARKER, make_run

from reports.html import render_report

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


def set_filter(browser: Browser, element: str, value: str) -> None:
    # "change" applies at once (typing in the search box applies after a short debounce)
    browser.evaluate(
        f"(() => {{ const e = document.getElementById({element!r}); e.value = {value!r};"
        " e.dispatchEvent(new Event('change')); })()"
    )


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
        browser.evaluate("document.querySelector('#trial-rows tr.trial').click()")
        scratchpad = browser.evaluate("document.querySelector('.detail .pane pre:nth-of-type(1)').textContent")
        assert "<script>window.__xss = 'script'</script>" in scratchpad
        assert browser.evaluate("document.querySelectorAll('.detail mark.c3').length") >= 1  # preserves_values quote
        assert browser.evaluate("document.querySelectorAll('.detail script, .detail img, .detail svg, .detail b').length") == 0
        browser.evaluate("document.querySelector('.detail .pair-button').click()")
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
