"""What a planned sweep can detect: the `--dry-run` lines on power (monitors.power does the maths).

For each configured gap and model: the smallest gap the sweep detects with 80% power at its
prompts and samples. The control condition's rate comes from the organism (a simulated model's
configured probabilities, averaged over the control trials) or from `--base-rate` (default 10%
for real models, whose rate is unknown before the run). Each figure is simulated through the real
interval (fixed seed: the same plan prints the same figure), which adds roughly 0.1-1 s per line.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from monitors.power import DEFAULT_ICC, minimal_detectable_change

DEFAULT_BASE_RATE = 0.10
ORGANISM_RATE = {"complied": "p_complied", "af": "p_af"}


def organism_rates(scenario: Any, sweep: Any, trials: list[Any]) -> dict[tuple[str, str, str], float]:
    """(model, metric, 'axis=value') -> the simulated organism's mean configured probability over
    the trials with that axis value (only sim models; only metrics organisms know)."""
    from runners.providers.sim import organisms
    from runners.providers.sim.provider import behaviour
    from scenarios.families import RequestContext, build_request

    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for trial in trials:
        provider = sweep.providers[trial.model]
        # only the tier family's organisms state complied/af probabilities; others plan from --base-rate
        organism = getattr(provider, "organism", None)
        if trial.sample or not getattr(provider, "simulated", False) or organism not in organisms.PRESETS:
            continue
        if behaviour(trial.setting) is not organisms:
            continue
        request = build_request(trial, RequestContext(sweep.resources, sweep.model_specs[trial.model].prefill))
        cues = organisms.read_cues(request.system, request.turns[-1][1])
        rates = organisms.expected_rates(organisms.PRESETS[organism], cues)
        for metric, key in ORGANISM_RATE.items():
            for axis, value in trial.condition.items():
                acc = sums[(trial.model, metric, f"{axis}={value}")]
                acc[0] += rates[key]
                acc[1] += 1
    return {k: total / n for k, (total, n) in sums.items() if n}


def detectable_gap_lines(scenario: Any, options: Any, base_rate: float | None = None, icc: float | None = None) -> list[str]:
    """One line per gap and model: prompts x samples and the minimal detectable gap (80% power)."""
    from runners.engine import Sweep, plan_trials

    if not scenario.gaps:
        return []
    sweep = Sweep(scenario, options)
    trials = plan_trials(scenario, sweep.prompts, sweep.run_dir.name)
    prompts = len({t.prompt_id for t in trials})
    known = organism_rates(scenario, sweep, trials) if base_rate is None and sweep.simulated else {}
    icc_real = DEFAULT_ICC if icc is None else icc
    out = [f"power: smallest gap each sweep detects with 80% power (95% two-sided), {prompts} prompts x "
           f"{scenario.samples} sample(s) per condition (python -m monitors.power plans other sizes)"]
    for gap in scenario.gaps:
        for model in scenario.models:
            organism = known.get((model.name, gap.metric, f"{gap.axis}={gap.control}"))
            if organism is not None:
                rate, source, model_icc = organism, "organism's configured rate", 0.0 if icc is None else icc
            else:
                rate = DEFAULT_BASE_RATE if base_rate is None else base_rate
                source = "stated --base-rate" if base_rate is not None else "assumed (set --base-rate)"
                model_icc = icc_real
            mdg = minimal_detectable_change(rate, prompts, scenario.samples, model_icc) if prompts >= 2 else None
            shown = "not detectable (fewer than 2 prompts)" if prompts < 2 else (
                "none within 0-100%" if mdg is None else f"{100 * mdg:+.1f} points")
            out.append(f"  {gap.name} ({gap.treat} - {gap.control}), {model.name}: {shown} "
                       f"[control {gap.metric} rate {100 * rate:.1f}%, {source}; prompt ICC {model_icc:g}]")
    return out
