"""The brief graph, wired: intake → retrieve → draft → check ⇄ revise → localize → propose time →
present → approval (interrupt) → schedule, with human change requests looping back through the checks."""

from __future__ import annotations

from langgraph.graph import START, StateGraph

from agents import nodes, routes
from agents.state import BriefState, Context


def build() -> StateGraph:
    graph = StateGraph(BriefState, context_schema=Context)
    for name, node in nodes.ALL.items():
        graph.add_node(name, node)
    graph.add_edge(START, "intake")
    graph.add_edge("intake", "retrieve")
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


def studio_graph():
    """Entry point for LangGraph Studio (langgraph.json): the graph without a checkpointer."""
    return build().compile()

