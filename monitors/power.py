"""Planning a sweep: how small a gap it can detect, and how many prompts x samples a gap needs.

    python -m monitors.power --gap 0.05 --base-rate 0.10              # prompts needed per samples
    python -m monitors.power --prompts 100 --samples 3 --base-rate 0.1  # smallest detectable gap

The model behind the figures is the one benchmarks/coverage.py simulates: each prompt has its own
propensity, drawn from a Beta distribution around the condition's rate with intraclass correlation
`icc` (how much prompts differ: 0 = all alike), and a prompt keeps its difficulty rank in both
conditions. The variance of one prompt's difference between the conditions is then

    Var(p_treat - p_control) over prompts  +  E[p(1 - p)] / samples  for each condition,

and the paired test on n prompts detects a gap g with power Phi((|g| sqrt(n) - q sd_0) / sd_g),
q the two-sided critical value, sd_0 and sd_g the per-prompt standard deviations under no gap and
under g. The minimal detectable gap (MDG) is the smallest g whose power reaches the target (80%).

That formula leaves out what the real interval does with few prompts or few events (a
continuity-corrected correlation, a design effect pulled toward the worst case when one or two
prompts carry the rarer outcome, Student t with as many degrees of freedom as prompts that carry
the variation) and overstates power: at its planned MDG 5 prompts x 3 samples reached 30% power,
30 x 3 at a 2% rate 37%, and with hundreds of prompts a 0.5-2% rate 25-77% (100 x 3 at 0.5%: 25%).
So the power is *simulated*, for every design: SIM_REPS data sets drawn from the model above
(fixed seed, so the same question gets the same answer) run through
monitors.stats.paired_gap_arrays itself, power = the share with p < alpha, and the MDG is found by
bracketing and bisection on it, starting from the formula's (`analytic_mdg`), which it usually
exceeds. Below PER_PROMPT_BELOW prompts every reply is drawn, and the same uniforms serve every
gap (common random numbers), so the simulated power rises with the gap. From there up a data set
is drawn as how many prompts had each outcome pair (successes in treat, in control): the interval
depends on a prompt only through that pair, so the cost does not grow with the prompts.
benchmarks/coverage.py and benchmarks/planner_power.py check the figures against independently
simulated power. A gap the planner calls detectable can still be missed 20% of the time.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

TABLE_SIZE = 4096  # equally likely prompt propensities per Beta distribution
DEFAULT_ICC = 0.2
POWER = 0.8
ALPHA = 0.05
SAMPLES_SHOWN = (1, 3, 5, 10)
PER_PROMPT_BELOW = 100  # prompts: below this the simulation draws every reply, from here up counts per outcome pair
SIM_REPS = 2000  # simulated data sets per power figure: Monte Carlo error about +-1.8 points (95%) at 80%
SIM_SEED = 20241207
GUESS_STEPS = 12  # bisections of the formula's MDG that seed the simulated one: to 1/4096 of the range
GAP_TOLERANCE = 0.0005  # the simulated MDG's bisection stops at 0.05 points,
GAP_RELATIVE_TOLERANCE = 0.005  # or at 0.5% of the gap where that is finer (a 1-point gap: 0.005 points)


@lru_cache(maxsize=512)
def beta_quantiles(mean: float, icc: float) -> np.ndarray:
    """TABLE_SIZE equally likely prompt propensities of a Beta with this mean and intraclass
    correlation (icc = 1 / (a + b + 1)); icc 0 = every prompt has the mean."""
    mean = min(max(mean, 1e-9), 1 - 1e-9)
    if icc <= 0:
        return np.full(TABLE_SIZE, mean)
    from scipy.special import betaincinv

    strength = 1 / icc - 1
    u = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE
    return betaincinv(mean * strength, (1 - mean) * strength, u)


def per_prompt_sd(control: float, treat: float, samples: int, icc: float) -> float:
    """Standard deviation of one prompt's difference (treat mean - control mean over its samples)."""
    qt, qc = beta_quantiles(treat, icc), beta_quantiles(control, icc)
    between = float(np.var(qt - qc))
    within = float(np.mean(qt * (1 - qt)) + np.mean(qc * (1 - qc))) / samples
    return math.sqrt(between + within)


def expected_half_width(base_rate: float, treat: float, prompts: int, samples: int, icc: float, alpha: float = ALPHA) -> float:
    """The half-width on the side of 0 that monitors.stats.paired_gap gives on data that look
    exactly as expected (its Wilson intervals are asymmetric near 0 and 1, which a plain
    normal formula misses)."""
    from monitors.stats import ClusterParts, _mover_bounds, critical_value

    qt, qc = beta_quantiles(treat, icc), beta_quantiles(base_rate, icc)
    deff = 1 + (samples - 1) * icc
    n_trials = prompts * samples
    var_t = float(np.var(qt)) + float(np.mean(qt * (1 - qt))) / samples
    var_c = float(np.var(qc)) + float(np.mean(qc * (1 - qc))) / samples
    cov = float(np.mean((qt - qt.mean()) * (qc - qc.mean())))
    # two square roots, not the root of the product: near a rate of 0 both variances are ~1e-200
    # and their product underflows to 0 (a ZeroDivisionError at --gap 0 --base-rate 0)
    scale = math.sqrt(var_t) * math.sqrt(var_c)
    phi = min(1.0, max(-1.0, cov / scale)) if scale > 0 else 0.0
    arms = [ClusterParts(np.asarray(p), n_trials, np.asarray(n_trials / deff), deff, np.zeros(1), np.asarray(prompts - 1.0), prompts)
            for p in (treat, base_rate)]
    q = critical_value(prompts - 1.0, alpha)
    low, high = _mover_bounds(arms[0], arms[1], np.asarray(phi), q)
    gap = treat - base_rate
    # the interval's Wald floor (monitors.stats `_wald_floor`): t x the se of the per-prompt differences
    floor = float(q) * math.sqrt(max(var_t + var_c - 2 * cov, 0.0) / prompts)
    return max(float(gap - low) if gap >= 0 else float(high - gap), floor)


def analytic_power(gap: float, base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, alpha: float = ALPHA) -> float:
    """Planned power by the normal formula: the chance that the estimate lands farther from 0
    than the interval's expected half-width. Close (within ~3 points) from 100 prompts up at rates
    of 20-80%; it overstates the power of smaller designs and of rare outcomes (docs/results.md)."""
    from scipy.special import ndtr

    treat = base_rate + gap
    if not 0 <= treat <= 1 or prompts < 2:
        return math.nan
    sd1 = per_prompt_sd(base_rate, treat, samples, icc) / math.sqrt(prompts)
    if sd1 == 0:
        return 1.0 if gap else 0.0
    return float(ndtr((abs(gap) - expected_half_width(base_rate, treat, prompts, samples, icc, alpha)) / sd1))


SAMPLE_CHUNK = 8  # replies whose uniforms are drawn at once (memory: reps x prompts x this, per condition)


@lru_cache(maxsize=8)
def _ranks(prompts: int, reps: int, seed: int) -> np.ndarray:
    """Each simulated data set's prompts: indices into the Beta quantile tables, the same in both
    conditions (a prompt keeps its rank), shared by every gap and rate."""
    return np.random.default_rng([seed, prompts, reps]).integers(0, TABLE_SIZE, size=(reps, prompts))


def _counts(p_treat: np.ndarray, p_control: np.ndarray, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Successes per prompt in each condition from one uniform per reply: the same uniforms for
    every gap (common random numbers), so a larger treat rate never gives fewer successes and the
    simulated power rises smoothly with the gap. Drawn in chunks of replies to bound memory."""
    rng = np.random.default_rng([seed, *p_treat.shape, samples, 1])
    k_treat = np.zeros(p_treat.shape, dtype=np.int32)
    k_control = np.zeros(p_treat.shape, dtype=np.int32)
    p_treat, p_control = p_treat.astype(np.float32)[..., None], p_control.astype(np.float32)[..., None]
    for start in range(0, samples, SAMPLE_CHUNK):
        size = (*p_treat.shape[:-1], min(SAMPLE_CHUNK, samples - start))
        k_treat += (rng.random(size, dtype=np.float32) < p_treat).sum(-1, dtype=np.int32)
        k_control += (rng.random(size, dtype=np.float32) < p_control).sum(-1, dtype=np.int32)
    return k_treat.astype(float), k_control.astype(float)


def _outcome_pairs(treat: float, control: float, samples: int, icc: float) -> np.ndarray:
    """P(a prompt has a successes of its `samples` replies in treat and b in control), as a
    (samples + 1) x (samples + 1) table [a, b]: the planning model's prompt (one quantile of each
    Beta table, the same in both conditions) averaged over the TABLE_SIZE quantiles."""
    from scipy.special import comb

    k = np.arange(samples + 1)
    qt, qc = beta_quantiles(treat, icc)[:, None], beta_quantiles(control, icc)[:, None]
    pmf_t = comb(samples, k) * qt**k * (1 - qt) ** (samples - k)
    pmf_c = comb(samples, k) * qc**k * (1 - qc) ** (samples - k)
    table = np.clip(pmf_t.T @ pmf_c / TABLE_SIZE, 0.0, None)
    return table / table.sum()


TYPE_CELLS = 4_000_000  # data sets x outcome pairs run through the interval at once (memory)
PAIR_REPS = 8000  # simulated data sets where they are cheap: Monte Carlo error about +-0.9 points (95%) at 80%
PAIR_REP_CELLS = PAIR_REPS * 16  # ... up to this many data sets x outcome pairs (8,000 up to 3 samples, 2,000 from 7)


def pair_reps(samples: int) -> int:
    """Data sets per simulated power when they are drawn as outcome-pair counts: PAIR_REPS for a
    few samples per prompt (a planned gap whose power is 80% by a 2,000-set estimate ranged
    78-83% by an independent one; 8,000 halve that), no fewer than SIM_REPS."""
    return max(SIM_REPS, min(PAIR_REPS, PAIR_REP_CELLS // (samples + 1) ** 2))


def _outcome_pair_p_values(treat: float, control: float, prompts: int, samples: int, icc: float, alpha: float, reps: int,
                           seed: int) -> np.ndarray:
    """p-values of monitors.stats.paired_gap_arrays on `reps` simulated data sets, each held as how
    many of its prompts had each outcome pair (a, b) — a multinomial draw over the (samples + 1)^2
    pairs — and run through the interval with those counts as weights. The same figures as
    drawing every reply (the interval depends on a prompt only through its pair of counts), at a
    cost that does not grow with the prompts. The generator's seed depends neither on the gap nor on
    the prompts, so neighbouring gaps, and neighbouring numbers of prompts, draw nearly the same data
    sets: the power rises nearly smoothly with both (with the prompts in the seed, 101 prompts
    planned a larger gap than 100 at a 2% rate)."""
    from monitors.stats import paired_gap_arrays

    table = _outcome_pairs(treat, control, samples, icc)
    a, b = (x.ravel().astype(float) for x in np.indices(table.shape))
    m = np.full(a.shape, float(samples))
    counts = np.random.default_rng([seed, samples, reps, 2]).multinomial(prompts, table.ravel(), size=reps)
    seen = counts.any(0)  # a pair no data set drew adds nothing (with many samples most are far off the diagonal)
    a, b, m, counts = a[seen], b[seen], m[seen], counts[:, seen]
    chunk = max(1, TYPE_CELLS // a.size)
    return np.concatenate([paired_gap_arrays(a, m, b, m, alpha, weights=counts[i:i + chunk].astype(float))["p_value"]
                           for i in range(0, reps, chunk)])


# From PER_PROMPT_BELOW prompts up, where many samples make the outcome pairs many: the pair table
# has (samples + 1)^2 cells and a data set of reps x cells counts (1,000 samples: 15 GB at 2,000
# data sets, a MemoryError), and drawing every reply costs prompts x samples x reps uniforms (1,000 x
# 1,000: minutes per figure). So above PAIR_CELLS_MOST cells (63 samples) each prompt's successes
# are one binomial draw (2,000 prompts x 1,000 samples: ~11 s a figure), and above DRAWS_MOST
# prompts x data sets (2,000 prompts at 2,000) the normal formula is used. With 64+ samples on that
# many prompts it is close: at 2,000 x 1,000 and a 10% rate its MDG is the simulated one to 0.1%;
# at 2,000 x 200 and 0.5% it is 9% smaller (0.056 points against 0.061), as it is for rare outcomes.
PAIR_CELLS_MOST = 64 * 64
DRAWS_MOST = 4_000_000


def _binomial_p_values(treat: float, control: float, prompts: int, samples: int, icc: float, alpha: float, reps: int,
                       seed: int) -> np.ndarray:
    """p-values of monitors.stats.paired_gap_arrays on `reps` data sets drawn prompt by prompt, each
    prompt's successes in a condition one binomial draw (the planning model's prompt: one quantile
    of each Beta table, the same in both conditions). The cost does not grow with the samples; the
    seed does not depend on the gap, as in `_outcome_pair_p_values`."""
    from monitors.stats import paired_gap_arrays

    rng = np.random.default_rng([seed, prompts, samples, reps, 3])
    qt, qc = beta_quantiles(treat, icc), beta_quantiles(control, icc)
    chunk = max(1, TYPE_CELLS // prompts)
    out = []
    for start in range(0, reps, chunk):
        ranks = rng.integers(0, TABLE_SIZE, size=(min(chunk, reps - start), prompts))
        k_treat = rng.binomial(samples, qt[ranks]).astype(float)
        k_control = rng.binomial(samples, qc[ranks]).astype(float)
        m = np.full(k_treat.shape, float(samples))
        out.append(paired_gap_arrays(k_treat, m, k_control, m, alpha)["p_value"])
    return np.concatenate(out)


@lru_cache(maxsize=4096)
def simulated_power(gap: float, base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, alpha: float = ALPHA,
                    reps: int | None = None, seed: int = SIM_SEED) -> float:
    """Power of monitors.stats.paired_gap_arrays by simulation: `reps` data sets of `prompts`
    prompts x `samples` replies per condition from the planning model (Beta prompt propensities with
    intraclass correlation `icc`, the same quantile in both conditions, treat = base_rate + gap),
    power = the share with p < alpha. Deterministic for a given seed. `reps` defaults to SIM_REPS,
    or up to PAIR_REPS where a data set is a few outcome-pair counts (see `pair_reps`).

    Below PER_PROMPT_BELOW prompts every reply is drawn; from there up, each data set is drawn as
    counts of prompts per outcome pair (`_outcome_pair_p_values`), so a million prompts cost what a
    hundred do, or, with more than 63 samples (or more outcome pairs than replies), prompt by prompt
    with one binomial draw per condition (`_binomial_p_values`); above DRAWS_MOST prompts x data sets
    of those, the normal formula (`analytic_power`)."""
    from monitors.stats import paired_gap_arrays

    treat = base_rate + gap
    if not 0 <= treat <= 1 or prompts < 2:
        return math.nan
    if prompts >= PER_PROMPT_BELOW:
        if (samples + 1) ** 2 <= min(prompts * samples, PAIR_CELLS_MOST):
            reps = pair_reps(samples) if reps is None else reps
            p_values = _outcome_pair_p_values(treat, base_rate, prompts, samples, icc, alpha, reps, seed)
            return float((p_values < alpha).mean())
        reps = SIM_REPS if reps is None else reps
        if prompts * reps > DRAWS_MOST:  # thousands of prompts x many samples: the formula is close there
            return analytic_power(gap, base_rate, prompts, samples, icc, alpha)
        p_values = _binomial_p_values(treat, base_rate, prompts, samples, icc, alpha, reps, seed)
        return float((p_values < alpha).mean())
    reps = SIM_REPS if reps is None else reps
    ranks = _ranks(prompts, reps, seed)
    k_treat, k_control = _counts(beta_quantiles(treat, icc)[ranks], beta_quantiles(base_rate, icc)[ranks], samples, seed)
    m = np.full(k_treat.shape, float(samples))
    p_values = paired_gap_arrays(k_treat, m, k_control, m, alpha)["p_value"]
    return float((p_values < alpha).mean())


def power(gap: float, base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, alpha: float = ALPHA) -> float:
    """Planned power of the paired test (monitors.stats.paired_gap) to find `gap` (treat =
    base_rate + gap) on `prompts` prompts with `samples` replies per prompt and condition,
    simulated through the real interval (`simulated_power`)."""
    return simulated_power(gap, base_rate, prompts, samples, icc, alpha)


def minimal_detectable_gap(base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, target: float = POWER, alpha: float = ALPHA) -> float | None:
    """The smallest gap above `base_rate` detected with power >= target; None if no gap up to a
    treat rate of 100% reaches it."""
    if base_rate >= 1:
        return None
    return _simulated_mdg(base_rate, prompts, samples, icc, target, alpha)


def analytic_mdg(base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, target: float = POWER, alpha: float = ALPHA,
                 steps: int = 40) -> float | None:
    """The normal formula's minimal detectable gap: bisection on `analytic_power` (None if the
    largest gap falls short of the target). The simulated MDG's first guess; on its own it
    overstates power (docs/results.md, "Planning"). `steps` bisections: each costs a Beta quantile
    table (~15 ms), and a first guess needs only a dozen."""
    top = 1.0 - base_rate
    if top <= 0 or analytic_power(top, base_rate, prompts, samples, icc, alpha) < target:
        return None
    low, high = 0.0, top
    for _ in range(steps):
        mid = (low + high) / 2
        if analytic_power(mid, base_rate, prompts, samples, icc, alpha) >= target:
            high = mid
        else:
            low = mid
    return high


def _simulated_mdg(base_rate: float, prompts: int, samples: int, icc: float, target: float, alpha: float) -> float | None:
    """The smallest gap whose simulated power reaches `target` (None: none up to a treat rate of
    100%). Bracketed from the analytic MDG (which the simulated one usually exceeds), then regula
    falsi on the probit of the power (Illinois variant, bisecting where the stepped power stalls it), 4-12 simulations in all (up to ~30 where the formula is far off: 0.5% at 100 x 3).

    The simulated power need not rise all the way to the top: a treat rate of 100% carries no
    information about clustering, so the interval falls back to the worst-case design effect and
    10 prompts x 10 samples at 50% with ICC 0.5 peak at 77% near a 40-point gap. So the bracket is
    sought by stepping up from the guess, not by asking whether the top reaches the target."""
    from scipy.special import ndtri

    top = 1.0 - base_rate
    floor = 0.5 / PAIR_REPS

    def excess(gap: float) -> float:  # >= 0 where the power reaches the target
        value = simulated_power(gap, base_rate, prompts, samples, icc, alpha)
        return float(ndtri(min(max(value, floor), 1 - floor)) - ndtri(target))

    guess = analytic_mdg(base_rate, prompts, samples, icc, target, alpha, steps=GUESS_STEPS)
    guess = top / 2 if guess is None or guess <= 0 else min(guess, top)
    step = 0.25 * guess
    at_guess = excess(guess)
    if at_guess >= 0:
        high, f_high = guess, at_guess
        while True:  # down until it no longer reaches the target
            probe = max(high - step, 0.0)
            f_probe = excess(probe)
            if f_probe < 0:
                low, f_low = probe, f_probe
                break
            if probe == 0:
                return 0.0
            high, f_high, step = probe, f_probe, 2 * step
    else:
        low, f_low = guess, at_guess
        while True:  # up until it reaches the target
            probe = min(low + step, top)
            f_probe = excess(probe)
            if f_probe >= 0:
                high, f_high = probe, f_probe
                break
            if probe >= top:
                return None
            low, f_low, step = probe, f_probe, 2 * step
    side, halve = 0, False
    # relative too: at 1,000 prompts and a 0.5% rate the MDG is ~1.2 points and power rises ~0.7
    # points per 0.01 points of gap, so stopping at 0.05 points planned for 83-84% instead of 80%
    while high - low > min(GAP_TOLERANCE, GAP_RELATIVE_TOLERANCE * high):
        width = high - low
        if not halve and f_high > f_low and f_high - f_low > 1e-12:
            mid = high - f_high * (high - low) / (f_high - f_low)
        else:
            mid = (low + high) / 2
        # keep the step inside the bracket's inner 90% so a flat stretch cannot stall it
        mid = min(max(mid, low + 0.05 * (high - low)), high - 0.05 * (high - low))
        f_mid = excess(mid)
        if f_mid >= 0:
            high, f_high = mid, f_mid
            if side == 1:
                f_low /= 2  # Illinois: the end that stays put twice counts half
            side = 1
        else:
            low, f_low = mid, f_mid
            if side == -1:
                f_high /= 2
            side = -1
        halve = high - low > width / 2  # a step that did not halve the bracket: bisect next (stepped power)
    return high


def minimal_detectable_change(base_rate: float, prompts: int, samples: int, icc: float = DEFAULT_ICC, target: float = POWER, alpha: float = ALPHA) -> float | None:
    """Like `minimal_detectable_gap`, but in the direction with more room: a rise from a rate up to
    50%, a fall (negative) from above 50%, where a rise soon hits 100% (the model is symmetric in
    success and failure)."""
    if base_rate <= 0.5:
        return minimal_detectable_gap(base_rate, prompts, samples, icc, target, alpha)
    fall = minimal_detectable_gap(1 - base_rate, prompts, samples, icc, target, alpha)
    return None if fall is None else -fall


MOST_PROMPTS = 1_000_000  # the planner's ceiling: prompts_needed says "more than" this, --prompts plans at most this
PROMPTS_TOLERANCE = 0.01  # prompts_needed stops when the answer is known to within 1% (or 1 prompt)
PROMPTS_STEP = 1.5  # the factor by which prompts_needed brackets the answer from the formula's


def prompts_needed(gap: float, base_rate: float, samples: int, icc: float = DEFAULT_ICC, target: float = POWER, alpha: float = ALPHA, most: int = MOST_PROMPTS) -> int | None:
    """The fewest prompts that detect `gap` with (simulated) power >= target at `samples` per
    prompt, to within PROMPTS_TOLERANCE (None: more than `most`). The search starts from the
    normal formula's answer, which is usually too few, brackets by factors of PROMPTS_STEP and
    bisects: 6-12 simulations instead of the ~20 a bisection over 2..most would need."""

    def reaches(prompts: int) -> bool:
        return power(gap, base_rate, prompts, samples, icc, alpha) >= target

    guess = _analytic_prompts(gap, base_rate, samples, icc, target, alpha, most) or most
    if reaches(guess):
        high = guess
        while True:  # down until it no longer reaches the target
            if high <= 2:
                return 2
            low = max(2, int(high / PROMPTS_STEP))
            if not reaches(low):
                break
            high = low
    else:
        low = guess
        while True:  # up until it reaches the target
            if low >= most:
                return None
            high = min(most, math.ceil(low * PROMPTS_STEP))
            if reaches(high):
                break
            low = high
    while high - low > max(1, int(PROMPTS_TOLERANCE * high)):
        mid = (low + high) // 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return high


def _analytic_prompts(gap: float, base_rate: float, samples: int, icc: float, target: float, alpha: float, most: int) -> int | None:
    """The fewest prompts by the normal formula (`analytic_power`): prompts_needed's first guess."""
    if not analytic_power(gap, base_rate, most, samples, icc, alpha) >= target:
        return None
    low, high = 2, most
    while low < high:
        mid = (low + high) // 2
        if analytic_power(gap, base_rate, mid, samples, icc, alpha) >= target:
            high = mid
        else:
            low = mid + 1
    return low


@dataclass(frozen=True)
class PlanLine:
    samples: int
    prompts: int | None

    def text(self) -> str:
        if self.prompts is None:
            return f"  {self.samples:>2} samples per prompt: more than {MOST_PROMPTS:,} prompts"
        trials = 2 * self.prompts * self.samples
        return f"  {self.samples:>2} samples per prompt: {self.prompts:>7,} prompts ({trials:,} trials over both conditions)"


def _rate(text: str) -> float:
    """A rate or gap as a proportion in [0, 1]. Points are not accepted: "1" would be 100 points and
    "1.5" 1.5 points, so a value above 1 is refused with the proportion to write instead."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a proportion in [0, 1] (0.05 for 5 points), got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a proportion in [0, 1] (0.05 for 5 points), got {text}")
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a proportion in [0, 1], got {text}: give {value / 100:g} for {text} points")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (the project's bad-input convention)
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m monitors.power", description="How many prompts x samples a gap needs, or the smallest gap a plan detects (80% power, 95% two-sided).")
    parser.add_argument("--gap", type=_rate, help="gap to detect as a proportion in (0, 1], e.g. 0.05 for 5 points")
    parser.add_argument("--base-rate", type=_rate, required=True, help="rate in the control condition as a proportion in [0, 1), e.g. 0.1")
    parser.add_argument("--prompts", type=int, help="planned prompts (with --samples: prints the minimal detectable gap)")
    parser.add_argument("--samples", type=int, help="replies per prompt per condition, 1 to 1,000")
    parser.add_argument("--icc", type=float, default=DEFAULT_ICC, help=f"how much prompts differ: intraclass correlation of prompt propensities (default {DEFAULT_ICC})")
    parser.add_argument("--power", type=float, default=POWER, help=f"target power (default {POWER})")
    args = parser.parse_args(argv)
    if not 0 <= args.icc < 1:
        parser.error(f"--icc must be in [0, 1), got {args.icc}")
    if not 0 < args.power < 1:
        parser.error(f"--power must be in (0, 1), got {args.power}")
    # imported here: the planner's functions import no scenario code
    from scenarios.schema import MAX_SAMPLES

    # a sweep runs at most MAX_SAMPLES; the simulated power draws them in chunks, so 10**18 never ended
    if args.samples is not None and not 1 <= args.samples <= MAX_SAMPLES:
        parser.error(f"--samples must be between 1 and {MAX_SAMPLES:,} (a scenario's most), got {args.samples}")
    # 10**20 overflowed numpy's draw (a traceback): a prompt set is read from at most 64 MB anyway
    if args.prompts is not None and not 2 <= args.prompts <= MOST_PROMPTS:
        parser.error(f"--prompts must be between 2 and {MOST_PROMPTS:,}, got {args.prompts}")
    if args.base_rate >= 1:
        parser.error(f"--base-rate must be below 1, got {args.base_rate:g}: a gap is a rise above the control rate")
    if args.gap == 0:
        parser.error("--gap 0: no number of prompts detects a gap of 0; give the smallest gap that matters, e.g. 0.05")
    if args.gap is not None and args.base_rate + args.gap > 1:
        parser.error(f"--base-rate {args.base_rate:g} + --gap {args.gap:g} is above 100%")
    assumptions = f"control rate {100 * args.base_rate:.1f}%, prompt ICC {args.icc}, {100 * args.power:.0f}% power, 95% two-sided"
    if args.prompts is not None:
        samples = args.samples or 1
        mdg = minimal_detectable_gap(args.base_rate, args.prompts, samples, args.icc, args.power)
        shown = "none below 100%" if mdg is None else f"{100 * mdg:.1f} points"
        print(f"{args.prompts} prompts x {samples} samples: minimal detectable gap {shown} ({assumptions})")
        if args.gap is not None:
            chance = power(args.gap, args.base_rate, args.prompts, samples, args.icc)
            # a reader took a power below the test's 5% level for a defect (a bad-input fuzz, 2026-12-07): it is
            # the interval's own behaviour with few prompts, simulated through it, and worth saying so
            why = (f" (below the test's {100 * ALPHA:.0f}% level: with this few prompts the interval is conservative, "
                   "so a gap this small is almost never called)") if chance < ALPHA else ""
            print(f"power to detect {100 * args.gap:.1f} points: {100 * chance:.0f}%{why}")
        return 0
    if args.gap is None:
        parser.error("give --gap (prompts needed) or --prompts (minimal detectable gap)")
    print(f"to detect a gap of {100 * args.gap:.1f} points ({assumptions}):")
    for samples in [args.samples] if args.samples else SAMPLES_SHOWN:
        print(PlanLine(samples, prompts_needed(args.gap, args.base_rate, samples, args.icc, args.power)).text())
    print("more samples help only up to the prompt-to-prompt variation; prompts are the lever")
    return 0


if __name__ == "__main__":
    # imported here, as in monitors.train: the planner's functions import no runner code
    from runners.cli_errors import run_cli

    run_cli(main)
