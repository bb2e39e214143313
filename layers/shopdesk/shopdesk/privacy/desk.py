"""The admin API's privacy use cases: the audit trail, the privacy settings, export and erase jobs. Admins
only (403 for supervisors and agents): each checks the caller's roles itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shopdesk import clock
from shopdesk.dal.lake import LakeBucket
from shopdesk.errors import BadRequest, InvalidFields
from shopdesk.logic.access import ADMIN, require
from shopdesk.privacy import audit
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.jobs import Kind, PrivacyJobs
from shopdesk.privacy.masking import too_slow
from shopdesk.privacy.settings import PrivacyPolicies, PrivacySettings

MIN_AUDIT_DAYS = 365                     # a save may not set less (PCI DSS keeps an audit trail 12 months)
DEFAULT_WINDOW = timedelta(days=7)       # ?from= left out, and neither actor nor customer: the last week
MAX_DAYS_BY_TIME = 92                    # a search by time alone reads one partition per day


@dataclass
class PrivacyDesk:
    trail: AuditTrail
    policies: PrivacyPolicies
    jobs: PrivacyJobs
    lake: LakeBucket | None = None        # the event lake's bucket: its lifecycle follows events_days

    def audit(self, by: Iterable[str], *, actor: str | None, customer_id: str | None, start: datetime | None,
              end: datetime | None, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        require(by, ADMIN)
        end = end or clock.now()
        start = start or (datetime.fromtimestamp(0, end.tzinfo) if actor or customer_id else end - DEFAULT_WINDOW)
        if start > end:
            raise BadRequest("from is after to")
        if not (actor or customer_id) and (end - start).days > MAX_DAYS_BY_TIME:
            raise BadRequest(f"without actor or customer_id, from and to may be at most {MAX_DAYS_BY_TIME} days apart")
        try:
            return self.trail.find(actor=actor, customer_id=customer_id, start=start, end=end, limit=limit,
                                   cursor=cursor)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc

    def settings(self, by: Iterable[str]) -> dict[str, Any]:
        require(by, ADMIN)
        return self.policies.read()

    def put_settings(self, by: Iterable[str], settings: PrivacySettings, expected_version: int | None
                     ) -> dict[str, Any]:
        require(by, ADMIN)
        refused = [{"loc": ["body", "masking_patterns", i, "pattern"], "type": "value_error",
                    "msg": "takes too long on long text without a match (nested repeats such as (a|aa)+ backtrack "
                           "without end): write it without them"}
                   for i, p in enumerate(settings.masking_patterns) if too_slow(p.pattern)]
        if settings.retention.audit_days < MIN_AUDIT_DAYS:      # else an admin could have their own actions forgotten
            refused.append({"loc": ["body", "retention", "audit_days"], "type": "value_error",
                            "msg": f"must be at least {MIN_AUDIT_DAYS} days: the audit trail outlives what it "
                                   "records"})
        if refused:
            raise InvalidFields(refused)
        before = self.policies.read()
        saved = self.policies.write(settings, expected_version)
        audit.note(before=before, after=saved)
        if self.lake is not None:
            # S3 expires the lake's objects; applied on every save, so a save repairs a rule changed by hand or by
            # a stack update (the template creates the rules with the setting's default)
            self.lake.apply_retention(settings.retention.events_days)
        return saved

    def start(self, by: Iterable[str], kind: Kind, customer_id: str, caller_id: str) -> dict[str, Any]:
        require(by, ADMIN)
        return self.jobs.start(kind, customer_id, caller_id)

    def job(self, by: Iterable[str], job_id: str) -> dict[str, Any]:
        require(by, ADMIN)
        return self.jobs.status(job_id)
