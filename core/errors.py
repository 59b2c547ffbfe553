"""The small error hierarchy every layer raises and every front end maps to a friendly message."""


class PlumeError(Exception):
    """Base of every error Plume raises on purpose; its message is safe to show a user."""


class ConfigError(PlumeError):
    """A setting is missing, malformed or points somewhere unusable."""


class ValidationFailed(PlumeError):
    """Input (a brief, a decision, model output, a file) was rejected."""


class NotAuthorized(PlumeError):
    """The actor may not take this decision."""


class InvalidTransition(PlumeError):
    """The post is not in a state that allows this change (someone else may have decided first)."""

    def __init__(self, message: str, *, current: str | None = None, decided_by: str | None = None):
        super().__init__(message)
        self.current = current
        self.decided_by = decided_by


class NotFound(PlumeError):
    """No such post, brief or thread."""


class LLMUnavailable(PlumeError):
    """The model could not be reached or kept failing after bounded retries."""


class PublishFailed(PlumeError):
    """The network is known not to have published the post."""


class PublishUnknown(PlumeError):
    """The network may or may not have published the post: a human must check."""


class StorageError(PlumeError):
    """The database or data directory is unusable."""


class FollowUpFailed(PlumeError):
    """A human decision was recorded, but what follows it (scheduling, a revision) did not finish.

    The decision stands; retrying the brief's thread carries on from where it stopped."""

    def __init__(self, message: str, *, post_id: int, thread_id: str):
        super().__init__(message)
        self.post_id = post_id
        self.thread_id = thread_id
