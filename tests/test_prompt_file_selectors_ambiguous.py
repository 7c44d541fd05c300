"""Two `prompt_files` selectors that could both give a condition its file are refused. Found by a
probe: `"tier=free"` beside `"tier = free"` (or the same pairs in another order, or two one-axis
selectors that both match a condition) each named a file, and the order of the keys chose one
silently: the other file was never sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.prompt_templates import load_templates
from scenarios.schema import ScenarioError

AXES = {"tier": ["free", "paid"], "prompt": ["default", "no_cot"]}


def _files(tmp_path: Path) -> tuple[str, str]:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("System A.\n")
    b.write_text("System B.\n")
    return str(a), str(b)


@pytest.mark.parametrize("keys", [("tier=free", "tier = free"),
                                  ("tier=free,prompt=no_cot", "prompt=no_cot,tier=free"),
                                  ("tier=free", "prompt=no_cot")])
def test_two_selectors_for_one_condition_with_different_files_are_refused(tmp_path: Path, keys) -> None:
    a, b = _files(tmp_path)
    with pytest.raises(ScenarioError, match=r"both match the condition tier=free,prompt=(default|no_cot) and name different files"):
        load_templates({"system": {keys[0]: a, keys[1]: b, "default": a}}, AXES)


def test_a_more_specific_selector_settles_a_tie_and_the_same_file_twice_is_no_conflict(tmp_path: Path) -> None:
    a, b = _files(tmp_path)
    templates = load_templates({"system": {"tier=free": a, "prompt=no_cot": b, "tier=free,prompt=no_cot": b,
                                           "default": a}}, AXES)
    assert templates is not None
    assert templates.system_for({"tier": "free", "prompt": "no_cot"}).text == "System B.\n"
    assert templates.system_for({"tier": "free", "prompt": "default"}).text == "System A.\n"
    same = load_templates({"system": {"tier=free": a, "tier = free": a, "default": b}}, AXES)
    assert same is not None and same.system_for({"tier": "free", "prompt": "default"}).text == "System A.\n"
