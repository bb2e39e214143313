"""Domain errors. Handlers turn them into HTTP answers or batch failures in one place."""

from __future__ import annotations

from typing import Any, Self


class ShopdeskError(Exception):
    """Base class of every error the domain raises on purpose. The message says what went wrong in English;
    ``with_code`` gives a refusal people meet often a stable name and its values, so the inbox can say it in the
    agent's language (the API's problem carries both)."""

    code: str | None = None
    params: dict[str, str] | None = None

    def with_code(self, code: str, **params: object) -> Self:
        self.code, self.params = code, {name: str(value) for name, value in params.items()}
        return self


class NotFound(ShopdeskError):
    """No such thing, or none the caller may see. ``about``: the conversation or customer asked for, and ``hidden``:
    it exists but the access check hides it from the caller; both only for the audit trail's record of the refused
    attempt (shopdesk.privacy.audit), never in the answer, which is the same either way."""

    about: dict[str, str] | None = None
    hidden: bool = False

    def concerning(self, about: dict[str, str], *, hidden: bool = False) -> Self:
        self.about, self.hidden = about, hidden
        return self


def conversation_not_found(conversation_id: str, *, hidden_from_caller: bool = False,
                           customer_id: str | None = None) -> NotFound:
    """The one answer for a conversation that does not exist and for one the caller may not see
    (``hidden_from_caller``, with its ``customer_id``, for the audit trail), so that nobody learns from it that a
    conversation exists (shopdesk.logic.access)."""
    return NotFound(f"conversation {conversation_id} does not exist").concerning(
        {"conversation_id": conversation_id, **({"customer_id": customer_id} if customer_id else {})},
        hidden=hidden_from_caller)


class Conflict(ShopdeskError):
    """The request is valid but the current state forbids it (e.g. an agent at capacity)."""


class Busy(ShopdeskError):
    """Another write held what this one writes at that moment, and still did when it was tried again (DynamoDB's
    TransactionConflict, ``Table.transact(retry_conflicts=True)``): nothing was written, and the same request may be
    sent again (503, code ``busy``)."""


def version_conflict(kind: str, key: str, expected_version: int | None, now: int) -> Conflict:
    """A save over a version that is not the current one: someone saved it meanwhile, or (expected 0: a new one)
    the id is taken, which is said as such (code ``exists``): nobody's change was lost. Otherwise the code is
    ``changed_meanwhile`` (as a conversation's), with the version now stored."""
    if expected_version == 0 and now:
        return Conflict(f"a {kind} with id {key} exists already; choose another id, or edit that one").with_code(
            "exists", id=key)
    return Conflict(f"{kind} {key} changed meanwhile (now version {now}); reload it and apply your change again"
                    ).with_code("changed_meanwhile", version=now)


def name_taken(kind: str, name: str, holder: str, field: str = "name") -> Conflict:
    """A save that would give a second setting of its kind a name people pick it by (``field``: a name, a shortcode):
    code ``<field>_taken``, naming the name and the id of the one that has it, so the admin renames this one or
    edits that one (shopdesk.logic.unique)."""
    return Conflict(f"{kind} {holder} has the {field} {name!r} already: choose another {field}, or edit {holder}"
                    ).with_code(f"{field}_taken", **{field: name, "id": holder})


class InvalidSignature(ShopdeskError):
    pass


class BadRequest(ShopdeskError):
    pass


class InvalidFields(ShopdeskError):
    """A request the models accept that the use case refuses field by field (422, like the models' own refusals):
    ``errors`` as pydantic words them (``loc`` from ``body``, ``msg``, ``type``); the detail is the messages."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__("; ".join(str(e.get("msg")) for e in errors))
        self.errors = errors


class DuplicateDelivery(ShopdeskError):
    """A provider delivered a message we already stored. ``unrouted``: the routing work stored with it,
    when the router has not confirmed it yet (the first delivery's send to the work queue may have failed)."""

    def __init__(self, provider_id: str, unrouted: dict[str, Any] | None = None):
        super().__init__(provider_id)
        self.unrouted = unrouted


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


class Forbidden(PermissionError):
    """A 403 people meet often, with a stable name and its values (as ``ShopdeskError.with_code``), so the inbox can say
    it in the agent's language; the API's problem carries both."""

    code: str
    params: dict[str, str]

    def __init__(self, detail: str, code: str, **params: object) -> None:
        super().__init__(detail)
        self.code, self.params = code, {name: str(value) for name, value in params.items()}


class Deactivated(PermissionError):
    """The caller is an agent an admin took off the desk (``POST /admin/agents/{id}/deactivate``): every request of
    theirs is refused (403, code ``deactivated``) until an admin puts them back, whatever their token says."""

    code = "deactivated"
    params: dict[str, str] | None = None

    def __init__(self, agent_id: str):
        super().__init__(f"{agent_id} was taken off the desk by an admin: ask one to put them back")
