"""Telegram's Bot API sandbox (``/_sandbox/telegram``): ``/bot<token>/<method>`` and file downloads.

The token must be TELEGRAM_BOT_TOKEN (else 401 ``Unauthorized``). Parameters come as Telegram
takes them: query string, JSON, form or multipart (uploads). Methods (names case-insensitive):
``sendMessage`` (chat_id, text 1-4,096 characters, reply_parameters), ``sendPhoto`` and
``sendDocument`` (a URL, a file_id or an upload; caption up to 1,024), ``getFile`` (its
``file_path`` is then served at ``/file/bot<token>/<file_path>``: a small JPEG, different per
file; file ids ``big-*`` answer ``file is too big``, as files over 20 MB do), ``getMe``,
``sendChatAction``, ``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``,
``answerCallbackQuery``; anything else is 404. Answers have Telegram's shape,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description"}``. Magic chats:
``403403`` answers 403 ``Forbidden: bot was blocked by the user``, ``400400`` 400
``Bad Request: chat not found``. Faults injected for ``telegram`` answer the next method calls
(429 with ``parameters.retry_after: 1``). Every call is recorded in the outbox with the token
redacted from the URL and the parsed parameters under ``params``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
import threading
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any

from local.sandbox import Faults, Outbox, StreamedResponse, jpeg, redacted_headers, timestamp

log = logging.getLogger("sandbox")

MAX_TEXT = 4096
MAX_CAPTION = 1024
_METHOD = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_FILE = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
_MAGIC_CHATS = {
    "403403": (403, "Forbidden: bot was blocked by the user"),
    "400400": (400, "Bad Request: chat not found"),
}

Answer = tuple[int, dict[str, Any]]


class BotApiError(Exception):
    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.document: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            self.document["parameters"] = parameters


def _bad(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


class TelegramSandbox:
    def __init__(self, bot_token: str, outbox: Outbox, faults: Faults, now: Callable[[], datetime]) -> None:
        self.bot_token = bot_token
        self.outbox = outbox
        self.faults = faults
        self.now = now
        bot_id = bot_token.split(":", 1)[0]
        self.bot = {
            "id": int(bot_id) if bot_id.isdigit() else 123456789,
            "is_bot": True,
            "first_name": "Shopdesk",
            "username": "shopdesk_local_bot",
        }
        self._lock = threading.Lock()
        self._message_ids: dict[str, int] = {}  # per chat, as Telegram numbers them
        self._file_paths: dict[str, str] = {}  # file_id -> file_path
        self._served: set[str] = set()

    def handle(
        self, method: str, path: str, query: str, url: str, headers: dict[str, str], body: bytes
    ) -> StreamedResponse:
        """Serve one request to ``/_sandbox/telegram<path>`` and record it in the outbox."""
        params: dict[str, Any] = {}
        download: bytes | None = None
        try:
            params = _parameters(query, headers, body)
            found = _FILE.match(path)
            if found is not None and method in ("GET", "HEAD"):
                download = self._download(found.group("token"), found.group("path"))
                status, document = 200, {}
            else:
                status, document = self._call(path, params)
        except BotApiError as error:
            status, document = error.status, error.document
        self.outbox.add(
            {
                "provider": "telegram",
                "method": method,
                "url": re.sub(r"/bot[^/]+/", "/bot[redacted]/", url, count=1),
                "headers": redacted_headers(headers),
                "body": body.decode("utf-8", errors="replace"),
                "params": {k: v for k, v in params.items()},
                "response": {"status": status, "body": document if download is None else None}
                | ({"bytes": len(download)} if download is not None else {}),
                "received_at": timestamp(self.now()),
            }
        )
        if download is not None:
            return 200, {"Content-Type": "image/jpeg"}, download
        return status, {"Content-Type": "application/json"}, json.dumps(document).encode()

    # -- methods

    def _call(self, path: str, params: dict[str, Any]) -> Answer:
        found = _METHOD.match(path)
        if found is None:
            raise BotApiError(404, "Not Found")
        if found.group("token") != self.bot_token:
            raise BotApiError(401, "Unauthorized")
        fault = self.faults.take("telegram")
        if fault is not None:
            if fault == 429:
                raise BotApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            raise BotApiError(fault, HTTPStatus(fault).phrase)
        name = found.group("method").lower()
        action = self._methods.get(name)
        if action is None:
            raise BotApiError(404, "Not Found: method not found")
        return 200, {"ok": True, "result": action(self, params)}

    def _get_me(self, params: dict[str, Any]) -> Any:
        return self.bot

    def _true(self, params: dict[str, Any]) -> Any:
        return True

    def _chat_action(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        if not params.get("action"):
            raise _bad("action is empty")
        return True

    def _webhook_info(self, params: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _send_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > MAX_TEXT:
            raise _bad("message is too long")
        return {**self._message(chat, params), "text": text}

    def _send_photo(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        photo = params.get("photo")
        if not photo:
            raise _bad("there is no photo in the request")
        message = {**self._message(chat, params), "photo": self._photo_sizes(photo)}
        return self._with_caption(message, params)

    def _send_document(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        document = params.get("document")
        if not document:
            raise _bad("there is no document in the request")
        if isinstance(document, dict):
            name, size = str(document.get("filename") or "file"), int(document.get("size") or 0)
        else:
            name = urllib.parse.urlsplit(str(document)).path.rsplit("/", 1)[-1] or "file"
            size = 1024
        file_id = self._file_id("BQACAgIAAxkBAA", str(document))
        message = {
            **self._message(chat, params),
            "document": {
                "file_name": name,
                "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "file_id": file_id,
                "file_unique_id": _unique_id(file_id),
                "file_size": size,
            },
        }
        return self._with_caption(message, params)

    def _get_file(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise _bad("invalid file_id")
        if file_id.startswith("big-"):
            raise _bad("file is too big")
        with self._lock:
            if file_id not in self._file_paths:
                self._file_paths[file_id] = f"photos/file_{len(self._file_paths)}.jpg"
                self._served.add(self._file_paths[file_id])
            file_path = self._file_paths[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_size": len(_file_bytes(file_path)),
            "file_path": file_path,
        }

    def _download(self, token: str, file_path: str) -> bytes:
        with self._lock:
            known = file_path in self._served
        if token != self.bot_token or not known:
            raise BotApiError(404, "Not Found")
        return _file_bytes(file_path)

    _methods: dict[str, Callable[[TelegramSandbox, dict[str, Any]], Any]] = {
        "getme": _get_me,
        "sendmessage": _send_message,
        "sendphoto": _send_photo,
        "senddocument": _send_document,
        "getfile": _get_file,
        "sendchataction": _chat_action,
        "setwebhook": _true,
        "deletewebhook": _true,
        "getwebhookinfo": _webhook_info,
        "answercallbackquery": _true,
    }

    # -- helpers

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        text = str(chat_id)
        magic = _MAGIC_CHATS.get(text)
        if magic is not None:
            raise BotApiError(*magic)
        if re.fullmatch(r"-?\d+", text):
            number = int(text)
            kind = "private" if number > 0 else "supergroup" if text.startswith("-100") else "group"
            return {"id": number, "type": kind}
        if text.startswith("@"):
            return {"id": -1001000000000 - len(text), "type": "channel", "username": text[1:]}
        raise _bad("chat not found")

    def _message(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            number = self._message_ids.get(str(chat["id"]), 0) + 1
            self._message_ids[str(chat["id"])] = number
        date = int(self.now().timestamp())
        message: dict[str, Any] = {"message_id": number, "from": self.bot, "chat": chat, "date": date}
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except json.JSONDecodeError:
                raise _bad("can't parse reply parameters JSON object") from None
        replied = (reply or {}).get("message_id") if isinstance(reply, dict) else None
        replied = replied or params.get("reply_to_message_id")
        if replied:
            message["reply_to_message"] = {"message_id": int(replied), "chat": chat, "date": date}
        return message

    def _with_caption(self, message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if caption:
            if len(str(caption)) > MAX_CAPTION:
                raise _bad("message caption is too long")
            message["caption"] = str(caption)
        return message

    def _photo_sizes(self, photo: Any) -> list[dict[str, Any]]:
        source = json.dumps(photo, sort_keys=True) if isinstance(photo, dict) else str(photo)
        sizes = []
        for width, height, size in ((90, 90, 1140), (320, 320, 12138), (800, 800, 57833)):
            file_id = self._file_id(f"AgACAgIAAxkBAA{width}", source)
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": _unique_id(file_id),
                    "file_size": size,
                    "width": width,
                    "height": height,
                }
            )
        return sizes

    @staticmethod
    def _file_id(prefix: str, source: str) -> str:
        return prefix + hashlib.sha256(source.encode()).hexdigest()[:40]


def _file_bytes(file_path: str) -> bytes:
    return jpeg(f"telegram {file_path}")


def _unique_id(file_id: str) -> str:
    return "AQAD" + hashlib.sha1(file_id.encode()).hexdigest()[:12]  # noqa: S324 - an id, not security


def _parameters(query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Query string, then the body: JSON, form or multipart (files as {filename, size})."""
    params: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if not body:
        return params
    content_type = headers.get("content-type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        try:
            document = json.loads(body)
        except json.JSONDecodeError:
            raise _bad("can't parse JSON object") from None
        if not isinstance(document, dict):
            raise _bad("can't parse JSON object")
        params.update(document)
    elif kind == "multipart/form-data":
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                params[name] = {"filename": part.get_filename(), "size": len(payload)}
            else:
                params[name] = payload.decode("utf-8", errors="replace")
    else:
        params.update(urllib.parse.parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params
