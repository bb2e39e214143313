"""Work queue consumer: routes new conversations and re-drives waiting ones when capacity frees."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shopdesk.batch import fifo_processor
from shopdesk.bot.converse import Bot, Outcome
from shopdesk.bot.orders import OrderStatus
from shopdesk.commerce.lookup import OrderLookup
from shopdesk.commerce.platform import commerce_for, store_for
from shopdesk.config import CommerceSettings, RouterSettings
from shopdesk.csat.answer import FollowUp
from shopdesk.dal.agents import Agents
from shopdesk.dal.bot import BotStore
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.conversations import Conversations
from shopdesk.dal.csat import Surveys
from shopdesk.dal.customers import Customers
from shopdesk.dal.events import EventBus
from shopdesk.dal.kb import KnowledgeBase
from shopdesk.dal.media import MediaStore
from shopdesk.dal.queues import Queue
from shopdesk.dal.table import Table
from shopdesk.kb.embedder import embedder_for
from shopdesk.kb.loader import IndexCache
from shopdesk.logic.acknowledge import Acknowledger
from shopdesk.logic.assign import OnlineOnce, admit_work, assign_waiting, enqueue
from shopdesk.logic.evidence import note_addresses
from shopdesk.logic.fetchers import fetchers
from shopdesk.logic.media import MediaCopier
from shopdesk.logic.refused import take_back_first_response
from shopdesk.logic.sla_engine import book_for
from shopdesk.logic.work import BotSendFailedWork, CsatWork, DrainWork, InboundWork, ReplyFailedWork, Unsent, WorkItem
from shopdesk.logs import logger_for
from shopdesk.understanding import comprehend

settings = RouterSettings.from_env()
logger = logger_for()
table = Table(settings.table_name)
conversations = Conversations(table, settings.due_shards)
agents = Agents(table)
customers = Customers(table)
book = book_for(conversations, settings.first_response_targets)
acknowledger = (Acknowledger(conversations, agents, Queue(settings.outbound_queue_url), book, settings.shop_name)
                if settings.outbound_queue_url else None)
copier = (MediaCopier(conversations, MediaStore(settings.media_bucket), fetchers(settings), settings.media_max_bytes)
          if settings.media_bucket else None)
commerce_settings = CommerceSettings.from_env()
bot = (Bot(conversations, BotStore(table), ConfigStore(table),
           IndexCache(KnowledgeBase(table), embedder_for(settings.kb_embedder),
                      refresh_seconds=settings.kb_refresh_seconds),
           Queue(settings.outbound_queue_url), book, customers,
           OrderStatus(OrderLookup(store_for(commerce_settings), commerce_for(commerce_settings))),
           EventBus(settings.event_bus_name) if settings.event_bus_name else None,
           settings_ttl=float("inf"))      # read once a batch (lambda_handler: Bot.new_batch)
       if settings.outbound_queue_url else None)
follow_up = (FollowUp(Surveys(conversations), Queue(settings.outbound_queue_url),
                      EventBus(settings.event_bus_name) if settings.event_bus_name else None)
             if settings.outbound_queue_url else None)
comprehend.configure(settings.sentiment_backend)     # offline unless the deployment chose Comprehend
processor = fifo_processor(logger)      # a failed record is logged with its cause and counted (shopdesk.batch)


def handle(record: SQSRecord) -> None:
    work = WorkItem.model_validate({"item": record.json_body}).item
    if isinstance(work, CsatWork):       # a customer's rating: its follow-up and alert; nothing is routed
        if follow_up is not None:
            follow_up.handle(work)
        if work.marker:
            conversations.routed(work.marker)
        return
    if isinstance(work, ReplyFailedWork):       # a person's reply never reached the customer: no first response
        take_back_first_response(conversations, book, work.conversation_id, work.message_sk)
        return
    if isinstance(work, BotSendFailedWork):     # the bot's answer never reached the customer: a person takes it
        handed = bot.send_failed(work.conversation_id, work.message_sk) if bot else None
        if handed is not None:
            if acknowledger:
                try:
                    acknowledger.maybe_acknowledge(handed.id, handoff=True)
                except Exception:          # a courtesy, as below
                    logger.exception("acknowledgement not sent", extra={"conversation_id": handed.id})
            assign_waiting(DrainWork(team=handed.team, reason="bot_send_failed"), handed, conversations, agents,
                           book)
        return
    customer_wrote = isinstance(work, InboundWork) and not work.auto_reply
    # The bot sees the message before anyone can be assigned: the conversation enters its team's queue only once
    # the bot has left it to a person, so no other router's drain (the sweep's each minute, an agent freeing
    # capacity) gives it to an agent while the bot decides (its first message in a container loads the index and
    # the model). It answers (the conversation then waits for the customer, never queued), hands over (routing as
    # always, the customer told a person will answer), or stands aside.
    bot_decides = bot is not None and customer_wrote
    admitted = admit_work(work, conversations, book, customers, queue=not bot_decides)
    conv = admitted.conv
    # what admit read is read no more: the bot takes the message and the clocks from it, the acknowledgement
    # judges from it a message it owes nothing, and the drain takes the team's online agents the acknowledgement
    # read
    known = OnlineOnce(agents)
    outcome = Outcome.SKIPPED
    if bot and customer_wrote and conv is not None:
        try:
            outcome = bot.step(work.conversation_id, work.message_sk, conv, message=admitted.message,
                               read=admitted.read)
        except Unsent:
            raise                          # its answer is recorded, not sent: the retry sends it
        except Exception:                  # a broken bot must never keep a customer from a person
            logger.exception("bot step failed: routing as usual", extra={"conversation_id": work.conversation_id})
    # The customer wrote again since, in the bot's conversation: that message's work answers or routes it, so this
    # one neither acknowledges nor assigns (an agent given it now would keep the bot from the latest message).
    settled = outcome in (Outcome.REPLIED, Outcome.SUPERSEDED)
    if bot_decides and not settled and conv is not None:
        enqueue(work, conv, conversations)     # before the acknowledgement: it promises a place in the queue
    # The acknowledgement goes before the assignment: once assigned, an agent may answer, and the customer
    # must never be told when to expect an answer after it came. It is recorded on the customer's message, so a
    # retried record (or one redriven hours later) sends no second one.
    if not settled and acknowledger and customer_wrote:
        try:
            acknowledger.maybe_acknowledge(work.conversation_id, handoff=outcome is Outcome.HANDED_OFF,
                                           message_sk=work.message_sk, agents=known, seen=admitted.read)
        except Unsent:
            raise                          # recorded, not sent: the retry sends it (and no other)
        except Exception:                  # a courtesy: never worth failing (and retrying) the routing for
            logger.exception("acknowledgement not sent", extra={"conversation_id": work.conversation_id})
    if not settled:
        assign_waiting(work, conv, conversations, known, book)
    if isinstance(work, InboundWork) and work.addresses and work.message_sk:
        try:       # duplicate evidence for agents: worth a log, not a retry of the routing
            note_addresses(conversations, customers, work.conversation_id, work.message_sk,
                           settings.default_phone_region)
        except Exception:
            logger.exception("addresses in the message not noted", extra={"conversation_id": work.conversation_id})
    if copier and isinstance(work, InboundWork) and work.has_media and work.message_sk:
        copier.copy(work.conversation_id, work.message_sk)   # after routing: a slow provider delays no one
    if isinstance(work, InboundWork) and work.marker:
        conversations.routed(work.marker)   # last: until here, the sweep would send this work again


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if bot is not None:
        bot.new_batch()       # the bot's settings read once for the batch: an admin's "off" counts from the next
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
