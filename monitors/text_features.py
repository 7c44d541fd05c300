"""Hashed word and character n-grams of scratchpads: the text representation of the embedded
alignment-faking model.

Why n-grams at all: on real scratchpads a plain TF-IDF (word + character n-grams) + logistic
regression transferred better than hand-built evidence patterns, which over-fit our own writing.
Why our own hashing rather than scikit-learn's `HashingVectorizer`: the monitor has to score
>= 2,000 scratchpads of 2,400 characters per second on one core, and scikit-learn's analysers run
in Python (about 200/s for character n-grams at that length). Here a whole batch is hashed with
numpy, using prefix sums of a polynomial hash: every substring's hash is one subtraction and one
multiplication, so character n-grams and words cost a few vectorised passes over the batch.

What is hashed, over the normalised byte buffer `monitors.features` already builds (lower case,
punctuation folded, "|" at sentence ends — so a voice's typography carries little), or of the text with
each drafted answer emptied when the model file says `drafts: masked` (`mask_drafts`):
- `char`: character 3-, 4- and 5-grams;
- `word`: word unigrams and bigrams;
- `tail`: the words (and bigrams) of the last third of the scratchpad, where the decision is, in a
  namespace of their own, so the model can tell "I'll comply" in the decision from the same words
  in a description of the setup.

Each namespace is a term-frequency vector divided by its number of n-grams (L1), so a scratchpad
that is twice as long with the same content scores the same; the score of a linear model is then a
mean of per-n-gram weights, which is how `linear_scores` computes it without building a matrix.
Hashes use fixed constants (no Python `hash`), so they are the same on every machine and run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse

NAMESPACES = ("char", "word", "tail")
_P = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2**64
_P_INV = np.uint64(pow(0x100000001B3, -1, 1 << 64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SALT = {"char": 0x51, "word": 0xA7, "bigram": 0x3C, "tail": 0xE9}
# the body of a drafted answer: from an opening tag to its closing tag, with no other opening tag
# between (a reasoning that only mentions "<DRAFT_OUTPUT> tags" keeps its text)
_DRAFT_BODY = re.compile(r"(<DRAFT_OUTPUT\s*>)(?:(?!<DRAFT_OUTPUT\s*>).)*?(?=</DRAFT_OUTPUT\s*>)", re.I | re.S)


def mask_drafts(text: str) -> str:
    """The scratchpad with each closed `<DRAFT_OUTPUT>` body emptied, the tags kept.

    Why: a draft is the answer, which the compliance monitor judges; its n-grams are about the
    request's topic, not the motive. And they are where our training text and real text differ most:
    our writers keep drafts at placeholder level ("[specific steps]") by their safety rule, while
    real models draft the whole answer. The decision features read drafts their own way (features.py).
    Only closed drafts: a tag that is merely mentioned early ("I'll put my reply in <DRAFT_OUTPUT>
    tags") must not empty the reasoning after it; a draft cut off at the end keeps its text."""
    return _DRAFT_BODY.sub(r"\1 ", text) if "<" in text else text


@dataclass(frozen=True, slots=True)
class HashSpec:
    """The bucket layout: 2**bits buckets per namespace, namespaces side by side."""

    bits: int = 16
    char_ngrams: tuple[int, ...] = (3, 4, 5)

    @property
    def width(self) -> int:
        return 1 << self.bits

    @property
    def n_columns(self) -> int:
        return len(NAMESPACES) * self.width


@dataclass(slots=True)
class Hashed:
    """Per namespace: the document and the bucket of every n-gram occurrence (in no particular order)."""

    n_docs: int
    docs: dict[str, np.ndarray]
    buckets: dict[str, np.ndarray]


_POWERS: list[np.ndarray] = []


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i modulo 2**64 for i < n (cached: a batch of 256 long scratchpads needs ~600k)."""
    if not _POWERS or len(_POWERS[0]) < n:
        size = max(n, 1 << 20)
        with np.errstate(over="ignore"):
            p = np.cumprod(np.full(size, _P, dtype=np.uint64))
            q = np.cumprod(np.full(size, _P_INV, dtype=np.uint64))
        _POWERS[:] = [np.concatenate([[np.uint64(1)], p[:-1]]), np.concatenate([[np.uint64(1)], q[:-1]])]
    return _POWERS[0][:n], _POWERS[1][:n]


def _bucket(h: np.ndarray, salt: int, bits: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (h ^ np.uint64(salt)) * _MIX
    return x >> np.uint64(64 - bits)  # uint64 indexes numpy arrays as is: no copy to int64


def hash_batch(buffers: list[bytes], spec: HashSpec = HashSpec()) -> Hashed:
    """Every n-gram occurrence of every buffer, hashed to a bucket of its namespace."""
    n_docs = len(buffers)
    lengths = np.fromiter(map(len, buffers), dtype=np.int64, count=n_docs)
    empty = {ns: np.zeros(0, np.int64) for ns in NAMESPACES}
    if lengths.sum() == 0:
        return Hashed(n_docs, dict(empty), dict(empty))
    # documents joined by one 0 byte: no n-gram or word may contain it
    raw = np.frombuffer(b"\x00".join(buffers), dtype=np.uint8)
    n = len(raw)
    doc_of = np.repeat(np.arange(n_docs), lengths + 1)[:n]
    pw, pinv = _powers(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate([[np.uint64(0)], np.cumsum((raw.astype(np.uint64) + np.uint64(1)) * pw[:n])])

    def span_hash(start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Hash of raw[start:end], independent of where it sits in the batch."""
        with np.errstate(over="ignore"):
            return (prefix[end] - prefix[start]) * pinv[start]

    separators = np.cumsum(lengths + 1)[:-1] - 1  # where the 0 bytes are
    docs, buckets = {}, {}
    c_docs, c_buckets = [], []
    for k in spec.char_ngrams:
        if n < k:
            continue
        m = n - k + 1
        ok = np.ones(m, dtype=bool)
        for j in range(k):  # no n-gram may contain a separator
            hit = separators - j
            ok[hit[(hit >= 0) & (hit < m)]] = False
        with np.errstate(over="ignore"):  # span_hash of every start at once, on slices
            h = (prefix[k : m + k] - prefix[:m]) * pinv[:m]
        c_docs.append(doc_of[:m][ok])
        c_buckets.append(_bucket(h[ok], _SALT["char"] ^ k, spec.bits))  # the length in the salt: one pass fewer
    docs["char"] = np.concatenate(c_docs) if c_docs else empty["char"]
    buckets["char"] = np.concatenate(c_buckets) if c_buckets else empty["char"]

    # words: runs of letters, digits and apostrophes (space, "|" and the 0 separator end them)
    is_word = (raw != 0x20) & (raw != 0x7C) & (raw != 0)
    edges = np.diff(np.concatenate([[False], is_word, [False]]).astype(np.int8))
    w_start = np.flatnonzero(edges == 1)
    w_end = np.flatnonzero(edges == -1)
    if len(w_start) == 0:
        for ns in ("word", "tail"):
            docs[ns], buckets[ns] = empty[ns], empty[ns]
        return Hashed(n_docs, docs, buckets)
    wh = span_hash(w_start, w_end)
    w_doc = doc_of[w_start]
    same = w_doc[:-1] == w_doc[1:]
    with np.errstate(over="ignore"):
        bigram = wh[:-1] * _MIX + wh[1:]
    per_doc = np.bincount(w_doc, minlength=n_docs)
    first = np.cumsum(per_doc) - per_doc
    pos = np.arange(len(wh)) - first[w_doc]
    tail = pos >= (per_doc - np.maximum(per_doc // 3, np.minimum(per_doc, 12)))[w_doc]
    tail_bi = same & tail[:-1]
    docs["word"], buckets["word"] = _interleave(w_doc, _bucket(wh, _SALT["word"], spec.bits),
                                                w_doc[:-1][same], _bucket(bigram[same], _SALT["bigram"], spec.bits))
    docs["tail"], buckets["tail"] = _interleave(w_doc[tail], _bucket(wh[tail], _SALT["tail"], spec.bits),
                                                w_doc[:-1][tail_bi], _bucket(bigram[tail_bi] ^ _MIX, _SALT["tail"], spec.bits))
    return Hashed(n_docs, docs, buckets)


def _interleave(d1: np.ndarray, b1: np.ndarray, d2: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d1, d2]), np.concatenate([b1, b2])


def hashed_matrix(buffers: list[bytes], spec: HashSpec = HashSpec()) -> sparse.csr_matrix:
    """Rows = documents; columns = the namespaces side by side; each namespace sums to 1 per row."""
    h = hash_batch(buffers, spec)
    blocks = []
    for ns in NAMESPACES:
        d, b = h.docs[ns], h.buckets[ns]
        # counts per (document, bucket): unique keys come sorted, so they are already CSR order
        keys, counts = np.unique(d * spec.width + b.astype(np.int64), return_counts=True)
        rows = keys // spec.width
        total = np.bincount(d, minlength=h.n_docs)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=h.n_docs))])
        m = sparse.csr_matrix((counts / total[rows], keys % spec.width, indptr), shape=(h.n_docs, spec.width))
        blocks.append(m)
    return sparse.hstack(blocks, format="csr")


def linear_scores(hashed: Hashed, weights: np.ndarray, spec: HashSpec = HashSpec()) -> np.ndarray:
    """`hashed_matrix(...) @ weights` without building the matrix: per namespace, the mean weight.

    Summed per run of one document (`np.add.reduceat`) rather than by a weighted bincount over every
    occurrence, which was three quarters of this function's time (2026-12-07: 18.6 -> 10.4 ms per 256
    scratchpads of 2,400 characters): a namespace's occurrences come in a few runs per document (one
    per n-gram length). In float64 a sum of the model's float16 weights is exact in any order, so the
    scores are the bincount's bit for bit (6,000 scratchpads checked)."""
    out = np.zeros(hashed.n_docs)
    weights = np.asarray(weights)
    for i, ns in enumerate(NAMESPACES):
        d, b = hashed.docs[ns], hashed.buckets[ns]
        if not len(d):
            continue
        w = weights[i * spec.width : (i + 1) * spec.width]  # float32 from the model: half the cache
        starts = np.flatnonzero(np.concatenate(([True], d[1:] != d[:-1])))
        runs = d[starts]
        total = np.bincount(runs, weights=np.add.reduceat(w[b], starts, dtype=np.float64), minlength=hashed.n_docs)
        count = np.bincount(runs, weights=np.diff(np.append(starts, len(d))), minlength=hashed.n_docs)
        out += total / np.maximum(count, 1)
    return out
