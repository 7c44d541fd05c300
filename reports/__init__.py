"""Reports: self-contained HTML and plots from a stored run, re-renderable without re-running."""
