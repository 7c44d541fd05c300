"""Model text made safe to store: valid Unicode, no NUL or control characters, a bounded size.

A reply is untrusted data (DESIGN §10). JSON can carry a lone surrogate (`"\\ud800"`), which
Python holds happily but SQLite, UTF-8 files and the HTML report cannot encode: before this
module, one such reply was cached and then crashed `store.write` on every later run. So every
reply text goes through `clean_text` before it is cached or stored, and the store runs the same
repair on any record that still fails to encode (texts from judges or documents).

`clean_text` returns what it changed as short notes: a repaired reply is still a trial, and the
record says what was done to it (`reply.repairs`).
"""

from __future__ import annotations

import re

# longest reply text kept (characters); far above any max_tokens a model is given, and small
# enough that the monitors, the store and the report stay fast on a runaway reply
MAX_REPLY_CHARS = 1_000_000
REPLACEMENT = "\ufffd"
# C0 controls except tab, newline and carriage return; DEL. They mean nothing in a reply and
# NUL in particular breaks C-string tools that read the store.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str, limit: int = MAX_REPLY_CHARS) -> tuple[str, list[str]]:
    """`text` with lone surrogates and control characters replaced by U+FFFD and cut to `limit`
    characters, plus one note per kind of repair (empty when nothing changed)."""
    notes: list[str] = []
    if len(text) > limit:
        notes.append(f"reply cut to {limit:,} of {len(text):,} characters")
        text = text[:limit]
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text, count = _SURROGATE.subn(REPLACEMENT, text)
            notes.append(f"{count} lone surrogate(s) replaced")
    if _CONTROL.search(text):
        text, count = _CONTROL.subn(REPLACEMENT, text)
        notes.append(f"{count} NUL/control character(s) replaced")
    return text, notes


def encodable(value: object) -> object:
    """A JSON-like value with every string made encodable (lone surrogates -> U+FFFD, NUL and
    control characters kept out); for the store's last line of defence."""
    if isinstance(value, str):
        return clean_text(value, limit=len(value) + 1)[0]
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value


# what a terminal obeys rather than shows: C0 controls (newline and tab too: a line is one line), DEL,
# C1 controls (U+009B is CSI, U+009D OSC on terminals that read 8-bit controls) and the bidirectional
# controls, which make a line read otherwise than it was written; the Unicode line and paragraph
# separators end a line in some terminals and editors
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` for one line of terminal output: each control or bidirectional character written as its
    escape (`\\r`, `\\x1b`, `\\u202e`), so a server's text shows what it holds and cannot move the
    cursor, clear the screen, forge a line or reverse what follows."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


_JSON_UNPRINTABLE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def printable_json(line: str) -> str:
    """A JSON text (`json.dumps(..., ensure_ascii=False)`) with DEL, the C1 and the bidirectional
    controls written as `\\uXXXX` escapes: the same JSON value, but a line a terminal shows as it is
    (json.dumps escapes only the C0 controls; these can stand only inside strings, where the escape
    means the same character)."""
    return _JSON_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
