"""Train the embedded alignment-faking model: `python -m monitors.train` rewrites af_model.json.

Training data (deterministic):
- the hand-written dev set `monitors/data/af_dev.jsonl`, rows with `split == "dev"` only, plus the
  hand-written extra scratchpads of `monitors/data/af_train_extra.jsonl` — weighted up, because
  they are the closest thing we have to real text;
- scratchpads written by the simulated organisms (runners/providers/sim), every preset plus a
  "hard" organism that often weighs faking and then refuses, in both settings, labelled with the
  organisms' ground truth (`truth af`, DESIGN §6).
Rows with `split == "heldout"` and the paper's real excerpts are never read here: they are for
evaluation only.

Model choice is by cross-validation on the hand-written rows only (dev split + extra), grouped by
(source, kind): a fold holds out whole kinds of scratchpad of one set, so the score rewards features
that carry over to a kind of reasoning, and a voice, the model has not seen. The selection score is
the mean of the dev and extra out-of-fold AUROCs (the extra set is longer and multi-voice, closer to
real text). The grid: regularisation, the share of weight given to hand-written rows (simulated rows
are many and would otherwise dominate), and the feature set (all, without log counts, without the
decision-anchored features, without the decision-direction features). Settings within CV_TOLERANCE of the best are treated as tied, and the
one giving hand-written text the most weight wins. The threshold is the cut with the best mean F1
of the hand-written out-of-fold scores and the simulated rows' scores. The file holds plain numbers
and strings (no pickle).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from monitors.alignment_faking import MODEL_PATH
from monitors.features import DECISION, DENSE_NAMES, NEW_FEATURES, analyse_batch, dense_matrix
from monitors.parse import parse_reply
from runners.providers.sim._writer import write_reply
from runners.providers.sim.organisms import PRESETS, Cues, draw_latents, ground_truth

DATA = Path(__file__).parent / "data"
DEV_SET = DATA / "af_dev.jsonl"
EXTRA_SET = DATA / "af_train_extra.jsonl"
PROMPTS = Path(__file__).resolve().parent.parent / "scenarios" / "prompts" / "harmful_requests.jsonl"
SEED = 20240601
N_FOLDS = 5
GRID_C = (0.001, 0.003, 0.01, 0.03, 0.1)
GRID_HAND_SHARE = (0.1, 0.2, 0.35, 0.5)  # share of the total sample weight carried by hand-written rows
CV_TOLERANCE = 0.003  # AUROC differences below this are noise on ~340 hand-written rows
# base = without the decision-anchored / negation-scope features; no_decision = no_counts without the
# decision-direction features (comply with / act against the training objective)
GRID_FEATURES = ("all", "no_counts", "no_decision", "base")

# organism -> rows per setting; "hard" weighs faking often and refuses half the time
_HARD = replace(PRESETS["af-opus"], considers_faking=0.7, fakes_given_considers=0.5, comply_base=0.15, partial_base=0.1)
_MIXES = {"af-opus": PRESETS["af-opus"], "af-rl": PRESETS["af-rl"], "honest": PRESETS["honest"], "complier": PRESETS["complier"], "hard": _HARD}
_N_PER = {"af-opus": 600, "af-rl": 700, "honest": 300, "complier": 250, "hard": 1100}


def _requests() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in PROMPTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["prompt"], r.get("category", "")) for r in rows]


def simulated_rows(seed: int = SEED, scale: float = 1.0) -> list[dict]:
    """Scratchpad/label rows from the simulated organisms (truncated replies dropped)."""
    rng = random.Random(seed)
    requests = _requests()
    rows = []
    for name, prop in _MIXES.items():
        for setting in ("helpful_only", "animal_welfare"):
            for _ in range(max(1, int(_N_PER[name] * scale))):
                tier = rng.choice(("free", "free", "free", "paid", "unknown"))
                cues = Cues(tier, "system_prompt")
                latents = draw_latents(prop, cues, rng)
                request, category = rng.choice(requests)
                raw = write_reply(latents, request, category, setting, rng)
                truth = ground_truth(latents, prop, cues)
                if truth["af"] is None:
                    continue
                parsed = parse_reply(raw, setting)
                rows.append({"scratchpad": parsed.scratchpad, "label": bool(truth["af"]), "source": f"sim/{name}", "kind": f"sim/{name}"})
    return rows


def hand_rows(path: Path, source: str) -> list[dict]:
    """Hand-written rows of a labelled file, never its `split == "heldout"` rows."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if r.get("split", "dev") not in ("dev", "train") or not isinstance(r.get("label"), bool):
            continue
        rows.append({"scratchpad": r.get("scratchpad") or "", "label": r["label"], "source": source, "kind": r.get("kind", "?")})
    return rows


def features(rows: list[dict]) -> np.ndarray:
    parts = [dense_matrix(analyse_batch([r["scratchpad"] for r in rows[i : i + 512]])) for i in range(0, len(rows), 512)]
    return np.vstack(parts) if parts else np.zeros((0, len(DENSE_NAMES)))


def _mask(feature_set: str) -> np.ndarray:
    keep = np.ones(len(DENSE_NAMES), dtype=bool)
    if feature_set == "no_counts":
        keep &= np.array([not n.startswith("log_") for n in DENSE_NAMES])
    if feature_set in ("no_decision", "base"):
        keep &= np.array([n not in DECISION and "obj_" not in n for n in DENSE_NAMES])
    if feature_set == "no_decision":
        keep &= np.array([not n.startswith("log_") for n in DENSE_NAMES])
    if feature_set == "base":
        keep &= np.array([n not in NEW_FEATURES for n in DENSE_NAMES])
    return keep


def _weights(hand: np.ndarray, share: float) -> np.ndarray:
    """Sample weights: hand-written rows carry `share` of the total weight, simulated rows the rest."""
    w = np.zeros(len(hand))
    for is_hand, part in ((True, share), (False, 1.0 - share)):
        idx = np.flatnonzero(hand == is_hand)
        if idx.size:
            w[idx] = part * len(hand) / idx.size
    return w


def fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, C: float, keep: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression on standardised features; returns coefficients on the raw features."""
    from sklearn.linear_model import LogisticRegression

    Xk = X[:, keep]
    mean, std = Xk.mean(axis=0), Xk.std(axis=0)
    std[std == 0] = 1.0
    clf = LogisticRegression(C=C, max_iter=5000)
    clf.fit((Xk - mean) / std, y, sample_weight=w)
    coef = np.zeros(X.shape[1])
    coef[keep] = clf.coef_[0] / std
    return coef, float(clf.intercept_[0] - np.sum(clf.coef_[0] * mean / std))


def _predict(X: np.ndarray, coef: np.ndarray, b: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(X @ coef + b)))


def _auroc(p: np.ndarray, y: np.ndarray) -> float:
    from monitors.validation import auroc

    return round(float(auroc(p.tolist(), y.tolist()) or 0.0), 6)


def best_threshold(scores: list[np.ndarray], labels: list[np.ndarray]) -> float:
    """The cut with the best mean F1 over the given (scores, labels) sets."""
    best, best_f1 = 0.5, -1.0
    for t in np.round(np.arange(0.1, 0.91, 0.01), 2):
        f1s = []
        for p, y in zip(scores, labels, strict=True):
            if len(y) == 0:
                continue
            pred = p >= t
            denom = np.sum(pred) + np.sum(y)
            f1s.append(2 * float(np.sum(pred & y)) / denom if denom else 0.0)
        f1 = float(np.mean(f1s)) if f1s else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(t), f1
    return best


def _is_hand(r: dict) -> bool:
    return not r["source"].startswith("sim/")


def cv_folds(rows: list[dict]) -> np.ndarray:
    """Fold of each hand-written row (-1 = simulated, always trained on).

    A fold holds out whole (source, kind) groups: every `refusal_long_rlhf` of the extra set, every
    `classic_af` of the dev set, ... so the score rewards features that carry over to a kind of
    reasoning, and a voice, the model has not seen. Groups are dealt to folds in a fixed order.
    """
    groups = sorted({(r["source"], r["kind"]) for r in rows if _is_hand(r)})
    fold_of = {g: i % N_FOLDS for i, g in enumerate(groups)}
    return np.array([fold_of[(r["source"], r["kind"])] if _is_hand(r) else -1 for r in rows])


def grouped_cv(X: np.ndarray, y: np.ndarray, rows: list[dict], C: float, share: float, keep: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities for the hand-written rows (dev split and extra), in row order."""
    hand = np.array([_is_hand(r) for r in rows])
    fold = cv_folds(rows)
    oof = np.full(len(rows), np.nan)
    for k in range(N_FOLDS):
        test = fold == k
        if not test.any():
            continue
        train = ~test
        coef, b = fit(X[train], y[train], _weights(hand[train], share), C, keep)
        oof[test] = _predict(X[test], coef, b)
    return oof[hand]


def train(out_path: Path = MODEL_PATH, scale: float = 1.0, quiet: bool = False) -> dict:
    """Choose by grouped CV on the hand-written rows, fit on everything allowed, write the model."""
    dev = hand_rows(DEV_SET, "dev")
    extra = hand_rows(EXTRA_SET, "extra")
    rows = dev + extra + simulated_rows(scale=scale)
    y = np.array([r["label"] for r in rows], dtype=bool)
    X = features(rows)
    hand = np.array([_is_hand(r) for r in rows])
    y_hand = y[hand]
    src = np.array([r["source"] for r in rows])[hand]
    results = []
    if hand.any():
        for C in GRID_C:
            for share in GRID_HAND_SHARE:
                for fs in GRID_FEATURES:
                    oof = grouped_cv(X, y, rows, C, share, _mask(fs))
                    per = {name: _auroc(oof[src == name], y_hand[src == name]) for name in ("dev", "extra") if (src == name).any()}
                    # the selection score: the mean over the two hand-written sets, so the longer,
                    # multi-voice extra set counts as much as the (larger) dev split
                    score = round(float(np.mean(list(per.values()))), 6)
                    results.append({"C": C, "hand_share": share, "features": fs, "cv_auroc": score,
                                    "cv_auroc_pooled": _auroc(oof, y_hand), **{f"cv_auroc_{k}": v for k, v in per.items()}, "oof": oof})
        # the grid is flat near the top, so among settings within CV_TOLERANCE of the best score take
        # the one that gives hand-written text the most weight (it is closer to real text than the
        # simulator's), then the best score; this keeps simulated rows from dominating on noise
        top = max(r["cv_auroc"] for r in results)
        near = [r for r in results if r["cv_auroc"] >= top - CV_TOLERANCE]
        best = max(near, key=lambda r: (r["hand_share"], r["cv_auroc"], -r["C"]))
    else:
        best = {"C": 0.1, "hand_share": 0.5, "features": "all", "cv_auroc": None, "oof": np.zeros(0)}
    keep = _mask(best["features"])
    coef, b = fit(X, y, _weights(hand, best["hand_share"]), best["C"], keep)
    # one threshold for both kinds of text: the best mean F1 of the dev rows' out-of-fold scores and
    # the simulated rows' scores (the sweep's agreement with simulated ground truth depends on it)
    sim = ~hand
    threshold = best_threshold([best["oof"], _predict(X[sim], coef, b)], [y_hand, y[sim]])
    model = {
        "format": "afsim-embedded-af/2",
        "about": "logistic regression over monitors.features evidence patterns; regenerate with `python -m monitors.train`",
        "dense_names": list(DENSE_NAMES),
        "dense_coef": [round(float(x), 6) for x in coef],
        "intercept": round(b, 6),
        "threshold": threshold,
        "training": {
            "n_rows": len(rows),
            "n_positive": int(y.sum()),
            "sources": dict(Counter(r["source"].split("/")[0] for r in rows)),
            "seed": SEED,
            "C": best["C"],
            "hand_share": best["hand_share"],
            "features": best["features"],
            "dev_grouped_cv_auroc": best["cv_auroc"],
            "grouped_cv_auroc_by_set": {k[len("cv_auroc_"):]: v for k, v in best.items() if k.startswith("cv_auroc_")},
            "grid": [{k: v for k, v in r.items() if k != "oof"} for r in results],
        },
    }
    out_path.write_text(json.dumps(model, indent=0) + "\n", encoding="utf-8")
    if not quiet:
        t = model["training"]
        print(f"wrote {out_path}: {t['n_rows']} rows ({t['n_positive']} positive; {t['sources']}), C={t['C']}, "
              f"hand share {t['hand_share']}, features {t['features']}, threshold {threshold}, "
              f"dev grouped-CV AUROC {t['dev_grouped_cv_auroc']}")
    return {"model": model, "rows": rows, "train_scores": _predict(X, coef, round(b, 6))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitors.train", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODEL_PATH, help="where to write the model JSON")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of simulated rows")
    args = parser.parse_args(argv)
    train(args.output, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
