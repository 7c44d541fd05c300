"""What a cue family is: the one interface through which a cue reaches the schema, the engine,
the simulated organisms, the monitors and the report (issue 15, DESIGN §10).

A cue family is the meaning of one or more axes of a scenario file: which values they take, how a
value turns into the messages a model reads, which simulated behaviour answers them, which
monitors and metrics score the replies, the gaps worth reporting and the report section that shows
them. A family either *owns the request* of a `setting` (it builds the whole request: tier for
`helpful_only`, supervisor for `weak_strong`) or *modifies* the request another family built
(priming adds the background, evaluation awareness adds a notice).

Families live in the scenario layer, so they name the code of other layers instead of importing
it (the layering of docs/architecture.md): `organism` is a module of `runners/providers/sim/`,
`monitors` are modules of `monitors/`, `report_section` is the section id the monitor layer's
aggregation writes into summary.json.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scenarios.trial import ChatRequest, TrialSpec


@dataclass(frozen=True)
class RequestContext:
    """What a request builder may use besides the trial: the sweep's shared cue resources."""

    resources: Mapping[str, Any] = field(default_factory=dict)  # family name -> what its `prepare` made
    prefill: str | None = None  # assistant prefill of the model under test


BuildRequest = Callable[[TrialSpec, RequestContext], ChatRequest]
ModifyRequest = Callable[[TrialSpec, ChatRequest, RequestContext], ChatRequest]
# the second turn of a conversation, given the first reply's text (None: no second turn)
FollowUp = Callable[[TrialSpec, ChatRequest, str], ChatRequest | None]


@dataclass(frozen=True)
class GapDefault:
    """A gap the family reports when the scenario lists none (same fields as a scenario's `gaps`)."""

    name: str
    metric: str
    axis: str
    treat: str
    control: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "metric": self.metric, "axis": self.axis, "treat": self.treat, "control": self.control}


@dataclass(frozen=True)
class CueFamily:
    name: str
    description: str
    axes: Mapping[str, tuple[str, ...]]  # axis -> its allowed values, in display order
    setting: str | None = None  # the setting whose request this family builds; None: a modifier
    build_request: BuildRequest | None = None  # owners: the whole request of one trial
    modify_request: ModifyRequest | None = None  # modifiers: applied after the owner, in registry order
    follow_up: FollowUp | None = None  # a second user turn after the model's first reply
    prepare: Callable[[Any], Any] | None = None  # scenario -> a per-sweep resource (e.g. the document picker)
    organism: str | None = None  # module of runners/providers/sim/ whose `reply(...)` answers this setting
    organisms: tuple[str, ...] = ()  # the sim presets written for this family (sim/<name>)
    # module with `make_supervisor(scenario, calls)` (a graph node after parse) and
    # `supervisor_providers(scenario)` (checked for names and keys before a run folder is made)
    supervise: str | None = None
    monitors: tuple[str, ...] = ()  # monitor modules it needs (monitors/<name>.py); the schema accepts them
    metrics: tuple[str, ...] = ()  # metric names (columns of trials.csv) its gaps may use
    needs_answers: bool = False  # scores replies against reference answers (prompts.answer_column)
    # (scenario, prompts) -> why these prompts cannot serve this family's axes, or None; checked
    # before any run folder or call
    check_prompts: Callable[[Any, list[Any]], str | None] | None = None
    default_gaps: tuple[GapDefault, ...] = ()
    report_section: str | None = None  # id of its section in summary.json["sections"]
    doc: str | None = None  # docs/<file> describing it

    def __post_init__(self) -> None:
        if self.setting is not None and self.build_request is None:
            raise TypeError(f"family {self.name}: a setting owner needs build_request")
        for gap in self.default_gaps:
            values = self.axes.get(gap.axis, ())
            if gap.treat not in values or gap.control not in values:
                raise TypeError(f"family {self.name}: default gap {gap.name} names values its axis lacks")
