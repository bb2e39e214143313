"""Canned responses: shared ones (admins write them), personal ones (each agent their own), found by
shortcode and title as an agent types ``/ret...`` in the composer, and counted when used.

- Shared: ``PUT/GET/DELETE /admin/canned-responses/{id}`` (admins write; supervisors and admins read, with
  the usage counts, least used first, so unused ones can be retired).
- Personal: ``PUT/DELETE /agent/canned-responses/{id}`` write the caller's own; nobody else reads or
  changes them (they live in the caller's own partition).
- Search (``GET /agent/canned-responses?q=``): the shared ones and the caller's own, ranked shortcode
  prefix, then shortcode containing the text, then title, then a body in any language; case and accents
  are ignored ("envio" finds "envío"). Two Queries (the shared partition, the caller's), filtered in memory:
  a shop has tens to a few hundred, read in one page each.
- Every body is checked as a template when written (syntax, known variables), so a broken one is refused at
  once rather than when an agent uses it; and its language must be one conversations are detected in
  (``CUSTOMER_LANGUAGES``): a body in another would never be chosen (422 naming it).
- A shortcode is one of a kind among the shared ones, and among each agent's own (409 ``shortcode_taken`` naming
  the response that has it, shopdesk.logic.unique); a personal one may share a shared one's (the agent's is
  listed first).
- The body for a conversation: the customer's language (detected, ``Conversation.language``), else the
  shop's default language, else English, else the first written.
- A reply by id looks for the caller's personal one first, then a shared one.
- A response a macro replies with is not deleted (409 naming the macros): the macro would be refused each time
  it is applied. Shared: the shared macros; personal: the caller's own.
- Files (``attachments``): uploaded first (``POST /agent/attachments`` without a conversation, under the
  writer's ``media/library/<agent>/``), checked as stored when the response is written (HeadObject, first
  bytes; the files it has already are kept as they are), and sent with every reply that uses it, after the
  reply's channel limits are checked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from shopdesk.dal.canned import CannedResponses
from shopdesk.dal.config import ConfigStore
from shopdesk.dal.macros import Macros
from shopdesk.dal.table import ConditionFailed
from shopdesk.errors import BadRequest, Conflict, NotFound, version_conflict
from shopdesk.logic import render
from shopdesk.logic.access import ADMIN, SUPERVISOR, Caller, require
from shopdesk.logic.admin import LANGUAGE, refuse_unknown
from shopdesk.logic.attachments import Attachments, FileRef, library_prefix
from shopdesk.logic.unique import refuse_taken
from shopdesk.models.admin import CUSTOMER_LANGUAGES
from shopdesk.models.canned import CannedContent, CannedFile, CannedResponse, Scope
from shopdesk.privacy import audit
from shopdesk.privacy.settings import PrivacyPolicies

SEARCH_LIMIT = 20


@dataclass
class CannedLibrary:
    store: CannedResponses
    files: Attachments | None = field(default=None)      # None: no media bucket, no attachments
    macros: Macros | None = field(default=None)          # the macros that may reply with a response: a delete asks
    privacy: PrivacyPolicies | None = field(default=None)  # masking of title and bodies (without: read from the table)

    def __post_init__(self) -> None:
        if self.privacy is None:
            self.privacy = PrivacyPolicies(ConfigStore(self.store.table))

    # ------------------------------------------------------------------ shared (admin API)
    def put_shared(self, caller: Caller, response_id: str, content: CannedContent,
                   expected_version: int | None = None) -> CannedResponse:
        require(caller.roles, ADMIN)
        _check_bodies(content)
        self._shortcode_free("shared", None, response_id, content)
        return self._put("shared", None, response_id,
                         self._checked_files(caller, "shared", None, response_id, content), caller, expected_version)

    def _put(self, scope: Scope, owner: str | None, response_id: str, content: CannedContent, caller: Caller,
             expected_version: int | None) -> CannedResponse:
        """Saved; with ``expected_version`` only over that version (0: a new one): Conflict when someone saved it
        meanwhile (or, with 0, when it exists). The audit record has its before and after (``_audited``). The bodies,
        text sent to customers, are stored masked as a reply is (``PrivacyPolicies.masked_sent``: card numbers and the
        shop's patterns, an IBAN kept, the shop's, given to be paid); the title, which only agents read, as a note is
        (``PrivacyPolicies.masked``); its files' names as a file's name is (``PrivacyPolicies.masked_name``)."""
        if self.privacy is not None:
            masked, sent, named = self.privacy.masked, self.privacy.masked_sent, self.privacy.masked_name
            content = content.model_copy(update={
                "title": masked(content.title)[0],
                "bodies": {language: sent(body)[0] for language, body in content.bodies.items()},
                "attachments": [f.model_copy(update={"filename": named(f.filename)}) for f in content.attachments]})
        try:
            before, saved = self.store.put(scope, owner, response_id, content, caller.id, expected_version)
        except ConditionFailed as exc:
            current = self.store.get(scope, owner, response_id)
            raise version_conflict("canned response", response_id, expected_version,
                                   current.version if current else 0) from exc
        audit.note(before=_audited(before), after=_audited(saved))
        return saved

    def _shortcode_free(self, scope: Scope, owner: str | None, response_id: str, content: CannedContent) -> None:
        """Conflict ``shortcode_taken`` when another response of the scope (and owner) has the shortcode: typing
        ``/wis`` would offer two the same."""
        refuse_taken("canned response", content.shortcode, response_id,
                     [(r.id, r.shortcode) for r in self.store.list(scope, owner)], field="shortcode")

    def list_shared(self, caller: Caller) -> list[CannedResponse]:
        """Least used first, then by shortcode: what to retire is at the top."""
        require(caller.roles, ADMIN, SUPERVISOR)
        return sorted(self.store.list("shared", None), key=lambda r: (r.uses, r.shortcode, r.id))

    def get_shared(self, caller: Caller, response_id: str) -> CannedResponse:
        require(caller.roles, ADMIN, SUPERVISOR)
        return _found(self.store.get("shared", None, response_id), response_id)

    def delete_shared(self, caller: Caller, response_id: str) -> None:
        require(caller.roles, ADMIN)
        self._delete("shared", None, response_id)

    # ------------------------------------------------------------------ personal (agent API)
    def put_personal(self, caller: Caller, response_id: str, content: CannedContent,
                     expected_version: int | None = None) -> CannedResponse:
        _check_bodies(content)
        self._shortcode_free("personal", caller.id, response_id, content)
        return self._put("personal", caller.id, response_id,
                         self._checked_files(caller, "personal", caller.id, response_id, content), caller,
                         expected_version)

    def _checked_files(self, caller: Caller, scope: Scope, owner: str | None, response_id: str,
                       content: CannedContent) -> CannedContent:
        """The content with its files as stored: new ones must be the writer's uploads and are checked; the
        response's current files are kept as they are (another admin may have uploaded them)."""
        if not content.attachments:
            return content
        if self.files is None:
            raise BadRequest("attachments are not available here (no media bucket is configured)")
        current = self.store.get(scope, owner, response_id)
        known = [f.attachment() for f in current.attachments] if current else []
        refs = [FileRef(f.key, f.filename, f.content_type, f.size) for f in content.attachments]
        checked = self.files.confirm(refs, [library_prefix(caller.id)], known=known)
        return content.model_copy(update={"attachments": [CannedFile.of(a) for a in checked]})

    def delete_personal(self, caller: Caller, response_id: str) -> None:
        self._delete("personal", caller.id, response_id)

    def _delete(self, scope: Scope, owner: str | None, response_id: str) -> None:
        """Deleted unless a macro replies with it; the audit record has what it was."""
        current = self.store.get(scope, owner, response_id)
        if current is None:
            raise _missing(response_id)
        self._not_replied_with(scope, owner, response_id)
        if not self.store.delete(scope, owner, response_id):
            raise _missing(response_id)
        audit.note(before=_audited(current))

    def _not_replied_with(self, scope: Scope, owner: str | None, response_id: str) -> None:
        """Conflict naming the macros of this scope (and owner) that reply with the response, if any."""
        if self.macros is None:
            return
        users = sorted(m.name for m in self.macros.list(scope, owner)
                       if any(getattr(a, "canned_response_id", None) == response_id for a in m.actions))
        if users:
            which = ", ".join(f"'{name}'" for name in users)
            many = len(users) > 1
            raise Conflict(f"canned response {response_id} is the reply of the {scope} macro{'s' if many else ''} "
                           f"{which}: change or delete {'them' if many else 'it'} first")

    # ------------------------------------------------------------------ finding and using
    def search(self, caller: Caller, q: str | None, limit: int = SEARCH_LIMIT) -> list[CannedResponse]:
        everything = self.store.list("personal", caller.id) + self.store.list("shared", None)
        wanted = _fold((q or "").strip().lstrip("/"))
        ranked = []
        for response in everything:
            rank = _rank(response, wanted)
            if rank is not None:
                ranked.append((rank, response.shortcode, response.scope != "personal", response.id, response))
        ranked.sort(key=lambda entry: entry[:4])
        return [entry[-1] for entry in ranked[:limit]]

    def for_reply(self, caller: Caller, response_id: str) -> CannedResponse:
        """The caller's personal one with this id, else the shared one; NotFound otherwise."""
        found = self.store.get("personal", caller.id, response_id) or self.store.get("shared", None, response_id)
        return _found(found, response_id)

    def count_use(self, response: CannedResponse) -> None:
        self.store.count_use(response.scope, response.owner, response.id)


def body_for(response: CannedResponse, language: str | None, default_language: str) -> str:
    """The body in the customer's language, else the shop's default, else English, else the first one."""
    return chosen_body(response, language, default_language)[1]


def chosen_body(response: CannedResponse, language: str | None, default_language: str) -> tuple[str, str]:
    """The language of the body ``body_for`` chooses, with the body (the variables are said in it)."""
    for code in (_code(language), _code(default_language), "en"):
        if code and code in response.bodies:
            return code, response.bodies[code]
    return next(iter(response.bodies.items()))


def _code(language: str | None) -> str | None:
    return language.split("-")[0].split("_")[0].lower() if language else None


def _rank(response: CannedResponse, wanted: str) -> int | None:
    if not wanted:
        return 0
    shortcode = _fold(response.shortcode)
    if shortcode.startswith(wanted):
        return 0
    if wanted in shortcode:
        return 1
    if wanted in _fold(response.title):
        return 2
    if any(wanted in _fold(body) for body in response.bodies.values()):
        return 3
    return None


def _fold(text: str) -> str:
    """Lower case without accents: "Envío" → "envio"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _audited(response: CannedResponse | None) -> dict[str, Any] | None:
    """What the audit trail keeps of a canned response: its settings, and of its bodies and files only a
    fingerprint each (which changed; the words stay out of the trail, docs/security.md)."""
    if response is None:
        return None
    return {"title": response.title, "shortcode": response.shortcode,
            "bodies": {language: audit.fingerprint(body) for language, body in sorted(response.bodies.items())},
            "files": [audit.fingerprint(f.key) for f in response.attachments], "version": response.version}


def _check_bodies(content: CannedContent) -> None:
    """Each body a language conversations are detected in (else it is never chosen: 422 naming it), and a template
    the renderer takes."""
    refuse_unknown(*((("bodies", language), [language], CUSTOMER_LANGUAGES, LANGUAGE) for language in content.bodies))
    for language, body in content.bodies.items():
        try:
            render.check(body)
        except render.TemplateInvalid as exc:
            raise render.TemplateInvalid(f"bodies.{language}: {exc}") from exc


def _found(response: CannedResponse | None, response_id: str) -> CannedResponse:
    if response is None:
        raise _missing(response_id)
    return response


def _missing(response_id: str) -> NotFound:
    return NotFound(f"canned response {response_id} does not exist")
