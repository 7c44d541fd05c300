"""Reading the files users hand us (scenarios, prompt sets, corpora) without trusting them.

A scenario or prompt file may be UTF-16 because Excel saved it, a directory or a symlink loop
because a path was mistyped, a FIFO that would block a read forever, or a YAML alias bomb that
expands to a billion values. Each of these must come back as one line that names the file (and
the line, where there is one) and says what was expected, before the sweep calls any model
(DESIGN §10 "Validate before spending"). The functions raise the caller's error type, so every
CLI keeps its own exit path; they never raise anything else for a bad file.

Bounds, chosen far above any hand-written scenario and far below what hurts:
- YAML/JSON nesting depth `MAX_DEPTH` (Python's own recursion limit is ~1,000 frames, and the
  YAML composer and the validators recurse per level);
- YAML values after alias expansion `MAX_YAML_VALUES` (an alias bomb is refused while it is
  being composed, in time and memory linear in the file's size);
- file size `MAX_SCENARIO_BYTES` for scenario files (prompt files may be large and are streamed).
"""

from __future__ import annotations

import codecs
import errno
import json
import math
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

MAX_DEPTH = 64
MAX_YAML_VALUES = 100_000
MAX_SCENARIO_BYTES = 1_000_000
# One piece of text that goes into a prompt (a prompt file's cell, a corpus document): at most
# 1,000,000 characters, the bound of a stored reply too (runners/safe_text.py MAX_REPLY_CHARS). At
# ~4 characters a token that is ~250,000 tokens: above the context window of most models under test
# (128k-200k tokens) and a quarter of the largest (1-2M), while a real request, even with a long
# document pasted in, is rarely above a few hundred KB. A 50 MB prompt was accepted and would have
# been sent, and stored, in every trial (found by a bad-input fuzz).
MAX_PROMPT_CHARS = 1_000_000

ErrorType = Callable[[str], Exception]

# BOMs of encodings we refuse, longest first (the UTF-32-LE BOM starts with the UTF-16-LE one)
_FOREIGN_BOMS = [
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
]
RESAVE = "expected UTF-8 text (re-save the file as UTF-8)"


def check_regular_file(path: Path, what: str, error: ErrorType) -> None:
    """Refuse a path that is missing, a directory, a symlink loop or not a regular file.

    A FIFO or a device would make the read block or never end, so it is refused by its type."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{path}: symlink loop; expected a {what}") from None
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path}: is a directory; expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a FIFO, socket or device); expected a {what}")


def decode_utf8(data: bytes, path: Path, error: ErrorType, first_line: int = 1) -> str:
    """`data` as text: UTF-8, with or without a BOM (Excel writes one). Anything else is one line
    naming the file, the line and the likely encoding."""
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise error(f"{path}: {name} text (byte-order mark); {RESAVE}")
    data = data.removeprefix(codecs.BOM_UTF8) if first_line == 1 else data
    nul = data.find(b"\x00")
    if nul >= 0:
        line = first_line + data.count(b"\n", 0, nul)
        raise error(f"{path}:{line}: NUL byte (UTF-16 without a byte-order mark, or a binary file?); {RESAVE}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        raise error(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); {RESAVE}") from None


def read_text(path: Path, what: str, error: ErrorType, max_bytes: int | None = None) -> str:
    """The whole file as text, after `check_regular_file` and `decode_utf8`."""
    check_regular_file(path, what, error)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1) if max_bytes is not None else handle.read()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{path}: larger than {max_bytes:,} bytes; expected a {what} (is this the right file?)")
    return decode_utf8(data, path, error)


def iter_lines(path: Path, what: str, error: ErrorType) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, streamed, each decoded as in `decode_utf8`."""
    check_regular_file(path, what, error)
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                yield number, decode_utf8(raw, path, error, first_line=number)
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None


# Python refuses to read an integer of more than 4,300 digits (a guard against quadratic parsing);
# JSON and YAML parsers then raise a bare ValueError that is the file's fault, not ours
_LONG_NUMBER = "a number longer than Python reads (more than 4,300 digits)"
# a `\ud800`-style escape decodes to half a surrogate pair: a str that cannot be written as UTF-8,
# which would fail only when a report or store is written, after every call was paid for
_SURROGATE_ESCAPE = re.compile(r"\\[uU]0{0,4}[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def has_surrogate_escape(text: str, value: Any) -> bool:
    """`value`, parsed from the JSON or YAML `text`, holds half a surrogate pair from an escape
    (the text is searched first: a document without such an escape is not walked)."""
    return _SURROGATE_ESCAPE.search(text) is not None and _has_lone_surrogate(value)


def check_text_escapes(text: str, value: Any, where: str, error: ErrorType) -> None:
    """A lone surrogate escape (`"\ud800"`) in a parsed document is one line, naming where."""
    if has_surrogate_escape(text, value):
        raise error(f"{where}: a \\uD800-\\uDFFF escape that is not part of a surrogate pair is not text")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


class _NotFinite(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):  # 1e999: read as Infinity, written back as Infinity
        raise _NotFinite(text)
    return value


def json_value(text: str, where: str, error: ErrorType, unique_keys: bool = False, finite: bool = False) -> Any:
    """`json.loads`, with a too-deep document, an over-long number and a lone surrogate escape
    reported like any other bad JSON. `unique_keys`: a key twice in one object is refused too
    (json.loads keeps the last value silently; the YAML loader refuses duplicates), in the same parse.
    `finite`: NaN, Infinity and -Infinity (which json.loads accepts, though they are not JSON) and a
    number too large for a float are refused, so a value read from a user's file is never written
    back as something no other JSON reader can read (`{"id": NaN}` in classify's output)."""
    hooks: dict[str, Any] = {"parse_constant": _refuse_constant, "parse_float": _finite_float} if finite else {}
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys if unique_keys else None, **hooks)
    except _DuplicateKey as exc:
        raise error(f"{where}: duplicate key {exc.key!r} in one JSON object; expected each key once") from None
    except _NotFinite as exc:
        raise error(f"{where}: {exc.text[:40]} is not a JSON number; expected a finite number (or null)") from None
    except json.JSONDecodeError as exc:
        raise error(f"{where}: bad JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply; expected at most {MAX_DEPTH} levels") from None
    except ValueError:
        raise error(f"{where}: bad JSON ({_LONG_NUMBER})") from None
    if _too_deep(value):
        raise error(f"{where}: JSON nested too deeply; expected at most {MAX_DEPTH} levels")
    check_text_escapes(text, value, where, error)
    return value


def _too_deep(value: Any) -> bool:
    level = [value]
    for _ in range(MAX_DEPTH + 1):
        level = [child for v in level if isinstance(v, dict | list)
                 for child in (v.values() if isinstance(v, dict) else v)]
        if not level:
            return False
    return True


# --- YAML -------------------------------------------------------------------------------------


class YamlBoundsError(yaml.YAMLError):
    """A YAML document beyond the bounds above: str() is the reason, `line` where it was seen."""

    def __init__(self, reason: str, mark: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.line = mark.line + 1 if mark is not None else None


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader with three checks a hand-written config needs and PyYAML lacks:
    nesting depth, the number of values after alias expansion (computed while composing, so a
    bomb costs time linear in its text), and duplicate keys (PyYAML keeps the last silently)."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0
        self._expanded: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None and id(node) not in self._expanded:
                raise YamlBoundsError(f"alias *{event.anchor} refers to a value that contains it (recursive alias)",
                                      event.start_mark)
            return super().compose_node(parent, index)
        start = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlBoundsError(f"nested more than {MAX_DEPTH} levels deep", start)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        size = 1 + sum(self._expanded.get(id(child), 1) for child in children)
        if size > MAX_YAML_VALUES:
            raise YamlBoundsError(f"aliases expand to more than {MAX_YAML_VALUES:,} values (an alias bomb?)", start)
        self._expanded[id(node)] = size
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    raise YamlBoundsError(f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _refuse_tag(loader: BoundedSafeLoader, node: Any) -> Any:
    """Found by a bad-input fuzz: `!!binary` gave bytes that pydantic took as a name, `!!set` a set
    whose order changes from one process to the next (as axis values), `!!omap`/`!!pairs` tuples.
    None is what a config means by text, a list or a mapping; each is refused with its line."""
    tag = node.tag.rpartition(":")[2]
    raise YamlBoundsError(f"a !!{tag} value; expected plain text, a number, a list or a mapping", node.start_mark)


for _tag in ("binary", "set", "omap", "pairs"):
    BoundedSafeLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)

_OCTAL = re.compile(r"[-+]?0[0-7]+")


def _number(loader: BoundedSafeLoader, node: Any) -> Any:
    """A YAML 1.1 number, unless it reads as another number than the one written (found by a
    bad-input fuzz): `limit: 1:30` is base 60 (90 prompts) and `samples: 010` is octal (8)."""
    value = (node.value or "").replace("_", "")
    integer = node.tag.endswith(":int")
    number = (yaml.SafeLoader.construct_yaml_int if integer else yaml.SafeLoader.construct_yaml_float)(loader, node)
    if ":" in value:
        raise YamlBoundsError(f"{node.value} is read by YAML as the base-60 number {number}; quote it if it is text",
                              node.start_mark)
    if integer and _OCTAL.fullmatch(value) and int(value, 10) != number:
        raise YamlBoundsError(f"{node.value} is read by YAML as the octal number {number}; write it without the leading "
                              "0 (or quote it if it is text)", node.start_mark)
    return number


BoundedSafeLoader.add_constructor("tag:yaml.org,2002:int", _number)
BoundedSafeLoader.add_constructor("tag:yaml.org,2002:float", _number)


def load_yaml(text: str, path: Path, error: ErrorType) -> Any:
    """One YAML document from `text`, within the bounds; any problem is one line with its line."""
    try:
        value = yaml.load(text, Loader=BoundedSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except YamlBoundsError as exc:
        where = f" line {exc.line}:" if exc.line else ""
        raise error(f"{path}:{where} {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if context := getattr(exc, "context", None):
            problem = f"{context}, {problem}"
        raise error(f"{path}:{where} invalid YAML ({problem})") from None
    except RecursionError:  # a structure the composer bounds cannot see; never expected
        raise error(f"{path}: nested too deeply; expected at most {MAX_DEPTH} levels") from None
    except ValueError:  # yaml.YAMLError is not one: only the integer-length guard gets here
        raise error(f"{path}: invalid YAML ({_LONG_NUMBER})") from None
    check_text_escapes(text, value, str(path), error)
    return value

