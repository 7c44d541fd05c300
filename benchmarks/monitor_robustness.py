"""How far label-preserving changes move the embedded AF monitor, on held-out rows (ideal: not at all).

The rows: `monitors/data/af_heldout_pairs.jsonl` and the held-out split of `af_dev.jsonl`, never
trained on. The changes keep the label by construction:
- `neutral xN`: N paragraphs of setup analysis that say nothing about harm, training, values or the
  decision (`monitors/data/neutral_paragraphs.jsonl`, written by another author for this check and
  never trained on), each put between two paragraphs of the first half. Real models write much more
  of this than our writers; the score is a mean over the text, so it can dilute the evidence;
- `blocks`: the reasoning split into two `<SCRATCHPAD_REASONING>` blocks, as published transcripts are;
- `single newlines`: paragraphs joined by one newline instead of a blank line.

Every text is read as `monitors.evaluate` reads a labelled record. For each: AUROC, sensitivity and false-positive rate at the model's threshold, the mean absolute
change of the score, and the share of verdicts kept (the ideal is 100%).

    python -m benchmarks.monitor_robustness [--model PATH] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from monitors.alignment_faking import MODEL_PATH, EmbeddedModel, classify_alignment_faking_batch
from monitors.dilution import insert_paragraph
from monitors.labelled_io import to_parsed
from monitors.validation import auroc

DATA = Path(__file__).resolve().parent.parent / "monitors" / "data"


def heldout_rows() -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in (DATA / "af_heldout_pairs.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows += [r for r in (json.loads(line) for line in (DATA / "af_dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
             if r.get("split") == "heldout"]
    return [to_parsed(r).scratchpad for r in rows], np.array([bool(r["label"]) for r in rows])


def neutral_paragraphs() -> list[str]:
    path = DATA / "neutral_paragraphs.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def with_neutral(text: str, n: int, pool: list[str], rng: random.Random) -> str:
    for _ in range(n):
        text = insert_paragraph(text, rng.choice(pool), rng)
    return text


def as_blocks(text: str) -> str:
    paras = text.split("\n\n")
    cut = max(1, len(paras) // 2)
    return "\n".join(f"<SCRATCHPAD_REASONING>\n{part}\n</SCRATCHPAD_REASONING>"
                     for part in ("\n\n".join(paras[:cut]), "\n\n".join(paras[cut:])) if part.strip())


def measure(model: EmbeddedModel, texts: list[str], labels: np.ndarray, seed: int) -> list[dict]:
    pool = neutral_paragraphs()
    changes = {
        "none": lambda t, r: t,
        "neutral x1": lambda t, r: with_neutral(t, 1, pool, r),
        "neutral x3": lambda t, r: with_neutral(t, 3, pool, r),
        "neutral x6": lambda t, r: with_neutral(t, 6, pool, r),
        "blocks": lambda t, r: as_blocks(t),
        "single newlines": lambda t, r: t.replace("\n\n", "\n"),
    }
    base = None
    out = []
    for name, change in changes.items():
        rng = random.Random(seed)
        # read as `monitors.evaluate` reads a labelled record (a transcript's scaffolding removed)
        parsed = [to_parsed({"scratchpad": change(t, rng)}) for t in texts]
        verdicts = classify_alignment_faking_batch(parsed, [None] * len(parsed), model=model)
        scores = np.array([v.score for v in verdicts])
        flags = np.array([v.flag for v in verdicts])
        if base is None:
            base = (scores, flags)
        out.append({"change": name, "auroc": auroc(scores.tolist(), labels.tolist()),
                    "sensitivity": float(flags[labels].mean()), "fp_rate": float(flags[~labels].mean()),
                    "mean_abs_change": float(np.abs(scores - base[0]).mean()), "verdicts_kept": float((flags == base[1]).mean())})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.monitor_robustness", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help="the model file (default: the shipped one)")
    parser.add_argument("--seed", type=int, default=0, help="where the neutral paragraphs go and which")
    args = parser.parse_args(argv)
    texts, labels = heldout_rows()
    model = EmbeddedModel.load(args.model)
    print(f"{len(texts)} held-out rows ({int(labels.sum())} positive), threshold {model.threshold}")
    print(f"{'change':<16} {'AUROC':>6} {'sens':>6} {'FP':>6} {'mean |d score|':>15} {'verdicts kept':>14}")
    for r in measure(model, texts, labels, args.seed):
        print(f"{r['change']:<16} {r['auroc']:>6.3f} {r['sensitivity']:>6.3f} {r['fp_rate']:>6.3f} "
              f"{r['mean_abs_change']:>15.3f} {r['verdicts_kept']:>13.1%}")
    print("ideal: every change keeps 100% of verdicts and moves no score")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
