"""The brief graph, wired: intake → read sources → retrieve → draft → check ⇄ revise → localize → propose time →
present → approval (interrupt) → schedule, with human change requests looping back through the checks."""

from __future__ import annotations

from functools import partial

from langgraph.graph import START, StateGraph

from agents import nodes, routes
from agents.state import BriefInput, BriefState, Context


def build(ctx: Context) -> StateGraph:
    """The graph with its nodes bound to `ctx`: Plume's runner and LangGraph's server (app.make_graph)
    both build it this way, so a run needs nothing from its caller but the brief's text."""
    graph = StateGraph(BriefState, input_schema=BriefInput)
    for name, node in nodes.ALL.items():
        graph.add_node(name, partial(node, ctx=ctx))
    graph.add_edge(START, "intake")
    graph.add_edge("intake", "read_sources")
    graph.add_edge("read_sources", "retrieve")
    graph.add_edge("retrieve", "draft")
    graph.add_edge("draft", "check")
    graph.add_conditional_edges("check", routes.after_check)
    graph.add_edge("revise", "check")
    graph.add_edge("localize", "check")
    graph.add_edge("propose_time", "present")
    graph.add_edge("present", "approval")
    graph.add_conditional_edges("approval", routes.after_decision)
    graph.add_conditional_edges("schedule", routes.after_decision)
    graph.add_edge("rework", "check")
    return graph
