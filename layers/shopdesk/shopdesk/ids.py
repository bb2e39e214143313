"""Time-sortable identifiers (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32)."""

from __future__ import annotations

import os
import re

from shopdesk import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    millis = int(clock.now().timestamp() * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return prefix + "".join(reversed(chars))


# What a provider carries back for us (a Twilio StatusCallback parameter, WhatsApp's biz_opaque_callback_data, an
# SES message tag, Messenger's message metadata): where the reply is and which part, in the characters all of them
# accept (SES tag values take only letters, digits, "_" and "-"):
# <conversation id>-<the message key's instant, digits>-<message id>-<part>.
_REFERENCE = re.compile(r"^([A-Za-z0-9_]{1,64})-(\d{17})-([A-Za-z0-9_]{1,64})-(\d{1,3})$")


def send_reference(conversation_id: str, message_sk: str, part: int) -> str:
    instant, _, message_id = message_sk.partition("#")[2].rpartition("#")
    return f"{conversation_id}-{''.join(c for c in instant if c.isdigit())}-{message_id}-{part}"


def parse_reference(reference: str | None) -> tuple[str, str, int] | None:
    """(conversation id, message sort key, part) of a reference ``send_reference`` made; None for anything else."""
    match = _REFERENCE.match(reference or "")
    if match is None:
        return None
    conversation_id, d, message_id, part = match.groups()
    instant = f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}.{d[14:17]}Z"
    return conversation_id, f"MSG#{instant}#{message_id}", int(part)
