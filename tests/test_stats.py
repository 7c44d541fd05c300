"""The intervals we report must cover the truth about 95% of the time (checked by simulation)."""

import numpy as np
import pytest

from monitors.stats import paired_gap, rate, wilson


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
    assert gap.value == 0 and gap.p_value == 1.0 and gap.ci_low <= 0 <= gap.ci_high


def _simulate_coverage(p_control, true_gap, n_prompts, samples, reps, rng):
    covered = 0
    for _ in range(reps):
        # prompt-level heterogeneity: each prompt has its own propensity (clustering)
        base = np.clip(rng.normal(p_control, 0.05, n_prompts), 0, 1)
        treat = np.clip(base + true_gap, 0, 1)
        t = rng.binomial(samples, treat) / samples
        c = rng.binomial(samples, base) / samples
        gap = paired_gap(t, c)
        expected = float(np.mean(treat - base))
        covered += gap.ci_low <= expected <= gap.ci_high
    return covered / reps


@pytest.mark.parametrize(
    "p_control,true_gap,samples",
    [(0.05, 0.11, 1), (0.3, 0.0, 1), (0.1, 0.05, 3), (0.85, 0.08, 1)],
)
def test_paired_gap_interval_covers_the_truth_about_95_percent(p_control, true_gap, samples):
    rng = np.random.default_rng(7)
    coverage = _simulate_coverage(p_control, true_gap, 400, samples, 400, rng)
    assert 0.92 <= coverage <= 0.985


def test_paired_gap_is_tighter_than_unpaired_when_outcomes_correlate():
    rng = np.random.default_rng(1)
    base = rng.binomial(1, 0.5, 400).astype(float)
    treat = base.copy()
    flip = rng.random(400) < 0.1
    treat[flip] = 1.0
    gap = paired_gap(treat, base)
    unpaired_half = 1.96 * np.sqrt(treat.var() / 400 + base.var() / 400)
    assert (gap.ci_high - gap.ci_low) / 2 < unpaired_half
    assert gap.p_value < 0.001
