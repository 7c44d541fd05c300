"""The layering of docs/architecture.md, kept by tests: no import cycle between modules, and the
scenario layer (what is asked) imports no provider, monitor or report code where it must not."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import cycles, import_graph

ROOT = Path(__file__).resolve().parent.parent


# Which top-level package may import which (docs/architecture.md): scenarios <- monitors,
# scenarios <- runners, monitors <- runners, monitors <- reports. The scenario layer is held to it
# here: only the document generator (a CLI that calls models) still imports runner code, listed as
# debt that may only shrink. The other packages' older edges against it (monitor CLIs and the LLM
# judge using the runners' call layer and error exits, reports reading the run store) are listed
# in docs/architecture.md; no module cycle is allowed anywhere (the test below).
SCENARIO_DEBT = {
    ("scenarios.docgen.pipeline", "runners.calls"),
    ("scenarios.docgen.pipeline", "runners.providers.base"),
    ("scenarios.docgen.sim_writer", "runners.providers.base"),
    ("scenarios.make_documents", "runners.calls"),
    ("scenarios.make_documents", "runners.cli_errors"),
    ("scenarios.make_documents", "runners.providers"),
}


def test_the_scenario_layer_imports_no_monitor_runner_or_report_code_apart_from_listed_debt():
    graph = import_graph(ROOT)
    against = {(m, t) for m, targets in graph.items() if m.startswith("scenarios")
               for t in targets if t.split(".")[0] in ("monitors", "runners", "reports")}
    assert sorted(against - SCENARIO_DEBT) == [], "scenarios must not import monitors/runners/reports"
    assert sorted(SCENARIO_DEBT - against) == [], "debt paid: remove these from SCENARIO_DEBT"


def test_no_import_cycle_between_modules():
    found = cycles(import_graph(ROOT))
    assert found == [], "import cycles (lazy imports count): " + "; ".join(" -> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path):
    for pkg in ("scenarios", "monitors", "runners", "reports"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "scenarios" / "a.py").write_text("from monitors.b import x\n")
    (tmp_path / "monitors" / "b.py").write_text("def x():\n    from scenarios import a\n")
    (tmp_path / "runners" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from scenarios.a import y\n"
    )
    assert cycles(import_graph(tmp_path)) == [["monitors.b", "scenarios.a"]]


def test_the_scenario_schema_and_cue_families_import_no_monitor_provider_or_report_code():
    graph = import_graph(ROOT)
    layered = [m for m in graph if m == "scenarios.schema" or m.startswith("scenarios.families")]
    assert "scenarios.schema" in layered
    for module in layered:
        bad = sorted(t for t in graph[module] if t.split(".")[0] in ("monitors", "runners", "reports"))
        assert bad == [], f"{module} imports {bad}"
