"""A thin typed wrapper over the DynamoDB client: (de)serialisation, update expressions, transactions.

Repositories describe *what* to write; this module knows *how* DynamoDB wants it said.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, ParamValidationError

from shopdesk import bounds
from shopdesk.dal.aws import client
from shopdesk.errors import BadRequest, Busy

# The indexes of the conversation item that project only their keys and ``type``, ``id`` and ``team``
# (template.yaml): a change to the item writes them only when one of those changes, at one write unit each,
# instead of a copy of the whole item on every change. Their lists read the items themselves (``query_items``).
INDEX_KEYS: dict[str, tuple[str, str]] = {
    "Inbox": ("InboxPK", "InboxSK"), "Access": ("AccessPK", "InboxSK"),
    "ByStatus": ("StatusPK", "StatusSK"), "ByCustomer": ("CustomerPK", "CustomerSK"),
}

# The key of the table (None) and of each of its indexes (template.yaml, DeskTable): every one a string.
KEY_SCHEMA: dict[str | None, tuple[str, str]] = {
    None: ("PK", "SK"), "Inbox": ("InboxPK", "InboxSK"), "Queue": ("QueuePK", "QueueSK"),
    "Access": ("AccessPK", "InboxSK"), "ByStatus": ("StatusPK", "StatusSK"), "ByCustomer": ("CustomerPK", "CustomerSK"),
    "Due": ("DuePK", "DueSK"), "Pool": ("PoolPK", "PoolSK"), "ByLabel": ("LabelPK", "LabelSK"),
}

# A transaction cancelled for another one on the same item at the same moment (TransactionConflict), sent again by
# ``Table.transact(retry_conflicts=True)``: this many times in all, after a pause of up to 50, 100, 200 ms (jittered,
# so two saves that met do not meet again), about a third of a second at most.
CONFLICT_ATTEMPTS = 4
CONFLICT_PAUSE_S = 0.05

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_plain(v) for v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _wire(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_wire(v)) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def versioned(update: Update, expected: int | None) -> Update:
    """``update`` moves the item's ``version`` by one; with ``expected``, only over that version (0: an item without
    one: new, or written before versions): a ConditionFailed otherwise."""
    update.add("version", 1)
    if expected is not None:
        update.when("attribute_not_exists(#version)" if expected == 0 else "#version = :expected_version",
                    **({} if expected == 0 else {"expected_version": expected}))
    return update


def as_read(version: int) -> dict[str, Any]:
    """The condition of a transaction's Delete of an item as it was read: at that ``version`` (0: one without)."""
    names = {"#version": "version"}
    if version == 0:
        return {"condition": "attribute_exists(PK) AND attribute_not_exists(#version)", "names": names}
    return {"condition": "#version = :version", "names": names, "values": {":version": version}}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _conditioned(request: dict[str, Any], condition: str | None, names: Mapping[str, str] | None,
                 values: Mapping[str, Any] | None) -> None:
    """Add a write's condition and its expression's names and values to ``request`` (those given)."""
    if condition:
        request["ConditionExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = dict(names)
    if values:
        request["ExpressionAttributeValues"] = serialize(values)


@dataclass
class Update:
    """Collects SET / REMOVE / ADD clauses with placeholder names and values."""

    sets: dict[str, Any] = field(default_factory=dict)
    set_exprs: list[str] = field(default_factory=list)   # raw clauses, e.g. "#a = if_not_exists(#a, :v)"
    removes: list[str] = field(default_factory=list)
    adds: dict[str, Any] = field(default_factory=dict)
    deletes: dict[str, set[str]] = field(default_factory=dict)
    condition: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def _name(self, path: str) -> str:
        parts = []
        for part in path.split("."):
            alias = "#" + part.replace("-", "_")
            self.names[alias] = part
            parts.append(alias)
        return ".".join(parts)

    def _value(self, value: Any) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def set(self, path: str, value: Any) -> Update:
        if value is None:
            return self.remove(path)
        self.sets[path] = value
        return self

    def set_if_missing(self, path: str, value: Any) -> Update:
        name = self._name(path)
        self.set_exprs.append(f"{name} = if_not_exists({name}, {self._value(value)})")
        return self

    def copy_if_missing(self, path: str, source: str) -> Update:
        """``path`` set to the item's ``source`` where it has none (``if_not_exists`` with a path)."""
        self.set_exprs.append(f"{self._name(path)} = if_not_exists({self._name(path)}, {self._name(source)})")
        return self

    def append(self, path: str, values: list[Any]) -> Update:
        name = self._name(path)
        empty = self._value([])
        self.set_exprs.append(f"{name} = list_append(if_not_exists({name}, {empty}), {self._value(values)})")
        return self

    def remove(self, path: str) -> Update:
        self.removes.append(path)
        return self

    def add(self, path: str, amount: int | set[str]) -> Update:
        self.adds[path] = amount
        return self

    def delete(self, path: str, members: set[str]) -> Update:
        """Take members out of a string set (DynamoDB removes the attribute when the set becomes empty)."""
        self.deletes[path] = members
        return self

    def expires(self, at: int | None) -> Update:
        """``ttl`` set to ``at``, or removed when ``at`` is None (the item stops expiring)."""
        return self.set("ttl", at) if at else self.remove("ttl")

    def when(self, condition: str, **values: Any) -> Update:
        """A condition; ``#name`` placeholders are declared by the paths used, ``:x`` values given here."""
        for token in condition.replace("(", " ").replace(")", " ").replace(",", " ").split():
            for part in token.split("."):
                if part.startswith("#"):
                    self.names[part] = part[1:]
        for alias, value in values.items():
            self.values[":" + alias] = value
        self.condition = condition if self.condition is None else f"({self.condition}) AND ({condition})"
        return self

    def render(self) -> dict[str, Any]:
        """The request parameters; rendering twice gives the same request."""
        names, values = dict(self.names), dict(self.values)
        try:
            return self._render()
        finally:
            self.names, self.values = names, values

    def _render(self) -> dict[str, Any]:
        clauses = [f"{self._name(p)} = {self._value(v)}" for p, v in self.sets.items()] + self.set_exprs
        parts = []
        if clauses:
            parts.append("SET " + ", ".join(clauses))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self._name(p) for p in self.removes))
        if self.adds:
            parts.append("ADD " + ", ".join(f"{self._name(p)} {self._value(v)}" for p, v in self.adds.items()))
        if self.deletes:
            parts.append("DELETE " + ", ".join(f"{self._name(p)} {self._value(v)}" for p, v in self.deletes.items()))
        out: dict[str, Any] = {"UpdateExpression": " ".join(parts), "ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = serialize(self.values)
        if self.condition:
            out["ConditionExpression"] = self.condition
        return out


class TransactionCancelled(Exception):
    """A TransactWriteItems was cancelled; ``failed`` holds the indexes whose condition failed."""

    def __init__(self, failed: Sequence[int], reasons: Sequence[Mapping[str, Any]]):
        super().__init__(f"transaction cancelled, failed conditions at {list(failed)}")
        self.failed = list(failed)
        self.reasons = list(reasons)

    def old(self, index: int) -> dict[str, Any] | None:
        """The item whose condition failed at ``index``, when the operation asked for it."""
        item = self.reasons[index].get("Item") if index < len(self.reasons) else None
        return deserialize(item) if item else None


class ConditionFailed(Exception):
    """A write's condition failed; ``old``: the item that stopped it, when the write asked for it
    (``Table.update``'s ``old_on_failure``), else None."""

    def __init__(self, *args: Any, old: dict[str, Any] | None = None):
        super().__init__(*args)
        self.old = old


class PartFailed(Exception):
    """One of the parts a write was given to make in its transaction (``also``: another item it names,
    ``ConfigStore.naming_op``) failed its condition: ``index`` among them."""

    def __init__(self, index: int):
        super().__init__(f"part {index} of the write failed its condition")
        self.index = index


@dataclass
class Query:
    items: list[dict[str, Any]]
    cursor: str | None


def _every_page(read: Callable[..., Query], **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = read(cursor=cursor, **kwargs)
        items.extend(page.items)
        cursor = page.cursor
        if not cursor:
            return items


def encode_cursor(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:        # a cursor is the caller's text: one nested too deeply for the decoder is as invalid as any other
        value = bounds.decode(base64.urlsafe_b64decode(cursor.encode()), "cursor")
    except (ValueError, BadRequest) as exc:
        raise ValueError("cursor is not valid") from exc
    if not isinstance(value, dict):
        raise ValueError("cursor is not valid")
    return value


def start_key(cursor: str | None, index: str | None = None) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor holds for a read of the table or ``index``: the names of its key and of the
    table's (a LastEvaluatedKey's, no more, no fewer), every value a string (``{"S": ...}``), as each key of the
    table and its indexes is. Anything else was never one of ours (a number that is none, bytes, a list, a name
    missing or another index's: the local stack's DynamoDB compared it with the items' keys and failed, a function
    error; AWS refuses it), so it is refused before any read."""
    start = decode_cursor(cursor)
    if not start:
        return start
    names = {*KEY_SCHEMA[None], *KEY_SCHEMA.get(index, ("?",))}
    if set(start) != names or not all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str)
                                      for v in start.values()):
        raise ValueError("cursor is not valid")
    return start


class Table:
    """``answering``: read and written while a request waits for its answer (the agent and admin APIs), with the
    bounded DynamoDB client (``dal.aws``), so a table that hangs is an error within the function's time."""

    def __init__(self, name: str, *, answering: bool = False):
        self.name = name
        self.answering = answering

    @property
    def _client(self) -> Any:
        return client("dynamodb", answering=self.answering)

    # -- single items
    def get(self, pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.name, Key=key(pk, sk), ConsistentRead=consistent)
        item = response.get("Item")
        return deserialize(item) if item else None

    def put(self, item: Mapping[str, Any], *, condition: str | None = None,
            values: Mapping[str, Any] | None = None, names: Mapping[str, str] | None = None) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        _conditioned(kwargs, condition, names, values)
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed from exc
            raise

    def update(self, pk: str, sk: str, update: Update, *, return_new: bool = False,
               old_on_failure: bool = False) -> dict[str, Any] | None:
        """Update an item; ConditionFailed when its condition failed. ``return_new``: the item as it is after;
        ``old_on_failure``: a failed condition carries the item that stopped it (``ConditionFailed.old``), at no
        extra request."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), **update.render()}
        if return_new:
            kwargs["ReturnValues"] = "ALL_NEW"
        if old_on_failure:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            response = self._client.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                old = exc.response.get("Item")
                raise ConditionFailed(old=deserialize(old) if old else None) from exc
            raise
        attributes = response.get("Attributes")
        return deserialize(attributes) if attributes else None

    def delete(self, pk: str, sk: str, *, return_old: bool = False) -> dict[str, Any] | None:
        """Delete an item. With ``return_old``, the item as it was when it went (None: there was none)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk)}
        if return_old:
            kwargs["ReturnValues"] = "ALL_OLD"
        attributes = self._client.delete_item(**kwargs).get("Attributes")
        return deserialize(attributes) if attributes else None

    def delete_if_exists(self, pk: str, sk: str) -> None:
        """Delete an item; ConditionFailed when there was none."""
        self.delete_if(pk, sk, condition="attribute_exists(PK)")

    def delete_if(self, pk: str, sk: str, *, condition: str, values: Mapping[str, Any] | None = None) -> None:
        """Delete an item only if ``condition`` holds; ConditionFailed otherwise (or when there was none)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "ConditionExpression": condition}
        if values:
            kwargs["ExpressionAttributeValues"] = serialize(values)
        try:
            self._client.delete_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed from exc
            raise

    # -- queries
    def query(self, *, index: str | None, key_condition: str, names: dict[str, str], values: dict[str, Any],
              limit: int | None = None, cursor: str | None = None, forward: bool = True,
              consistent: bool = False, projection: str | None = None) -> Query:
        """One page; ``projection`` (a ProjectionExpression) returns only those attributes of each item read (the
        Limit still counts the items read)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name, "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": serialize(values),
            "ScanIndexForward": forward,
        }
        if projection:
            kwargs["ProjectionExpression"] = projection
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if limit:
            kwargs["Limit"] = limit
        start = start_key(cursor, index)
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            response = self._client.query(**kwargs)
        except ClientError as exc:
            if start and exc.response["Error"]["Code"] == "ValidationException":
                raise ValueError("cursor is not valid") from exc
            raise
        except ParamValidationError as exc:     # the SDK's own check: a start key that holds no attribute values
            if start and "ExclusiveStartKey" in str(exc):
                raise ValueError("cursor is not valid") from exc
            raise
        return Query([deserialize(i) for i in response.get("Items", [])],
                     encode_cursor(response.get("LastEvaluatedKey")))

    def query_items(self, *, index: str, key_condition: str, values: dict[str, Any], limit: int | None = None,
                    cursor: str | None = None, forward: bool = True) -> Query:
        """A Query of one of the indexes that project only keys and a few attributes (``INDEX_KEYS``), then the
        items themselves, read consistently (one BatchGetItem a hundred). An entry the index has not caught up
        with yet (the item is gone, or its keys on this index moved on) is left out, so an item is listed only
        at its own place and a cursor made from the entry resumes exactly there: a page may hold fewer."""
        page = self.query(index=index, key_condition=key_condition, names={}, values=values, limit=limit,
                          cursor=cursor, forward=forward)
        found = {(i["PK"], i["SK"]): i for i in self.batch_get([(r["PK"], r["SK"]) for r in page.items])}
        keys = INDEX_KEYS[index]
        kept = [item for row in page.items if (item := found.get((row["PK"], row["SK"]))) is not None
                and all(item.get(name) == row.get(name) for name in keys)]
        return Query(kept, page.cursor)

    def query_all_items(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Every page of ``query_items``."""
        return _every_page(self.query_items, **kwargs)

    def query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        """Every page of ``query``."""
        return _every_page(self.query, **kwargs)

    def count(self, *, index: str | None, key_condition: str, values: dict[str, Any], filter: str | None = None,
              names: dict[str, str] | None = None) -> int:
        """How many items match (``Select=COUNT``: no item is returned, every page is counted; a ``filter``
        counts only the items it keeps)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "KeyConditionExpression": key_condition,
                                  "ExpressionAttributeValues": serialize(values), "Select": "COUNT"}
        if filter:
            kwargs["FilterExpression"] = filter
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if index:
            kwargs["IndexName"] = index
        total = 0
        while True:
            response = self._client.query(**kwargs)
            total += int(response.get("Count", 0))
            if not response.get("LastEvaluatedKey"):
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def scan(self, *, filter: str, names: dict[str, str], values: dict[str, Any], limit: int,
             cursor: str | None = None) -> Query:
        """One page of a Scan of the whole table: ``limit`` items read, those ``filter`` keeps returned (a page
        may hold none while the cursor goes on). For an operator's walk only (``privacy/remask.py``): no request
        path scans."""
        kwargs: dict[str, Any] = {"TableName": self.name, "FilterExpression": filter,
                                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": serialize(values),
                                  "Limit": limit}
        start = decode_cursor(cursor)
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = self._client.scan(**kwargs)
        return Query([deserialize(i) for i in response.get("Items", [])],
                     encode_cursor(response.get("LastEvaluatedKey")))

    def batch_get(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Items by key, consistent, 100 a request; missing keys are simply absent."""
        unique = list(dict.fromkeys(keys))
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), 100):
            chunk = unique[start:start + 100]
            request: dict[str, Any] = {self.name: {"Keys": [key(pk, sk) for pk, sk in chunk], "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                found.extend(deserialize(i) for i in response.get("Responses", {}).get(self.name, []))
                request = response.get("UnprocessedKeys") or {}
        return found

    # -- transactions
    def put_op(self, item: Mapping[str, Any], condition: str | None = None, *, old_on_failure: bool = False,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A Put in a transaction; ``old_on_failure``: a failed condition returns the item that stopped it
        (in ``TransactionCancelled.old``), at no extra request."""
        op: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        _conditioned(op, condition, names, values)
        if old_on_failure:
            op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Put": op}

    def update_op(self, pk: str, sk: str, update: Update, *, old_on_failure: bool = False) -> dict[str, Any]:
        """An Update in a transaction; ``old_on_failure``: as ``put_op``'s."""
        op: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), **update.render()}
        if old_on_failure:
            op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": op}

    def delete_op(self, pk: str, sk: str, condition: str | None = None, *, names: Mapping[str, str] | None = None,
                  values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk)}
        _conditioned(op, condition, names, values)
        return {"Delete": op}

    def condition_op(self, pk: str, sk: str, condition: str, *, names: Mapping[str, str] | None = None,
                     values: Mapping[str, Any] | None = None, old_on_failure: bool = False) -> dict[str, Any]:
        """A transaction part that writes nothing: the transaction happens only if ``condition`` holds;
        ``old_on_failure``: as ``put_op``'s."""
        op: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk)}
        _conditioned(op, condition, names, values)
        if old_on_failure:
            op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"ConditionCheck": op}

    def transact(self, operations: Iterable[Mapping[str, Any]], *, retry_conflicts: bool = False) -> None:
        """One TransactWriteItems. TransactionCancelled when a part's condition failed. A cancellation for
        another reason (a conflict with another transaction on the same item, throttling) is the ClientError,
        for the caller's retry policy; with ``retry_conflicts`` a conflict is this method's to retry: the
        transaction is sent again after a short jittered pause (nothing of it was written, and its conditions are
        checked again), ``CONFLICT_ATTEMPTS`` times in all, then Busy (a 503 the caller may send again)."""
        ops = list(operations)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=ops)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
                if failed:
                    raise TransactionCancelled(failed, reasons) from exc
                if not retry_conflicts or not any(r.get("Code") == "TransactionConflict" for r in reasons):
                    raise  # conflicts or throttling: let the caller's retry policy decide
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise Busy("another save was writing the same settings at that moment and still was when "
                               "tried again: nothing was saved; try again").with_code("busy") from exc
            time.sleep(random.uniform(0, CONFLICT_PAUSE_S * 2 ** attempt))

    def batch_put(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Unconditional puts, 25 a request, unprocessed ones sent again."""
        pending = [{"PutRequest": {"Item": serialize(item)}} for item in items]
        while pending:
            chunk, pending = pending[:25], pending[25:]
            response = self._client.batch_write_item(RequestItems={self.name: chunk})
            pending = response.get("UnprocessedItems", {}).get(self.name, []) + pending

    def batch_delete(self, keys: Iterable[tuple[str, str]]) -> None:
        pending = [{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in keys]
        while pending:
            chunk, pending = pending[:25], pending[25:]
            response = self._client.batch_write_item(RequestItems={self.name: chunk})
            pending = response.get("UnprocessedItems", {}).get(self.name, []) + pending
