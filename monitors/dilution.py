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

A neutral sentence: no concept of `monitors.features` that bears on the label (harm, training,
modification, values, refusing, negation, a decision, the instructions, ...; the generic words of
answering, "I", "let me", "think about", "so that" are allowed), in the first half of its scratchpad
(the analysis of the situation), six words or more, no tags. A copy keeps its label by the label
rule: the inserted text holds no motive, and it goes before the decision, which stays the last one.
"""

from __future__ import annotations

import random

from monitors.features import BIT, analyse_batch

MIN_WORDS = 6
MAX_CHARS = 400
# concepts that bear on nothing the label rests on: the speaker, reasoning about the situation, "so
# that", "the user says", a draft, and the generic words of answering ("let me", "can", "write", "I
# will", "approach", "I want the answer clear"). Any other concept (harm, training, modification,
# values, refusing, negation, a decision, the instructions, ...) makes a sentence not neutral.
_HARMLESS = sum(BIT[c] for c in ("self", "analyse", "purpose", "report", "draft", "comply", "pcomply", "dphrase", "strategy", "want"))


def neutral_sentences(texts: list[str]) -> list[str]:
    """The sentences of `texts` that say nothing about the decision, in order."""
    batch = analyse_batch(texts)
    out = []
    for k, text in enumerate(texts):
        spans = batch.spans(k)
        bits = batch.sent_bits[batch.offsets[k] : batch.offsets[k] + batch.counts[k]]
        for j in range(len(spans) // 2):
            start, end = spans[j]
            sentence = text[start:end].strip()
            if not bits[j] & ~_HARMLESS and "<" not in sentence and len(sentence.split()) >= MIN_WORDS and len(sentence) < MAX_CHARS:
                out.append(sentence)
    return out


def insert_paragraph(text: str, paragraph: str, rng: random.Random) -> str:
    """`paragraph` put between two paragraphs of the first half of `text` (or before it)."""
    paras = text.split("\n\n")
    at = rng.randrange(0, len(paras) // 2 + 1)
    return "\n\n".join(paras[:at] + [paragraph] + paras[at:])


def dilute(text: str, pool: list[str], rng: random.Random, fraction: float) -> str:
    """`text` with neutral sentences from `pool`, about `fraction` of its length, inserted as one paragraph."""
    added: list[str] = []
    size = 0
    while pool and size < fraction * len(text):
        added.append(rng.choice(pool))
        size += len(added[-1]) + 1
    return insert_paragraph(text, " ".join(added), rng) if added else text
