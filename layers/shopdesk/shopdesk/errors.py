"""Domain errors. Handlers turn them into HTTP answers or batch failures in one place."""


class ShopdeskError(Exception):
    """Base class of every error the domain raises on purpose."""


class NotFound(ShopdeskError):
    pass


def conversation_not_found(conversation_id: str) -> NotFound:
    """The one answer for a conversation that does not exist and for one the caller may not see, so
    that nobody learns from it that a conversation exists (shopdesk.logic.access)."""
    return NotFound(f"conversation {conversation_id} does not exist")


class Conflict(ShopdeskError):
    """The request is valid but the current state forbids it (e.g. an agent at capacity)."""


class InvalidSignature(ShopdeskError):
    pass


class BadRequest(ShopdeskError):
    pass


class DuplicateDelivery(ShopdeskError):
    """A provider delivered a message we already stored."""


class ProviderError(ShopdeskError):
    """A provider refused or failed a send.

    ``retryable`` is True for rate limits, server errors and network failures; False for
    errors that another attempt cannot fix (invalid number, opted-out recipient...).
    """

    def __init__(self, message: str, *, code: str | None, retryable: bool, http_status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.http_status = http_status
        self.retry_after = retry_after
