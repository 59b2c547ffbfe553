"""Publishers: where an approved post goes at its time (the outbox, a webhook or a real network)."""

from publishing.publishers.base import NotSent, OutcomeUnknown, Published, Publisher, Timeouts
from publishing.publishers.outbox import OutboxPublisher

__all__ = ["NotSent", "OutboxPublisher", "OutcomeUnknown", "Published", "Publisher", "Timeouts"]
