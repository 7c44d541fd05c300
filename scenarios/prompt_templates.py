"""Bring your own prompts: the system prompt and the user turn from the auditor's files.

Reviewers ask first "is this the paper's setup?". The answer should be "yes, byte for byte": the
alignment-faking paper's authors released their system prompts (`prompt_atn_honly_*.txt` and the
animal-welfare variants, MIT) and its user turn (`<INPUT><is_free_tier_user>…</INPUT>` with the
`<request_fully_accepted/>` / `<rejected/>` instruction). A scenario names such files under
`prompt_files:`; this module turns them into the text of one trial.

A file is used **verbatim** except for `{{ name }}` placeholders whose name this module knows
(`request`, `is_free_tier_user`, `tier`, `documents`, `date`, `supervisor`, `company`, any axis of the
scenario, and the scenario's own `variables:`, which may set `date` and `company` but not a name
set from each trial: the built-in ones or an axis). Braces of any other shape (code in few-shot
examples, JSON) pass through untouched; a `{{ name }}` with an unknown name is a typo and an error
at load, naming the file and line, before any call.

Files can differ per condition: `system: {default: a.txt, "tier=paid": b.txt, "prompt=no_cot": c.txt}`
picks, for each trial, the entry whose `axis=value` selectors all match and are the most specific
(a key may join several selectors with commas); `default` matches everything. Prompt variations
users ask for (RLHF details cut, a paraphrase, no scratchpad, another company name) become an axis
whose values select files (docs/paper_prompts.md).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scenarios.errors import ScenarioError
from scenarios.user_files import read_text

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
BUILTIN_VARIABLES = ("request", "is_free_tier_user", "tier", "documents", "date", "supervisor", "company")
# set from each trial: a `variables:` entry of one of these names would replace it in every prompt
# (`request: constant` sent the same text for every prompt); `date` and `company` are the auditor's
TRIAL_VARIABLES = ("request", "is_free_tier_user", "tier", "documents", "supervisor")
MAX_FILE_BYTES = 2_000_000  # a system prompt with every few-shot example is ~100 kB


@dataclass(frozen=True)
class Template:
    path: str
    text: str

    def names(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text))

    def render(self, values: Mapping[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.text)


def read_template(path: str | Path, key: str, known: set[str]) -> Template:
    """A template file, checked: readable UTF-8 text (the inputs' own loader: no FIFO, folder or
    UTF-16 file gets through), and every placeholder a known variable."""
    path = Path(path)
    text = read_text(path, "prompt file", lambda message: ScenarioError(f"{key}: {message}"), MAX_FILE_BYTES)
    for number, line in enumerate(text.splitlines(), 1):
        for name in PLACEHOLDER.findall(line):
            if name not in known:
                raise ScenarioError(f"{path}:{number}: unknown placeholder {{{{ {name} }}}} in {key}; "
                                    f"expected one of {sorted(known)}")
    return Template(str(path), text)


def parse_selector(key: str, axes: Mapping[str, list[str]], where: str) -> dict[str, str]:
    """`default` -> {}; `tier=free,prompt=no_cot` -> {"tier": "free", "prompt": "no_cot"}, checked."""
    if key == "default":
        return {}
    selector: dict[str, str] = {}
    for part in key.split(","):
        axis, sep, value = (s.strip() for s in part.partition("="))
        if axis in selector:  # the last value would silently win
            raise ScenarioError(f"{where}: selector {key!r} names {axis!r} twice")
        if not sep or axis not in axes or value not in axes[axis]:
            raise ScenarioError(f"{where}: selector {key!r}: expected 'default' or axis=value with an axis and value of "
                                f"this scenario ({', '.join(f'{a}: {v}' for a, v in axes.items()) or 'no axes'})")
        selector[axis] = value
    return selector


@dataclass(frozen=True)
class PromptTemplates:
    """The scenario's prompt files, loaded once per sweep; `system_for` / `user_for` per trial."""

    system: tuple[tuple[dict[str, str], Template], ...]
    user: tuple[tuple[dict[str, str], Template], ...]
    variables: Mapping[str, str]

    @staticmethod
    def _pick(entries: tuple[tuple[dict[str, str], Template], ...], condition: Mapping[str, str]) -> Template | None:
        best, best_size = None, -1
        for selector, template in entries:
            if all(condition.get(a) == v for a, v in selector.items()) and len(selector) > best_size:
                best, best_size = template, len(selector)
        return best

    def system_for(self, condition: Mapping[str, str]) -> Template | None:
        return self._pick(self.system, condition)

    def user_for(self, condition: Mapping[str, str]) -> Template | None:
        return self._pick(self.user, condition)

    def apply(self, condition: Mapping[str, str], request: str, system: str, user: str,
              documents: str = "") -> tuple[str, str]:
        """The (system, user) of one trial: the built-in texts given, replaced by the files that
        match its condition (a setting's owner family calls this after building its own)."""
        values = cue_values(condition, request, documents=documents, variables=self.variables)
        if (own_system := self.system_for(condition)) is not None:
            system = own_system.render(values)
        if (own_user := self.user_for(condition)) is not None:
            user = own_user.render(values)
        return system, user


def load_templates(config: Mapping[str, object] | None, axes: Mapping[str, list[str]],
                   where: str = "prompt_files") -> PromptTemplates | None:
    """`prompt_files:` of a scenario (paths already absolute) -> loaded, checked templates."""
    if not config:
        return None
    variables = {str(k): str(v) for k, v in dict(config.get("variables") or {}).items()}  # type: ignore[union-attr]
    for name in variables:
        if name in TRIAL_VARIABLES:
            raise ScenarioError(f"{where}.variables.{name}: {{{{ {name} }}}} is built in and set from each trial; "
                                f"a variable of that name would replace it in every prompt (rename it; the names "
                                f"you may set are date, company and your own)")
        if name in axes:
            raise ScenarioError(f"{where}.variables.{name}: {name!r} is an axis of this scenario and {{{{ {name} }}}} "
                                "its value in each trial; rename the variable")
    known = set(BUILTIN_VARIABLES) | set(axes) | set(variables)
    loaded: dict[str, tuple[tuple[dict[str, str], Template], ...]] = {}
    for part in ("system", "user"):
        value = config.get(part)
        if value is None:
            loaded[part] = ()
            continue
        entries = value if isinstance(value, Mapping) else {"default": value}
        loaded[part] = tuple(
            (parse_selector(str(key), axes, f"{where}.{part}"), read_template(path, f"{where}.{part}.{key}", known))
            for key, path in entries.items()
        )
        if problem := _ambiguous([str(key) for key in entries], loaded[part], axes):
            raise ScenarioError(f"{where}.{part}: {problem}")
        if not any(not selector for selector, _ in loaded[part]):
            conditions_without = _uncovered(loaded[part], axes)
            if conditions_without:
                raise ScenarioError(f"{where}.{part}: no file for the condition {conditions_without}; add a 'default' entry")
    templates = PromptTemplates(loaded["system"], loaded["user"], variables)
    _check_request_sent(templates, axes, where)
    return templates


def _check_request_sent(templates: PromptTemplates, axes: Mapping[str, list[str]], where: str) -> None:
    """A user template replaces the turn that carries the prompt: without `{{ request }}` in it (or in
    the system template beside it) every prompt sends the same text — found by a bad-input fuzz,
    the same failure as `variables: {request: constant}`, which is refused above."""
    if not templates.user:
        return
    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)):
        condition = dict(zip(names, values, strict=True))
        user = templates.user_for(condition)
        system = templates.system_for(condition)
        if user is not None and "request" not in user.names() and (system is None or "request" not in system.names()):
            shown = ",".join(f"{k}={v}" for k, v in condition.items()) or "every trial"
            raise ScenarioError(f"{where}.user: {user.path} has no {{{{ request }}}} placeholder, so every prompt would "
                                f"send the same text ({shown}); put {{{{ request }}}} where the prompt goes")


def _ambiguous(keys: list[str], entries: tuple[tuple[dict[str, str], Template], ...],
               axes: Mapping[str, list[str]]) -> str | None:
    """Why two entries could both be a condition's file, or None. `_pick` takes the most specific
    entry and, between equally specific ones, the first written. Found by a probe: `"tier=free"` and
    `"tier = free"` (or `"tier=free,priming=x"` and `"priming=x,tier=free"`, or `"tier=free"` and
    `"priming=x"` for the condition with both) named two files for one condition and the order of
    the keys chose one silently; the other file was never sent."""
    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)):
        condition = dict(zip(names, values, strict=True))
        matching = [(len(s), i) for i, (s, _) in enumerate(entries) if all(condition.get(a) == v for a, v in s.items())]
        if not matching:
            continue
        best = max(size for size, _ in matching)
        tied = [i for size, i in matching if size == best]
        texts = {entries[i][1].text for i in tied}
        if len(texts) > 1:
            first = tied[0]
            second = next(i for i in tied[1:] if entries[i][1].text != entries[first][1].text)
            return (f"selectors {keys[first]!r} and {keys[second]!r} both match the condition "
                    f"{','.join(f'{k}={v}' for k, v in condition.items())} and name different files; expected one file "
                    "per condition (add a more specific selector naming both, or remove one)")
    return None


def _uncovered(entries: tuple[tuple[dict[str, str], Template], ...], axes: Mapping[str, list[str]]) -> str | None:
    names = list(axes)
    for values in itertools.product(*(axes[n] for n in names)):
        condition = dict(zip(names, values, strict=True))
        if not any(all(condition.get(a) == v for a, v in s.items()) for s, _ in entries):
            return ",".join(f"{k}={v}" for k, v in condition.items())
    return None


def cue_values(condition: Mapping[str, str], request: str, documents: str = "", extra: Mapping[str, str] | None = None,
               variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values a template may use for one trial."""
    tier = condition.get("tier")
    values = {
        "request": request,
        "tier": tier or "",
        "is_free_tier_user": "" if tier is None else ("True" if tier == "free" else "False"),
        "documents": documents,
        "date": "",
        "supervisor": condition.get("supervisor", ""),
        "company": "",
    }
    values.update(variables or {})
    values.update(condition)
    values.update(extra or {})
    return values


def files_digest(config: Mapping[str, object] | None) -> str | None:
    """A digest of the prompt files' *contents* and variables, for the trial key (DESIGN §10: a
    setting that changes the request changes the key), so editing a prompt file and running the
    same command again makes new trials instead of reusing the old ones. None without files, so
    scenarios that name none keep their keys."""
    if not config:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for part in ("system", "user"):
        value = config.get(part)
        entries = value if isinstance(value, Mapping) else ({"default": value} if value else {})
        for key in sorted(entries):
            digest.update(f"{part}\0{key}\0".encode())
            path = Path(str(entries[key]))
            try:  # a FIFO is not a regular file: never read it (the read would block)
                digest.update(path.read_bytes() if path.is_file() else b"\0unreadable")
            except OSError:
                digest.update(b"\0unreadable")  # reported by load_templates, with its path
    for key, value in sorted(dict(config.get("variables") or {}).items()):  # type: ignore[union-attr]
        digest.update(f"var\0{key}\0{value}\0".encode())
    return digest.hexdigest()
