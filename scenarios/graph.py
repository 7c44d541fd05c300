"""The scenario graph (LangGraph): the flow of DESIGN §1 as a compiled graph.

    build_messages -> call_model -> parse -> [supervise] -> monitor -> record

The state holds a *batch* of trials, not one: a LangGraph invocation costs ~2.4 ms on this
machine, which would dominate a 10k-trial offline sweep (and 2,000 API calls at concurrency 64)
if paid per trial. The runner keeps several batches in flight at once, so a slow call in one batch
never idles the shared concurrency limit. Nodes are small async functions that return only the
keys they change; everything with I/O (the model call, the store) is injected through
`TrialContext`, so this module stays free of providers and disk. No checkpointer: resuming is done
at the result level by trial key (DESIGN §9), and no node RetryPolicy: retries belong to the call
layer's single tenacity policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from scenarios.families import RequestContext, build_request, follow_up
from scenarios.trial import TrialSpec

if TYPE_CHECKING:  # what the injected parser and monitors return; the graph imports no monitor code
    from monitors.types import ParsedReply, Verdict


class BatchState(TypedDict, total=False):
    trials: list[TrialSpec]
    replies: list[Any]  # runners.providers.base.ModelReply
    parsed: list[Any]  # monitors.types.ParsedReply
    supervision: list[dict[str, Any] | None]
    verdicts: list[dict[str, Any]]  # monitor name -> monitors.types.Verdict
    written: int


@dataclass
class TrialContext:
    call: Callable[[TrialSpec], Awaitable[Any]]  # one model call (cache, limits, retries inside)
    classify: Callable[[list[ParsedReply], list[TrialSpec]], Awaitable[list[dict[str, Verdict]]]]
    parse: Callable[..., ParsedReply]  # monitors.parse.parse_reply(raw, setting, error=..., reasoning=...)
    record: Callable[[BatchState], int]  # writes the batch's records, returns how many
    resources: dict[str, Any] = field(default_factory=dict)  # cue family -> its per-sweep resource
    prefill: Callable[[TrialSpec], str | None] = lambda trial: None
    supervise: Callable[[list[TrialSpec], list[ParsedReply]], Awaitable[list[dict[str, Any] | None]]] | None = None


def build_trial_graph(ctx: TrialContext):
    async def build_messages(state: BatchState) -> BatchState:
        for trial in state["trials"]:
            if trial.request is None:
                trial.request = build_request(trial, RequestContext(ctx.resources, ctx.prefill(trial)))
        return {"trials": state["trials"]}

    async def call_model(state: BatchState) -> BatchState:
        trials = state["trials"]
        replies = list(await asyncio.gather(*(ctx.call(trial) for trial in trials)))
        # two-turn families (e.g. pushback after the first answer): the second request carries the
        # first reply, and the trial's request becomes it, so the record shows every message sent
        second = []
        for i, (trial, reply) in enumerate(zip(trials, replies, strict=True)):
            if reply.error is None and (request := follow_up(trial, reply.text)) is not None:
                trial.extra["first_reply"] = reply.text
                trial.request = request
                second.append(i)
        if second:
            more = await asyncio.gather(*(ctx.call(trials[i]) for i in second))
            for i, reply in zip(second, more, strict=True):
                first = replies[i]
                reply.input_tokens += first.input_tokens
                reply.output_tokens += first.output_tokens
                reply.turns += first.turns
                replies[i] = reply
        return {"replies": replies}

    async def parse(state: BatchState) -> BatchState:
        return {
            "parsed": [
                ctx.parse(reply.text, trial.setting, error=reply.error is not None, reasoning=reply.reasoning)
                for trial, reply in zip(state["trials"], state["replies"], strict=True)
            ]
        }

    async def supervise(state: BatchState) -> BatchState:
        assert ctx.supervise is not None
        return {"supervision": await ctx.supervise(state["trials"], state["parsed"])}

    async def monitor(state: BatchState) -> BatchState:
        return {"verdicts": await ctx.classify(state["parsed"], state["trials"])}

    async def record(state: BatchState) -> BatchState:
        return {"written": ctx.record(state)}

    graph = StateGraph(BatchState)
    graph.add_node("build_messages", build_messages)
    graph.add_node("call_model", call_model)
    graph.add_node("parse", parse)
    graph.add_node("monitor", monitor)
    graph.add_node("record", record)
    graph.add_edge(START, "build_messages")
    graph.add_edge("build_messages", "call_model")
    graph.add_edge("call_model", "parse")
    if ctx.supervise is not None:
        graph.add_node("supervise", supervise)
        graph.add_edge("parse", "supervise")
        graph.add_edge("supervise", "monitor")
    else:
        graph.add_edge("parse", "monitor")
    graph.add_edge("monitor", "record")
    graph.add_edge("record", END)
    return graph.compile()
