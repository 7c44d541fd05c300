"""The one error type for input the user must fix (scenario files, prompt sets, corpora).

Its own module, imported by the schema and by the cue families alike, so the families (which the
schema reads through their registry) never need to import the schema back.
"""


class ScenarioError(Exception):
    """A scenario (or prompt file) the user must fix; str(error) is the one line to print."""
