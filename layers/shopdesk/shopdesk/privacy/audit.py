"""The audit trail: who did what, when, from where, to whom, with before and after where it applies.

One place writes it for the agent and admin APIs: ``install`` puts a middleware on the app's resolver that,
after a route succeeded, appends one record when the route changes data (every method but GET) or reveals
personal data (the GET routes an app names: a customer's profile, a customer found by address, duplicates), or
reveals it only with some options (the routes an app names as ``revealing``: a conversation opened with its
customer's profile, ``api/opened.py``), when the use case says it did (``revealed``).
The use cases add what only they know with ``note``: the customer and conversation concerned (the access check
notes them for every conversation route) and the before and after of a change (settings, tiers, assignment,
status; of a text an admin wrote, such as a canned response's body, only its ``fingerprint``). Records never hold
message text, names or addresses: ids, roles, settings, statuses; an erase is
recorded with the customer's id only. System actions (privacy jobs, the shop platform's privacy requests and
links, a web-chat visitor's proven email) are recorded with ``actor = "system:<what>"`` through
``AuditTrail.record``.

A record that cannot be written fails the request (500): a read is not answered unaudited.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shopdesk import clock
from shopdesk.dal.audit import AuditLog
from shopdesk.ids import new_id
from shopdesk.privacy.settings import PrivacyPolicies, ttl_after

if TYPE_CHECKING:          # the event handler is imported by the API functions only (its import costs ~120 ms)
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

_notes: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("audit_notes", default=None)
# A page by actor and customer looks at no more records than this (then it is short, with its cursor).
MAX_READ_BOTH = 1000
NOT_AUDITED = ""            # a non-GET route that changes nothing (a preview): name it with this


def note(*, customer_id: str | None = None, conversation_id: str | None = None, before: Any = None,
         after: Any = None, also_customers: list[str] | None = None, **details: Any) -> None:
    """Add to the audit record of the request being served (nothing outside a request). ``also_customers``: other
    customers the action concerns as much (a merge's other side): the record is written under each of them too,
    so it is found by any of their ids."""
    notes = _notes.get()
    if notes is None:
        return
    if also_customers:
        notes["also_customers"] = [*notes.get("also_customers", []), *also_customers]
    for name, value in (("customer_id", customer_id), ("conversation_id", conversation_id), ("before", before),
                        ("after", after)):
        if value is not None:
            notes[name] = value
    if details:
        notes.setdefault("details", {}).update(details)


def fingerprint(text: str) -> str:
    """What a record keeps of words an admin or agent wrote (a canned response's body, a macro's note, an article's
    body): a short hash, so the before and after show which changed without the words being in the trail."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def revealed(*, customer_id: str | None = None, conversation_id: str | None = None, **details: Any) -> None:
    """This request revealed personal data: on a ``revealing`` route, it is audited (with ``details``)."""
    note(customer_id=customer_id, conversation_id=conversation_id, **details)
    notes = _notes.get()
    if notes is not None:
        notes["revealed"] = True


@dataclass
class AuditTrail:
    """Writes records with the audit retention of the privacy settings."""

    log: AuditLog
    policies: PrivacyPolicies

    def record(self, *, actor: str, action: str, roles: list[str] | None = None, customer_id: str | None = None,
               conversation_id: str | None = None, target: str | None = None, before: Any = None,
               after: Any = None, details: Mapping[str, Any] | None = None, source_ip: str | None = None,
               user_agent: str | None = None, request_id: str | None = None, status: int | None = None
               ) -> dict[str, Any]:
        at = clock.now()
        record = {k: v for k, v in {
            "id": new_id("a_"), "at": clock.iso(at), "actor": actor, "roles": sorted(roles or []) or None,
            "action": action, "target": target, "customer_id": customer_id, "conversation_id": conversation_id,
            "before": before, "after": after, "details": dict(details) if details else None,
            "source_ip": source_ip, "user_agent": (user_agent or "")[:512] or None, "request_id": request_id,
            "status": status}.items() if v is not None}
        self.log.append(record, ttl_after(at, self.policies.current().retention.audit_days))
        return record

    def find(self, *, actor: str | None, customer_id: str | None, start: datetime, end: datetime, limit: int,
             cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first: through the actor's or the customer's index (both: the customer's, read until the page
        of the actor's is full), else day by day."""
        a, b = clock.iso(start), clock.iso(end)
        if actor and customer_id:
            return self._by_both(actor, customer_id, a, b, limit, cursor)
        if actor:
            return self.log.by_actor(actor, a, b, limit, cursor)
        if customer_id:
            return self.log.by_customer(customer_id, a, b, limit, cursor)
        return self.log.by_time(a, b, limit, cursor)

    def _by_both(self, actor: str, customer_id: str, start: str, end: str, limit: int, cursor: str | None
                 ) -> tuple[list[dict[str, Any]], str | None]:
        """The customer's records (fewer than a busy agent's) that are the actor's, read on until the page is full
        or ``MAX_READ_BOTH`` records were looked at; each read asks for no more than the page still needs, so the
        cursor is exactly where reading stopped. (One index's page filtered afterwards came back short or empty
        with a cursor, and looked like the end.)"""
        found: list[dict[str, Any]] = []
        read = 0
        while True:
            items, cursor = self.log.by_customer(customer_id, start, end, limit - len(found), cursor)
            read += len(items)
            found.extend(i for i in items if i.get("actor") == actor)
            if cursor is None or len(found) >= limit or read >= MAX_READ_BOTH:
                return found, cursor


def _pattern(route: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", route) + "$")


def install(app: APIGatewayHttpResolver, trail: Callable[[], AuditTrail], who: Callable[[Any], Any],
            named: Mapping[tuple[str, str], str], revealing: Mapping[tuple[str, str], str] | None = None) -> None:
    """Audit ``app``'s routes: every non-GET route (action ``<METHOD> <route>`` unless ``named`` names it;
    ``NOT_AUDITED`` leaves it out), the GET routes ``named`` lists, and the GET routes ``revealing`` lists when
    the request called ``revealed``. ``who(event)`` is the caller (id and roles). Call it after the routes are
    declared."""
    routes = [(r.method, r.path) for r in app._static_routes + app._dynamic_routes]
    revealing = revealing or {}
    unknown = (set(named) | set(revealing)) - set(routes)
    if unknown:
        raise ValueError(f"audit names routes the app does not declare: {sorted(unknown)}")
    audited = []
    for method, path in routes:
        if (method, path) in revealing:
            audited.append((method, _pattern(path), revealing[(method, path)], True))
            continue
        action = named.get((method, path), None if method == "GET" else f"{method} {path}")
        if action:
            audited.append((method, _pattern(path), action, False))

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        method, path = event.request_context.http.method, event.path
        match = next(((m, pattern.match(path), action, only_revealing) for m, pattern, action, only_revealing
                      in audited if m == method and pattern.match(path)), None)
        if match is None:
            return next_middleware(app)
        token = _notes.set({})
        try:
            response = next_middleware(app)
            notes = _notes.get() or {}
        finally:
            _notes.reset(token)
        if response.status_code >= 400 or (match[3] and not notes.get("revealed")):
            return response
        params = match[1].groupdict() if match[1] else {}
        caller = who(event)
        http = event.request_context.http
        customer_id = notes.get("customer_id") or params.get("customer_id")
        for concerned in dict.fromkeys([customer_id, *notes.get("also_customers", [])]):
            trail().record(
                actor=caller.id, roles=list(caller.roles), action=match[2], status=response.status_code,
                target="/".join(f"{k}={v}" for k, v in params.items()) or None, customer_id=concerned,
                conversation_id=notes.get("conversation_id") or params.get("conversation_id"),
                before=notes.get("before"), after=notes.get("after"), details=notes.get("details"),
                source_ip=http.source_ip, user_agent=http.user_agent, request_id=event.request_context.request_id)
        return response

    app.use(middlewares=[middleware])
