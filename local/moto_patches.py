"""Make moto safe for concurrent clients, which every real Lambda deployment has.

moto's in-memory DynamoDB backend is not thread-safe: TransactWriteItems deep-copies a table's
state while another request thread may be writing to it ("dictionary changed size during
iteration"). DynamoDB itself serialises writes per item, so serialising every DynamoDB request to
moto changes no observable semantics; it only removes moto's race. Other services are left alone
(SQS long polls must not block the world).

moto's TransactWriteItems also backs up every table it touches whole (a deep copy per operation, so a
13-operation transaction on a 30,000-item table copies 390,000 items) to roll back a cancelled
transaction. The patch keeps the tables and journals the items the transaction names instead:
on cancellation those items are put back as they were. Same result, at a cost that does not grow
with the table. An update that makes an item is recorded once, an INSERT of the whole item (moto
records the item's bare keys, then the update: the stream's readers saw a conversation with no fields).
moto also keeps the stream records of the writes a cancelled transaction made before it failed, which
DynamoDB never writes: the functions on the stream (the event lake's writer, the search indexer, the
live fan-out) saw a duplicate delivery's refused message as written. The patch removes them with the
items; the stream's reads take the DynamoDB lock, so none reads between the two.

moto's SQS FIFO receive also misorders a group that becomes visible again as a whole (every
record of a failed batch returned with the same visibility timeout): it releases the group's
"in flight" lock one message at a time while iterating, so the *last* message is delivered first.
SQS delivers the group in order. The patch releases the lock of every message that is visible
again before moto's loop runs, so the group is judged only by messages still in flight. And a moto
long poll judges groups by what was in flight when the poll *began*: with two pollers waiting (Lambda
runs several), one takes a conversation's first reply and the other, still waiting, is handed its
second while the first is in flight, so the two are sent side by side and may arrive swapped. Two
receivers could also take the same message. The patch makes a long poll a series of single looks,
one receiver of a queue at a time, each judging the groups by what is in flight at that moment;
between looks it waits for a send as moto does, and while visible messages wait for their groups it looks
again every RECEIVE_LOOK_SECONDS (moto's own loop spins meanwhile).

moto's SES keeps every accepted message (``SESBackend.sent_messages``, shared by v1 and v2) but
not when it was sent; the patch stamps each one (``local_sent_at``, on the stack's clock) as it
is appended, so the outbox can order mail among the other providers' requests.

moto's S3 answers a browser's form upload (a presigned POST) without the bucket's CORS headers, which S3
adds, so a page on another origin (the web inbox, the widget) never learns that its upload worked. The
patch adds the same headers moto gives every other request of a matching origin. moto also answers a
preflight with every CORS rule of the bucket, refusing it when any rule names other origins; S3 uses the
first rule that matches (the media bucket has one rule for the widget's origins and one for the inbox's).

Eleven patches only make moto cheaper, found by profiling the stack under the load bench (py-spy). moto's server lists
its own package directory (an ``isdir`` per module) on every request, under a lock, to recognise a host: the list is
read once instead. moto writes GetRecords' stream records, and the items of every DynamoDB read (GetItem,
BatchGetItem, Query, Scan, TransactGetItems), already in their wire form, through its generic serialiser, field by
field against the service model, after copying every answer into plain dicts: json.dumps writes the same JSON from
moto's own objects. moto's SQS computes every queue attribute, the three approximate counts included (each a walk
over every message, reading the clock per message), whenever it reads any one: three times per SendMessage, and per
message a ReceiveMessage looks at; the counts are computed only where someone can read them (GetQueueAttributes), so
a send stays O(1) as the queue grows. moto's Query finds its partition by walking every item of the table, sorted (a
fifth of a second at 30,000 items), whether it reads the table or a GSI: a query of the table reads its partition
(moto's ``items[hash]``), and a query of a GSI by its one hash key reads a map from that key's values to the items
that carry them, built at the table's first such query and kept by every change of an item (put, delete, update in
place, a cancelled transaction's rollback). moto's own query does the rest (key conditions, order, paging, filters,
projections, counts) on those items alone, without its deep copy of every item found (a projection builds new items,
and the answer is written at once under the lock); anything else (an LSI, a key of several attributes, a key value
that is not a string, number or binary) walks the table as before. moto also keeps every model object it ever made
in its class's ``instances_tracked`` list, for its dashboard: every DynamoDB item (each query's copies of its
answers too), stream record, shard iterator and SQS message stays in memory for the life of the stack, and each of
Python's full collections walks them all. Those four classes are made without being listed (S3's objects, which
moto's reset closes from that list, are still listed).
And moto copies every update expression's parsed tree before it checks it (an UpdateItem, each update of a
transaction) with ``copy.deepcopy``, node by node in Python: a millisecond for an update of twenty fields, on every
write. The tree holds only moto's plain nodes and strings, so it is copied by pickling it and reading it back: the
same copy in a quarter of the time; and each expression is parsed once (moto parsed it twice per update, its
handler and its backend), each use reading its own tree back from the pickle kept (the first 4,096 expressions; a
malformed one is refused each time as before). moto's validator deep-copies the tree it is handed, which moto's
update_item parsed for it alone and reads only through validators: a tree read back from the pickle kept is its own
first copy, and a second validation of it (an update that makes the item) reads the pickle back again (0.10 ms instead
of 0.35 to parse and copy an update of 24 actions). A Query measures each item once for its 1 MB page instead of twice
(the size is kept for that query only). moto's projection (a ProjectionExpression, and the index's projection of an
INCLUDE or KEYS_ONLY index) converts the whole item to plain values and back once per path it names, deep-copying each
value on the way: for three names of a conversation, more than answering with the whole item. It converts only the
attributes each path starts at, with moto's own functions, so the answer is the same. And moto lists its handler class's
functions (``inspect.getmembers``) at every request to find the action's method: the list is kept per class, made again
when the class or a base gains or loses an attribute. moto's UpdateItem handler also deep-copies the old item at every
update, for answers with old values: with ReturnValues NONE or ALL_NEW it is not copied. And a write's answer (an
update's new or old item) is written by moto's generic serialiser, member by member against the service model: a plain
attribute value (no binary) is written as it is (7.6 ms for an item of 42 attributes, now 0.48).
Two of moto's update-expression checks (at most one SET, REMOVE and ADD clause; no two actions on the same or
overlapping paths) gather the actions under every expression node of the tree, a hundred times over for an update of
twenty fields: each runs once on the whole tree's actions, and moto's own walk only when that finds a fault (an update
of 22 actions validated in 4.2 ms instead of 8.8, measured on this shared machine). And moto makes an item by setting
its attributes one by one on a dict that measures everything already in it at each set (the 400 KB limit): it is
measured once, and moto's sets run only when the whole is over the limit or refused (an item of 42 attributes made
in 0.34 ms instead of 3.6). A condition, filter or key-condition expression is split into tokens once per text
(moto split it at every parse, twice per conditioned write), each parse getting tokens of its own.
"""

from __future__ import annotations

import base64
import contextlib
import copy as copy_module
import functools
import inspect
import json
import pickle
import re
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

_applied = False
_DYNAMODB = threading.RLock()   # every DynamoDB request, and the stream's reads: one at a time
RECEIVE_LOOK_SECONDS = 0.05   # a waiting long poll looks again this often for a freed group or expired timeout
# expressions each parse cache keeps (an update's tree, a condition's tokens; the desk writes a few hundred different
# ones): a text past the first EXPRESSIONS_KEPT is parsed every time, as by moto
EXPRESSIONS_KEPT = 4096
_ses_clock: list[Callable[[], datetime]] = [lambda: datetime.now(UTC)]


def set_ses_clock(now: Callable[[], datetime]) -> None:
    """The clock that stamps mail accepted by moto's SES (the stack's movable one)."""
    _ses_clock[0] = now


class _StampedList(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        with contextlib.suppress(AttributeError):  # a model without instance attributes: unstamped
            item.local_sent_at = _ses_clock[0]()
        super().append(item)


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self):  # type: ignore[no-untyped-def]
        with _DYNAMODB:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _journal_transactions()

    from moto.sqs.models import SQSBackend

    original_receive = SQSBackend.receive_message
    scan_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
    locks_lock = threading.Lock()

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout,  # type: ignore[no-untyped-def]
                        message_attribute_names=None):
        queue = self.get_queue(queue_name)
        with locks_lock:
            scan_lock = scan_locks.setdefault(queue, threading.Lock())
        deadline = time.monotonic() + int(wait_seconds_timeout or 0)
        while True:
            with scan_lock:   # one receiver judges the queue at a time, by what is in flight now
                for message in list(queue.pending_messages):
                    if message.visible:
                        queue.pending_messages.discard(message)
                found = original_receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            with queue._messages_lock:  # woken by a send, as moto waits; visible ones held by their groups:
                # look again soon (a group is freed by a delete, which wakes no one)
                queue._messages_lock.wait(timeout=min(left, RECEIVE_LOOK_SECONDS) if queue.messages else left)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]

    from moto.ses.models import SESBackend

    original_init = SESBackend.__init__

    def ses_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.sent_messages = _StampedList(self.sent_messages)

    SESBackend.__init__ = ses_init  # type: ignore[method-assign]
    _cors_on_form_uploads()
    _modules_listed_once()
    _sqs_counts_when_read()
    _answers_as_json()
    _queries_read_their_partition()
    _untracked_models()
    _expressions_copied_by_pickling()
    _projections_read_what_they_name()
    _method_names_listed_once()
    _action_checks_of_the_whole_tree_once()
    _items_measured_once_when_made()
    _conditions_lexed_once()
    _old_item_copied_only_when_answered()
    _attribute_values_answered_as_they_are()
    _applied = True


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)           # what moto's serialiser writes: epoch seconds, milliseconds
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not a DynamoDB wire value")


def _expressions_copied_by_pickling() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    # The trees read back from a kept pickle, by id: [the tree (weakly), its pickle, whether a validator copied it yet].
    # moto hands the tree its update_item parsed to its validator, which copies it and works on the copy (a second
    # validator, when the update makes the item, copies the same tree again); nothing else reads that tree. So the
    # first copy of a tree read back and not changed since can be the tree itself, and a later copy the pickle read
    # back again: each is the tree as parsed, as moto's copy would be, without pickling a copy of it.
    handed: dict[int, list[Any]] = {}

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if memo is None and isinstance(value, Node):      # a tree of plain nodes: the same copy, a quarter the time
            entry = handed.get(id(value))
            if entry is not None and entry[0]() is value:
                if not entry[2]:
                    entry[2] = True
                    return value                           # its first copy: itself, as read back
                return pickle.loads(entry[1])  # noqa: S301 (our own objects)
            return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own objects)
        return copy_module.deepcopy(value, memo)

    def read_back(kept: bytes) -> Any:
        tree = pickle.loads(kept)  # noqa: S301 (our own objects)
        key = id(tree)

        def forget(ref: Any) -> None:
            if handed.get(key, (None,))[0] is ref:
                handed.pop(key, None)

        handed[key] = [weakref.ref(tree, forget), kept, False]
        return tree

    validators.deepcopy = deepcopy  # type: ignore[attr-defined]

    make = UpdateExpressionParser.make
    parsed: dict[str, bytes] = {}

    def make_or_copy(cls: Any, expression_str: Any) -> Any:
        kept = parsed.get(expression_str) if isinstance(expression_str, str) else None
        if kept is not None:
            return read_back(kept)
        tree = make(expression_str)        # a malformed expression raises here, every time, as before
        if isinstance(expression_str, str) and len(parsed) < EXPRESSIONS_KEPT:
            parsed[expression_str] = pickle.dumps(tree, pickle.HIGHEST_PROTOCOL)
        return tree

    make_or_copy.__wrapped__ = make  # type: ignore[attr-defined]
    UpdateExpressionParser.make = classmethod(make_or_copy)  # type: ignore[assignment,method-assign]


def _action_checks_of_the_whole_tree_once() -> None:
    """Two of moto's update-expression checks (too many SET, REMOVE or ADD clauses; two actions on overlapping or the
    same paths) run at every node of the parsed tree that is an expression, each gathering that node's actions anew:
    about a hundred gatherings of the whole subtree for an update of twenty fields, half of the validator's time. The
    actions under any node are some of the tree's actions, and neither check can fail on a part of a list that passes
    it whole, so each check runs first once, with moto's own code, on every action of the tree: if that passes, every
    node would have passed and the tree is moto's answer unchanged (its processors return each node as it is); if it
    fails, moto's own walk runs and refuses the expression exactly as before. Measured: validating an update of 20 SETs,
    an if_not_exists, a list_append and two REMOVEs against an item of 42 attributes took 8.8 ms, now 4.2 ms."""
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node

    class _WholeTree:
        """What ``Node.find_clauses`` would give if every node of the tree were the expression's direct child."""

        def __init__(self, root: Any) -> None:
            self.nodes: list[Any] = []
            stack = [root]
            while stack:                       # every node the traversal reaches (children of children, all kinds)
                node = stack.pop()
                self.nodes.append(node)
                if isinstance(node, Node) and node.children:
                    stack.extend(reversed(node.children))

        def find_clauses(self, clause_types: Any) -> list[Any]:
            return [node for node in self.nodes if type(node) in clause_types]   # find_clauses' own exact-type test

    def once(check: str, traverse: Callable[..., Any]) -> Callable[..., Any]:
        def whole_tree_first(self, node):  # type: ignore[no-untyped-def]
            try:
                getattr(self, check)(_WholeTree(node))
            except Exception:                  # some node fails, or the shortcut cannot tell: moto's walk decides
                return traverse(self, node)
            return node

        whole_tree_first.__wrapped__ = traverse  # type: ignore[attr-defined]   # moto's own, for the tests
        return whole_tree_first

    for cls, check in ((validators.ActionCountValidator, "verify_action_counts"),
                       (validators.OverlappingPathsValidator, "check_for_overlapping_paths")):
        cls.traverse = once(check, cls.traverse)  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405000      # moto's LimitedSizeDict: the most an item's names and values may measure


def _items_measured_once_when_made() -> None:
    """moto makes an item (every put, every projection, every read of a stream record's image) by setting its
    attributes one by one on a dict that, at each set, measures everything already in it to refuse an item over
    400 KB: an item of n attributes is measured n times over (3 ms for a conversation of forty attributes). The sizes
    only grow, so the first set that would go over the limit is the first at which the running total does: when the
    whole item's total is within it, no set refuses anything, and the attributes are set at once, in the same order.
    Anything else (over the limit, a value moto refuses, a name that is not text) goes through moto's own sets and
    fails exactly as before. Measured: an item of 42 attributes (40 maps) made in 0.34 ms instead of 3.6 ms; the sets
    made while making items were about 4% of the stack process's busy time under the load bench (py-spy)."""
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    make = Item.__init__

    def init(self, hash_key, range_key, attrs):  # type: ignore[no-untyped-def]
        try:
            converted = {key: DynamoType(value) for key, value in attrs.items()}
            fits = all(type(key) is str for key in converted) and sum(
                dynamo_type.bytesize(key) + value.size() for key, value in converted.items()) <= ITEM_SIZE_LIMIT
        except Exception:
            fits = False
        if not fits:
            make(self, hash_key, range_key, attrs)
            return
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, converted)

    init.__wrapped__ = make  # type: ignore[attr-defined]   # moto's own, which the tests compare it with
    Item.__init__ = init  # type: ignore[method-assign]


def _conditions_lexed_once() -> None:
    """moto splits a condition, filter or key-condition expression into tokens with six regular expressions per token,
    slicing the rest of the string after each, at every parse: twice per conditioned write (its handler and its
    backend each parse it), once per operation of a transaction and per query. The tokens depend on the expression's
    text alone, so each expression is split once (the first 4,096) and every parse gets new tokens made from the kept
    ones, each with its own empty list of children, as moto's lexer makes them; the parse goes on with the request's
    names and values as before. An expression moto cannot split is refused by moto's own lexer every time. Measured:
    ``attribute_exists(PK) AND (#status = :open OR #version < :v) AND NOT contains(#tags, :t)`` parsed in 0.18 ms
    instead of 0.33-0.46 ms; condition parsing was about 6% of the stack process's busy time under the load bench."""
    from moto.dynamodb.comparisons import ConditionExpressionParser

    lex = ConditionExpressionParser._lex_condition_expression
    lexed: dict[str, tuple[Any, ...]] = {}

    def lex_once(self):  # type: ignore[no-untyped-def]
        text = self.condition_expression
        kept = lexed.get(text) if isinstance(text, str) else None
        if kept is None:
            nodes = lex(self)               # a malformed expression raises here, every time, as before
            if isinstance(text, str) and len(lexed) < EXPRESSIONS_KEPT:
                lexed[text] = tuple(node._replace(children=None) for node in nodes)
            return nodes
        make = self.Node                    # as moto's lexer makes each token: a deque of them, no children yet
        return deque(make(node.nonterminal, node.kind, node.text, node.value, []) for node in kept)

    lex_once.__wrapped__ = lex  # type: ignore[attr-defined]   # moto's own, which the tests compare it with
    ConditionExpressionParser._lex_condition_expression = lex_once  # type: ignore[method-assign]


def _old_item_copied_only_when_answered() -> None:
    """moto's UpdateItem handler deep-copies the item it is about to update, and converts the copy to JSON, at every
    update: the old values, which only an answer with ALL_OLD, UPDATED_OLD or UPDATED_NEW holds. With ReturnValues NONE
    (or none given) and ALL_NEW the answer is made from the item after the update alone, so the copy is left out: the
    handler finds the item as before (a key that names none is refused as before) and sees no old values, and answers
    the same. Any other ReturnValues goes moto's way. Measured: the handler's UpdateItem setting one attribute of an
    item of 42 attributes (40 maps) took 1.06-1.19 ms, now 0.81-0.87 ms (medians of 11 runs, CPU time)."""
    import moto.dynamodb.responses as responses
    from moto.dynamodb.models.dynamo_type import Item

    answered_from_new = threading.local()

    class _OldItemWhenAnswered:
        """``copy`` as moto's DynamoDB handler module sees it (its one use: update_item's copy of the old item)."""

        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if getattr(answered_from_new, "update", False) and isinstance(value, Item):
                return None
            return copy_module.deepcopy(value, memo)

    responses.copy = _OldItemWhenAnswered  # type: ignore[assignment]
    update_item = responses.DynamoHandler.update_item

    @functools.wraps(update_item)            # __wrapped__: moto's own, which the tests compare it with
    def update_answered(self):  # type: ignore[no-untyped-def]
        body = getattr(self, "body", None)
        answered_from_new.update = isinstance(body, dict) and body.get("ReturnValues", "NONE") in ("NONE", "ALL_NEW")
        try:
            return update_item(self)
        finally:
            answered_from_new.update = False

    responses.DynamoHandler.update_item = update_answered  # type: ignore[method-assign]


def _plain_attribute_value(value: Any) -> dict[str, Any] | None:
    """An attribute value as moto's JSON serialiser writes a plain one (one of S, N, BOOL, NULL, SS, NS, M, L, with
    text, a truth value or lists and maps of them): the same value; None for anything else (binary, a value of two
    types, an odd member), which moto's serialiser writes."""
    if type(value) is not dict or len(value) != 1:
        return None
    [(kind, inner)] = value.items()
    if kind in ("S", "N"):
        return value if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return value if type(inner) is bool else None
    if kind in ("SS", "NS"):
        return {kind: list(inner)} if type(inner) is list and all(type(v) is str for v in inner) else None
    if kind == "M" and type(inner) is dict:
        members = {}
        for name, member in inner.items():
            written = _plain_attribute_value(member)
            if written is None or type(name) is not str:
                return None
            members[name] = written
        return {"M": members}
    if kind == "L" and type(inner) is list:
        elements = []
        for element in inner:
            written = _plain_attribute_value(element)
            if written is None:
                return None
            elements.append(written)
        return {"L": elements}
    return None


def _attribute_values_answered_as_they_are() -> None:
    """moto writes every DynamoDB answer that is not a read (an update's or a put's old or new item, a refused
    condition's item) through its generic serialiser, which walks each attribute value member by member against the
    service model, looking for each of the ten members under up to six names: an UpdateItem answering ALL_NEW with an
    item of 42 attributes (40 maps) took 7.6 ms to write, twice the update. An attribute value there is already in
    the wire's form, and for a plain one (text, numbers, truth values, sets of text or numbers, lists and maps of
    them) that walk writes it unchanged: such a value is written as it is. Binary values, anything odd, another
    service's shapes, and any answer while moto has a response transformer registered go moto's way. A test compares
    both ways' bytes on random items. Measured: that answer written in 0.48 ms instead of 7.6 ms."""
    from moto.core.serialize import BaseJSONSerializer, DefaultAttributePicker

    structure = BaseJSONSerializer._serialize_type_structure

    def attribute_value_as_it_is(self, serialized, value, shape, key):  # type: ignore[no-untyped-def]
        picker = self._value_picker
        if (key and shape.name == "AttributeValue" and not shape.serialization
                and self.service_model.service_name == "dynamodb" and isinstance(picker, DefaultAttributePicker)
                and not getattr(picker, "response_transformers", None)):
            written = _plain_attribute_value(value)
            if written is not None:
                serialized[key] = written
                return
        structure(self, serialized, value, shape, key)

    attribute_value_as_it_is.__wrapped__ = structure  # type: ignore[attr-defined]   # moto's own, for the tests
    BaseJSONSerializer._serialize_type_structure = attribute_value_as_it_is  # type: ignore[method-assign]


def _projections_read_what_they_name() -> None:
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.dynamo_type import Item

    list_element = re.compile(r"(.+)\[(\d+)\]$")       # moto's find_nested_key: ``name[3]`` names ``name``

    def project(self, projection_expressions):  # type: ignore[no-untyped-def]
        result: dict[str, Any] = {}
        for expr in projection_expressions:
            element = list_element.match(expr[0])
            names = (expr[0], element.group(1)) if element else (expr[0],)
            # moto's own steps on only the attributes the path can start at (it converts the whole item, per path)
            named = {name: dynamo_type.deserializer.deserialize(self.attrs[name].to_regular_json())
                     for name in names if name in self.attrs}
            dynamo_type.merge_dicts(result, dynamo_type.find_nested_key(expr, named))
        return Item(hash_key=self.hash_key, range_key=self.range_key,
                    attrs=dynamo_type.serializer.serialize(result)["M"])

    project.__wrapped__ = Item.project  # type: ignore[attr-defined]   # moto's own, which the tests compare it with
    Item.project = project  # type: ignore[method-assign]


def _untracked_models() -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord
    from moto.dynamodbstreams.models import ShardIterator
    from moto.sqs.models import Message

    def untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    for model in (Item, StreamRecord, ShardIterator, Message):
        model.__new__ = untracked  # type: ignore[assignment]


def _answers_as_json() -> None:
    """GetRecords' records and the DynamoDB reads' items are already in the wire's form (AttributeValue JSON,
    binary as base64; a record's creation time a datetime): written with json.dumps instead of moto's serialiser,
    which walks every attribute against the service model and took half the stack's time under load."""
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def get_records(self):  # type: ignore[no-untyped-def]
        limit = self._get_param("Limit")
        with _DYNAMODB:     # never between a cancelled transaction's records and their removal
            result = self.backend.get_records(self._get_param("ShardIterator"), 1000 if limit is None else limit)
        return json.dumps(result, default=_wire_value)

    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]

    # The reads' answers are items in the same wire form (the serialiser drops absent members: so does this).
    # moto's DynamoResult first copies the whole answer into plain dicts (``dynamo_to_dict``: a sixth of the
    # stack's time under load, profiled): for these reads it keeps moto's objects, which json.dumps writes
    # through each attribute's own ``to_json`` (``_attribute_json``).
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    converting = DynamoResult.__init__
    reading = threading.local()

    def result_init(self: Any, result: object) -> None:
        if getattr(reading, "raw", False):
            ActionResult.__init__(self, result)
        else:
            converting(self, result)

    DynamoResult.__init__ = result_init  # type: ignore[method-assign]

    def as_json(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def answer(self: Any) -> Any:
            reading.raw = True
            try:
                result = read(self)
            finally:
                reading.raw = False
            if type(result) is not DynamoResult:
                return result
            return json.dumps(_present(result.result), default=_attribute_json)
        return answer

    for name in ("get_item", "batch_get_item", "query", "scan", "transact_get_items"):
        setattr(DynamoHandler, name, as_json(getattr(DynamoHandler, name)))


def _attribute_json(value: Any) -> Any:
    """One of moto's attribute values (DynamoType) as the wire writes it: ``{type: value}``, binary as base64 (moto
    keeps it as bytes, or as the base64 text it was sent in); nested values come back here one by one."""
    kind = getattr(value, "type", None)
    if kind is None or not hasattr(value, "value"):
        return _wire_value(value)
    if kind == "B":
        return {"B": _base64(value.value)}
    if kind == "BS":
        return {"BS": [_base64(v) for v in value.value]}
    return {kind: value.value}


def _base64(value: str | bytes) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else value


def _present(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def _method_names_listed_once() -> None:
    """moto finds the method of each request's action among its handler class's functions, which it lists at every
    request (``inspect.getmembers``: every attribute of the class and its bases, sorted). The list is kept per class
    and made again when the class or a base gains or loses an attribute (the count of each one's own, read per
    request); a method replaced by another keeps its name, and ``getattr`` still finds the one there now."""
    from moto.core import responses

    listed = responses.method_names_from_class
    kept: dict[type, tuple[tuple[int, ...], list[str]]] = {}

    def method_names_from_class(clazz):  # type: ignore[no-untyped-def]
        found = kept.get(clazz)
        if found is None or found[0] != tuple(len(vars(c)) for c in clazz.__mro__):
            names = listed(clazz)       # (listing adds an empty __annotations__ to a class that had none)
            found = kept[clazz] = (tuple(len(vars(c)) for c in clazz.__mro__), names)
        return list(found[1])

    method_names_from_class.__wrapped__ = listed  # type: ignore[attr-defined]
    responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]


def _modules_listed_once() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


_COUNTS = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
           "approximate_number_of_messages_not_visible")


def _sqs_counts_when_read() -> None:
    """SendMessage, and the retention check ReceiveMessage makes per message, read one queue attribute (content
    deduplication, retention period) through ``Queue.attributes``, which also counts the queue's messages: inside
    them the counts are skipped (0, never returned to anyone)."""
    from moto.sqs.models import Queue, SQSBackend

    skipping = threading.local()

    def counted(fget: Callable[[Any], int]) -> property:
        def count(self: Any) -> int:
            return 0 if getattr(skipping, "depth", 0) else fget(self)
        return property(count)

    def without_counts(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            skipping.depth = getattr(skipping, "depth", 0) + 1
            try:
                return method(*args, **kwargs)
            finally:
                skipping.depth -= 1
        return run

    for name in _COUNTS:
        setattr(Queue, name, counted(getattr(Queue, name).fget))
    Queue.add_message = without_counts(Queue.add_message)  # type: ignore[method-assign]
    for name in ("send_message", "is_message_valid_based_on_retention_period"):
        setattr(SQSBackend, name, without_counts(getattr(SQSBackend, name)))


def _cors_on_form_uploads() -> None:
    from moto.s3.responses import S3Response

    original = S3Response._bucket_response_post

    def bucket_response_post(self, request, bucket_name):  # type: ignore[no-untyped-def]
        status, headers, body = original(self, request, bucket_name)
        with contextlib.suppress(Exception):        # a bucket without CORS rules: no headers, as in S3
            headers = {**self._get_cors_headers_other(), **headers}
        return status, headers, body

    S3Response._bucket_response_post = bucket_response_post  # type: ignore[method-assign]

    from types import SimpleNamespace

    from moto.s3.utils import cors_matches_origin

    original_options = S3Response._set_cors_headers_options

    def set_cors_headers_options(self, headers, bucket):  # type: ignore[no-untyped-def]
        origin = headers.get("Origin")
        method = headers.get("Access-Control-Request-Method")
        for rule in bucket.cors:
            if (rule.allowed_origins is not None and origin and cors_matches_origin(origin, rule.allowed_origins)
                    and (method is None or rule.allowed_methods is None or method in rule.allowed_methods)):
                return original_options(self, headers, SimpleNamespace(cors=[rule]))
        return original_options(self, headers, bucket)       # no rule matches: moto refuses it, as S3 does

    S3Response._set_cors_headers_options = set_cors_headers_options  # type: ignore[method-assign]


def _journal_transactions() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _KeepTables:
        """``copy`` as moto's backend module sees it: tables are not copied, everything else is."""
        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy_module.deepcopy(value, memo)

    models.copy = _KeepTables  # type: ignore[assignment]
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        journal = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = (op.get("Item") or op.get("Key")) if table is not None else None
            if not key or table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = (table.items.get(hash_value, {}).get(range_value) if range_value is not None
                       else table.items.get(hash_value))
            journal.append((table, hash_value, range_value, copy_module.deepcopy(current)))
        streams = {id(table): (shard, len(shard.items)) for table, *_ in journal
                   if (shard := getattr(table, "stream_shard", None)) is not None}
        try:
            return original(self, transact_items)
        except Exception:
            for shard, written in streams.values():     # what the cancelled transaction wrote never happened
                del shard.items[written:]
            for table, hash_value, range_value, previous in reversed(journal):
                if range_value is None:
                    table.items.pop(hash_value, None)
                    if previous is not None:
                        table.items[hash_value] = previous
                else:
                    table.items[hash_value].pop(range_value, None)
                    if previous is not None:
                        table.items[hash_value][range_value] = previous
                _item_changed(table, hash_value, range_value)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_KEY_TYPES = ("S", "N", "B")


def _plain(value: Any) -> bool:
    """A key value (S, N or B) whose hash agrees with moto's ``==``: a dict finds exactly what moto's loop matches."""
    if getattr(value, "type", None) not in _KEY_TYPES:
        return False
    try:
        hash(value)
    except (TypeError, ArithmeticError):                   # a number that is not one: moto's own path decides
        return False
    return True


def _stored(table: Any) -> Iterator[tuple[tuple[Any, Any], Any]]:
    """Every item of a table with its key, as moto files them: ``items[hash][range]``, or ``items[hash]``."""
    for hash_value, stored in table.items.items():
        if table.range_key_attr:
            for range_value, item in stored.items():
                yield (hash_value, range_value), item
        elif not isinstance(stored, dict):                 # moto's get_item can leave an empty dict behind
            yield (hash_value, None), stored


def _stored_item(table: Any, hash_value: Any, range_value: Any) -> Any:
    stored = table.items.get(hash_value)
    if table.range_key_attr:
        return None if stored is None else stored.get(range_value)
    return None if isinstance(stored, dict) else stored


class _Partitions:
    """Which items of one table carry each value of one attribute (a GSI's hash key): value -> key -> item."""

    def __init__(self, attr: str, table: Any) -> None:
        self.attr = attr
        self.items: dict[Any, dict[tuple[Any, Any], Any]] = {}
        self.value_of: dict[tuple[Any, Any], Any] = {}
        for key, item in _stored(table):
            self.place(key, item)

    def place(self, key: tuple[Any, Any], item: Any) -> None:
        """File the item now stored under ``key`` (None: there is none) by its value, wherever it was before."""
        before = self.value_of.pop(key, None)
        if before is not None:
            members = self.items[before]
            del members[key]
            if not members:
                del self.items[before]
        value = None if item is None else item.attrs.get(self.attr)
        if _plain(value):
            value = type(value)(value)          # a copy: the item's own may be changed in place
            self.items.setdefault(value, {})[key] = item
            self.value_of[key] = value


# table -> {attribute: _Partitions}, built at a table's first GSI query, then kept by every change of an item
_partitions: weakref.WeakKeyDictionary[Any, dict[str, _Partitions]] = weakref.WeakKeyDictionary()


def _item_changed(table: Any, hash_value: Any, range_value: Any) -> None:
    """moto changed, or may have changed, the item under this key: file it again in every map of its table."""
    built = _partitions.get(table)
    if not built:
        return
    if not (_plain(hash_value) and (_plain(range_value) if table.range_key_attr else range_value is None)):
        del _partitions[table]                   # not a key a map can name: they are built again when next asked
        return
    item = _stored_item(table, hash_value, range_value)
    for partitions in built.values():
        partitions.place((hash_value, range_value), item)


def _queries_read_their_partition() -> None:
    """moto's Query gathers its candidates by walking (and sorting) every item of the table: only that step changes.
    A query of the table reads its partition; a query of a GSI by one hash key reads that key's map, kept by
    Table.put_item and delete_item (which batch writes, transactions and PartiQL go through), by the backend's
    update_item (which changes the item in place) and by the transaction journal's rollback. moto's query sees
    those items as ``all_items`` for the call, on its own thread; the maps change only inside DynamoDB requests,
    which the lock in apply() serialises."""
    import moto.dynamodb.models.table as table_module
    from moto.dynamodb.exceptions import ResourceNotFoundException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import GlobalSecondaryIndex, Table

    narrowed = threading.local()
    all_items = Table.all_items

    class _QueryCopies:
        """``copy`` as moto's table module sees it. Its Query deep-copies every item it found before projecting
        them (a twelfth of the moto process's time under load): the copy guards nothing here, since a projection
        builds new items and the answer is written at once, under the lock, from items nothing changes
        meanwhile; a narrowed query keeps the list and drops the deep copy. Anything else is copied as before."""
        copy = staticmethod(copy_module.copy)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if getattr(narrowed, "query", None) is not None and isinstance(value, list):
                return list(value)
            return copy_module.deepcopy(value, memo)

    table_module.copy = _QueryCopies  # type: ignore[assignment]

    def candidates_or_all_items(self):  # type: ignore[no-untyped-def]
        table, candidates = getattr(narrowed, "query", (None, None))
        return candidates if table is self else all_items(self)

    def candidates(table: Any, hash_key: Any, index_name: Any, hash_key_conditions: Any) -> list[Any] | None:
        """The items that can match, a superset of what moto's loop keeps; None: moto walks every item."""
        if not index_name:
            if not _plain(hash_key):
                return None
            stored = table.items.get(hash_key)
            if stored is None:
                return []
            return list(stored.values()) if table.range_key_attr else [stored]
        index = {i.name: i for i in table.all_indexes()}.get(index_name)     # as moto finds it
        if not isinstance(index, GlobalSecondaryIndex):
            return None
        hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        range_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hash_attrs) != 1 or len(range_attrs) > 1 or len(hash_key_conditions or ()) != 1:
            return None
        [(attr, value)] = hash_key_conditions
        if attr != hash_attrs[0] or not _plain(value):
            return None
        built = _partitions.setdefault(table, {})
        if attr not in built:
            built[attr] = _Partitions(attr, table)
        # moto sorts them by the index's key and the table's, unique per item: the order here changes nothing
        return list(built[attr].items.get(value, {}).values())

    item_size = Item.size

    def size(self):  # type: ignore[no-untyped-def]
        """moto's Query measures each item twice (the 1 MB page: before and after taking it); a narrowed query
        measures it once. Nothing changes an item during a query (the lock); the item is kept with its size, so no
        other object can take its id meanwhile."""
        sizes = getattr(narrowed, "sizes", None)
        if sizes is None:
            return item_size(self)
        found = sizes.get(id(self))
        if found is None:
            found = sizes[id(self)] = (self, item_size(self))
        return found[1]

    size.__wrapped__ = item_size  # type: ignore[attr-defined]
    Item.size = size  # type: ignore[method-assign]

    query = Table.query
    signature = inspect.signature(query)

    @functools.wraps(query)                     # __wrapped__: moto's own, which the tests compare it with
    def partition_query(*args, **kwargs):  # type: ignore[no-untyped-def]
        call = signature.bind(*args, **kwargs).arguments
        table = call["self"]
        found = candidates(table, call.get("hash_key"), call.get("index_name"), call.get("hash_key_conditions"))
        if found is None:
            return query(*args, **kwargs)
        narrowed.query = (table, found)
        narrowed.sizes = {}
        try:
            return query(*args, **kwargs)
        finally:
            del narrowed.query
            del narrowed.sizes

    def key_of(table: Any, attrs: Any) -> tuple[Any, Any]:
        """The key an item's (or a Key's) attributes name; (None, None) when they name none."""
        try:
            hash_value = DynamoType(attrs[table.hash_key_attr])
            range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError, IndexError):
            return None, None
        return hash_value, range_value

    put_item = Table.put_item
    delete_item = Table.delete_item
    update_item = DynamoDBBackend.update_item

    def filed_put_item(self, item_attrs, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            _item_changed(self, *key_of(self, item_attrs))

    def filed_delete_item(self, hash_key, range_key):  # type: ignore[no-untyped-def]
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            _item_changed(self, hash_key, range_key)

    def filed_update_item(self, table_name, key, *args, **kwargs):  # type: ignore[no-untyped-def]
        shard = getattr(self.tables.get(table_name), "stream_shard", None)
        written = len(shard.items) if shard is not None else 0
        try:
            updated = update_item(self, table_name, key, *args, **kwargs)
            if shard is not None and len(shard.items) == written + 2:
                # moto made the item (a put of its keys, recorded) and then updated it (recorded again): DynamoDB
                # records one INSERT of the whole item. The second record takes the first's place and number.
                first, second = shard.items[written], shard.items.pop()
                if first.record["eventName"] == "INSERT" and second.record["eventName"] == "INSERT":
                    second.record["dynamodb"]["SequenceNumber"] = first.record["dynamodb"]["SequenceNumber"]
                    shard.items[written] = second
                else:
                    shard.items.append(second)
            return updated
        finally:
            with contextlib.suppress(ResourceNotFoundException):
                table = self.get_table(table_name)
                _item_changed(table, *key_of(table, key))

    Table.all_items = candidates_or_all_items  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    Table.put_item = filed_put_item  # type: ignore[method-assign]
    Table.delete_item = filed_delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = filed_update_item  # type: ignore[method-assign]
