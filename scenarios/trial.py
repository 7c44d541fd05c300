"""What one trial is: its stable key, and the exact request sent to the model.

The key (scenario, model, condition, prompt id, sample) identifies a trial across runs, so an
interrupted sweep can skip what is stored; the request hash identifies a model call, so the cache
never pays twice for the same one (DESIGN §1, §9: the hash covers model, base URL, messages,
generation params and the sample index, not concurrency or retry settings).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

Condition = dict[str, str]


def condition_id(condition: Condition) -> str:
    return ",".join(f"{axis}={value}" for axis, value in condition.items()) or "default"


def conditions_of(axes: dict[str, list[str]]) -> list[Condition]:
    """The cross product of the axes, in the scenario's order."""
    names = list(axes)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(axes[n] for n in names))]


def stable_hash(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=16).hexdigest()


def stable_seed(*parts: Any) -> int:
    return int(stable_hash(*parts)[:16], 16)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """The messages of one model call, provider-neutral (system prompt + alternating turns)."""

    system: str
    turns: tuple[tuple[str, str], ...]  # (role, content), role in {"user", "assistant"}
    prefill: str | None = None

    def messages(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.turns]

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "messages": self.messages(), "prefill": self.prefill}


@dataclass(slots=True)
class TrialSpec:
    """Everything needed to run one trial; built before any model call."""

    run_id: str
    scenario: str
    model: str
    condition: Condition
    prompt_id: str
    prompt: str
    category: str
    sample: int
    seed: int
    setting: str
    answer: str | None = None
    request: ChatRequest | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # cue bookkeeping (document ids, ...)
    # a digest of the model's request settings (base URL, generation params, prefill, turn limit;
    # DESIGN §10): empty for the simulated organisms, which have none
    settings: str = ""
    condition_key: str = field(init=False)
    # The identity of a trial in the store: a re-run with the same key reuses the stored result, so
    # everything that changes what the trial *is* (the prompt's text, the seed, the settings of the
    # request: after changing max_tokens a re-run must not reuse replies made with the old value)
    # belongs in it.
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.condition_key = condition_id(self.condition)
        parts: tuple[Any, ...] = (self.scenario, self.model, self.condition_key, self.prompt_id,
                                  self.prompt, self.sample, self.seed)
        self.key = stable_hash(*parts, self.settings) if self.settings else stable_hash(*parts)
