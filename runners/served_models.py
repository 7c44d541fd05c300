"""Which model each real model's server said answered its trials (the reply's `model` field), and a
warning line for a model answered by more than one.

Why: a trial is keyed by the request, and the request names the model as the scenario does. A
local server does not check that name (llama-server answers any `model` with the file it loaded,
and names that file in its reply): restarted with another weights file or quantisation under the
same URL, it answered a resumed sweep's remaining trials, and the figures mixed two models without
a word. A hosted alias (`gpt-4o`) resolves to dated snapshots the same way. The stored trials keep
the name their reply gave (`reply.served_model`), so a mixture is counted and said.
"""

from __future__ import annotations

import pandas as pd

from runners.safe_text import printable


def served_models(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Trials per model and served model, for the models whose replies named one."""
    if not len(frame) or "served_model" not in frame:
        return {}
    named = frame.dropna(subset=["served_model"])
    return {str(model): {str(served): int(n) for served, n in group["served_model"].value_counts().sort_index().items()}
            for model, group in named.groupby("model", sort=True)}


def mixed_lines(served: dict[str, dict[str, int]]) -> list[str]:
    """One line per model whose trials were answered by more than one served model."""
    # the names are a server's text, printed on the terminal: escaped (a reply's `model` of
    # "gpt-4o\r\nwarning: ..." forged a line; ANSI, C1 and bidi controls reached the terminal as sent)
    return [f"{model}: its trials were answered by {len(names)} different models, by the server's own account "
            f"({_named(names)}); the figures mix them" for model, names in served.items() if len(names) > 1]


SHOWN_NAMES = 5  # a server naming another model in every reply gave a 13 KB line (a hostile-server probe)


def _named(names: dict[str, int]) -> str:
    """The most frequent served names with their counts, then how many more (summary.json has them all)."""
    top = sorted(names.items(), key=lambda item: -item[1])[:SHOWN_NAMES]
    more = len(names) - len(top)
    return "; ".join(f"{printable(name)[:80]}: {n}" for name, n in top) + (
        f"; {more} more in summary.json (served_models)" if more else "")
