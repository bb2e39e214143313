"""What each provider can carry as an outbound file: one table, the providers' documented numbers.

A reply's files are checked against this table before the reply is queued (``logic/attachments.py``: a
file the channel cannot carry is a 422 naming the channel and the limit), and the dispatcher cuts a reply
into the provider messages the table allows (``parts``): one message per file where the provider takes one,
in order, so that a retry resumes after the last part that went out.

Sources (the numbers below are theirs; the shop-wide cap ``MAX_FILE_BYTES`` comes first):

- Twilio Messaging, "Accepted content types for media" and PROVIDERS.md: MMS at most 10 ``MediaUrl`` and
  5 MB in all; jpeg/png/gif up to 5 MB (Twilio resizes them), other types 500 KB.
- Twilio, "Guidance on WhatsApp media messages": 16 MB per message, images 5 MB; images jpg/png, audio
  ogg/amr/3gp/aac/mpeg, video mp4, documents pdf/doc/docx/pptx/xlsx; no caption or filename on documents;
  one media per WhatsApp message (Twilio error 11751 asks to split).
- WhatsApp Cloud API, "Supported media types": image jpeg/png 5 MB; video mp4/3gpp 16 MB; audio
  aac/amr/mpeg/mp4/ogg 16 MB; document txt/pdf/doc(x)/xls(x)/ppt(x) 100 MB; one media object per
  message, caption up to 1,024 characters on image, video and document.
- Messenger Platform Send API: one attachment per message (image, video, audio, file), 25 MB, no caption.
- Instagram Messaging, "Upload media": image png/jpeg/gif 8 MB; video mp4/ogg/avi/mov/webm 25 MB; audio
  aac/m4a/wav/mp4 25 MB; file pdf 25 MB; one attachment per message, no caption.
- Telegram Bot API, "Sending files": by URL photos 5 MB and other files 20 MB (``sendDocument`` by URL
  only for GIF, PDF and ZIP; other documents are uploaded as multipart, 50 MB); caption 0-1,024 characters.
- Amazon SES v2 ``SendEmail``: 40 MB per raw message, base64 included (so about 29 MB of files).
- The web-chat widget: our own store; the widget's upload limits (``channels/webchat.py``) apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from shopdesk.channels.base import OutboundFile, OutboundRequest

KB = 1_000
MB = 1_000_000

# The shop's own cap for any outbound file, whatever the channel (the dispatcher reads email and Telegram
# document files into memory; 25 MB is the largest any chat channel but WhatsApp documents takes).
MAX_FILE_BYTES = 25 * MB
MAX_FILES_PER_REPLY = 10

IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
OFFICE = ("application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "application/vnd.ms-powerpoint",
          "application/vnd.openxmlformats-officedocument.presentationml.presentation")
DOCUMENTS = ("application/pdf", "text/plain", "text/csv", *OFFICE)
AUDIO = ("audio/mpeg", "audio/mp4", "audio/aac", "audio/ogg", "audio/amr", "audio/wav")
VIDEO = ("video/mp4", "video/3gpp", "video/quicktime", "video/webm")
# What an agent may upload at all: files a customer can open safely (no HTML, SVG or scripts).
UPLOAD_TYPES = frozenset((*IMAGES, *DOCUMENTS, "text/vcard", "application/zip", *AUDIO, *VIDEO))


@dataclass(frozen=True)
class Rule:
    """Files of these types, up to ``max_bytes`` each, sent as the provider's ``kind``."""

    kind: str                        # image, video, audio, document (the provider's own word is the sender's)
    types: frozenset[str]
    max_bytes: int
    caption: bool = False            # the message's text may ride with it


def _rule(kind: str, types: Sequence[str], max_bytes: int, caption: bool = False) -> Rule:
    return Rule(kind, frozenset(types), max_bytes, caption)


@dataclass(frozen=True)
class ChannelLimits:
    name: str                        # what the agent reads: "SMS (Twilio MMS)"
    rules: tuple[Rule, ...]
    files_per_message: int           # 1: one provider message per file
    max_message_bytes: int | None    # all files of one provider message together
    caption_chars: int = 0           # a longer text goes in its own message first
    max_files: int = MAX_FILES_PER_REPLY
    text_chars: int = 1600           # the longest reply text the provider takes (or the adapter splits) in one send

    def rule(self, content_type: str) -> Rule | None:
        return next((r for r in self.rules if content_type in r.types), None)

    def accepted_types(self) -> list[str]:
        return sorted({t for r in self.rules for t in r.types})


MAX_REPLY_CHARS = 10_000       # the longest reply on any channel (an email): what a template renders (logic/render.py)
TEMPLATE_PARAMETER_CHARS = 1024  # a WhatsApp template's parameter, as typed (the agent API) and as sent, masked


TWILIO_MMS = ChannelLimits(
    "SMS (Twilio MMS)",
    (_rule("image", ("image/jpeg", "image/png", "image/gif"), 5 * MB, caption=True),
     _rule("document", ("application/pdf", "text/vcard", "text/plain", "text/csv", "audio/mpeg", "audio/mp4",
                        "video/mp4", "video/3gpp"), 500 * KB, caption=True)),
    files_per_message=10, max_message_bytes=5 * MB, caption_chars=1600, text_chars=1600)   # Twilio's Body
TWILIO_WHATSAPP = ChannelLimits(
    "WhatsApp (Twilio)",
    (_rule("image", ("image/jpeg", "image/png"), 5 * MB, caption=True),
     _rule("audio", ("audio/ogg", "audio/amr", "audio/aac", "audio/mpeg"), 16 * MB),
     _rule("video", ("video/mp4",), 16 * MB, caption=True),
     _rule("document", ("application/pdf", *OFFICE), 16 * MB)),
    files_per_message=1, max_message_bytes=16 * MB, caption_chars=1600, text_chars=1600)   # Twilio's Body
WHATSAPP_CLOUD = ChannelLimits(
    "WhatsApp (Cloud API)",
    (_rule("image", ("image/jpeg", "image/png"), 5 * MB, caption=True),
     _rule("video", ("video/mp4", "video/3gpp"), 16 * MB, caption=True),
     _rule("audio", ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MB),
     _rule("document", DOCUMENTS, 100 * MB, caption=True)),
    files_per_message=1, max_message_bytes=None, caption_chars=1024, text_chars=4096)      # text.body
MESSENGER = ChannelLimits(
    "Messenger",
    (_rule("image", ("image/jpeg", "image/png", "image/gif"), 25 * MB),
     _rule("video", VIDEO, 25 * MB),
     _rule("audio", AUDIO, 25 * MB),
     _rule("file", (*DOCUMENTS, "application/zip"), 25 * MB)),
    files_per_message=1, max_message_bytes=None, text_chars=2000)         # the Send API's message.text
INSTAGRAM = ChannelLimits(
    "Instagram",
    (_rule("image", ("image/jpeg", "image/png", "image/gif"), 8 * MB),
     _rule("video", ("video/mp4", "video/ogg", "video/quicktime", "video/webm"), 25 * MB),
     _rule("audio", ("audio/aac", "audio/mp4", "audio/wav"), 25 * MB),
     _rule("file", ("application/pdf",), 25 * MB)),
    files_per_message=1, max_message_bytes=None, text_chars=1000)         # Instagram's message.text
TELEGRAM = ChannelLimits(
    "Telegram",
    (_rule("photo", ("image/jpeg", "image/png", "image/webp"), 5 * MB, caption=True),
     _rule("document", ("application/pdf", "image/gif", "application/zip"), 20 * MB, caption=True),
     _rule("upload", (*DOCUMENTS[1:], "text/vcard", *AUDIO, *VIDEO), 50 * MB, caption=True)),
    files_per_message=1, max_message_bytes=None, caption_chars=1024,
    text_chars=4 * 4096)             # sendMessage takes 4096; the adapter splits a longer text (telegram.split_text)
EMAIL = ChannelLimits(
    "Email (SES)",
    (_rule("attachment", tuple(UPLOAD_TYPES), MAX_FILE_BYTES, caption=True),),
    files_per_message=MAX_FILES_PER_REPLY, max_message_bytes=40 * MB * 3 // 4 - 1 * MB, caption_chars=100_000,
    text_chars=MAX_REPLY_CHARS)
WEBCHAT = ChannelLimits(
    "Web chat",
    (_rule("file", ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain"),
           10 * MB, caption=True),),
    files_per_message=MAX_FILES_PER_REPLY, max_message_bytes=None, caption_chars=100_000,
    text_chars=5000)                 # what the widget takes from the visitor too (webchat.MAX_TEXT)

# (provider, channel) -> limits; a channel without a row carries no files.
LIMITS: dict[tuple[str, str], ChannelLimits] = {
    ("twilio", "sms"): TWILIO_MMS,
    ("twilio", "whatsapp"): TWILIO_WHATSAPP,
    ("whatsapp_cloud", "whatsapp"): WHATSAPP_CLOUD,
    ("messenger", "messenger"): MESSENGER,
    ("instagram", "instagram"): INSTAGRAM,
    ("telegram", "telegram"): TELEGRAM,
    ("email", "email"): EMAIL,
    ("webchat", "webchat"): WEBCHAT,
}


def limits_for(provider: str | None, channel: str) -> ChannelLimits | None:
    return LIMITS.get((provider or "twilio", channel))


DEFAULT_TEXT_CHARS = 1600      # a channel without a row: held to Twilio's Body, the shortest common limit


def text_chars(limits: ChannelLimits | None) -> int:
    """The longest text the channel takes in one reply: an agent's reply is refused beyond it (``text_refusal``),
    the bot's answer is cut to it (``shopdesk.bot.fit``)."""
    return limits.text_chars if limits is not None else DEFAULT_TEXT_CHARS


def text_refusal(limits: ChannelLimits | None, text: str | None) -> str | None:
    """Why the channel cannot carry this reply's text in one send (the reason in words), or None. The provider
    would refuse it (Twilio's 21617) or cut it; the agent shortens it, or splits it, before anything is queued."""
    most = text_chars(limits)
    if text is None or len(text) <= most:
        return None
    name = limits.name if limits is not None else "this channel"
    return f"the reply is {len(text):,} characters; {name} takes at most {most:,} in one message: shorten it"


def megabytes(size: int) -> str:
    if size < MB:
        return f"{size // KB} KB"
    return f"{size / MB:.1f}".rstrip("0").rstrip(".") + " MB"


def refusal(limits: ChannelLimits | None, channel: str, files: Sequence[OutboundFile]) -> tuple[str, str] | None:
    """Why the channel cannot carry these files (the reason, and the limit in words), or None."""
    if not files:
        return None
    if limits is None:
        return f"{channel} cannot carry files", "no attachments"
    if len(files) > limits.max_files:
        return (f"{limits.name} takes at most {limits.max_files} files in one reply",
                f"{limits.max_files} files")
    for file in files:
        kind = file.content_type or "application/octet-stream"
        rule = limits.rule(kind)
        if rule is None:
            return (f"{limits.name} cannot carry {file.filename or 'the file'} (type {kind}); it takes "
                    f"{', '.join(limits.accepted_types())}", f"types: {', '.join(limits.accepted_types())}")
        if (file.size or 0) > rule.max_bytes:
            return (f"{file.filename or 'the file'} is {megabytes(file.size or 0)}; {limits.name} takes "
                    f"{kind} files of at most {megabytes(rule.max_bytes)}", megabytes(rule.max_bytes))
    if limits.max_message_bytes is not None:
        for group in _groups(list(files), limits.files_per_message):
            total = sum(f.size or 0 for f in group)
            if total > limits.max_message_bytes:
                return (f"the files come to {megabytes(total)}; {limits.name} takes at most "
                        f"{megabytes(limits.max_message_bytes)} in one message",
                        megabytes(limits.max_message_bytes))
    return None


def _groups(files: list[OutboundFile], size: int) -> list[list[OutboundFile]]:
    return [files[i:i + size] for i in range(0, len(files), size)] or [[]]


def parts(request: OutboundRequest, limits: ChannelLimits | None) -> list[OutboundRequest]:
    """The provider messages one reply becomes, in order. A template, or a reply without files, is one part.
    Files go ``files_per_message`` at a time; the text rides with the first one when that file's kind takes a
    caption and the text fits, otherwise it is a message of its own before the files. The same reply always
    gives the same parts, so a retry can resume after the parts already sent."""
    files = list(request.files)
    if request.template is not None or not files or limits is None:
        return [request]
    text = request.text or None
    groups = _groups(files, limits.files_per_message)
    first_rule = limits.rule(groups[0][0].content_type or "")
    captioned = bool(text) and first_rule is not None and first_rule.caption \
        and len(text or "") <= limits.caption_chars
    result: list[OutboundRequest] = []
    if text and not captioned:
        result.append(replace(request, files=(), media_urls=()))
    for index, group in enumerate(groups):
        result.append(replace(request, files=tuple(group), media_urls=(),
                              text=text if index == 0 and captioned else None,
                              reply_context=request.reply_context if not result else None))
    return result
