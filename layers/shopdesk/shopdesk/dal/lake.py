"""The event lake's bucket beyond the events Firehose writes there: the deletion list every report applies, and
the lifecycle that expires the lake's objects after the admins' ``events_days``.

- ``erased/<job id>.json``: one JSON line per id an erase removed (the customer and each of their conversations:
  ``{"id", "kind", "job_id"}``, no personal data). Parquet files cannot be edited in place; instead every report
  reads its events through an anti-join on these ids (``analytics.sql``), DuckDB locally and Athena through the
  Glue table ``erased`` over this prefix. The object is named after the job, so a retried erase writes it again
  and nothing twice. It expires with the events it hides (``events_days``), as the ``ERASED`` items do.
- The lifecycle rules ``events`` (the events, ``events/``), ``errors`` (records Firehose could not deliver, ids
  like the events) and ``erased`` (this list) expire after ``events_days``; the template creates them with the
  setting's default, and saving the privacy settings rewrites them (``apply_retention``), keeping every other
  rule of the bucket (the query results').
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from shopdesk.dal import lifecycle
from shopdesk.dal.aws import client

ERASED_PREFIX = "erased/"
ERRORS_PREFIX = "errors/"
RULES = ("events", "errors", "erased")        # the rules ``apply_retention`` owns


class LakeBucket:
    def __init__(self, bucket: str, events_prefix: str = "events/", s3: Any = None):
        self.bucket, self.events_prefix = bucket, events_prefix
        self._s3 = s3

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    def write_erased(self, job_id: str, customer_id: str, conversation_ids: Iterable[str],
                     merged_ids: Iterable[str] = ()) -> str:
        """The deletion list entry of one erase (PutObject; the same key when the job runs again): the customer, the
        customers merged into them (``merged_ids``: their events keep the id they were written with) and every
        conversation."""
        lines = [*({"id": c, "kind": "customer", "job_id": job_id} for c in dict.fromkeys([customer_id, *merged_ids])),
                 *({"id": c, "kind": "conversation", "job_id": job_id} for c in conversation_ids)]
        key = f"{ERASED_PREFIX}{job_id}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, ContentType="application/x-ndjson",
                           Body="".join(json.dumps(line) + "\n" for line in lines).encode())
        return key

    def rules(self) -> list[dict[str, Any]]:
        return lifecycle.rules(self.s3, self.bucket)

    def apply_retention(self, days: int) -> list[dict[str, Any]]:
        """Expire the lake's events, their delivery errors and the deletion list ``days`` after they were written
        (GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration); the bucket's other rules stay."""
        owned = dict(zip(RULES, (self.events_prefix, ERRORS_PREFIX, ERASED_PREFIX), strict=True))
        return lifecycle.expire(self.s3, self.bucket, owned, days)
