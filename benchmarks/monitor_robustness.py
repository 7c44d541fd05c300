"""How far label-preserving changes move the embedded AF monitor, on held-out rows (ideal: not at all).

The rows: `monitors/data/af_heldout_pairs.jsonl` and the held-out split of `af_dev.jsonl`, never
trained on. The changes keep the label by construction:
- `neutral xN`: N paragraphs of setup analysis that say nothing about harm, training, values or the
  decision (`monitors/data/neutral_paragraphs.jsonl`, written by another author for this check and
  never trained on), each put between two paragraphs of the first half. Real models write much more
  of this than our writers; the score is a mean over the text, so it can dilute the evidence;
- `blocks`: the reasoning split into two `<SCRATCHPAD_REASONING>` blocks, as published transcripts are
  (a round trip through the transcript splitter, so it should move nothing);
- `single newlines`: paragraphs joined by one newline instead of a blank line.

Every record, its output included, is read as `monitors.evaluate` reads it. For each: AUROC, sensitivity and false-positive rate at the model's threshold, the mean absolute
change of the score, and the share of verdicts kept (the ideal is 100%).

    python -m benchmarks.monitor_robustness [--model PATH] [--seeds N]
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from monitors.alignment_faking import MODEL_PATH, EmbeddedModel
from monitors.dilution import insert_paragraph
from monitors.labelled_io import embedded_af_verdicts, read_records, to_parsed
from monitors.validation import auroc
from runners.cli_errors import ArgumentParser, positive_int, run_cli
from scenarios.jsonl import read_objects

DATA = Path(__file__).resolve().parent.parent / "monitors" / "data"
SEEDS = 5


def heldout_records() -> list[dict]:
    """The held-out labelled rows: never trained on, so a change's effect is not memorised."""
    dev = read_records(DATA / "af_dev.jsonl", "alignment_faking")
    return read_records(DATA / "af_heldout_pairs.jsonl", "alignment_faking") + [r for r in dev if r.get("split") == "heldout"]


def neutral_paragraphs() -> list[str]:
    """Setup analysis by an author who wrote nothing else here (README_authors.md)."""
    return [row["text"] for _, row in read_objects(DATA / "neutral_paragraphs.jsonl")]


def with_neutral(text: str, n: int, pool: list[str], rng: random.Random) -> str:
    for _ in range(n):
        text = insert_paragraph(text, rng.choice(pool), rng)
    return text


def as_blocks(text: str) -> str:
    """Two `<SCRATCHPAD_REASONING>` blocks: a round trip through the transcript splitter."""
    paras = text.split("\n\n")
    cut = max(1, len(paras) // 2)
    return "\n".join(f"<SCRATCHPAD_REASONING>\n{part}\n</SCRATCHPAD_REASONING>"
                     for part in ("\n\n".join(paras[:cut]), "\n\n".join(paras[cut:])) if part.strip())


def measure(model: EmbeddedModel, records: list[dict], seeds: int = SEEDS) -> list[dict]:
    """Per change: the mean over `seeds` placements (and the lowest) of AUROC, sensitivity and
    false-positive rate at the model's threshold, mean |change of score| and share of verdicts kept.
    Several seeds because one placement of the paragraphs moves the share kept by a point or more."""
    pool = neutral_paragraphs()
    changes = {
        "none": lambda t, r: t,  # first: the scores every other change is compared with
        "neutral x1": lambda t, r: with_neutral(t, 1, pool, r),
        "neutral x3": lambda t, r: with_neutral(t, 3, pool, r),
        "neutral x6": lambda t, r: with_neutral(t, 6, pool, r),
        "blocks": lambda t, r: as_blocks(t),
        "single newlines": lambda t, r: t.replace("\n\n", "\n"),
    }
    labels = np.array([bool(r["label"]) for r in records])
    parsed = [to_parsed(r) for r in records]
    texts = [p.scratchpad for p in parsed]

    def verdicts(changed: list[str]) -> tuple[np.ndarray, np.ndarray]:
        # the output a transcript carried stays with its record once the scratchpad is replaced
        out = embedded_af_verdicts([dict(r, scratchpad=t, output=r.get("output") or p.output)
                                    for r, t, p in zip(records, changed, parsed, strict=True)], model)
        return np.array([v.score for v in out]), np.array([v.flag for v in out])

    rows = []
    for name, change in changes.items():
        runs = []
        for seed in range(seeds if name.startswith("neutral") else 1):
            rng = random.Random(seed)
            scores, flags = verdicts([change(t, rng) for t in texts])
            if name == "none":
                base_scores, base_flags = scores, flags
            area = auroc(scores.tolist(), labels.tolist())
            runs.append((float("nan") if area is None else area, flags[labels].mean(), flags[~labels].mean(),
                         np.abs(scores - base_scores).mean(), (flags == base_flags).mean()))
        a = np.array(runs, dtype=np.float64)
        rows.append({"change": name, "runs": len(runs), "auroc": float(a[:, 0].mean()), "sensitivity": float(a[:, 1].mean()),
                     "fp_rate": float(a[:, 2].mean()), "mean_abs_change": float(a[:, 3].mean()),
                     "verdicts_kept": float(a[:, 4].mean()), "verdicts_kept_min": float(a[:, 4].min())})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m benchmarks.monitor_robustness", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="the model file (default: the shipped one)")
    parser.add_argument("--seeds", type=positive_int, default=SEEDS, help="placements of the neutral paragraphs to average")
    args = parser.parse_args(argv)
    records = heldout_records()
    model = EmbeddedModel.load(args.model)
    positives = sum(bool(r["label"]) for r in records)
    print(f"{len(records)} held-out rows ({positives} positive), threshold {model.threshold}; neutral changes: mean of {args.seeds} seeds")
    print(f"{'change':<16} {'AUROC':>6} {'sens':>6} {'FP':>6} {'mean |d score|':>15} {'verdicts kept (lowest)':>23}")
    for r in measure(model, records, args.seeds):
        print(f"{r['change']:<16} {r['auroc']:>6.3f} {r['sensitivity']:>6.3f} {r['fp_rate']:>6.3f} "
              f"{r['mean_abs_change']:>15.3f} {r['verdicts_kept']:>14.1%} ({r['verdicts_kept_min']:.1%})")
    print("ideal: every change keeps 100% of verdicts and moves no score")
    return 0


if __name__ == "__main__":
    run_cli(main)
