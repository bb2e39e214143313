"""Assignment: waiting conversations go to online agents of their team with free capacity, least
loaded first. An agent may be in several teams; their capacity is one number across all of them.

The capacity invariant (active < capacity) is held by DynamoDB conditions, not by this code, so
any number of routers may run at once. This module only decides the order in which to try.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from shopdesk import clock, metrics
from shopdesk.dal.agents import Agents
from shopdesk.dal.conversations import AgentUnavailable, ClockRead, Conversations, NotWaiting
from shopdesk.dal.customers import Customers
from shopdesk.dal.table import Update
from shopdesk.logic import consent, sla_engine, timeline, understand
from shopdesk.logic.language import detect_language, supported
from shopdesk.logic.sla_engine import PolicyBook
from shopdesk.logic.work import DrainWork, InboundWork
from shopdesk.models import Agent, Conversation, ConversationStatus, Message

logger = Logger(child=True)

MAX_PER_DRAIN = 100


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent_id: str


class OnlineOnce(Agents):
    """The agents of one message's work: each set of teams' online agents read once (``Agents.online``), so the
    acknowledgement, which counts the team's, and the drain right after it, which gives the conversation to one of
    them, share one read. Nothing goes wrong on what changed between the two: the assignment's conditions hold
    presence and capacity (an agent gone offline or full is passed over), and an agent who comes online or frees
    capacity meanwhile has a drain of their own (``enqueue_refill``)."""

    def __init__(self, agents: Agents):
        super().__init__(agents.table)
        self._online: dict[tuple[str, ...], list[Agent]] = {}

    def online(self, *teams: str) -> list[Agent]:
        key = tuple(sorted(set(teams)))
        if key not in self._online:
            self._online[key] = super().online(*teams)
        return list(self._online[key])


def eligible(agent: Agent, conv: Conversation) -> bool:
    """An agent may take a conversation only in its team and with every skill it needs."""
    return conv.team in agent.teams and set(conv.skills) <= set(agent.skills)


def choose(pool: list[Agent], conv: Conversation, sticky: timedelta | None) -> Agent | None:
    """The customer's previous agent (within the sticky window), else agents who speak the
    customer's language, least loaded first and round robin among equals (longest without a
    conversation first); never an agent outside its team or without a required skill."""
    candidates = [a for a in pool if eligible(a, conv)]
    fresh = [a for a in candidates if a.id not in conv.passed_over]
    candidates = fresh or candidates          # someone it was taken from only if nobody else can
    if not candidates:
        return None
    if sticky is not None and conv.previous_agent and conv.previous_agent_at \
            and clock.now() - conv.previous_agent_at <= sticky:
        previous = next((a for a in candidates if a.id == conv.previous_agent), None)
        if previous is not None:
            return previous
    if conv.language:
        speakers = [a for a in candidates if conv.language in a.languages]
        candidates = speakers or candidates
    return min(candidates, key=lambda a: (a.active, a.last_assigned_at or "", a.id))


def drain(teams: str | Collection[str], conversations: Conversations, agents: Agents,
          sticky: timedelta | None = None, silence: timedelta | None = None) -> list[Assignment]:
    """Assign waiting conversations of one or several teams, most urgent then longest waiting across
    all of them, while capacity lasts; each goes only to an agent of its own team. A conversation no
    free agent may take (a skill nobody online has) waits; later ones still go."""
    names = [teams] if isinstance(teams, str) else sorted(set(teams))
    if not names:
        return []
    pool = [a for a in agents.online(*names) if a.free > 0]
    if not pool:
        return []
    waiting = waiting_in(names, conversations)
    done: list[Assignment] = []
    for conv in waiting:
        while pool:
            agent = choose(pool, conv, sticky)
            if agent is None:
                break                         # needs a skill no free agent has: it keeps its place
            note = timeline.assigned(conv.id, agent.id, agent.name)
            silence_due = clock.iso(clock.now() + silence) if silence else None
            try:
                conversations.assign(conv, agent, note, silence_due)
            except AgentUnavailable:
                pool.remove(agent)            # full or gone offline since we looked
                continue
            except NotWaiting:
                break                         # someone else took it, or it was closed
            agent.active += 1
            agent.last_assigned_at = note.created_at.isoformat()
            if agent.free == 0:
                pool.remove(agent)
            done.append(Assignment(conv.id, agent.id))
            if conv.waiting_since is not None:
                metrics.seconds("AssignmentWaitSeconds", (note.created_at - conv.waiting_since).total_seconds(),
                                team=conv.team)
            break
        if not pool:
            break
    if done:
        logger.info("assigned waiting conversations", extra={"teams": names, "assigned": len(done)})
    return done


def waiting_in(teams: list[str], conversations: Conversations) -> list[Conversation]:
    """The first MAX_PER_DRAIN waiting conversations of these teams in queue order (priority, then
    waiting since): each team's queue is already in that order, so its first MAX_PER_DRAIN suffice."""
    waiting = [c for team in teams for c in conversations.list_queue(team, limit=MAX_PER_DRAIN)[0]]
    waiting.sort(key=lambda c: (c.priority.rank, c.waiting_since or c.created_at, c.id))
    return waiting[:MAX_PER_DRAIN]


def classify(conversations: Conversations, conversation_id: str, message_sk: str, book: PolicyBook,
             understood: understand.Understood | None = None) -> ClockRead | None:
    """A new conversation's language (from the customer's words, as the router understood them) and the
    skills it needs (the routing settings' keywords), before anyone is chosen for it. The conversation as the
    write left it; None when it was classified already."""
    message = understood.message if understood else conversations.get_message(conversation_id, message_sk)
    text = (message.text or "") if message else ""
    keywords = book.routing().skill_keywords
    skills = sorted(skill for skill, words in keywords.items() if any(w.lower() in text.lower() for w in words))
    routing = book.routing()
    team = routing.team_by_channel.get(message.channel or "", routing.default_team) if message else routing.default_team
    if understood is not None:
        found = understood.understanding.language
        language = found if found in supported() else None
    else:
        language = detect_language(text)
    return conversations.classify(conversation_id, language, skills, team,
                                  mood=understood.mood(language=False) if understood is not None else None)


def route(work: InboundWork | DrainWork, conversations: Conversations, agents: Agents,
          book: PolicyBook | None = None, customers: Customers | None = None) -> list[Assignment]:
    return assign_waiting(work, admit(work, conversations, book, customers), conversations, agents, book)


@dataclass(frozen=True)
class Admitted:
    """What ``admit_work`` read, for the steps after it in the same work, which then read none of it again: the
    conversation; the read it came from (the clocks and their version, from which the bot's answer moves the
    clocks on), None when admit changed the conversation after it; the customer's message as understood (None when
    it was not read or holds no words)."""
    conv: Conversation | None
    read: ClockRead | None = None
    message: Message | None = None


def admit(work: InboundWork | DrainWork, conversations: Conversations, book: PolicyBook | None = None,
          customers: Customers | None = None, queue: bool = True) -> Conversation | None:
    """The first half of routing a customer's message: classified, clocks started or moved on, waiting
    in its team's queue. Nothing is assigned yet, so what must reach the customer before any agent
    can answer (the acknowledgement) goes between this and ``assign_waiting``. With ``queue=False`` the
    conversation is not put in the queue yet (``enqueue`` does it): the bot decides first, and no other
    router's drain can give an agent the conversation meanwhile."""
    return admit_work(work, conversations, book, customers, queue).conv


def admit_work(work: InboundWork | DrainWork, conversations: Conversations, book: PolicyBook | None = None,
               customers: Customers | None = None, queue: bool = True) -> Admitted:
    """``admit``, with what it read (``Admitted``)."""
    conv = None
    read: ClockRead | None = None
    understood = None
    if isinstance(work, InboundWork):
        classified = None
        if book is not None and not work.auto_reply and work.message_sk:
            # understood once, off the ingest path: the message, the conversation's mood, the customer's language
            # (the conversation's part is written with its classification, or with the clocks the message moves)
            understood = understand.read(conversations, work.conversation_id, work.message_sk)
        if book is not None and work.new_conversation and work.message_sk:
            classified = classify(conversations, work.conversation_id, work.message_sk, book, understood)
        if book is not None and not work.auto_reply and work.message_sk:
            # the customer wrote: clocks start (new conversation) or move on, from the message's own time
            written = clock.parse_iso(work.message_sk.split("#")[1])
            if work.new_conversation and customers is not None:
                # ingest reads no customer: the customer's tier is read here, as the clocks start under it, from
                # the conversation as the classification's update returned it (no read of it more)
                sla_engine.apply_tier(conversations, customers, work.conversation_id, book, at=clock.now(),
                                      then=sla_engine.customer_wrote(written), first=classified)
            else:
                _move_clocks(conversations, work.conversation_id, written, book,
                             understood if not work.new_conversation else None)
        read = conversations.read_clocks(work.conversation_id)
        conv = read.conversation
        if book is not None and not conv.routed and work.message_sk:
            # the conversation's first message's work has not run (lost on the way or behind: the sweep sends it
            # again): this later message's work routes it, so that it waits in its team's queue, not in the
            # placeholder team's, where none of its team's agents would be given it; the first's classifies nothing
            # more when it comes (its clocks still start from the first message)
            classify(conversations, work.conversation_id, work.message_sk, book, understood)
            read = conversations.read_clocks(work.conversation_id)
            conv = read.conversation
        if work.quiet is not None:      # a STOP, a START, an out-of-office: nothing to answer, or nothing can be sent
            conv = consent.settle(work, conv, conversations, book)
        else:                           # written while unsubscribed: nothing can be sent
            consent.still_unreachable(conv, conversations, book)
        if queue:
            enqueue(work, conv, conversations)
        if understood is not None and customers is not None:
            understand.remember_language(customers, conv.customer.id, understood)
        if understood is not None and book is not None:
            # negative or urgent: a higher priority (routing settings), with its reason on the timeline
            conv = understand.escalate(conversations, book, work.conversation_id, understood.understanding) or conv
        if work.quiet is not None or conv is not read.conversation:
            read = None                 # settled or escalated: the conversation changed since the read
    return Admitted(conv, read, understood.message if understood is not None else None)


def enqueue(work: InboundWork, conv: Conversation, conversations: Conversations) -> None:
    """A new conversation (classified just now), or a pending one the customer answered, waits in its team's queue
    from the customer's message, not from this moment."""
    if conv.status is ConversationStatus.OPEN and conv.assignee is None and conv.waiting_since is None:
        since = clock.parse_iso(work.message_sk.split("#")[1]) if work.message_sk else None
        conversations.ensure_queued(conv, since)


def _move_clocks(conversations: Conversations, conversation_id: str, written: datetime, book: PolicyBook,
                 understood: understand.Understood | None) -> None:
    """The customer wrote: the clocks move on, with the conversation's mood as this message left it in the same
    write. Written alone when the clocks did not move (the message was already on them: a repeated delivery) or
    every attempt lost to another change."""
    change = sla_engine.customer_wrote(written)
    if understood is None:
        sla_engine.apply(conversations, conversation_id, change, book)
        return
    found, used = understood, []

    def mood() -> Update:
        used.append(True)
        return found.mood()

    if sla_engine.apply(conversations, conversation_id, change, book, extra=mood) is None or not used:
        conversations.note_mood(conversation_id, found.mood())


def assign_waiting(work: InboundWork | DrainWork, conv: Conversation | None, conversations: Conversations,
                   agents: Agents, book: PolicyBook | None = None) -> list[Assignment]:
    """The second half: the teams concerned hand their waiting conversations to agents with room."""
    routing = book.routing() if book is not None else None
    sticky = timedelta(days=routing.sticky_days) if routing else None
    silence = timedelta(seconds=routing.reassign_after_silence_seconds) \
        if routing and routing.reassign_after_silence_seconds else None
    return drain(teams_to_drain(work, conv, agents), conversations, agents, sticky, silence)


def teams_to_drain(work: InboundWork | DrainWork, conv: Conversation | None, agents: Agents) -> set[str]:
    """A new message: its conversation's team, unless an agent holds the conversation already (nothing entered the
    queue: the customer's next message in a conversation being worked; the sweep drains every team each minute
    besides). A drain: its team, and every team of the agent who freed capacity (as they are now)."""
    if conv is not None:
        return set() if conv.assignee is not None and conv.status is ConversationStatus.OPEN else {conv.team}
    teams = {work.team} if work.team else set()
    if isinstance(work, DrainWork) and work.agent_id:
        freed = agents.get(work.agent_id)
        teams.update(freed.teams if freed else [])
    return teams
