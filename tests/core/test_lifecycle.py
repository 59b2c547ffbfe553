"""The post state machine: every allowed transition, and every refused one."""

import itertools

import pytest

from core import lifecycle
from core.domain import Status
from core.errors import InvalidTransition

S = Status
ALLOWED = {
    (S.DRAFTING, S.AWAITING_APPROVAL), (S.DRAFTING, S.CANCELLED),
    (S.AWAITING_APPROVAL, S.APPROVED), (S.AWAITING_APPROVAL, S.CHANGES_REQUESTED),
    (S.AWAITING_APPROVAL, S.REJECTED), (S.AWAITING_APPROVAL, S.CANCELLED),
    (S.CHANGES_REQUESTED, S.AWAITING_APPROVAL), (S.CHANGES_REQUESTED, S.CANCELLED),
    (S.APPROVED, S.SCHEDULED), (S.APPROVED, S.CANCELLED),
    (S.SCHEDULED, S.PUBLISHING), (S.SCHEDULED, S.HELD), (S.SCHEDULED, S.CANCELLED), (S.SCHEDULED, S.FAILED),
    (S.HELD, S.SCHEDULED), (S.HELD, S.CANCELLED),
    (S.PUBLISHING, S.PUBLISHED), (S.PUBLISHING, S.FAILED), (S.PUBLISHING, S.UNKNOWN),
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


def test_publishing_can_never_go_back_to_scheduled():
    # A request may have reached the network: only a human may settle an unknown outcome.
    assert not lifecycle.allowed(S.PUBLISHING, S.SCHEDULED)
    assert not lifecycle.allowed(S.UNKNOWN, S.SCHEDULED)
