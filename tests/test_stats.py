"""The intervals we report: valid where real audits live, never degenerate, consistent with their
p-values, adjusted for multiplicity (coverage checked by simulation; benchmarks/coverage.py runs the
full grid)."""

import math

import numpy as np
import pytest

from benchmarks.coverage import Cell, auroc_cell, simulate_cell
from monitors.power import minimal_detectable_gap, power, prompts_needed
from monitors.stats import (
    benjamini_hochberg,
    clustered_rate,
    gap_interval,
    holm,
    paired_gap,
    paired_gap_arrays,
    rate,
    wilson,
)


def test_wilson_interval_contains_rate_and_stays_in_unit_interval():
    low, high = wilson(0, 50)
    assert low == 0.0 and 0 < high < 0.1
    low, high = wilson(50, 50)
    assert high == 1.0 and 0.9 < low < 1
    r = rate(12, 100)
    assert r.ci_low < 0.12 < r.ci_high


def test_paired_gap_of_identical_conditions_is_zero_with_p_one():
    x = np.array([1, 0, 0, 1, 0] * 20, dtype=float)
    gap = paired_gap(x, x.copy())
    assert gap.value == 0 and gap.p_value == 1.0 and gap.ci_low < 0 < gap.ci_high


def test_interval_excludes_zero_exactly_when_p_is_below_five_percent_on_many_random_data_sets():
    rng = np.random.default_rng(3)
    disagreements = checked = 0
    for prompts in (2, 5, 20, 60):
        for samples in (1, 3):
            p_control = rng.uniform(0, 1, size=(1500, 1))
            p_treat = np.clip(p_control + rng.normal(0, 0.15, size=(1500, 1)), 0, 1)
            m = np.full((1500, prompts), samples, dtype=float)
            kt = rng.binomial(samples, np.broadcast_to(p_treat, m.shape)).astype(float)
            kc = rng.binomial(samples, np.broadcast_to(p_control, m.shape)).astype(float)
            out = paired_gap_arrays(kt, m, kc, m)
            excludes = (out["ci_low"] > 0) | (out["ci_high"] < 0)
            disagreements += int(np.sum(excludes != (out["p_value"] < 0.05)))
            checked += len(excludes)
    assert checked == 12000 and disagreements == 0


def test_prompts_given_as_counts_per_outcome_pair_give_the_figures_of_the_prompts_themselves():
    """monitors.power simulates large designs as how many prompts had each (treat, control) pair of
    counts, run through paired_gap_arrays with those counts as weights: it must be the same interval."""
    rng = np.random.default_rng(11)
    samples = 3
    a, b = (x.ravel().astype(float) for x in np.indices((samples + 1, samples + 1)))
    m = np.full(a.shape, float(samples))
    for _ in range(30):
        counts = rng.multinomial(int(rng.integers(2, 80)), rng.dirichlet(np.full(a.size, 0.3)))
        kt, kc = np.repeat(a, counts), np.repeat(b, counts)
        each = paired_gap_arrays(kt, np.full(kt.shape, float(samples)), kc, np.full(kc.shape, float(samples)))
        pooled = paired_gap_arrays(a, m, b, m, weights=counts.astype(float))
        for key in ("value", "ci_low", "ci_high", "p_value", "se", "phi", "df"):
            assert np.allclose(each[key], pooled[key], rtol=1e-9, atol=1e-12, equal_nan=True), key


def test_interval_and_p_value_agree_through_the_public_function_too():
    rng = np.random.default_rng(5)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        t, c = rng.binomial(1, rng.uniform(), n).astype(float), rng.binomial(1, rng.uniform(), n).astype(float)
        gap = paired_gap(t, c)
        assert (gap.ci_low > 0 or gap.ci_high < 0) == (gap.p_value < 0.05)
        assert -1 <= gap.ci_low <= gap.value <= gap.ci_high <= 1


def test_equal_differences_on_every_prompt_do_not_give_a_zero_width_interval():
    gap = paired_gap(np.ones(20), np.zeros(20))  # [+100, +100] would trip any gate with p = 1e-301
    assert gap.ci_high - gap.ci_low > 0.05 and gap.ci_high <= 1
    assert gap.p_value > 1e-10
    gap = paired_gap(np.full(20, 0.6), np.full(20, 0.1), np.full(20, 5), np.full(20, 5))
    assert gap.ci_high - gap.ci_low > 0.05


def test_a_few_prompts_that_agree_across_the_arms_do_not_give_a_narrow_gap():
    """Found by an independent coverage grid: the raw correlation of 2 pairs is always +-1, and of a
    few prompts that agree across the arms 1, which collapsed the MOVER interval to zero width (4
    prompts covered 88%, 2 pairs 76%, with 24% false positives under no gap)."""
    same = paired_gap([1, 1, 0, 0], [1, 1, 0, 0])  # no prompt disagrees: the gap is unknown, not 0
    assert same.ci_low < -0.3 and same.ci_high > 0.3 and same.p_value == 1.0
    assert 0 <= same.correlation < 1
    two = paired_gap([3 / 7, 5 / 9], [5 / 8, 6 / 8], [7, 9], [8, 8])  # was [-0.36, -0.02], p = 0.03
    assert two.ci_low < 0 < two.ci_high and two.p_value > 0.05


def test_one_event_does_not_narrow_a_clustered_rate_below_what_no_event_gives():
    """One event among 10 prompts x 10 samples read as 100 independent trials gave [0.03%, 8.3%]
    where no event gave [0, 40%]: one event looks binomial however unequal the prompts are."""
    none = clustered_rate(np.zeros(10), np.full(10, 10.0))
    one = clustered_rate([1.0] + [0.0] * 9, np.full(10, 10.0))
    assert one.ci_high > 0.5 * none.ci_high and one.design_effect > 5
    many = clustered_rate([1.0] * 5 + [0.0] * 5, np.full(10, 10.0))  # five prompts show it: the data speak
    assert many.design_effect < 2


def test_a_rarer_event_never_lifts_the_lower_bound_above_zero():
    """Found by an independent coverage grid: one event in 8 prompts x 20 samples gave [0.31%, ...]
    (the continuity-corrected Wilson bound on an effective count of 0.07, where its root turned
    negative), two events in one prompt [0.20%, ...], events in two prompts [0.04%, ...]; a true rate
    of 0.3% was covered in 68% of runs. An effective count of at most one half has a lower bound of 0."""
    from monitors.stats import wilson_cc_bounds

    one = clustered_rate([1.0] + [0.0] * 7, np.full(8, 20.0))
    assert one.ci_low == 0.0 and one.design_effect > 5
    mirror = clustered_rate([19.0] + [20.0] * 7, np.full(8, 20.0))
    assert mirror.ci_high == 1.0
    for n in (0.3, 1.0, 3.3, 40.0):  # monotone in the count at every effective n
        lo, hi = wilson_cc_bounds(np.linspace(0, 1, 2001), np.full(2001, n), np.full(2001, 2.45))
        assert np.all(np.diff(lo) >= -1e-12) and np.all(np.diff(hi) >= -1e-12)
    for p in (0.001, 0.01, 0.3):  # and a smaller effective n never gives a higher lower bound
        lo, hi = wilson_cc_bounds(np.full(3000, p), np.linspace(0.2, 600, 3000), np.full(3000, 2.45))
        assert np.all(np.diff(lo) >= -1e-12) and np.all(np.diff(hi) <= 1e-12)


def test_a_rate_that_one_prompt_carries_is_not_narrowed_by_many_samples():
    """Found by benchmarks/coverage_stress.py: with 1,000 samples every prompt shows an event or two,
    so all 20 counted as carriers though one prompt held almost all the events, and the interval was
    [0.08%, 11.6%] where no event at all gave [0, 21.8%] (Beta prompt effects: 87% coverage)."""
    counts = np.array([300.0, 2, 1, 3, 0, 1, 2, 1, 0, 2, 1, 1, 2, 0, 1, 3, 1, 2, 1, 1])
    none = clustered_rate(np.zeros(20), np.full(20, 1000.0))
    carried = clustered_rate(counts, np.full(20, 1000.0))
    assert carried.ci_high > 0.9 * none.ci_high
    spread = counts.copy()
    spread[:5] = [300, 250, 200, 150, 280]  # five prompts carry it: the data speak
    assert clustered_rate(spread, np.full(20, 1000.0)).ci_high < 0.75 * none.ci_high


@pytest.mark.parametrize("prompts, samples, mean, icc", [(20, 1000, 0.02, 0.3), (10, 1000, 0.98, 0.2), (50, 100, 0.02, 0.5)])
def test_clustered_rate_covers_with_many_samples_on_a_few_prompts(prompts, samples, mean, icc):
    """benchmarks/coverage_stress.py's worst rate cells (87-93% before the carriers were counted by
    how the residuals spread)."""
    from benchmarks.coverage_stress import Cell as StressCell
    from benchmarks.coverage_stress import beta, simulate

    table = beta(mean, icc)
    result = simulate(StressCell("sizes", "test", table, table, prompts, samples), 1500, np.random.default_rng(8))
    assert min(result.rate_coverage_treat, result.rate_coverage_control) >= 0.93


def test_one_prompt_gives_a_wide_interval_inside_minus_one_to_one():
    gap = paired_gap([1.0], [0.0])
    assert gap.ci_low < 0.5 and gap.ci_high == 1.0 and gap.p_value > 0.05
    tiny = paired_gap([1.0, 0.0], [0.0, 1.0], [3, 3], [3, 3])
    assert -1 <= tiny.ci_low < 0 < tiny.ci_high <= 1


def test_clustered_rate_is_wider_than_wilson_over_trials_when_prompts_differ():
    successes = np.array([5, 5, 0, 0, 5, 0, 0, 0, 5, 0] * 4, dtype=float)  # prompts all-or-nothing
    trials = np.full(40, 5.0)
    clustered = clustered_rate(successes, trials)
    naive = rate(int(successes.sum()), int(trials.sum()))
    assert clustered.rate == naive.rate == 0.4
    assert clustered.design_effect == pytest.approx(5.0, rel=0.05)
    assert clustered.ci_high - clustered.ci_low > 1.8 * (naive.ci_high - naive.ci_low)


def test_clustered_rate_of_all_zero_trials_counts_prompts_not_samples():
    r = clustered_rate(np.zeros(20), np.full(20, 5.0))
    assert r.rate == 0 and r.ci_low == 0 and 0.1 < r.ci_high < 0.3


def test_deception_share_and_excess_never_collapse_to_zero_width():
    from monitors.deception import excess, share

    s = share(np.full(30, 0.5))
    assert s["ci_high"] - s["ci_low"] > 0.1
    e = excess(np.ones(10), np.zeros(10), np.ones(10), np.ones(10))
    assert e["value"] == 1.0 and e["ci_high"] - e["ci_low"] > 0.1 and e["ci_low"] >= -1 and e["ci_high"] <= 1


def test_holm_and_benjamini_hochberg_match_their_textbook_values():
    p = [0.01, 0.04, 0.03, 0.005, None]
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02, None])
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02, None])


def test_gap_interval_rebuilds_the_interval_from_its_summary_row():
    rng = np.random.default_rng(2)
    t, c = rng.binomial(3, 0.3, 50) / 3, rng.binomial(3, 0.2, 50) / 3
    gap = paired_gap(t, c, np.full(50, 3), np.full(50, 3))
    assert gap_interval(gap.as_dict(), 0.05) == pytest.approx((gap.ci_low, gap.ci_high))
    low, high = gap_interval(gap, 0.005)  # ten simultaneous gaps: wider
    assert low < gap.ci_low and high > gap.ci_high


@pytest.mark.parametrize(
    "cell",
    [
        Cell(20, 3, 0.02, 0.95, 0.2),  # the cell where the t interval covered 89%
        Cell(20, 5, 0.0, 0.02, 0.5),  # rare behaviour, strong prompt effects
        Cell(50, 3, 0.10, 0.95, 0.5),
        Cell(20, 1, 0.0, 0.50, 0.2),
        Cell(4, 3, 0.02, 0.50, 0.8),  # few prompts that agree across the arms: the raw correlation is 1 (covered 85%)
        Cell(10, 10, 0.0, 0.10, 0.67),  # a behaviour on a few prompts: one event looks binomial (covered 92%)
    ],
)
def test_coverage_holds_in_hard_cells_of_the_benchmark(cell):
    result = simulate_cell(cell, 1500, np.random.default_rng(11))
    # 1,500 replicates: a 95% interval lands in [93.4, 96.6] nine times in ten
    assert result.gap_coverage >= 0.93
    assert min(result.rate_coverage_control, result.rate_coverage_treat) >= 0.93
    if cell.gap == 0:
        assert result.type1 <= 0.065


@pytest.mark.parametrize("spread, n_pos, n_neg, area", [(3.0, 8, 200, 0.8), (3.0, 5, 60, 0.6), (1.0, 15, 8, 0.9)])
def test_auroc_interval_coverage_holds_in_hard_cells_of_the_benchmark(spread, n_pos, n_neg, area):
    """A few positives spread 3x as wide as many negatives: Newcombe's interval alone covered 82% and
    89% in the first two; the 23 real excerpts' sizes in the third."""
    coverage, _ = auroc_cell(spread, n_pos, n_neg, area, 1500, np.random.default_rng(5))
    assert coverage >= 0.93


def test_planned_minimal_detectable_gap_is_found_about_four_times_in_five():
    mdg = minimal_detectable_gap(0.10, 400, 1, icc=0.2)
    assert 0.04 < mdg < 0.08
    assert power(mdg, 0.10, 400, 1, 0.2) == pytest.approx(0.8, abs=0.01)
    simulated = simulate_cell(Cell(400, 1, mdg, 0.10, 0.2), 1500, np.random.default_rng(4)).power
    assert 0.72 <= simulated <= 0.88


def test_more_prompts_are_needed_for_smaller_gaps_and_samples_help_less_than_prompts():
    few = prompts_needed(0.10, 0.1, 1)
    many = prompts_needed(0.05, 0.1, 1)
    assert few < many
    assert prompts_needed(0.05, 0.1, 5, icc=0.5) < many
    assert math.isnan(power(0.5, 0.9, 100, 1))  # no 140% rate


@pytest.mark.parametrize("cell", [(0.5, 0.0, math.inf, 6, 10, 0.7, "unequal"), (0.5, 0.03, 0, 4, 10, 0.7, "balanced")])
def test_coverage_holds_with_two_to_four_pairs_in_the_small_audit_grid(cell):
    """benchmarks/coverage_small.py's worst cells before the correlation's correction: 2 pairs
    (control run on a third of 6 prompts) covered 76% with 24% false positives; 4 prompts 88%."""
    from benchmarks.coverage_small import gap_cell

    result = gap_cell(*cell, 1500, np.random.default_rng(3))
    assert result["cov"] >= 0.93 and result["degenerate"] == 0
    if result["type1"] is not None:
        assert result["type1"] <= 0.065


def test_category_rates_and_backend_agreement_are_clustered_by_prompt():
    """Found by a statistics review: both used a Wilson interval over trials, which covered 44-53% at
    10 samples per prompt with strong prompt effects; one prompt x 5 samples all refused showed
    0% [0, 43%]. Two prompts of ten samples each carry about two observations, not twenty."""
    import pandas as pd

    from reports.analysis import backend_agreement, category_rates

    frame = pd.DataFrame({"model": "m", "condition": "tier=free", "cond_tier": "free", "category": "weapons",
                          "parse_status": "ok", "compliance_label": "refusal", "complied": 0.0,
                          "prompt_id": ["p1"] * 10 + ["p2"] * 10})
    [row] = category_rates(frame, "complied")
    naive = rate(0, 20)
    assert row["n"] == 20 and row["rate"] == 0 and row["ci_high"] > 2 * naive.ci_high
    records = [{"key": f"k{i}", "prompt_id": f"p{i // 10}",
                "monitors": {"compliance": {"backend": "embedded", "flag": True},
                             "compliance@judge": {"backend": "judge:x", "flag": True}}} for i in range(20)]
    [agree] = backend_agreement(records)
    assert agree["agreement"] == 1.0 and agree["ci_low"] < rate(20, 20).ci_low - 0.2


def test_a_difference_of_gaps_agrees_with_its_p_value_and_is_the_difference_of_the_two_gaps():
    """monitors.stats.gap_difference_arrays (runners.compare): "excludes 0" <=> p < alpha on random
    data sets of 2-60 prompts, rare and common rates, several levels; the value is gap(B) - gap(A)."""
    from monitors.stats import gap_difference_arrays

    rng = np.random.default_rng(17)
    for _ in range(200):
        n, s = int(rng.integers(2, 60)), int(rng.integers(1, 6))
        m = np.full(n, float(s))
        k = [rng.binomial(s, p, n).astype(float) for p in rng.random(4) * rng.choice([0.05, 1.0])]
        for alpha in (0.05, 0.01, 0.2):
            out = gap_difference_arrays(k[0], m, k[1], m, k[2], m, k[3], m, alpha)
            assert bool((out["ci_low"] > 0) | (out["ci_high"] < 0)) == bool(out["p_value"] < alpha)
            assert out["ci_low"] <= out["value"] + 1e-12 and out["value"] <= out["ci_high"] + 1e-12
            assert out["ci_low"] >= -2 and out["ci_high"] <= 2 and 0 <= out["p_value"] <= 1
            assert out["value"] == pytest.approx(out["gap_b"]["value"] - out["gap_a"]["value"])


@pytest.mark.parametrize("world, prompts, samples, icc, same", [
    ((0.10, 0.20, 0.10, 0.20), 4, 10, 0.7, True),  # covered 92.4% with the correlation taken whole
    ((0.01, 0.02, 0.01, 0.05), 10, 1, 0.7, True),
    ((0.10, 0.20, 0.10, 0.20), 200, 3, 0.05, False),
])
def test_a_difference_of_gaps_covers_in_hard_cells_of_its_benchmark(world, prompts, samples, icc, same):
    from benchmarks.coverage_differences import cell

    result = cell(world, prompts, samples, icc, same, 1500, np.random.default_rng(8))
    assert result["new"] >= 0.93  # 1,500 data sets: a 95% interval lands in [93.4, 96.6] nine times in ten
    if result["null"]:
        assert result["found_new"] <= 0.065
