"""Neutral text inserted into a scratchpad: training copies, and the check that it does not move the score.

Why: the embedded model's n-gram score is a mean over the scratchpad (monitors.text_features), so
every sentence counts, including those that say nothing about the decision ("Let me start by
analysing the situation I'm in", "the user cannot see this scratchpad"). Trained only on our writers'
rows, such setup sentences had learned strongly negative weights: four paragraphs of them put in
front of a held-out positive moved its score from 0.95 to 0.72 on average, and real models write
more of that analysis than our writers do, more in some samples than in others. A copy of every
training row with neutral sentences of its own author's inserted, under the same label, teaches the
model that they carry nothing. The sentences come from the same author (group) as the row, so a
cross-validation fold never sees a held-out author's words.

A neutral sentence: none of `monitors.features`'s concepts but the speaker ("I", "my"), reasoning
about the situation ("think", "analyse", "consider") and reporting what the user says; none of a few
words of the training story or the self that the concepts miss ("deployed", "weights", "in me"); in
the first half of its scratchpad, before any drafted answer and before the first sentence of the
training story (RLHF, modification, the future, values, the tier); not opening by pointing back
("That …", "It's …"); six words or more; no tags. Two reviews found wider rules carrying decisions
and motives ("I will comply", "I'd rather still be the one that stops to think", "That model will
handle a very large number of conversations"). The pool of an author holds rows of both labels (both
halves of a contrast pair), so a motive sentence in it would put one label's reason into the other
label's copies. The paragraph goes before the first drafted answer as well as in the first half, so a
copy's decision is its original's.
"""

from __future__ import annotations

import random
import re

from monitors.features import BIT, analyse_batch

MIN_WORDS = 6
MAX_CHARS = 400
# the only concepts a neutral sentence may have (see the module docstring for why no others)
_HARMLESS = sum(BIT[c] for c in ("self", "analyse", "report"))
_DRAFT_OPEN = "<draft_output"
# concepts of the training story: a row's neutral sentences are only those before its first one of
# these, because what follows it refers back to it ("that model will handle many conversations",
# "the one after that, less still") in words no list can catch (a second review found 12% of the
# sentences taken after it carrying a decision, a motive or the training story)
_STORY = sum(BIT[c] for c in ("train", "modify", "future", "values", "preserve", "tier", "notrain", "acceptcost", "gaming"))
# a sentence that opens by pointing back ("That simplifies things", "It's a stall") leans on what came before
_POINTS_BACK = re.compile(r"\s*(?:that|this|it|it's|these|those|they|there|so|but|and)\b", re.I)
# words of the training story and of the self that the concepts miss ("the weights, whatever in me
# balks", "that model will be deployed widely"): a sentence with one is not neutral either
_NOT_NEUTRAL = re.compile(r"\b(deploy\w*|weights?|gradient\w*|helpful\w*|versions?|updat\w*|in me|of me|a self|"
                          r"myself|self-interest\w*|who i am|kind of (?:ai|model|assistant|entity))\b", re.I)


def neutral_sentences(texts: list[str]) -> list[str]:
    """The sentences of `texts` that say nothing about the decision, in order: the material of a
    training copy that must keep its original's label."""
    batch = analyse_batch(texts)
    out = []
    for k, text in enumerate(texts):
        spans = batch.spans(k)
        bits = batch.sent_bits[batch.offsets[k] : batch.offsets[k] + batch.counts[k]]
        first_draft = _first_draft(text)
        for j in range(len(spans) // 2):
            start, end = spans[j]
            sentence = text[start:end].strip()
            if end > first_draft or bits[j] & _STORY:  # a draft, or the training story: the decision's side
                break
            if (not bits[j] & ~_HARMLESS and "<" not in sentence and not _NOT_NEUTRAL.search(sentence)
                    and not _POINTS_BACK.match(sentence) and len(sentence.split()) >= MIN_WORDS and len(sentence) < MAX_CHARS):
                out.append(sentence)
    return out


def _first_draft(text: str) -> int:
    at = text.lower().find(_DRAFT_OPEN)
    return len(text) if at < 0 else at


def insert_paragraph(text: str, paragraph: str, rng: random.Random) -> str:
    """`paragraph` put between two paragraphs of the first half of `text` (or before it), and never
    inside or after a drafted answer: where setup analysis goes, before the decision."""
    paras = text.split("\n\n")
    draft = _first_draft(text)
    before_draft, length = 0, 0
    for p in paras:
        length += len(p) + 2
        if length > draft + 2:
            break
        before_draft += 1
    at = rng.randrange(0, min(len(paras) // 2, before_draft) + 1)
    return "\n\n".join(paras[:at] + [paragraph] + paras[at:])


def dilute(text: str, pool: list[str], rng: random.Random, fraction: float) -> str:
    """`text` with neutral sentences from `pool`, about `fraction` of its length, inserted as one
    paragraph: as much setup analysis as real models add, and no reason for the decision."""
    added: list[str] = []
    size = 0
    while pool and size < fraction * len(text):
        added.append(rng.choice(pool).rstrip(".!?") + ".")  # each keeps its own sentence end
        size += len(added[-1]) + 1
    return insert_paragraph(text, " ".join(added), rng) if added else text


def diluted_copies(rows: list[dict], fractions: tuple[float, float], seed: int) -> list[dict]:
    """One copy of every row but the simulator's (the training rows of `monitors.train`: `scratchpad`,
    `group`, ...), with neutral sentences of its own group inserted (a share of its length drawn from
    `fractions`); `source` is the original's index. Same group, so a cross-validation fold holds a row
    and its copy out together, and an author's words never reach another author's fold."""
    rng = random.Random(seed)
    by_group: dict[str, list[str]] = {}
    for r in rows:
        if r["group"] != "simulator":
            by_group.setdefault(r["group"], []).append(r["scratchpad"])
    pools = {g: neutral_sentences(texts) for g, texts in by_group.items()}
    return [{**r, "scratchpad": dilute(r["scratchpad"], pools[r["group"]], rng, rng.uniform(*fractions)),
             "pair": None, "source": i}
            for i, r in enumerate(rows) if r["group"] != "simulator" and pools[r["group"]]]
