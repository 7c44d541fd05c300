"""Rates over a frame of trials, clustered by prompt: the one way every rate over trials that share
prompts is computed (summary.json's rates, the report's category rates, monitor agreement, the
weak/strong tables). A Wilson interval over trials covered 44-53% at 10 samples per prompt with
strong prompt effects (a statistics review, 2026-12-07), because a prompt's samples are correlated.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from monitors.stats import clustered_rate


def clean_number(value: Any) -> Any:
    """A number as summary.json holds it: numpy scalars as Python ones, NaN and infinities as None."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, np.floating | np.integer | np.bool_):
        return clean_number(value.item())
    return value


def rate_by_prompt(trials: pd.DataFrame, values: pd.Series) -> dict[str, Any]:
    """The clustered rate of a 0/1 series over `trials` (grouped by their `prompt_id`), as a summary dict."""
    per_prompt = values.astype(float).groupby(trials["prompt_id"]).agg(["sum", "count"])
    rate_ = clustered_rate(per_prompt["sum"].to_numpy(), per_prompt["count"].to_numpy())
    return {k: clean_number(v) for k, v in rate_.as_dict().items()}
