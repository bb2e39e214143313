"""The admin API's privacy use cases: the audit trail, the privacy settings, export and erase jobs. Admins
only (403 for supervisors and agents): each checks the caller's roles itself."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.dal.lake import LakeBucket
from shopdesk.dal.media import MediaStore
from shopdesk.errors import BadRequest, Conflict, InvalidFields, NotFound
from shopdesk.logic.access import ADMIN, require
from shopdesk.logic.admin import SETTINGS_ATTEMPTS, identity_of
from shopdesk.models.given import saved_over
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.jobs import JobNotQueued, Kind, PrivacyJobs, WalkNotQueued
from shopdesk.privacy.masking import too_broad, too_slow
from shopdesk.privacy.reapply import bucket_rules
from shopdesk.privacy.settings import PrivacyPolicies, PrivacySettings
from shopdesk.privacy.subject import MAX_CUSTOMERS

ID = re.compile(r"^u_[0-9A-HJKMNP-TV-Z]{26}$")     # a customer id (shopdesk.ids)
MIN_AUDIT_DAYS = 365                     # a save may not set less (PCI DSS keeps an audit trail 12 months)
DEFAULT_WINDOW = timedelta(days=7)       # ?from= left out, and neither actor nor customer: the last week
MAX_DAYS_BY_TIME = 92                    # a search by time alone reads one partition per day
MERGE_EVENTS = 200                       # a customer's timeline read for the merges into them


def subject_of(name: str) -> tuple[str | None, str]:
    """(kind, key) a name gives a customer by: ``id``, else an identity as the admins' customer lookup reads one
    (``logic.admin.identity_of``: an email address lower-cased, a phone number in E.164, a national one in the shop's
    region); (None, name) for anything else."""
    name = name.strip()
    if ID.fullmatch(name):
        return "id", name
    try:
        return identity_of(None, name) if "@" in name else identity_of(name, None)
    except BadRequest:
        return None, name


# the retention classes of the table's own items: a change is applied to what is stored (a retention job)
STORED_CLASSES = ("messages_days", "closed_conversations_days", "inactive_customers_days")


def masks_more(before: Sequence[dict[str, Any]], settings: PrivacySettings) -> bool:
    """Whether a save adds a masking pattern or changes one's expression or name (what is stored is masked with it:
    a masking job); one taken away unmasks nothing, so needs none."""
    was = {(p["name"], p["pattern"]) for p in before}
    return any((p.name, p.pattern) not in was for p in settings.masking_patterns)


def pattern_problem(text: str) -> str | None:
    """Why a masking pattern is refused when an admin adds or changes it (None: it is not): too slow on text made to
    make it backtrack (``too_slow``; one reason a pattern, so a slow one is not judged twice), else too broad
    (``too_broad``)."""
    if too_slow(text):
        return ("takes too long on long text without a match (nested repeats such as (a|aa)+ backtrack without "
                "end): write it without them")
    return too_broad(text)


@dataclass
class PrivacyDesk:
    trail: AuditTrail
    policies: PrivacyPolicies
    jobs: PrivacyJobs
    lake: LakeBucket | None = None        # the event lake's bucket: its lifecycle follows events_days
    media: MediaStore | None = None       # the messages' files: their lifecycle follows messages_days
    media_days: int = 730                 # ... else the stack's MediaRetentionDays

    def audit(self, by: Iterable[str], *, actor: str | None, customer_id: str | None, start: datetime | None,
              end: datetime | None, limit: int, cursor: str | None, outcome: str | None = None,
              lists: bool = False) -> tuple[list[dict[str, Any]], str | None]:
        """``lists`` (with ``customer_id``): the lists that showed the customer too, which are filed under no one
        customer; they are found by reading the days in between, so ``from`` and ``to`` are bounded as a search by
        time alone is. The read's own audit record is a list's: under no customer, naming the filters given and how
        many records it showed."""
        require(by, ADMIN)
        asked = {name: value for name, value in (
            ("actor", actor), ("customer", customer_id), ("outcome", outcome),
            ("from", clock.iso(start) if start else None), ("to", clock.iso(end) if end else None),
            ("lists", lists or None), ("next_page", cursor is not None or None)) if value is not None}
        if lists and not customer_id:
            raise BadRequest("lists needs customer_id: it adds the lists that showed that customer")
        if end is None and start is not None and start > clock.now():
            return [], None             # from a moment still to come, until now: nothing has been recorded yet
        end = end or clock.now()
        indexed = (actor or customer_id) and not lists
        start = start or (datetime.fromtimestamp(0, end.tzinfo) if indexed else end - DEFAULT_WINDOW)
        if start > end:
            raise BadRequest("from is after to")
        if not indexed and (end - start).days > MAX_DAYS_BY_TIME:
            raise BadRequest(f"without actor or customer_id, or with lists, from and to may be at most "
                             f"{MAX_DAYS_BY_TIME} days apart")
        merged_in = self.merged_in(customer_id) if customer_id else []
        try:
            found, next_cursor = self.trail.find(actor=actor, customer_id=customer_id, start=start, end=end,
                                                 limit=limit, cursor=cursor, outcome=outcome, merged_in=merged_in,
                                                 lists=lists)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        audit.note(**asked, records=len(found))
        return found, next_cursor

    def merged_in(self, customer_id: str) -> list[str]:
        """The customers merged into this one, and into those, as their merge records say (a merge undone since
        is not followed: that customer is someone else again); the export holds the same customers
        (``privacy.subject.gather``)."""
        customers = self.jobs.customers
        found: list[str] = []
        pending, seen = [customer_id], {customer_id}
        while pending and len(seen) < MAX_CUSTOMERS:
            for event in customers.timeline(pending.pop(), limit=MERGE_EVENTS):
                if event.kind != "merged" or not event.other_id or not event.merge_id or event.other_id in seen:
                    continue
                merge = customers.get_merge(event.merge_id)
                if merge is not None and merge.status == "merged":
                    seen.add(event.other_id)
                    found.append(event.other_id)
                    pending.append(event.other_id)
        return found

    def settings(self, by: Iterable[str]) -> dict[str, Any]:
        """The settings stored, and what is wrong with a pattern stored before a check came (``masking_warnings``)."""
        require(by, ADMIN)
        stored = self.policies.read()
        return {**stored, "masking_warnings": [
            {"loc": ["body", "masking_patterns", i, "pattern"], "type": "value_error", "msg": why}
            for i, p in enumerate(stored["masking_patterns"]) if (why := pattern_problem(p["pattern"]))]}

    def put_settings(self, by: Iterable[str], settings: PrivacySettings, expected_version: int | None,
                     caller_id: str = "admin") -> dict[str, Any]:
        """Save the fields given over the stored ones (``models.given``: a save of the masking patterns keeps the
        retention); when a retention of the table's items changed, start the job that gives what is already
        stored the new one (its id: ``retention_job_id``); when a masking pattern was added or changed, the job
        that masks what is already stored with it (``masking_job_id``). Written over the version read (another
        admin's save in between is a 409 with the caller's ``expected_version``, else merged over)."""
        require(by, ADMIN)
        for attempt in range(SETTINGS_ATTEMPTS):
            before = self.policies.read()
            stored = PrivacySettings.model_validate({k: v for k, v in before.items() if k != "version"})
            merged = saved_over(stored, settings)
            try:
                return self._save(before, merged, before["version"] if expected_version is None else expected_version,
                                  caller_id)
            except Conflict:
                if expected_version is not None or attempt == SETTINGS_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _save(self, before: dict[str, Any], settings: PrivacySettings, expected_version: int,
              caller_id: str) -> dict[str, Any]:
        kept = {(p["name"], p["pattern"]) for p in before["masking_patterns"]}
        refused, warnings = [], []
        for i, pattern in enumerate(settings.masking_patterns):
            if not (why := pattern_problem(pattern.pattern)):
                continue
            problem = {"loc": ["body", "masking_patterns", i, "pattern"], "type": "value_error", "msg": why}
            # a pattern stored as it is (saved before a check came) has masked what is stored already: refusing it
            # protects nothing and would refuse every save of the settings, a retention change too
            (warnings if (pattern.name, pattern.pattern) in kept else refused).append(problem)
        if settings.retention.audit_days < MIN_AUDIT_DAYS:      # else an admin could have their own actions forgotten
            refused.append({"loc": ["body", "retention", "audit_days"], "type": "value_error",
                            "msg": f"must be at least {MIN_AUDIT_DAYS} days: the audit trail outlives what it "
                                   "records"})
        if refused:
            raise InvalidFields(refused)
        saved = self.policies.write(settings, expected_version)
        audit.note(before=before, after=saved)
        # S3 expires the lake's objects and the messages' files; applied on every save, so a save repairs a rule
        # changed by hand or by a stack update (the template creates the rules with the settings' defaults)
        bucket_rules(settings.retention, self.lake, self.media, self.media_days)
        walks = []
        if any(before["retention"].get(name) != getattr(settings.retention, name) for name in STORED_CLASSES):
            walks.append(("retention", self.jobs.start_retention))
        if masks_more(before["masking_patterns"], settings):
            walks.append(("masking", self.jobs.start_masking))
        refused: dict[str, dict[str, str]] = {}
        for kind, start in walks:       # each on its own: a refused one neither stops the other nor undoes the save
            try:
                saved[f"{kind}_job_id"] = start(caller_id)["job_id"]
            except WalkNotQueued as exc:
                refused[kind] = exc.params or {}
        if refused:                     # saved, but not applied to what is stored yet: a 503 that says so
            jobs = ", ".join(p.get("job_id", "") for p in refused.values())
            at = "" if any(not p.get("walks_at") for p in refused.values()) else \
                min(p["walks_at"] for p in refused.values())
            # the other walk, queued: its job, to follow as a save's answer names it (``<kind>_job_id``)
            queued = {f"{kind}_job_id": saved[f"{kind}_job_id"] for kind, _ in walks if f"{kind}_job_id" in saved}
            audit.failed(503, walks_not_queued=jobs, **queued)
            then = f"the sweep does it at {at}" if at else "an operator runs it with scripts.backfill"
            also = "".join(f"; the {name.removesuffix('_job_id')} job {job} is queued" for name, job in queued.items())
            raise WalkNotQueued(
                f"the settings are saved (version {saved['version']}), but applying the new "
                f"{' and '.join(refused)} settings to what is already stored could not be queued (job {jobs} "
                f"failed): {then}{also}").with_code("walk_not_queued", version=saved["version"], job_id=jobs,
                                                    walks_at=at, **queued)
        saved["masking_warnings"] = warnings
        return saved

    def start(self, by: Iterable[str], kind: Kind, customer_id: str, caller_id: str) -> dict[str, Any]:
        require(by, ADMIN)
        try:
            return self.jobs.start(kind, customer_id, caller_id)
        except NotFound as exc:                 # a refused attempt on the audit trail (not_found)
            raise exc.concerning({"customer_id": customer_id}) from None
        except JobNotQueued as exc:             # a job made, then failed: on the audit trail as failed (503)
            audit.failed(503, job_not_queued=(exc.params or {}).get("job_id", ""))
            raise

    def erase_many(self, by: Iterable[str], names: Sequence[str], caller_id: str, *, start: bool,
                   request_id: str | None = None, time_left: Callable[[], float] | None = None
                   ) -> list[dict[str, Any]]:
        """Several customers at once (a batch of deletion requests), each named by their customer id, email address
        or phone number (national numbers in the shop's region), in order, one row per name: ``found`` (with the
        customer's name, to check before anything is done: ``start`` False), ``started`` (their erase job, or the
        one of theirs running already), ``same_customer`` (named already), ``merged`` (an id merged into another,
        ``merged_into``: erase that one, or unmerge first; nothing is started), ``already_erased`` (an id an erase
        removed: its job), ``not_found`` or ``unrecognised`` (neither an id, an email nor a phone number), and
        ``not_queued``: the privacy queue refused their erase (its ``job_id``, failed, nothing done, the customer not
        held), or was not tried (no ``job_id``): once the queue refused one, each further erase is tried only while
        the request has more time left (``time_left``, seconds: the Lambda context's) than one send can take at worst
        (``Queue.send_worst_seconds``, from the privacy queue's client's retries and timeouts: the SDK tries a refused
        send again, and a queue in trouble may answer late), so the request answers every row before its time is up; one
        whose erase runs already needs no send, and is ``started`` with that job still.
        Each erase started is an audit record of its own, on that customer, as a single erase is; each not queued a
        record with ``outcome: failed`` (503, as a single one's), and the request's record names them
        (``not_queued``)."""
        roles = sorted(set(by))
        require(roles, ADMIN)
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        worst: float | None = None          # the queue refused an erase: each further one tried only with time left
                                            # for a send this long at worst (read at the first refusal)
        not_queued: list[str] = []
        for name in names:
            kind, address = subject_of(name)
            customer = None if kind is None else (
                self.jobs.customers.get(address) if kind == "id" else self.jobs.customers.find(kind, address))
            if customer is None:
                rows.append(self._not_there(name, address) if kind == "id" else
                            {"input": name, "outcome": "not_found" if kind else "unrecognised"})
                continue
            row = {"input": name, "customer_id": customer.id, "name": customer.name}
            if customer.merged_into:          # their data is the survivor's: named, never erased under this id
                survivor = self.jobs.merged(customer).params or {}
                rows.append({**row, "outcome": "merged", "merged_into": survivor.get("survivor_id")})
                continue
            if customer.id in seen:
                rows.append({**row, "outcome": "same_customer"})
                continue
            seen.add(customer.id)
            if not start:
                rows.append({**row, "outcome": "found"})
                continue
            untried = worst is not None and (time_left is None or time_left() <= worst)
            running = self._erase_running(customer.id) if untried else None
            if untried and running is None:    # too little time left for one more send after a refusal: not tried
                not_queued.append(customer.id)
                rows.append(self._not_queued(row, None, caller_id, roles, request_id))
                continue
            try:                               # (an erase of theirs that runs already is theirs, no send needed)
                job_id = running or self.jobs.start("erase", customer.id, caller_id, noted=False)["job_id"]
            except Conflict:                   # merged or erased since it was read
                rows.append(self._not_there(name, customer.id))
                continue
            except JobNotQueued as exc:        # its job failed, having done nothing
                worst = worst or self.jobs.queue.send_worst_seconds()
                not_queued.append(customer.id)
                rows.append(self._not_queued(row, (exc.params or {}).get("job_id", ""), caller_id, roles, request_id))
                continue
            self.trail.record(actor=caller_id, roles=roles, action="customer.erase", customer_id=customer.id,
                              details={"job_id": job_id, "of_several": True}, request_id=request_id)
            rows.append({**row, "outcome": "started", "job_id": job_id})
        audit.note(names=len(names), customers=sorted(seen), started=start,
                   **({"not_queued": sorted(not_queued)} if not_queued else {}))
        return rows

    def _erase_running(self, customer_id: str) -> str | None:
        """The job of the customer's erase that runs already (as ``PrivacyJobs.start`` would answer it), if any."""
        holder, running = self.jobs.erase_holder(customer_id)
        return holder if running else None

    def _not_queued(self, row: dict[str, Any], job_id: str | None, caller_id: str, roles: list[str],
                    request_id: str | None) -> dict[str, Any]:
        """The row of a customer whose erase the queue refused (``job_id``: its job, failed) or that was not tried
        after a refusal, too little time being left (None), and its record on the audit trail, as a single erase's
        refused one (failed, 503)."""
        self.trail.record(actor=caller_id, roles=roles, action="customer.erase", customer_id=row["customer_id"],
                          details={"of_several": True,
                                   **({"job_not_queued": job_id} if job_id is not None else {"not_tried": True})},
                          request_id=request_id, status=503, outcome=audit.FAILED)
        return {**row, "outcome": "not_queued", **({"job_id": job_id} if job_id is not None else {})}

    def _not_there(self, name: str, customer_id: str) -> dict[str, Any]:
        """The row of a customer id found no more: erased (``already_erased``, with the erase's job), merged away
        meanwhile, or never there (``not_found``)."""
        customer = self.jobs.customers.get(customer_id)
        if customer is not None and customer.merged_into:
            survivor = self.jobs.merged(customer).params or {}
            return {"input": name, "outcome": "merged", "customer_id": customer.id, "name": customer.name,
                    "merged_into": survivor.get("survivor_id")}
        _, erased = self.jobs.store.erase_of(customer_id)
        if erased is None:
            return {"input": name, "outcome": "not_found"}
        return {"input": name, "outcome": "already_erased", "customer_id": customer_id, "job_id": erased["job_id"]}

    def job(self, by: Iterable[str], job_id: str) -> dict[str, Any]:
        require(by, ADMIN)
        return self.jobs.status(job_id)
