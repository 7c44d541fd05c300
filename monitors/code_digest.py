"""A digest of the code an embedded monitor's verdicts come from.

Why: a verdict records the settings it was made under (`Verdict.settings`), so that a sweep run
again scores a stored reply anew when they changed (runners/rejudge.py). For the embedded monitors
the code *is* the setting: a new release of the compliance heuristic or of the alignment-faking
feature extraction moves verdicts as surely as a new model file does, and a folder re-run after an
upgrade would otherwise mix verdicts of the old code (stored trials) with the new (new trials) in
one figure. Re-scoring an embedded verdict costs no call, so a digest that changes on any edit of
the monitor's source (a comment too) errs on the cheap side.

The digest covers the monitor's module and every `monitors` module it imports, transitively, read
from the source files; where a module has no source (a build without .py files) the installed
package's version stands in for it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = "monitors"


@cache
def code_digest(*modules: str) -> str:
    """16 hex digits over the source of `modules` (e.g. "monitors.compliance") and of the modules of
    this package they import, transitively."""
    digest = hashlib.blake2b(digest_size=8)
    for name in sorted(set().union(*map(_closure, modules))):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(_source(name) or _version().encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _closure(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = _source(name)
        if source is not None:
            todo.extend(_imports(source, name))
    return seen


def _imports(source: bytes, module: str) -> list[str]:
    """The modules of this package that `module`'s source imports (absolute or relative)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            found.append(base)
            # `from monitors import features` names a module, not an attribute
            found += [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in found if name.partition(".")[0] == PACKAGE and _path(name) is not None]


def _path(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    return Path(origin) if origin and origin.endswith(".py") else None


def _source(module: str) -> bytes | None:
    path = _path(module)
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


@cache
def _version() -> str:
    try:
        return metadata.version("afsim")
    except metadata.PackageNotFoundError:
        return "unknown"
