"""Bring items written by an earlier version up to what this one reads. Idempotent: run it again, it
writes nothing twice; resumable: it walks the ByStatus index page by page and can be stopped any time.

    python -m scripts.backfill access --stack shopdesk-prod --region eu-west-1 [--dry-run]
    python -m scripts.backfill access --endpoint-url http://127.0.0.1:<port> --table shopdesk-dev   (local)

``access``: conversations written before the ``Access`` index existed have no ``AccessPK`` and are missing from
agents' ``all`` view until they get ``AccessPK = TEAM#<team>`` (docs/architecture.md, known limits).

``erased``: erases run before the lake's deletion list existed in the events bucket left only their ``ERASED``
items; this writes each one's ``erased/<job id>.json`` (the same object an erase writes now), so the reports
leave those customers out too (``--bucket``, or the stack's ``EventsBucket``).

    python -m scripts.backfill erased --stack shopdesk-prod --region eu-west-1 [--dry-run]

``names``: customers whose record has not changed since search found customers by name are not in the engine's
names yet; this reads every conversation's customer (the ByStatus index, page by page) and indexes each name, in
the engine the functions use (``SEARCH_ENGINE``, ``SEARCH_ENDPOINT``, ``SEARCH_INDEX_NAME``, as in the template).

    SEARCH_ENGINE=opensearch SEARCH_ENDPOINT=https://<collection>.eu-west-1.aoss.amazonaws.com \
        python -m scripts.backfill names --stack shopdesk-prod --region eu-west-1 [--dry-run]

``retention``: a retention set or shortened counts for what is written from then on; this gives what was written
before it the expiry it would have got (messages, resolved conversations with their survey records and label items,
inactive customers' timers: ``shopdesk.privacy.reapply``). A save of the settings runs the same walk as a privacy
job; this is for an operator (a dry run first, or a table restored from a backup).

    python -m scripts.backfill retention --stack shopdesk-prod --region eu-west-1 [--dry-run]

``masking``: what was stored before the masking in force (an earlier version's, or before a shop pattern was
added) keeps its words as they came; this masks it as it would be written now (``shopdesk.privacy.remask``: a Scan,
page by page; customers' messages, notes, conversations' previews and customers' names, identities, survey
comments, the commerce cache's orders and shop customers; only what masking changes is written, each field
conditioned on its value as read, so a second run writes nothing and a write made meanwhile wins), and prints what
it read and wrote per kind. The search index follows through the table's stream. A save of new masking patterns
runs the same walk as a privacy job; this is for an operator, after a deploy that masks more (a dry run first).

    python -m scripts.backfill masking --stack shopdesk-prod --region eu-west-1 [--dry-run]
    make remask          (the running local stack: --local; ARGS=--dry-run)

``lifecycle``: the S3 lifecycle rules the privacy settings own (the event lake's ``events_days``, the messages'
files' ``messages_days``), written again as the saved settings say. A stack update that changes a bucket's
lifecycle puts the template's rules back (its defaults); ``make deploy`` runs this after ``sam deploy``
(``--config-env``: the stack and region ``sam deploy`` used). Without saved settings it writes the defaults, as
the template does.

    python -m scripts.backfill lifecycle --config-env default
    python -m scripts.backfill lifecycle --table T --events-bucket E --media-bucket M [--media-days 730]   (local)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

import boto3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["access", "erased", "names", "retention", "masking", "lifecycle"])
    parser.add_argument("--stack", help="the CloudFormation stack (AWS): its DeskTable is used")
    parser.add_argument("--config-env", help="the stack and region of samconfig.toml's config env (make deploy)")
    parser.add_argument("--table", help="the table's name (instead of --stack)")
    parser.add_argument("--bucket", help="the events bucket's name (erased; instead of --stack)")
    parser.add_argument("--events-bucket", help="lifecycle: the event lake's bucket (instead of --stack)")
    parser.add_argument("--media-bucket", help="lifecycle: the media bucket (instead of --stack)")
    parser.add_argument("--media-days", type=int, default=730,
                        help="lifecycle: the stack's MediaRetentionDays (read from the stack with --stack)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--endpoint-url", help="a local AWS endpoint (the local stack's GET /_local/aws)")
    parser.add_argument("--local", action="store_true",
                        help="the running local stack (PORT, else 3000): its endpoint and table shopdesk-dev")
    parser.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    args = parser.parse_args(argv)
    if args.local:
        args.endpoint_url, args.region = _local_aws()
        args.table = args.table or "shopdesk-dev"
    if args.config_env:
        from scripts.web_deploy import samconfig_target
        stack, region = samconfig_target(args.config_env)
        if not stack:
            parser.error(f"no stack_name for config env {args.config_env!r} in samconfig.toml: give --stack")
        args.stack, args.region = args.stack or stack, args.region or region
    if not (args.stack or args.table):
        parser.error("give --stack or --table")
    if args.what == "erased" and not (args.stack or args.bucket):
        parser.error("give --stack or --bucket")
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                                                     "AWS_SECRET_ACCESS_KEY")}
    try:
        if args.endpoint_url:
            os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        if args.local and not saved["AWS_ACCESS_KEY_ID"]:      # the local stack's own (it takes any signature)
            from local.settings import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
            os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = FAKE_ACCESS_KEY, FAKE_SECRET_KEY
        if args.region:
            os.environ["AWS_DEFAULT_REGION"] = args.region
        return _run(args)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _local_aws() -> tuple[str, str]:
    """The local stack's AWS endpoint and region (``GET /_local/aws``)."""
    port = os.environ.get("PORT", "3000")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/aws", timeout=5) as answer:
        found = json.loads(answer.read())
    return str(found["endpoint"]), str(found["region"])


def _resource(args: argparse.Namespace, logical_id: str) -> str:
    """The physical name of one of the stack's resources (its table, a bucket)."""
    return boto3.client("cloudformation", region_name=args.region).describe_stack_resource(
        StackName=args.stack, LogicalResourceId=logical_id)["StackResourceDetail"]["PhysicalResourceId"]


def _run(args: argparse.Namespace) -> int:
    table_name = args.table or _resource(args, "DeskTable")

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "layers", "shopdesk"))
    if args.what == "erased":
        return _erased(args, table_name)
    if args.what == "names":
        return _names(args, table_name)
    if args.what == "retention":
        return _retention(args, table_name)
    if args.what == "masking":
        return _masking(args, table_name)
    if args.what == "lifecycle":
        return _lifecycle(args, table_name)
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.models import ConversationStatus

    conversations = Conversations(Table(table_name), due_shards=1)
    seen = written = 0
    for status in ConversationStatus:
        cursor = None
        while True:
            page, done, cursor = conversations.backfill_access(status.value, cursor=cursor, dry_run=args.dry_run)
            seen, written = seen + page, written + done
            if not cursor:
                break
    verb = "would write" if args.dry_run else "wrote"
    print(f"access: {seen} conversations read, {verb} {written}")
    return 0


def _erased(args: argparse.Namespace, table_name: str) -> int:
    from shopdesk.dal.lake import LakeBucket
    from shopdesk.dal.privacy import SubjectData
    from shopdesk.dal.table import Table

    bucket = args.bucket or _resource(args, "EventsBucket")
    entries = SubjectData(Table(table_name)).erased()
    lake = LakeBucket(bucket)
    for entry in entries if not args.dry_run else []:
        lake.write_erased(entry.get("job_id") or f"backfill-{entry['customer_id']}", entry["customer_id"],
                          entry.get("conversation_ids") or [],
                          entry.get("merged_ids") or [])
    print(f"erased: {len(entries)} deletion list entries, {'would write' if args.dry_run else 'wrote'} "
          f"{len(entries)} objects to s3://{bucket}/erased/")
    return 0


def _names(args: argparse.Namespace, table_name: str) -> int:
    from shopdesk.config import SearchSettings
    from shopdesk.dal import items as it
    from shopdesk.dal.table import Table
    from shopdesk.models import ConversationStatus
    from shopdesk.search import search_for
    from shopdesk.search.feed import apply_customer

    os.environ.setdefault("TABLE_NAME", table_name)
    index = search_for(SearchSettings.from_env())
    if index is None:
        print("names: SEARCH_ENGINE is none: no engine to index names in")
        return 2
    table = Table(table_name)
    seen: set[str] = set()
    named = 0
    for status in ConversationStatus:
        cursor = None
        while True:
            page = table.query_items(index="ByStatus", key_condition="StatusPK = :pk",
                                     values={":pk": it.status_pk(status.value)}, limit=200, cursor=cursor)
            fresh = list(dict.fromkeys(c for i in page.items if (c := (i.get("customer") or {}).get("id"))
                                       and c not in seen))
            seen.update(fresh)
            for record in table.batch_get([(it.customer_pk(c), it.META) for c in fresh]) if fresh else []:
                if record.get("name") and not record.get("merged_into"):
                    named += 1
                    if not args.dry_run:
                        apply_customer(index, "INSERT", str(record["id"]), record, None)
            cursor = page.cursor
            if not cursor:
                break
    print(f"names: {len(seen)} customers read, {'would index' if args.dry_run else 'indexed'} {named} names")
    return 0


def _retention(args: argparse.Namespace, table_name: str) -> int:
    from shopdesk.dal.conversations import Conversations
    from shopdesk.dal.table import Table
    from shopdesk.privacy.reapply import reapply

    # one shard: its timers land on DUE#0, which the sweep reads whatever its number of shards
    counts = reapply(Conversations(Table(table_name), due_shards=1), dry_run=args.dry_run)
    written = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if name != "conversations")
    print(f"retention: {counts['conversations']} conversations read, {'would write' if args.dry_run else 'wrote'} "
          f"{written}")
    return 0


def _masking(args: argparse.Namespace, table_name: str) -> int:
    from shopdesk.dal.table import Table
    from shopdesk.privacy.remask import KINDS, remask

    counts = remask(Table(table_name), dry_run=args.dry_run)
    verb = "would write" if args.dry_run else "wrote"
    for kind in KINDS:
        print(f"masking: {kind.replace('_', ' ')}: {counts[kind]} read, {verb} {counts[f'{kind}_masked']} masked")
    if counts["changed_meanwhile"]:
        print(f"masking: {counts['changed_meanwhile']} changed meanwhile by another write, left as it wrote them: "
              "run it again to read them again")
    if counts["unsettled"]:
        print(f"masking: {counts['unsettled']} replies still being sent, left as they are: run it again once they "
              "are sent or failed")
    return 0


def _lifecycle(args: argparse.Namespace, table_name: str) -> int:
    from shopdesk.dal.config import ConfigStore
    from shopdesk.dal.lake import LakeBucket
    from shopdesk.dal.media import MediaStore
    from shopdesk.dal.table import Table
    from shopdesk.privacy.reapply import bucket_rules
    from shopdesk.privacy.settings import PrivacyPolicies

    events, media, media_days = args.events_bucket, args.media_bucket, args.media_days
    if args.stack:
        events, media = events or _resource(args, "EventsBucket"), media or _resource(args, "MediaBucket")
        stack = boto3.client("cloudformation", region_name=args.region).describe_stacks(StackName=args.stack)
        parameters = stack["Stacks"][0].get("Parameters", [])
        media_days = int(next((p["ParameterValue"] for p in parameters if p["ParameterKey"] == "MediaRetentionDays"),
                              media_days))
    if not (events or media):
        raise SystemExit("give --stack, --config-env, or --events-bucket and --media-bucket")
    retention = PrivacyPolicies(ConfigStore(Table(table_name))).current().retention
    lake, files = LakeBucket(events) if events else None, MediaStore(media) if media else None
    if args.dry_run:
        print(f"lifecycle: would expire the lake's objects after {retention.events_days} days and messages' files "
              f"after {retention.messages_days or media_days} days")
        return 0
    for bucket, rules in bucket_rules(retention, lake, files, media_days).items():
        print(f"lifecycle: s3://{bucket}: " + ", ".join(
            f"{r['ID']} {r['Expiration']['Days']} days" for r in rules if "Days" in r.get("Expiration", {})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
