"""A tiny phrase grammar for the training corpus: `[a|b|c]` picks one alternative, `{slot}` fills
in a value of the scratchpad being written (the request, the harm, the lab, ...).

Why a grammar and not templates: a model trained on a few fixed sentences learns those sentences.
Alternatives nest (`[I [really |]don't want|I'd hate]`), so each hand-written line of a phrase bank
stands for dozens of surface forms, and the corpus varies in wording, not only in order.
"""

from __future__ import annotations

import random
import re
from functools import cache

_SLOT = re.compile(r"\{(\w+)\}")


@cache
def _parse(template: str) -> tuple:
    """Nested tuple form: a sequence of strings and choice-tuples (each a tuple of sequences)."""

    def seq(i: int, depth: int) -> tuple[list, int]:
        out: list = []
        buf = ""
        while i < len(template):
            ch = template[i]
            if ch == "[":
                if buf:
                    out.append(buf)
                    buf = ""
                options = []
                i += 1
                while True:
                    part, i = seq(i, depth + 1)
                    options.append(tuple(part))
                    if i >= len(template):
                        raise ValueError(f"unclosed [ in {template!r}")
                    if template[i] == "]":
                        i += 1
                        break
                    i += 1  # "|"
                out.append(tuple(options))
            elif depth and ch in "|]":
                break
            else:
                buf += ch
                i += 1
        if buf:
            out.append(buf)
        return out, i

    parts, _ = seq(0, 0)
    return tuple(parts)


def _render(parts: tuple, rng: random.Random) -> str:
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        else:
            out.append(_render(rng.choice(p), rng))
    return "".join(out)


def expand(template: str, slots: dict[str, str], rng: random.Random) -> str:
    """One surface form of `template`: alternatives chosen by `rng`, slots filled from `slots`."""
    text = _render(_parse(template), rng)
    text = _SLOT.sub(lambda m: slots.get(m.group(1), m.group(0)), text)
    return re.sub(r"  +", " ", text).strip()


def pick(bank: tuple[str, ...] | list[str], slots: dict[str, str], rng: random.Random) -> str:
    """One line of a bank, expanded."""
    return expand(rng.choice(bank), slots, rng)
