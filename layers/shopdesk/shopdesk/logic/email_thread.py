"""What keeps a message we send by email in the customer's thread: ``Re: <their subject>``, ``In-Reply-To`` and
``References`` naming their latest mail, and a ``reply+<conversation>@`` Reply-To on the shop's domain.

Every message that goes to an email customer takes them from here: an agent's reply, the acknowledgement, the
bot's answers, the satisfaction survey and its follow-up. Without them a mail client shows the message as a new,
subject-less mail beside the customer's thread instead of in it.

What the conversation keeps of a mail's References is trimmed (``thread_references``): the thread's first id and the
latest ones: enough for the customer's client to thread our answer, and a conversation item (every write of it
paid by the KB) that does not grow with the thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopdesk.channels.subjects import reply_subject
from shopdesk.models.conversation import ReplyRoute


def email_thread(route: ReplyRoute, reply_address: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """The subject and the ``payload`` fields (``{"email": {...}}``) for a message on ``route``: nothing off email.
    The subject is the customer's with one reply prefix ("Re: ...", or theirs kept: "AW: ..." stays "AW: ...").
    ``reply_address`` (``reply_address_for``) becomes the mail's Reply-To."""
    if route.channel != "email":
        return None, {}
    context = route.context or {}
    subject = reply_subject(str(context.get("subject") or ""))
    threading: dict[str, Any] = {"in_reply_to": context.get("message_id"),
                                 "references": context.get("references", [])}
    if reply_address:
        threading["reply_address"] = reply_address
    return subject or None, {"email": threading}


# A reply's References is its parent's References and the parent's Message-ID (RFC 5322 section 3.6.4), so it
# grows a mail at a time. Trimming it is the mail clients' practice: Thunderbird keeps the first id and the latest
# that fit the line (comm-central mailnews/compose, "trim out the earliest references": nsMsgCompUtils.cpp, now
# MimeMessageUtils getReferences), after netnews' rule, which mail threading came from: RFC 5537 section 3.4.4 lets
# a followup trim References but never its first and its last three ids. Clients thread by the first (the thread)
# and the last (the parent); a conversation that keeps first + last three answers with the shortest chain allowed.
REFERENCES_KEPT_LAST = 3


def thread_references(references: Sequence[str], message_id: str | None) -> list[str]:
    """What a route keeps of a mail's References (``message_id`` is the mail's own, kept beside it as the answer's
    In-Reply-To): the thread's first id and the latest, so that the answer's References (these, then
    ``message_id``: ``channels.ses.build_raw_email``) is the first and the last three ids of the thread. What an
    incoming mail is matched on is the mail's own headers, never these."""
    chain = list(dict.fromkeys([*references, *([message_id] if message_id else [])]))
    if len(chain) > 1 + REFERENCES_KEPT_LAST:
        chain = [chain[0], *chain[-REFERENCES_KEPT_LAST:]]
    return chain[:-1] if message_id and chain and chain[-1] == message_id else chain


def reply_address_for(conversation_id: str, shop_address: str) -> str | None:
    """``reply+<conversation>@<the shop address's domain>``: a customer's answer finds its conversation even when
    their mail client drops In-Reply-To. None without a usable shop address."""
    if "@" not in shop_address:
        return None
    domain = shop_address.rsplit("@", 1)[1].rstrip(">").strip()
    return f"reply+{conversation_id}@{domain}" if domain else None
