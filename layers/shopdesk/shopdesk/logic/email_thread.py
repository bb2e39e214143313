"""What keeps a message we send by email in the customer's thread: ``Re: <their subject>``, ``In-Reply-To`` and
``References`` naming their latest mail, and a ``reply+<conversation>@`` Reply-To on the shop's domain.

Every message that goes to an email customer takes them from here: an agent's reply, the acknowledgement, the
bot's answers, the satisfaction survey and its follow-up. Without them a mail client shows the message as a new,
subject-less mail beside the customer's thread instead of in it.
"""

from __future__ import annotations

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


def reply_address_for(conversation_id: str, shop_address: str) -> str | None:
    """``reply+<conversation>@<the shop address's domain>``: a customer's answer finds its conversation even when
    their mail client drops In-Reply-To. None without a usable shop address."""
    if "@" not in shop_address:
        return None
    domain = shop_address.rsplit("@", 1)[1].rstrip(">").strip()
    return f"reply+{conversation_id}@{domain}" if domain else None
