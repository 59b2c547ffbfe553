"""Routers: small typed functions that name the next node."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END

from agents.nodes import needs_revision
from agents.state import BriefState
from core.domain import Status


def after_check(state: BriefState) -> Literal["revise", "localize", "propose_time", "present"]:
    if not state.get("offline") and any(needs_revision(v) for v in state["variants"]):
        return "revise"
    return {"draft": "localize", "localize": "propose_time"}.get(state.get("phase", "draft"), "present")


def after_decision(state: BriefState) -> Literal["schedule", "rework", "approval", "__end__"]:
    statuses = {v.get("status") for v in state["variants"]}
    if Status.APPROVED in statuses:
        return "schedule"
    if any(v.get("stage") == "rework" for v in state["variants"]):
        return "rework"
    if Status.AWAITING_APPROVAL in statuses:
        return "approval"
    return END
