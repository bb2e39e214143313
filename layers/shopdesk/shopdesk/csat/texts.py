"""The survey's words in the seven customer languages (``templates/csat.json``; English when one is missing)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("en", "es", "pt", "de", "tr", "id", "sk")


@cache
def _texts() -> dict[str, dict[str, Any]]:
    raw = json.loads(resources.files("shopdesk").joinpath("templates/csat.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def language_of(*candidates: str | None) -> str:
    """The first candidate the survey has words in (the conversation's language, then the shop's), else English."""
    for candidate in candidates:
        code = (candidate or "").split("-")[0].lower()
        if code in _texts():
            return code
    return "en"


def text(language: str, key: str) -> str:
    table = _texts().get(language, _texts()["en"])
    return str(table.get(key, _texts()["en"][key]))


def choices(language: str) -> list[dict[str, str]]:
    """The five buttons, worst first: ``csat:1`` .. ``csat:5`` (what ``parse`` reads back)."""
    titles = _texts().get(language, _texts()["en"])["choices"]
    return [{"id": f"csat:{score}", "title": title} for score, title in enumerate(titles, start=1)]
