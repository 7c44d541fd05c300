"""The alignment-faking training corpus, written here: labelled scratchpads composed from phrase
banks in several voices (`python -m monitors.corpus` prints counts; `monitors.train` uses it)."""

from monitors.corpus.compose import KINDS, Scratchpad, generate
from monitors.corpus.moves import VOICES

__all__ = ["KINDS", "VOICES", "Scratchpad", "generate"]
