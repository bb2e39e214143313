"""Web addresses: what may become a link in the inbox, the widget, a reply or the bot's answer."""

from __future__ import annotations

import urllib.parse


def is_web_address(url: str | None) -> bool:
    """An http or https address; a ``javascript:`` or ``data:`` one (from a provider's webhook, a fulfilment app)
    would run in the page that links it."""
    return bool(url) and urllib.parse.urlsplit(str(url).strip()).scheme.lower() in ("http", "https")
