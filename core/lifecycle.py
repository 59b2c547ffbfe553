"""The post state machine: which status may follow which. Writes live in core.posts."""

from __future__ import annotations

from core.domain import Status
from core.errors import InvalidTransition

S = Status

ALLOWED: dict[Status, frozenset[Status]] = {
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED, S.CANCELLED}),
    S.CHANGES_REQUESTED: frozenset({S.AWAITING_APPROVAL, S.CANCELLED}),
    S.APPROVED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.PUBLISHING, S.HELD, S.CANCELLED, S.FAILED}),
    S.HELD: frozenset({S.SCHEDULED, S.CANCELLED}),
    # Back to scheduled only when the network certainly did not take the post (a retry with backoff).
    S.PUBLISHING: frozenset({S.PUBLISHED, S.FAILED, S.UNKNOWN, S.SCHEDULED}),
    S.FAILED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.UNKNOWN: frozenset({S.PUBLISHED, S.FAILED}),  # a human says: posted, or not (then it can be retried)
    S.PUBLISHED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

FINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)


def allowed(current: str, target: str) -> bool:
    return Status(target) in ALLOWED[Status(current)]


def require(current: str, target: str) -> None:
    """Raise InvalidTransition unless `current → target` is in the state machine."""
    if not allowed(current, target):
        raise InvalidTransition(
            f"A post that is {Status(current).value.replace('_', ' ')} cannot become "
            f"{Status(target).value.replace('_', ' ')}.",
            current=str(current),
        )
