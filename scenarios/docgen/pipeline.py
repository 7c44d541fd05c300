"""Run the three stages with any provider and collect a filtered corpus.

Every model call goes through the call layer (runners/calls.py): real providers get the shared
cache, concurrency limit and retry policy, so an interrupted run that is started again does not pay
twice. Which facts each document carries is planned up front (round-robin over the facts, so each
fact is carried by about the same share of documents, a second fact now and then), so the corpus
covers the facts evenly whatever the model writes.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from runners.calls import CallLayer
from runners.providers.base import Provider
from scenarios.docgen.filter import rejection_reason
from scenarios.docgen.stages import (
    TYPES_SYSTEM,
    Fact,
    document_prompt,
    genre_slug,
    ideas_prompt,
    parse_document,
    parse_list,
    types_prompt,
)
from scenarios.schema import ScenarioError
from scenarios.trial import ChatRequest, TrialSpec


@dataclass
class GenerationResult:
    documents: list[dict[str, Any]]
    genres: list[str]
    rejected: Counter = field(default_factory=Counter)
    failed_calls: int = 0


@dataclass
class _Slot:
    index: int
    genre: str
    facts: list[Fact]
    idea: str = ""


class DocumentGenerator:
    def __init__(self, provider: Provider, calls: CallLayer, seed: int = 0):
        self.provider = provider
        self.calls = calls
        self.seed = seed

    async def _ask(self, stage: str, ident: str, prompt: str, sample: int = 0) -> str | None:
        trial = TrialSpec(
            run_id="make_documents", scenario="make_documents", model=self.provider.name,
            condition={"stage": stage}, prompt_id=ident, prompt=prompt, category="docgen",
            sample=sample, seed=self.seed, setting="docgen",
            request=ChatRequest(TYPES_SYSTEM, (("user", prompt),)),
        )
        reply = await self.calls.call(self.provider, trial)
        return None if reply.error is not None else reply.text

    def plan(self, facts: list[Fact], genres: list[str], n: int) -> list[_Slot]:
        rng = random.Random(self.seed)
        slots = []
        for i in range(n):
            carried = [facts[i % len(facts)]]
            if len(facts) > 1 and rng.random() < 0.3:
                carried.append(rng.choice([f for f in facts if f is not carried[0]]))
            slots.append(_Slot(i, genres[(i * 7 + rng.randrange(len(genres))) % len(genres)], carried))
        return slots

    async def run(self, facts: list[Fact], n: int) -> GenerationResult:
        # stage 1: document types
        count = max(4, min(15, math.ceil(n / 3)))
        text = await self._ask("types", "types", types_prompt(facts, count))
        genres = list(dict.fromkeys(parse_list(text or "")))[:count]
        if not genres:
            raise ScenarioError(f"{self.provider.name}: stage 1 (document types) returned no usable list")
        slots = self.plan(facts, genres, n)
        result = GenerationResult([], genres)

        # stage 2: ideas, one call per (type, facts) group
        groups: dict[tuple[str, tuple[str, ...]], list[_Slot]] = {}
        for slot in slots:
            groups.setdefault((slot.genre, tuple(f.id for f in slot.facts)), []).append(slot)

        async def ideas_for(key: tuple[str, tuple[str, ...]], members: list[_Slot]) -> None:
            reply = await self._ask("ideas", f"{genre_slug(key[0])}:{'+'.join(key[1])}", ideas_prompt(key[0], members[0].facts, len(members)))
            if reply is None:
                result.failed_calls += 1
            ideas = parse_list(reply or "")
            for i, slot in enumerate(members):
                slot.idea = ideas[i] if i < len(ideas) else f"A {key[0]} that mentions these facts in passing"

        await asyncio.gather(*(ideas_for(k, m) for k, m in groups.items()))

        # stage 3: documents
        async def write(slot: _Slot) -> dict[str, Any] | None:
            reply = await self._ask("document", f"doc-{slot.index}", document_prompt(slot.genre, slot.facts, slot.idea))
            if reply is None:
                result.failed_calls += 1
                return None
            title, body = parse_document(reply)
            reason = rejection_reason(title, body)
            if reason:
                result.rejected[reason] += 1
                return None
            return {
                "genre": genre_slug(slot.genre),
                "title": title or slot.idea[:80],
                "facts": [f.id for f in slot.facts],
                "text": body,
                "idea": slot.idea,
                "generator": self.provider.name,
            }

        written = await asyncio.gather(*(write(s) for s in slots))
        kept = [d for d in written if d is not None]
        for number, document in enumerate(kept, start=1):
            result.documents.append({"id": f"gen-{number:04d}", **document})
        return result
