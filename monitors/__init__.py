"""Monitors: classifiers over a parsed reply, one `classify(parsed) -> Verdict` shape for all."""
