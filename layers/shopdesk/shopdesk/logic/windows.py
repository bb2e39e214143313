"""Messaging windows: what a channel lets a business send, and when.

- WhatsApp (Cloud API and through Twilio): free-form messages only within 24 hours of the
  customer's last message; after that only an approved template.
- Messenger and Instagram: the standard window is 24 hours (messaging_type RESPONSE); a human
  agent may answer up to 7 days after with the HUMAN_AGENT tag; after that nothing.
- SMS, email, Telegram, web chat: no window.

And consent: a customer who unsubscribed from a channel (SMS: replied STOP, which Twilio acts on itself and then
refuses our sends with 21610) gets nothing there until they subscribe again (START): no reply, no
acknowledgement, no bot answer, no survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shopdesk.errors import Conflict
from shopdesk.logic.timeline import unsubscribed

DAY = timedelta(hours=24)
HUMAN_AGENT = timedelta(days=7)


class WindowClosed(Conflict):
    """The channel's rules forbid this message now; the message says what the agent can do."""


class OptedOut(WindowClosed):
    """The customer unsubscribed from the channel: nothing may be sent there until they subscribe again."""


def check_consent(channel: str, opted_out: bool | None) -> None:
    """Raises OptedOut when the customer unsubscribed from ``channel`` (the route says so)."""
    if opted_out:
        raise OptedOut(f"{unsubscribed(channel, 'The customer')}: nothing can be sent there until they text START; "
                       "reply on another of their channels").with_code("opted_out", channel=channel)


@dataclass(frozen=True)
class Permission:
    tag: str | None = None      # Messenger/Instagram message tag to send with


def free_text_allowed(channel: str, last_inbound_at: datetime | None, now: datetime) -> Permission:
    """May an agent send free text on ``channel`` now? Raises WindowClosed with advice if not."""
    if channel == "whatsapp":
        if last_inbound_at is None or now - last_inbound_at > DAY:
            raise WindowClosed("WhatsApp's 24-hour window is closed (the customer last wrote more than 24 hours "
                               "ago): send an approved template instead (GET /agent/templates)"
                               ).with_code("whatsapp_window_closed")
        return Permission()
    if channel in ("messenger", "instagram"):
        if last_inbound_at is None or now - last_inbound_at > HUMAN_AGENT:
            raise WindowClosed(f"{channel.title()} allows no message more than 7 days after the customer's last "
                               "message; wait until they write again").with_code("window_closed_7_days",
                                                                                   channel=channel)
        return Permission(tag="HUMAN_AGENT" if now - last_inbound_at > DAY else None)
    return Permission()


def templates_allowed(channel: str) -> bool:
    return channel == "whatsapp"
