"""Retention of inactive customers (#14): a customer with nothing open and nothing resolved for
``inactive_customers_days`` (the privacy settings; none: kept until erased) is erased, everything about them, as an
admin's erase would.

Every resolve, while the setting is on, moves the customer's ``inactive_customer`` timer in the due index to N days
later (``Conversations._inactive_timer_ops``, in the resolve's own transaction): no scan of the customers, and the
count starts again with each conversation. The per-minute sweep runs the timer when it comes due, and this module
decides, from what is there then:

- the setting was taken off: nothing;
- the customer is gone (erased already), or was merged into another: the survivor is the one judged;
- one of their identities holds an open conversation, or a conversation of theirs is not resolved: not inactive,
  and nothing now; its resolve sets the timer again;
- their last conversation moved, or they wrote on it, within the N days (a thank-you kept on the resolved
  conversation, a period lengthened since the timer was set): the timer moves to N days after that (``Later``);
- else an erase job (``system:retention``), with its audit record on the customer, like ``POST
  /admin/customers/{id}/erase``.

The count starts at a resolve under the setting, with the setting of that moment: customers whose last resolve came
before it get their timer from the retention job a save starts (``privacy/reapply.py``), and a change of
the number of days counts for a lengthened period when the timer set under the shorter one comes due (it moves),
and for a shortened one from that job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from aws_lambda_powertools import Logger

from shopdesk import clock
from shopdesk.dal.conversations import Later
from shopdesk.dal.customers import Customers
from shopdesk.models import ConversationStatus
from shopdesk.privacy.audit import AuditTrail
from shopdesk.privacy.jobs import PrivacyJobs

logger = Logger(child=True)

ACTOR = "system:retention"
MERGES_FOLLOWED = 5         # a chain of merges longer than this is left for a person to look at

Outcome = Literal["erased", "active", "gone", "off"] | Later


@dataclass
class InactiveCustomers:
    customers: Customers
    jobs: PrivacyJobs
    trail: AuditTrail

    def run(self, customer_id: str) -> Outcome:
        """The customer's ``inactive_customer`` timer came due: erase them if they are still inactive."""
        days = self.trail.policies.current().retention.inactive_customers_days
        if not days:
            return "off"
        customer = self.customers.get(customer_id)
        for _ in range(MERGES_FOLLOWED):
            if customer is None or not customer.merged_into:
                break
            customer = self.customers.get(customer.merged_into)
        if customer is None:
            return "gone"
        since = clock.now() - timedelta(days=days)
        held = self.customers.identities.get_many(customer.identities).values()
        if any(record.open_conversation_id for record in held):
            return "active"            # their conversation's resolve sets the timer again
        latest, _ = self.customers.conversations(customer.id, limit=5)
        if any(c.status is not ConversationStatus.RESOLVED for c in latest):
            return "active"            # the resolve of what they do next sets the timer again
        moved = max((at for c in latest for at in (c.updated_at, c.last_inbound_at) if at is not None),
                    default=None)       # a thank-you kept on a resolved conversation moves only last_inbound_at
        if moved is not None and moved > since:
            return Later(clock.iso(moved + timedelta(days=days)))    # a period lengthened since the timer was set
        job_id = self.jobs.start("erase", customer.id, ACTOR, noted=False)["job_id"]
        self.trail.record(actor=ACTOR, action="customer.erase", customer_id=customer.id,
                          details={"job_id": job_id, "reason": "inactive", "inactive_customers_days": days})
        logger.info("inactive customer: erase started", extra={"customer_id": customer.id, "job_id": job_id})
        return "erased"


def timer_runner(table_name: str, privacy_queue_url: str) -> Callable[[str], object]:
    """The sweep's runner of ``inactive_customer`` timers (its ``on_timer``): built at the first one, so a sweep with
    none imports nothing of the privacy jobs."""
    made: list[InactiveCustomers] = []

    def run(customer_id: str) -> object:
        if not made:
            from shopdesk.dal.audit import AuditLog
            from shopdesk.dal.config import ConfigStore
            from shopdesk.dal.privacy import PrivacyJobStore
            from shopdesk.dal.queues import Queue
            from shopdesk.dal.table import Table
            from shopdesk.privacy.settings import PrivacyPolicies

            table = Table(table_name)
            customers = Customers(table)
            made.append(InactiveCustomers(customers,
                                          PrivacyJobs(PrivacyJobStore(table), Queue(privacy_queue_url), customers),
                                          AuditTrail(AuditLog(table), PrivacyPolicies(ConfigStore(table)))))
        return made[0].run(customer_id)

    return run
