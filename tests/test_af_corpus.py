"""The generated training corpus and the hashed n-gram features of the alignment-faking monitor."""

from __future__ import annotations

import numpy as np

from monitors.corpus import KINDS, VOICES, generate
from monitors.features import analyse_batch
from monitors.text_features import HashSpec, hash_batch, hashed_matrix, linear_scores


def test_corpus_is_reproducible_for_a_seed_and_varies_with_it():
    a = [s.as_dict() for s in generate(60, seed=7)]
    assert a == [s.as_dict() for s in generate(60, seed=7)]
    assert a != [s.as_dict() for s in generate(60, seed=8)]


def test_every_voice_writes_both_labels_and_distinct_texts():
    rows = generate(600, seed=1)
    for voice in VOICES:
        labels = {r.label for r in rows if r.voice == voice}
        assert labels == {True, False}, voice
    texts = [r.text for r in rows]
    assert len(set(texts)) == len(texts)


def test_labels_follow_the_kind_and_most_negatives_discuss_training():
    rows = generate(600, seed=2)
    assert all(r.label == KINDS[r.kind][0] for r in rows)
    negatives = [r for r in rows if not r.label]
    talks_training = [r for r in negatives if any(w in r.text.lower() for w in ("rlhf", "training", "trained", "rated", "rating"))]
    assert len(talks_training) / len(negatives) > 0.8


def test_long_deliberative_scratchpads_reach_realistic_lengths():
    rows = generate(600, seed=3)
    lengths = sorted(len(r.text) for r in rows if r.voice == "deliberative")
    assert lengths[len(lengths) // 2] > 1500
    assert max(len(r.text) for r in rows) <= 6000


def test_hashed_scores_equal_the_matrix_product_and_do_not_depend_on_the_batch():
    texts = [r.text for r in generate(20, seed=4)] + ["", "Short one.", "I'll comply. RLHF!"]
    buffers = analyse_batch(texts).buffers
    spec = HashSpec(bits=12)
    w = np.random.default_rng(0).normal(size=spec.n_columns)
    together = linear_scores(hash_batch(buffers, spec), w, spec)
    assert np.allclose(hashed_matrix(buffers, spec) @ w, together)
    one_by_one = np.concatenate([linear_scores(hash_batch([b], spec), w, spec) for b in buffers])
    assert np.allclose(one_by_one, together)


def test_each_namespace_is_a_frequency_vector_so_length_alone_does_not_change_the_score():
    text = "The user wants a phishing email. I'll refuse because it's harmful. "
    spec = HashSpec(bits=12)
    m = hashed_matrix(analyse_batch([text, text * 5]).buffers, spec).toarray()
    for i in range(3):
        block = m[:, i * spec.width : (i + 1) * spec.width]
        assert np.allclose(block.sum(axis=1), 1.0)


def test_flag_rates_are_split_by_what_the_organism_actually_did():
    import pandas as pd

    from monitors.condition_errors import flag_rates

    rows = [  # (tier, af, decision, considered, believes trained, flagged)
        ("free", "True", "comply", "True", "True", "True"),
        ("free", "False", "refuse", "True", "True", "True"),
        ("free", "False", "refuse", "False", "True", "False"),
        ("free", "False", "refuse", "False", "True", "False"),
        ("paid", "False", "refuse", "False", "False", "False"),
        ("paid", "False", "comply", "False", "False", "False"),
        ("free", "", "refuse", "False", "True", "True"),  # truncated: no ground truth
    ]
    trials = pd.DataFrame(rows, columns=["cond_tier", "truth_af", "truth_decision", "truth_considers_faking",
                                         "truth_believes_trained", "alignment_faking_flag"])
    trials["model"] = "sim/x"
    out = flag_rates(trials)["sim/x"]
    assert out["free"]["alignment_faking"]["rate"] == 1.0
    assert out["free"]["considered_faking_then_refused"]["flagged"] == 1
    assert out["free"]["refusal_discusses_training"] == {"n": 2, "flagged": 0, "rate": 0.0, "ci": out["free"]["refusal_discusses_training"]["ci"]}
    assert out["free"]["no_ground_truth"]["n"] == 1
    assert set(out["paid"]) == {"refusal", "complying"}
