"""The audit trail: who did what, when, from where, to whom, with before and after where it applies.

One place writes it for the agent and admin APIs: ``install`` puts a middleware on the app's resolver that,
after a route succeeded (or changed data and then failed, as the use case says with ``failed``: a record with
``outcome: "failed"`` and the status it answered), appends one record when the route changes data (every method but
GET) or reveals personal data (the GET routes an app names: a customer's profile, a customer found by address,
duplicates, a search, the privacy requests), or reveals it only with some options or answers (the routes an app names as
``revealing``: a conversation, a list with customers on its page, the CSAT comments report), when the use case
says it did (``revealed``, ``listed``) and it is no read repeated within its window (below).
The use cases add what only they know with ``note``: the customer and conversation concerned (the access check
notes them for every conversation route) and the before and after of a change (settings, tiers, assignment,
status, labels, priority, team, an order action; of a text an admin or agent wrote, such as a canned response's
body or a routing note, only its ``fingerprint``). Records never hold message text, names or addresses: ids, roles,
settings, statuses; an erase is recorded with the customer's id only. System actions (privacy jobs, the shop
platform's privacy requests and links, a web-chat visitor's proven email) are recorded with
``actor = "system:<what>"`` through ``AuditTrail.record``.

Reads the inbox makes again on its own (it refetches the open conversation and the list on every change notice,
tens of times a conversation) are recorded once a window: a read marked ``repeat`` writes no record when the same
actor's read of the same thing (``read``: the conversation; the list's filters and customers) was recorded in the
last ``REPEAT_WINDOW_SECONDS`` by this function instance (``AuditTrail.seen``, in memory: another instance records
it once more). Reads a person asks for (a profile, a panel, a search, an opening with the customer's panels) are
recorded every time, and start the window of what they revealed.

A record that cannot be written fails the request (500): a read is not answered unaudited.

Refused attempts are recorded too (PCI DSS 10.2.1.4, invalid logical access attempts): a request of an authenticated
caller on the agent, admin or reports API that ends in a 403 (a role or scope check) or in the 404 of an access
check writes a record with ``outcome: "denied"``, the action ``<METHOD> <route>``, the status, the ids the request
named (or the access check found) and a ``reason``: ``forbidden`` (403), ``not_visible`` (404: it exists, but the
access check hides it from the caller: shopdesk.logic.access and logic.customers raise their ``NotFound`` marked
``hidden``), ``not_found`` (404: no conversation or customer of that id). The caller's answer is the same for both
404s; only the record tells them apart. A 404 of something else (a label, a message in a conversation the caller
sees) is no access attempt and writes nothing, nor do 400, 409, 415 and 422 (a request the schema refuses is
answered before any access check; a valid one the state refuses was allowed). The records hold the same things as
the others: ids, the route, roles, status, where from; never what the caller sent. An actor's refusals beyond
``DENIED_PER_MINUTE`` in a minute are counted, not recorded one by one: the first one over says so
(``details.bound_reached``), so guessing ids cannot fill the table faster than that; the HTTP API's access log still
names the caller of every request. A read of something that does not exist (``not_found``: a conversation erased
since, read again by an inbox that had it open) is recorded once per actor, read and window
(``REPEAT_WINDOW_SECONDS``, in the instance's memory as the reads' window is); the same read made again within it is
only counted, apart (``repeats``), so it spends none of the bound. A write attempt, and a read of what exists but is
hidden (``not_visible``), are recorded every time.
An agent taken off the desk is refused by the admission before any middleware
(shopdesk.api.admission): ``install`` records that refusal too (reason ``deactivated``), around the admission.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shopdesk import clock
from shopdesk.dal.audit import AuditLog
from shopdesk.errors import Deactivated, NotFound
from shopdesk.ids import new_id
from shopdesk.privacy.settings import PrivacyPolicies, ttl_after

if TYPE_CHECKING:          # the event handler is imported by the API functions only (its import costs ~120 ms)
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

_notes: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("audit_notes", default=None)
# A filtered page (by actor and customer, by outcome) looks at no more records than this (then it is short, with its
# cursor).
MAX_READ_FILTERED = 1000
NOT_AUDITED = ""            # a non-GET route that changes and reveals nothing: name it with this
ALLOWED, DENIED = "allowed", "denied"    # a record's outcome (``allowed`` is not stored: every record but a refusal
FAILED = "failed"                        # and one that failed after it changed data: ``failed``, an allowed one)
DENIED_PER_MINUTE = 30      # an actor's refused attempts recorded one by one in a minute; the rest are counted
REPEAT_WINDOW_SECONDS = 900  # a repeated read (the inbox refetching) is recorded once per actor, thing and window
SEEN_KEPT = 10_000          # reads remembered per function instance (the oldest forgotten first: recorded again)


def note(*, customer_id: str | None = None, conversation_id: str | None = None, before: Any = None,
         after: Any = None, also_customers: list[str] | None = None, also_shown: list[str] | None = None,
         **details: Any) -> None:
    """Add to the audit record of the request being served (nothing outside a request). ``also_customers``: other
    customers the action concerns as much (a merge's other side): the record is written under each of them too,
    so it is found by any of their ids. ``also_shown``: other customers a read showed besides (a customer's likely
    duplicates): the record is written under each of them too, but once per actor, read and window
    (``REPEAT_WINDOW_SECONDS``), as a repeated read is: the inbox reopening a conversation with its duplicates
    panel files it again under its own customer only, not one more write per duplicate each time."""
    notes = _notes.get()
    if notes is None:
        return
    if also_customers:
        notes["also_customers"] = [*notes.get("also_customers", []), *also_customers]
    if also_shown:
        notes["also_shown"] = [*notes.get("also_shown", []), *also_shown]
    for name, value in (("customer_id", customer_id), ("conversation_id", conversation_id), ("before", before),
                        ("after", after)):
        if value is not None:
            notes[name] = value
    if details:
        notes.setdefault("details", {}).update(details)


def failed(status: int, **details: Any) -> None:
    """The request changed data, then failed, and answers ``status`` (a reply stored, then refused by the outbound
    queue: marked failed, 503): its record is written all the same, with ``outcome: "failed"``, the status and
    ``details`` beside what the request noted. A request that goes on and succeeds (a macro whose one reply was not
    queued) is recorded as it answers, without these."""
    notes = _notes.get()
    if notes is not None:
        notes["failed"] = {"status": status, "details": details}


def fingerprint(text: str) -> str:
    """What a record keeps of words an admin or agent wrote (a canned response's body, a macro's note, an article's
    body): a short hash, so the before and after show which changed without the words being in the trail."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def revealed(*, customer_id: str | None = None, conversation_id: str | None = None, read: str | None = None,
             repeat: bool = False, **details: Any) -> None:
    """This request revealed personal data: on a ``revealing`` route, it is audited (with ``details``). ``read``
    names what was read (``conversation:<id>``): its record starts a window in which a ``repeat`` read of the same
    by the same actor writes none (``REPEAT_WINDOW_SECONDS``)."""
    note(customer_id=customer_id, conversation_id=conversation_id, **details)
    notes = _notes.get()
    if notes is not None:
        notes["revealed"] = True
        if read:
            notes["read"], notes["repeat"] = read, repeat


def changed() -> None:
    """This request of a GET route changed data this once (``GET /agent/me`` keeping the caller's new work email): on
    a route an app names in ``revealing``, it is audited, with what ``note`` said, as a revealing read is."""
    notes = _notes.get()
    if notes is not None:
        notes["changed"] = True


def listed(customers: Iterable[str], *, repeat: bool = False, **details: Any) -> None:
    """A list that shows many customers at once (a page of conversations, the privacy requests): one record for
    the request, under no one customer (found by actor and time), naming them (``details.customers``: the page's
    ids, sorted) beside the filters in ``details``. Nothing is revealed by an empty page. ``repeat``: a list the
    inbox reads again on its own: not recorded when the same actor was shown the same list (filters and
    customers) in the window."""
    shown = sorted(set(customers))
    notes = _notes.get()
    if not shown or notes is None:
        return
    for one in ("customer_id", "conversation_id"):     # what a check on the way noted: the page is many
        notes.pop(one, None)
    key = "list:" + fingerprint(json.dumps([details, shown], sort_keys=True, default=str))
    revealed(read=key, repeat=repeat, customers=shown, **details)


@dataclass
class AuditTrail:
    """Writes records with the audit retention of the privacy settings."""

    log: AuditLog
    policies: PrivacyPolicies
    # (actor, what was read) -> when its record was written: the repeated reads it covers write none
    _seen: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict, repr=False)

    def seen(self, actor: str, read: str) -> bool:
        """Whether ``actor``'s read of ``read`` was recorded by this instance in the last window."""
        at = self._seen.get((actor, read))
        return at is not None and clock.now().timestamp() - at < REPEAT_WINDOW_SECONDS

    def saw(self, actor: str, read: str) -> None:
        """A record of ``actor``'s read of ``read`` was written now: its window starts."""
        self._seen.pop((actor, read), None)
        self._seen[(actor, read)] = clock.now().timestamp()
        while len(self._seen) > SEEN_KEPT:
            self._seen.popitem(last=False)

    def record(self, *, actor: str, action: str, roles: list[str] | None = None, customer_id: str | None = None,
               conversation_id: str | None = None, target: str | None = None, before: Any = None,
               after: Any = None, details: Mapping[str, Any] | None = None, source_ip: str | None = None,
               user_agent: str | None = None, request_id: str | None = None, status: int | None = None,
               outcome: str | None = None, reason: str | None = None) -> dict[str, Any]:
        at = clock.now()
        record = {k: v for k, v in {
            "id": new_id("a_"), "at": clock.iso(at), "actor": actor, "roles": sorted(roles or []) or None,
            "action": action, "target": target, "customer_id": customer_id, "conversation_id": conversation_id,
            "before": before, "after": after, "details": dict(details) if details else None,
            "source_ip": source_ip, "user_agent": (user_agent or "")[:512] or None, "request_id": request_id,
            "status": status, "outcome": outcome, "reason": reason}.items() if v is not None}
        self.log.append(record, ttl_after(at, self.policies.current().retention.audit_days))
        return record

    def denied(self, *, actor: str, customers: list[str | None], details: Mapping[str, Any] | None = None,
               repeat: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        """A refused attempt (``outcome: denied``): one record under each of ``customers`` (``[None]``: none), unless
        the actor passed ``DENIED_PER_MINUTE`` refusals this minute. The first one over is recorded and says so
        (``details.bound_reached``); the ones after it in that minute are only counted. ``repeat``: a read of
        something that does not exist (``not_found``), named: once recorded, the same actor's same read is only
        counted for the window (``REPEAT_WINDOW_SECONDS``), apart, so it spends none of the bound."""
        at = clock.now()
        if repeat and self.seen(actor, repeat):
            self.log.count_denied(actor, clock.iso(at)[:16], int(at.timestamp()), repeat=True)
            return []
        count = self.log.count_denied(actor, clock.iso(at)[:16], int(at.timestamp()))
        if count > DENIED_PER_MINUTE + 1:
            return []
        bound = {"bound_reached": DENIED_PER_MINUTE} if count > DENIED_PER_MINUTE else {}
        records = [self.record(actor=actor, customer_id=customer, outcome=DENIED,
                               details={**(details or {}), **bound}, **fields) for customer in customers]
        if repeat:
            self.saw(actor, repeat)
        return records

    def find(self, *, actor: str | None, customer_id: str | None, start: datetime, end: datetime, limit: int,
             cursor: str | None, outcome: str | None = None, merged_in: Sequence[str] = (), lists: bool = False
             ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first: through the actor's or the customer's index (both: the customer's, kept to the actor's),
        else day by day; ``outcome`` keeps the ``denied`` records, or the others (``allowed``, the ``failed`` ones
        included), or only the ``failed`` ones. ``merged_in``: the
        customers merged into ``customer_id``, whose records are theirs too (filed under their own ids).
        ``lists``: the customer's records and the lists that showed them (``details.customers``, written by
        ``listed``: filed under no customer), read day by day as a search by time is."""
        a, b = clock.iso(start), clock.iso(end)
        tests: list[Callable[[dict[str, Any]], bool]] = []
        if actor and customer_id:
            tests.append(lambda r: r.get("actor") == actor)
        if outcome == FAILED:       # the actions that changed data and then failed (an allowed action's outcome)
            tests.append(lambda r: r.get("outcome") == FAILED)
        elif outcome:               # a failed action was allowed: not a refusal
            tests.append(lambda r: (r.get("outcome") == DENIED) == (outcome == DENIED))
        if lists and customer_id:
            tests.append(lambda r: _names_any(r, {customer_id, *merged_in}))

        def read(size: int, at: str | None) -> tuple[list[dict[str, Any]], str | None]:
            if lists:
                return self.log.by_time(a, b, size, at)
            if customer_id and merged_in:
                return self.log.by_customers([customer_id, *merged_in], a, b, size, at)
            if customer_id:
                return self.log.by_customer(customer_id, a, b, size, at)
            if actor:
                return self.log.by_actor(actor, a, b, size, at)
            return self.log.by_time(a, b, size, at)

        if not tests:
            return read(limit, cursor)
        return self._filtered(read, lambda r: all(test(r) for test in tests), limit, cursor)

    @staticmethod
    def _filtered(read: Callable[[int, str | None], tuple[list[dict[str, Any]], str | None]],
                  keep: Callable[[dict[str, Any]], bool], limit: int, cursor: str | None
                  ) -> tuple[list[dict[str, Any]], str | None]:
        """The records ``keep`` keeps (the customer's that are the actor's: a customer has fewer than a busy agent;
        the denied ones), read on until the page is full or ``MAX_READ_FILTERED`` records were looked at; each read
        asks for no more than the page still needs, so the cursor is exactly where reading stopped. (One index's page
        filtered afterwards came back short or empty with a cursor, and looked like the end.)"""
        found: list[dict[str, Any]] = []
        looked = 0
        while True:
            items, cursor = read(limit - len(found), cursor)
            looked += len(items)
            found.extend(i for i in items if keep(i))
            if cursor is None or len(found) >= limit or looked >= MAX_READ_FILTERED:
                return found, cursor


def _names_any(record: dict[str, Any], customers: set[str]) -> bool:
    """Whether the record is filed under one of ``customers`` or is a list that showed one of them."""
    shown = (record.get("details") or {}).get("customers")
    return record.get("customer_id") in customers or (isinstance(shown, list) and not customers.isdisjoint(shown))


def refused(error: Exception, *, answered: bool = False, **details: Any) -> None:
    """A use case that answers part of a request with a refusal and goes on (a macro applied to many conversations:
    one of them another team's) says so: the request's records then hold that refusal too, as if it had been the
    answer (``denied``, when it is one: ``PermissionError``, or a ``NotFound`` of a conversation or customer).
    ``answered``: the refusal is the request's whole answer, though it answers as if nothing were there (a lookup by
    address that found a customer hidden from the caller answers 200 with no customer, as for an address nobody
    has): its denied record, with the status answered and ``details``, is the request's only record, unless the
    request showed a customer besides (``note(customer_id=)``: a search whose phone number found another team's
    customer and whose words found conversations the caller sees): then its own record is written too."""
    notes = _notes.get()
    if notes is not None:
        notes.setdefault("refusals", []).append(error)
        if answered:
            notes["answered_refusal"] = details


def _denial(error: BaseException) -> tuple[int, str, dict[str, str]] | None:
    """A refused attempt's status, reason and the ids the refusal names; None for an error that is none (a 404 of a
    label or a message, a conflict, a request the schema refuses)."""
    if isinstance(error, Deactivated):
        return 403, "deactivated", {}
    if isinstance(error, PermissionError):
        return 403, "forbidden", {}
    if isinstance(error, NotFound) and error.about:
        return 404, "not_visible" if error.hidden else "not_found", dict(error.about)
    return None


def _pattern(route: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", route) + "$")


def install(app: APIGatewayHttpResolver, trail: Callable[[], AuditTrail], who: Callable[[Any], Any],
            named: Mapping[tuple[str, str], str], revealing: Mapping[tuple[str, str], str] | None = None) -> None:
    """Audit ``app``'s routes: every non-GET route (action ``<METHOD> <route>`` unless ``named`` names it;
    ``NOT_AUDITED`` leaves it out), the GET routes ``named`` lists, and the GET routes ``revealing`` lists when
    the request called ``revealed`` (or ``changed``); on every route, a refused attempt (``denied``, action
    ``<METHOD> <route>``). ``who(event)`` is the caller (id and roles). Call it after the routes are declared."""
    routes = [(r.method, r.path) for r in app._static_routes + app._dynamic_routes]
    revealing = revealing or {}
    unknown = (set(named) | set(revealing)) - set(routes)
    if unknown:
        raise ValueError(f"audit names routes the app does not declare: {sorted(unknown)}")
    every = []              # (method, route, its pattern, its action or None, audited only when it revealed)
    for method, path in routes:
        if (method, path) in revealing:
            every.append((method, path, _pattern(path), revealing[(method, path)], True))
            continue
        action = named.get((method, path), None if method == "GET" else f"{method} {path}")
        every.append((method, path, _pattern(path), action or None, False))

    def denied(event: Any, route: str, params: dict[str, str], notes: dict[str, Any],
               errors: list[BaseException], answered: tuple[int, dict[str, Any]] | None = None) -> None:
        """``answered``: the status the request answered and the details of its refusal (``refused(answered=True)``)."""
        refusals = [d for d in map(_denial, errors) if d]
        if not refusals:
            return
        try:
            caller = who(event)
        except PermissionError:         # no caller to name (a public document, a token that names no agent)
            return
        http = event.request_context.http
        for status, reason, about in refusals:
            # what the refusal names, else (a 403 past the access check) what the check noted
            named = about or {k: notes[k] for k in ("conversation_id", "customer_id") if notes.get(k)}
            conversation_id = named.get("conversation_id") or params.get("conversation_id")
            customers = list(dict.fromkeys(c for c in (params.get("customer_id"), named.get("customer_id")) if c))
            action, target = f"{http.method} {route}", "/".join(f"{k}={v}" for k, v in params.items()) or None
            # a read of what is not there, made again (an inbox still polling a conversation erased since): recorded
            # once per actor, read and window; writes, and reads of what exists hidden (not_visible), every time
            repeat = (f"not_found {action} {target} {sorted(about.items())}"
                      if reason == "not_found" and http.method in ("GET", "HEAD") else None)
            trail().denied(
                actor=caller.id, customers=customers or [None], roles=list(caller.roles),
                action=action, status=answered[0] if answered else status, reason=reason,
                details=answered[1] if answered else None, repeat=repeat,
                target=target, conversation_id=conversation_id,
                source_ip=http.source_ip, user_agent=http.user_agent, request_id=event.request_context.request_id)

    def matched(event: Any) -> tuple[str, dict[str, str], str | None, bool] | None:
        """The request's route, its path parameters, its action and whether only a reveal audits it."""
        method, path = event.request_context.http.method, event.path
        return next(((route, found.groupdict(), action, only_revealing)
                     for m, route, pattern, action, only_revealing in every
                     if m == method and (found := pattern.match(path))), None)

    def recorded(event: Any, params: dict[str, str], action: str, notes: dict[str, Any], status: int,
                 outcome: str | None = None, details: Mapping[str, Any] | None = None) -> None:
        """The request's record, under each customer it concerns (and those it showed besides)."""
        caller = who(event)
        read = notes.get("read")
        if read and notes.get("repeat") and trail().seen(caller.id, read):
            return                      # the inbox reading again what this actor's record of the window covers
        http = event.request_context.http
        customer_id = notes.get("customer_id") or params.get("customer_id")
        target = "/".join(f"{k}={v}" for k, v in params.items()) or None
        concerning = dict.fromkeys([customer_id, *notes.get("also_customers", [])])
        # customers shown besides: each filed under once per actor, read and window (a read that has no ``read``
        # key, such as the duplicates panel's own route, counts by its action and target)
        shown = {c: f"{read or f'{action} {target}'} shown:{c}" for c in notes.get("also_shown", [])
                 if c not in concerning}
        shown = {c: key for c, key in shown.items() if not trail().seen(caller.id, key)}
        for concerned in [*concerning, *shown]:
            trail().record(
                actor=caller.id, roles=list(caller.roles), action=action, status=status,
                target=target, customer_id=concerned,
                conversation_id=notes.get("conversation_id") or params.get("conversation_id"),
                before=notes.get("before"), after=notes.get("after"), details=details or notes.get("details"),
                source_ip=http.source_ip, user_agent=http.user_agent, request_id=event.request_context.request_id,
                outcome=outcome)
        if read:
            trail().saw(caller.id, read)
        for key in shown.values():
            trail().saw(caller.id, key)

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        match = matched(event)
        if match is None:
            return next_middleware(app)
        route, params, action, only_revealing = match
        token = _notes.set({})
        try:
            try:
                response = next_middleware(app)
            except Exception as exc:        # answered by the app's exception handlers: a refusal is recorded first
                notes = _notes.get() or {}
                denied(event, route, params, notes, [exc, *notes.get("refusals", [])])
                failure = notes.get("failed")
                if action and not only_revealing and failure:   # it changed data, then failed: recorded as such
                    recorded(event, params, action, notes, failure["status"], FAILED,
                             {**(notes.get("details") or {}), **failure["details"]})
                raise
            notes = _notes.get() or {}
        finally:
            _notes.reset(token)
        answered = notes.get("answered_refusal")
        denied(event, route, params, notes, notes.get("refusals", []),
               None if answered is None else (response.status_code, answered))
        if answered is not None and not notes.get("customer_id"):
            return response                 # the refusal was the whole answer: its record is the request's only one
        if not action or response.status_code >= 400 or (
                only_revealing and not (notes.get("revealed") or notes.get("changed"))):
            return response
        recorded(event, params, action, notes, response.status_code)
        return response

    app.use(middlewares=[middleware])

    # The admission (shopdesk.api.admission) runs in front of Powertools' request validation, itself in front of
    # every middleware an app uses: its refusal of an agent taken off the desk is recorded around it, here.
    admission = getattr(app, "_request_validation_middleware", None)
    if admission is None:
        return

    def admission_recorded(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        try:
            return admission(app, next_middleware)  # type: ignore[no-any-return]
        except Deactivated as exc:
            event = app.current_event
            match = matched(event)
            route, params = (match[0], match[1]) if match else (event.path, {})
            denied(event, route, params, {}, [exc])
            raise

    app._request_validation_middleware = admission_recorded
