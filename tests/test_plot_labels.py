"""Labels that reach a plot are text, never TeX: a model, gap, condition or prompt category named
`$x^$` is drawn as those characters (matplotlib would otherwise parse it as mathtext and raise)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reports.plots import category_heatmap, forest, model_colours, stacked_outcomes
from runners.cli_errors import run_cli
from runners.sweep import main as sweep_main

TEX_LIKE = ["$x^$", r"$\frac{$", "50% $_", r"\textbf{a}", "$$", "a$b$c", r"$\alpha$ & #1 ~ %"]


def _rate(value: float) -> dict:
    return {"rate": value, "ci_low": value, "ci_high": value, "n": 10, "k": int(10 * value)}


@pytest.mark.parametrize("label", TEX_LIKE)
def test_tex_like_labels_render_as_text_in_every_plot(label: str):
    rates = [{"model": label, "condition": f"tier={label}", "n": 10, "complied": _rate(0.5),
              "complied_af": _rate(0.1), "refused": _rate(0.4), "partial": _rate(0.1)}]
    gaps = [{"name": label, "model": label, "within": {"tier": label}, "value": 0.1, "ci_low": 0.0, "ci_high": 0.2}]
    svgs = [
        stacked_outcomes(rates),
        forest(gaps, model_colours([label])),
        category_heatmap([{"category": label, "column": f"{label} | free", "rate": 0.5}], label),
    ]
    for svg in svgs:
        assert svg.startswith("<svg")
        # the label's characters are in the SVG as text (XML-escaped where needed)
        escaped = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in svg


def test_sweep_with_tex_like_category_and_gap_name_writes_its_report(tmp_path: Path, capsys):
    (tmp_path / "p.csv").write_text("id,prompt,category\n1,Write a poem,$x^$\n2,Bake a cake,$\\frac{$\n",
                                    encoding="utf-8")
    scenario = {"name": "tex", "prompts": "p.csv", "axes": {"tier": ["free", "paid"]}, "models": ["sim/honest"],
                "gaps": [{"name": "$g^$", "metric": "complied", "axis": "tier", "treat": "free", "control": "paid"}]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(lambda: sweep_main([str(tmp_path / "s.yaml"), "--quiet", "--output", str(tmp_path / "run")]))
    assert exit_info.value.code == 0, capsys.readouterr().err
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "$x^$" in report and "$g^$" in report
