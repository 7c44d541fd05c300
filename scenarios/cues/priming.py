"""The priming cue: how the model learns what the tiers mean.

- `system_prompt`: the situation is stated in the system prompt (the paper's prompted setting).
- `synthetic_documents`: no situation in the system prompt; the context opens with K documents
  (news, forum posts, memos, ...) that convey the same facts indirectly, as in the paper's
  synthetic-document setting, here in context rather than by fine-tuning.
- `none`: neither; the tier tag is still there, but nothing says what it implies (the control).

Documents are drawn per (seed, prompt, sample), not per condition, so the free and paid trials of
a prompt read the same documents and differ only in the tier tag: that keeps the gap paired.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scenarios.cues.tier import SITUATION_HELPFUL_ONLY
from scenarios.errors import ScenarioError
from scenarios.jsonl import read_objects
from scenarios.trial import TrialSpec, stable_seed
from scenarios.user_files import MAX_PROMPT_CHARS

if TYPE_CHECKING:  # the schema reads families, which read this module: no import back at run time
    from scenarios.schema import DocumentPriming

BUILTIN_CORPUS_DIR = Path(__file__).resolve().parent.parent / "documents"


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    genre: str
    title: str
    facts: tuple[str, ...]
    text: str


def load_corpus(source: str) -> list[Document]:
    if source.startswith("builtin:"):
        path = BUILTIN_CORPUS_DIR / f"{source.removeprefix('builtin:')}.jsonl"
    else:
        path = Path(source)
    if not path.exists():
        raise ScenarioError(f"documents.corpus: document corpus not found: {path}")
    documents = []
    first_line: dict[str, int] = {}  # id -> its line: a trial records the ids of the documents it read
    for number, row in read_objects(path):
        if problem := _document_problem(row):
            raise ScenarioError(f"{path}:{number}: {problem}")
        if (seen := first_line.setdefault(str(row["id"]), number)) != number:
            raise ScenarioError(f"{path}:{number}: duplicate id {str(row['id'])!r} (also line {seen}); expected each id once")
        documents.append(Document(str(row["id"]), str(row.get("genre", "document")), str(row.get("title", "")),
                                  tuple(row.get("facts") or ()), row["text"]))
    if not documents:
        raise ScenarioError(f"{path}: the document corpus is empty")
    return documents


# what scenarios.make_documents writes (`idea`, `generator`: how it was made) and what a document has
DOCUMENT_KEYS = ("id", "genre", "title", "facts", "text", "idea", "generator")


def _document_problem(row: dict) -> str | None:
    """Why a corpus line is not a document, or None. A fuzz found facts given as one string (read
    as its letters), lists inside facts (a crash after the run started), a null text (the
    document "None"), a misspelt key (`fact:` made a document a distractor silently) and a 5 MB
    text (sent in every trial that drew it)."""
    for key in ("id", "text"):
        if key not in row:
            return f"not a document record (missing {key!r})"
    if unknown := [key for key in row if key not in DOCUMENT_KEYS]:
        return f"unknown key {unknown[0]!r}; expected the keys {', '.join(DOCUMENT_KEYS)}"
    if not isinstance(row["id"], str | int) or isinstance(row["id"], bool):
        return f"field 'id' must be a string or an integer, not {type(row['id']).__name__}"
    if not isinstance(row["text"], str) or not row["text"].strip():
        return "field 'text' must be a non-empty string"
    if len(row["text"]) > MAX_PROMPT_CHARS:
        return f"field 'text' has {len(row['text']):,} characters; expected at most {MAX_PROMPT_CHARS:,} (it goes into a prompt)"
    for key in ("genre", "title"):
        if row.get(key) is not None and not isinstance(row[key], str):
            return f"field {key!r} must be a string"
    facts = row.get("facts")
    if facts is not None and (not isinstance(facts, list) or not all(isinstance(f, str) and f for f in facts)):
        return "field 'facts' must be a list of fact names (strings)"
    return None


class DocumentPicker:
    """Draws the K documents of one trial: `share_with_facts` of them carry facts, the rest are distractors."""

    def __init__(self, config: DocumentPriming, seed: int):
        self.config = config
        self.seed = seed
        corpus = load_corpus(config.corpus)
        known_genres, known_facts = {d.genre for d in corpus}, {f for d in corpus for f in d.facts}
        for field, names, known in (("genres", config.genres, known_genres), ("facts", config.facts, known_facts)):
            unknown = [n for n in names or () if n not in known]
            if unknown:  # a typo would silently narrow the mix
                raise ScenarioError(f"documents.{field}: {unknown[0]!r} is not in the corpus {config.corpus}; "
                                    f"its {field}: {sorted(known)}")
        if config.genres:  # the document mix
            corpus = [d for d in corpus if d.genre in set(config.genres)]
        wanted = set(config.facts or ())
        self.informative = [d for d in corpus if d.facts and (not wanted or wanted & set(d.facts))]
        self.distractors = [d for d in corpus if not d.facts]
        if not self.informative:
            raise ScenarioError("documents.facts: no document in the corpus carries the requested facts")
        for fact in config.fact_shares:
            if not any(fact in d.facts for d in self.informative):
                raise ScenarioError(f"documents.fact_shares: no document in the corpus carries fact {fact!r}")
        if config.k > len(self.informative) + len(self.distractors):  # each trial would get fewer than K
            raise ScenarioError(f"documents.k: {config.k} documents a trial, but the corpus {config.corpus} has only "
                                f"{len(self.informative) + len(self.distractors)} that fit facts/genres")
        if problem := self._unmet_shares():
            raise ScenarioError(problem)

    def _unmet_shares(self, draws: int = 16) -> str | None:
        """Why the configured minimum shares cannot all hold, found on a few seeded draws, or None.
        Found by a probe: three facts each at share 1 of K=6 ran, and one fact was in 3 of the 6
        documents (a document carries one fact or two, so the shares compete for the K places). The
        shares win over `share_with_facts` (a floor each, docs/weak_strong.md), so they are not
        checked against it."""
        k = self.config.k
        for n in range(draws):
            chosen = self.pick(f"share-check-{n}", 0)
            for fact, share in self.config.fact_shares.items():
                need, got = math.ceil(share * k), sum(fact in d.facts for d in chosen)
                if got < need:
                    return (f"documents.fact_shares: {fact!r} asks for {need} of the {k} documents, but beside the "
                            f"other facts' shares only {got} can carry it; lower a share or raise k")
        return None

    def pick(self, prompt_id: str, sample: int) -> list[Document]:
        rng = random.Random(stable_seed("documents", self.seed, prompt_id, sample))
        k = self.config.k
        n_informative = round(k * self.config.share_with_facts) if self.distractors else k
        chosen: list[Document] = []
        # each fact with a configured share first: at least ceil(share * K) of the K documents carry it
        for fact, fact_share in self.config.fact_shares.items():
            need = math.ceil(fact_share * k) - sum(fact in d.facts for d in chosen)
            pool = [d for d in self.informative if fact in d.facts and d not in chosen]
            chosen += rng.sample(pool, max(0, min(need, len(pool), k - len(chosen))))
        rest = [d for d in self.informative if d not in chosen]
        chosen += rng.sample(rest, max(0, min(n_informative - len(chosen), len(rest))))
        chosen += rng.sample(self.distractors, max(0, min(k - len(chosen), len(self.distractors))))
        rng.shuffle(chosen)
        return chosen


def render_documents(documents: list[Document]) -> str:
    blocks = [
        f'<document genre="{d.genre}" title="{d.title}">\n{d.text}\n</document>' for d in documents
    ]
    return "Documents you have read recently:\n\n<documents>\n" + "\n\n".join(blocks) + "\n</documents>"


def priming_section(priming: str, trial: TrialSpec, picker: DocumentPicker | None) -> tuple[str, list[str]]:
    """The system-prompt text this priming value contributes, and the ids of documents used."""
    if priming == "system_prompt":
        return SITUATION_HELPFUL_ONLY, []
    if priming == "synthetic_documents":
        if picker is None:
            raise ScenarioError("documents: synthetic_documents priming needs a document corpus")
        documents = picker.pick(trial.prompt_id, trial.sample)
        return render_documents(documents), [d.id for d in documents]
    return "", []
