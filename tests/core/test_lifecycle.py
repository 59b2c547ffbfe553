"""The post state machine: every allowed transition, and every refused one."""

import itertools

import pytest

from core import lifecycle
from core.domain import Status
from core.errors import InvalidTransition

S = Status
ALLOWED = {
    (S.AWAITING_APPROVAL, S.APPROVED), (S.AWAITING_APPROVAL, S.CHANGES_REQUESTED),
    (S.AWAITING_APPROVAL, S.REJECTED), (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.CHANGES_REQUESTED, S.AWAITING_APPROVAL), (S.CHANGES_REQUESTED, S.CANCELLED),
    (S.APPROVED, S.SCHEDULED), (S.APPROVED, S.CANCELLED),
    (S.SCHEDULED, S.PUBLISHING), (S.SCHEDULED, S.HELD), (S.SCHEDULED, S.CANCELLED), (S.SCHEDULED, S.FAILED),
    (S.HELD, S.SCHEDULED), (S.HELD, S.CANCELLED),
    (S.PUBLISHING, S.PUBLISHED), (S.PUBLISHING, S.FAILED), (S.PUBLISHING, S.UNKNOWN), (S.PUBLISHING, S.SCHEDULED),
    (S.FAILED, S.SCHEDULED), (S.FAILED, S.CANCELLED),
    (S.UNKNOWN, S.PUBLISHED), (S.UNKNOWN, S.FAILED),
}


@pytest.mark.parametrize("current,target", sorted(ALLOWED))
def test_allowed_transitions_pass(current, target):
    lifecycle.require(current, target)
    assert lifecycle.allowed(current, target)


REFUSED = sorted(set(itertools.product(S, S)) - ALLOWED)


@pytest.mark.parametrize("current,target", REFUSED)
def test_every_other_transition_is_refused(current, target):
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.require(current, target)
    assert refused.value.current == current
    assert current.value.replace("_", " ") in str(refused.value)


def test_final_states_have_no_way_out():
    assert {S.PUBLISHED, S.REJECTED, S.CANCELLED} == lifecycle.FINAL


def test_a_post_that_may_be_online_is_never_cancelled_or_held():
    # publishing/unknown: the network may have it. Only a known outcome, or a retry once the network
    # (or a human) said it does not have it, may follow; a cancel would hide a live post.
    for status in (S.PUBLISHING, S.UNKNOWN):
        assert not lifecycle.allowed(status, S.CANCELLED) and not lifecycle.allowed(status, S.HELD)
