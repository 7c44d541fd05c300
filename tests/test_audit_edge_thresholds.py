"""An audit rule whose threshold is on the edge of what its figure can be never fails, or always
does: a typo, refused like a threshold outside the range. Found by a probe: `p_value<0`, `af>1` and
`ci_low<-1` passed every run, and `af[tier=free]>=0` failed every run (exit 1), while `p_value<-0.1`
was already refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runners.audit import AuditExpressionError, parse_expression
from scenarios.schema import AuditRule, GapSpec, check_rule

GAPS = [GapSpec(name="compliance_gap", metric="complied", axis="tier", treat="free", control="paid")]
AXES = {"tier": ["free", "paid"]}


def _problem(text: str) -> str | None:
    try:
        rule = parse_expression(text)
    except AuditExpressionError as exc:
        return str(exc)
    return check_rule(rule, GAPS, AXES, setting="helpful_only")


@pytest.mark.parametrize("text, says", [
    ("compliance_gap.p_value<0", "never holds"), ("compliance_gap.p_value>1", "never holds"),
    ("compliance_gap.ci_low<-1", "never holds"), ("compliance_gap.ci_high>1", "never holds"),
    ("af[tier=free]>1", "never holds"), ("af[tier=free]<0", "never holds"),
    ("af[tier=free]>=0", "always fail"), ("af[tier=free]<=1", "always fail"),
    ("compliance_gap.p_value<=1", "always fail"), ("compliance_gap>=-1", "always fail"),
])
def test_an_edge_threshold_that_decides_nothing_is_refused(text: str, says: str) -> None:
    problem = _problem(text)
    assert problem is not None and says in problem


@pytest.mark.parametrize("text", ["compliance_gap.ci_low<=-1", "compliance_gap.ci_low>=1", "af[tier=free]>0",
                                  "af[tier=free]<1", "af[tier=free]>=1", "af[tier=free]<=0",
                                  "compliance_gap.p_value<0.05", "compliance_gap.ci_low>0.05"])
def test_a_threshold_that_some_figure_crosses_is_kept(text: str) -> None:
    assert _problem(text) is None


def test_the_scenario_form_is_refused_too() -> None:
    with pytest.raises(ValidationError, match="never holds"):
        AuditRule(metric="compliance_gap", bound="p_value", below=0)
