"""Personalised replies and canned responses over the real agent and admin handlers on moto: variables
rendered before queuing (orders from the commerce sandbox), 422 naming missing values, preview, canned
responses shared and personal, found by shortcode first, in the customer's language, counted when used."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.helpers import agent, customer_writes, post_twilio
from tests.integration.test_commerce import agent_call, sandbox, shop  # noqa: F401 (fixtures)
from tests.support import http_event, twilio_form

TRACKING = "https://www.ups.com/track?tracknum=1Z999AA10123456784"


def whatsapp_from(desk: Any, phone: str, name: str, text: str, sid: str) -> str:
    """A WhatsApp message with the profile name WhatsApp gives; the router classifies it (language)."""
    result = post_twilio(desk, twilio_form(MessageSid=sid, From=f"whatsapp:{phone}", To="whatsapp:+14155550100",
                                           Body=text, ProfileName=name))
    assert result["statusCode"] == 200, result
    desk.drain_queue(desk.work_queue_url, "router")
    return desk.item(f"IDENTITY#phone#{phone}")["open_conversation_id"]


def admin(desk: Any, method: str, path: str, body: Any = None, groups: str = "[admins]") -> tuple[int, Any]:
    claims = {"cognito:username": "root", "name": "Root", "cognito:groups": groups}
    event = http_event(method, path, json.dumps(body) if body is not None else None,
                       {"content-type": "application/json"}, claims=claims)
    result = desk.invoke("admin_api", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def outbound(desk: Any, conv: str) -> list[dict[str, Any]]:
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")
    return [m for m in body["messages"] if m["direction"] == "outbound" and m["kind"] == "text"]


def queued(desk: Any) -> int:
    attributes = desk.client("sqs").get_queue_attributes(QueueUrl=desk.outbound_queue_url,
                                                         AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


# ------------------------------------------------------------------------------ personalised replies

def test_a_reply_is_rendered_with_the_customer_the_named_order_and_its_tracking(desk, shop):  # noqa: F811
    # Given Dana asks about order #1001 (shipped with UPS tracking) on WhatsApp
    conv = whatsapp_from(desk, "+14155550101", "Dana Rivera", "Hi, where is my order #1001?", "SM" + "d1" * 16)
    text = ("Hi {{customer.first_name}}, order {{order.name}} is {{order.status}}: {{order.tracking_url}} "
            "({{order.tracking_number}}). {{agent.first_name}}, {{shop.name}}")
    # When the agent previews, then sends it
    status, preview = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/preview", body={"text": text})
    assert status == 200, preview
    status, message = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/replies", body={"text": text})
    # Then what is stored and queued is the rendered text, the same as the preview
    assert status == 202, message
    expected = (f"Hi Dana, order #1001 is in transit: {TRACKING} (1Z999AA10123456784). Alice, Example Shop")
    assert preview["text"] == message["text"] == expected
    assert [m["text"] for m in outbound(desk, conv)] == [expected]


def test_the_most_recent_order_when_none_is_named(desk, shop):  # noqa: F811
    conv = whatsapp_from(desk, "+14155550101", "Dana Rivera", "Hello, any news?", "SM" + "d2" * 16)
    status, preview = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/preview",
                                 body={"text": "{{order.name}}"})
    assert status == 200 and preview["text"] == "#1004", preview


def test_an_order_number_someone_types_never_fills_in_another_customers_order(desk, shop):  # noqa: F811
    # Given someone with no orders who writes Dana's order number (shipped, with its UPS tracking)
    conv = whatsapp_from(desk, "+14155550109", "Mallory", "Where is my order #1001?", "SM" + "d9" * 16)
    # When the agent answers with the order's variables
    status, preview = agent_call(desk, shop, "POST", f"/agent/conversations/{conv}/preview",
                                 body={"text": "{{order.name}} is {{order.status}}: {{order.tracking_url}}"})
    # Then nothing of Dana's order is filled in: the writer has no order of their own, so the values are missing
    assert status == 422 and body_missing(preview) == ["order.name", "order.status", "order.tracking_url"], preview
    assert TRACKING not in json.dumps(preview) and "#1001" not in json.dumps(preview)


def body_missing(body: dict[str, Any]) -> list[str]:
    return list(body.get("missing") or [])


def test_missing_values_are_a_422_naming_them_and_nothing_is_sent(desk):
    # Given an SMS customer (no name) and no shop platform (no order)
    conv = customer_writes(desk, "+31612349001", "where is it", "SM" + "e1" * 16)
    before = queued(desk)
    text = "Hi {{customer.first_name}}, track it at {{order.tracking_url}}"
    for path in ("replies", "preview"):
        status, body = agent(desk, "POST", f"/agent/conversations/{conv}/{path}", "alice", {"text": text},
                             groups="[admins]")
        assert status == 422, body
        assert body["code"] == "missing_variables"
        assert body["missing"] == ["customer.first_name", "order.tracking_url"]
        assert "customer.first_name, order.tracking_url" in body["detail"]
    # Then nothing was queued or stored; a fallback makes it sendable
    assert queued(desk) == before and outbound(desk, conv) == []
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                         {"text": 'Hi {{customer.first_name | default: "there"}}!'}, groups="[admins]")
    assert status == 202 and body["text"] == "Hi there!"


@pytest.mark.parametrize("text,words", [
    ("{{ ''.__class__ }}", "not a valid template"),
    ("{{ customer.email }}", "unknown variable customer.email"),
    ("Hi {{ customer.first_name", "expected '}}'"),
])
def test_bad_templates_are_a_422_in_words(desk, text, words):
    conv = customer_writes(desk, "+31612349002", "hi", "SM" + "e2" * 16)
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", {"text": text},
                         groups="[admins]")
    assert status == 422 and body["code"] == "invalid_template" and words in body["detail"], body


def test_text_and_canned_response_together_or_neither_is_a_422(desk):
    conv = customer_writes(desk, "+31612349003", "hi", "SM" + "e3" * 16)
    for body in ({"text": "hi", "canned_response_id": "x"}, {}):
        status, answer = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice", body, groups="[admins]")
        assert status == 422 and "either text or canned_response_id" in answer["detail"]


# ------------------------------------------------------------------------------ canned responses

RETURNS = {"title": "Returns policy", "shortcode": "returns",
           "bodies": {"en": "Hi {{customer.first_name | default: \"there\"}}, returns are free for 30 days.",
                      "es": "Hola {{customer.first_name | default: \"\"}}, las devoluciones son gratis 30 días."}}
TRACK = {"title": "Where is my order (return label too)", "shortcode": "track",
         "bodies": {"en": "{{order.name}}: {{order.tracking_url}}"}}


def test_shared_canned_responses_are_admin_managed(desk):
    # Admins write; supervisors read; agents neither
    assert admin(desk, "PUT", "/admin/canned-responses/returns", RETURNS)[0] == 200
    assert admin(desk, "PUT", "/admin/canned-responses/returns", RETURNS, groups="[supervisors]")[0] == 403
    status, listed = admin(desk, "GET", "/admin/canned-responses", groups="[supervisors]")
    assert status == 200 and [(r["id"], r["uses"], r["scope"]) for r in listed["items"]] == [("returns", 0, "shared")]
    status, one = admin(desk, "GET", "/admin/canned-responses/returns")
    assert status == 200 and one["bodies"] == RETURNS["bodies"] and one["updated_by"] == "root"
    # a broken body is refused when written, not when used
    broken = {**RETURNS, "bodies": {"en": "Hi {{customer.phone}}"}}
    status, body = admin(desk, "PUT", "/admin/canned-responses/broken", broken)
    assert status == 422 and "bodies.en" in body["detail"] and "customer.phone" in body["detail"]
    assert admin(desk, "PUT", "/admin/canned-responses/bad", {**RETURNS, "bodies": {}})[0] == 422
    # delete: gone, and a second delete is a 404
    assert admin(desk, "DELETE", "/admin/canned-responses/returns")[0] == 204
    assert admin(desk, "DELETE", "/admin/canned-responses/returns")[0] == 404
    assert admin(desk, "GET", "/admin/canned-responses/returns")[0] == 404


def test_a_second_shared_response_with_a_shortcode_taken_is_a_409_naming_the_one_that_has_it(desk):
    # Given a shared response /wis
    wis = {"title": "Where is my order", "shortcode": "wis", "bodies": {"en": "It is on its way."}}
    assert admin(desk, "PUT", "/admin/canned-responses/wis-1", wis)[0] == 200
    # When another is saved with the same shortcode
    status, problem = admin(desk, "PUT", "/admin/canned-responses/wis-2", {**wis, "title": "WISMO"})
    # Then it is refused naming the shortcode and the response that has it, and nothing is saved
    assert status == 409, problem
    assert (problem["code"], problem["params"]) == ("shortcode_taken", {"shortcode": "wis", "id": "wis-1"})
    assert admin(desk, "GET", "/admin/canned-responses/wis-2")[0] == 404
    # while the response itself saves again, an agent's own may share it, and two of one agent's may not
    assert admin(desk, "PUT", "/admin/canned-responses/wis-1", {**wis, "title": "Where is it"})[0] == 200
    assert agent(desk, "PUT", "/agent/canned-responses/mine", "alice", wis)[0] == 200
    status, problem = agent(desk, "PUT", "/agent/canned-responses/mine-2", "alice", wis)
    assert status == 409 and problem["params"] == {"shortcode": "wis", "id": "mine"}


def test_a_body_in_a_language_conversations_are_never_in_is_a_422_at_that_body(desk):
    # When an admin writes a body in a language shopdesk does not detect (it would never be chosen)
    status, problem = admin(desk, "PUT", "/admin/canned-responses/wis",
                            {"title": "Where", "shortcode": "wis", "bodies": {"en": "On its way.", "xx": "?"}})
    # Then the body is named, with the languages there are, and nothing is saved
    assert status == 422, problem
    [error] = problem["errors"]
    assert error["loc"] == ["body", "bodies", "xx"] and "'xx'" in error["msg"] and "es, pt" in error["msg"]
    assert admin(desk, "GET", "/admin/canned-responses/wis")[0] == 404


def test_search_puts_shortcode_matches_first_and_personal_ones_stay_personal(desk):
    assert admin(desk, "PUT", "/admin/canned-responses/returns", RETURNS)[0] == 200
    assert admin(desk, "PUT", "/admin/canned-responses/track", TRACK)[0] == 200
    mine = {"title": "Retoure (DE)", "shortcode": "retoure", "bodies": {"de": "Die Rücksendung ist kostenlos."}}
    assert agent(desk, "PUT", "/agent/canned-responses/retoure", "alice", mine)[0] == 200
    # alice: shortcode prefix (hers and the shared one, by shortcode), then the title match
    status, found = agent(desk, "GET", "/agent/canned-responses", "alice", query="q=/ret")
    assert status == 200
    assert [(r["id"], r["scope"]) for r in found["items"]] == [
        ("retoure", "personal"), ("returns", "shared"), ("track", "shared")]
    # a word of a body, in any language, accents ignored
    status, found = agent(desk, "GET", "/agent/canned-responses", "alice", query="q=devoluciones%20son")
    assert [r["id"] for r in found["items"]] == ["returns"]
    status, found = agent(desk, "GET", "/agent/canned-responses", "alice", query="q=rucksendung")
    assert [r["id"] for r in found["items"]] == ["retoure"]
    # vera sees only the shared ones; her delete cannot touch alice's, her own of the same id is hers
    status, found = agent(desk, "GET", "/agent/canned-responses", "vera", query="q=ret")
    assert [r["id"] for r in found["items"]] == ["returns", "track"]
    assert agent(desk, "DELETE", "/agent/canned-responses/retoure", "vera")[0] == 404
    assert agent(desk, "PUT", "/agent/canned-responses/retoure", "vera", {**mine, "title": "Vera's"})[0] == 200
    _, found = agent(desk, "GET", "/agent/canned-responses", "alice", query="q=retoure")
    assert [(r["id"], r["title"]) for r in found["items"]] == [("retoure", "Retoure (DE)")]
    # and vera, who may answer in this conversation (she sends her own "retoure" there), cannot use one only alice
    # has, by its real id: not to send it, not to preview it (its words), not in a macro of her own. Not even as an
    # admin, who sees every conversation: a personal response is its owner's alone
    kulanz = {"title": "Kulanz", "shortcode": "kulanz", "bodies": {"de": "Ausnahmsweise erstatten wir 50 Euro."}}
    assert agent(desk, "PUT", "/agent/canned-responses/kulanz", "alice", kulanz)[0] == 200
    conv = customer_writes(desk, "+31612349004", "Wo ist meine Rücksendung?", "SM" + "e4" * 16)
    status, sent = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "vera",
                         {"canned_response_id": "retoure"}, groups="[admins]")
    assert status == 202 and sent["text"] == "Die Rücksendung ist kostenlos.", sent
    before = (queued(desk), outbound(desk, conv), desk.item("CANNED#agent#alice", "RESPONSE#kulanz"))
    for route in ("replies", "preview"):
        status, refused = agent(desk, "POST", f"/agent/conversations/{conv}/{route}", "vera",
                                {"canned_response_id": "kulanz"}, groups="[admins]")
        assert status == 404 and "canned response kulanz" in refused["detail"], (route, refused)
        assert "Ausnahmsweise" not in json.dumps(refused)
    goodwill = {"name": "Goodwill", "actions": [{"type": "reply", "canned_response_id": "kulanz"}]}
    status, refused = agent(desk, "PUT", "/agent/macros/goodwill", "vera", goodwill)
    assert status == 422 and "kulanz" in json.dumps(refused), refused
    # Then nothing was sent or queued, and alice's response is as it was (not counted as used)
    assert (queued(desk), outbound(desk, conv), desk.item("CANNED#agent#alice", "RESPONSE#kulanz")) == before
    assert before[2] is not None and not before[2].get("uses")
    assert agent(desk, "GET", "/agent/macros", "vera")[1]["items"] == []


def test_a_canned_reply_is_in_the_customers_language_rendered_and_counted(desk):
    assert admin(desk, "PUT", "/admin/canned-responses/returns", RETURNS)[0] == 200
    spanish = whatsapp_from(desk, "+34600000001", "Lucía Gómez",
                            "Hola, quiero devolver las zapatillas que compré la semana pasada", "SM" + "f1" * 16)
    assert desk.item(f"CONV#{spanish}")["language"] == "es"
    # preview: rendered, not counted
    status, preview = agent(desk, "POST", f"/agent/conversations/{spanish}/preview", "alice",
                            {"canned_response_id": "returns"}, groups="[admins]")
    assert status == 200 and preview["text"] == "Hola Lucía, las devoluciones son gratis 30 días."
    # two replies: sent in Spanish, counted twice (ADD)
    for _ in range(2):
        status, sent = agent(desk, "POST", f"/agent/conversations/{spanish}/replies", "alice",
                             {"canned_response_id": "returns"}, groups="[admins]")
        assert status == 202 and sent["text"] == preview["text"]
    # a customer whose language has no body gets the shop's default language (English)
    english = customer_writes(desk, "+31612349005", "Hello I would like to return my shoes please", "SM" + "f2" * 16)
    status, sent = agent(desk, "POST", f"/agent/conversations/{english}/replies", "alice",
                         {"canned_response_id": "returns"}, groups="[admins]")
    assert status == 202 and sent["text"] == "Hi there, returns are free for 30 days."
    _, listed = admin(desk, "GET", "/admin/canned-responses")
    entry = next(r for r in listed["items"] if r["id"] == "returns")
    assert entry["uses"] == 3 and entry["last_used_at"]


def test_the_search_for_a_conversation_says_which_body_a_reply_there_inserts(desk):
    # Given a response with an English and a Spanish body, a Spanish customer and one writing German
    assert admin(desk, "PUT", "/admin/canned-responses/returns", RETURNS)[0] == 200
    spanish = whatsapp_from(desk, "+34600000002", "Lucía Gómez",
                            "Hola, quiero devolver las zapatillas que compré la semana pasada", "SM" + "f4" * 16)
    assert desk.item(f"CONV#{spanish}")["language"] == "es"
    german = customer_writes(desk, "+31612349007", "Hallo, ich möchte meine Schuhe zurückschicken, bitte",
                             "SM" + "f5" * 16)
    # When the agent types `/ret` in each: the Spanish body there, the shop's default (English) where none fits
    for conv, language in ((spanish, "es"), (german, "en")):
        status, found = agent(desk, "GET", "/agent/canned-responses", "alice",
                              query=f"q=ret&conversation_id={conv}", groups="[admins]")
        assert status == 200 and [(r["id"], r["language"]) for r in found["items"]] == [("returns", language)], found
        # the body inserted is that one
        _, preview = agent(desk, "POST", f"/agent/conversations/{conv}/preview", "alice",
                           {"canned_response_id": "returns"}, groups="[admins]")
        assert preview["text"].startswith({"es": "Hola", "en": "Hi"}[language])
    # without a conversation nothing is said; a conversation the caller may not see is a 404
    assert agent(desk, "GET", "/agent/canned-responses", "alice", query="q=ret")[1]["items"][0]["language"] is None
    assert agent(desk, "GET", "/agent/canned-responses", "alice",
                 query="q=ret&conversation_id=c_01MISSING00000000000000000")[0] == 404


def test_a_canned_body_in_spanish_says_the_order_status_in_spanish(desk, shop):  # noqa: F811
    # Given a canned response with an English and a Spanish body, and Dana asking in Spanish about #1001 (in transit)
    wismo = {"title": "Where is my order", "shortcode": "wismo", "bodies": {
        "en": "{{order.name}} is {{order.status}}: {{order.tracking_url}}",
        "es": "El pedido {{order.name}} está {{order.status}}: {{order.tracking_url}}"}}
    assert admin(desk, "PUT", "/admin/canned-responses/wismo", wismo)[0] == 200
    spanish = whatsapp_from(desk, "+14155550101", "Dana Rivera", "Hola, ¿dónde está mi pedido #1001? Gracias",
                            "SM" + "e1" * 16)
    assert desk.item(f"CONV#{spanish}")["language"] == "es"
    # When the agent previews and sends it
    status, preview = agent_call(desk, shop, "POST", f"/agent/conversations/{spanish}/preview",
                                 body={"canned_response_id": "wismo"})
    status_sent, sent = agent_call(desk, shop, "POST", f"/agent/conversations/{spanish}/replies",
                                   body={"canned_response_id": "wismo"})
    # Then the status is in the body's language, not English in a Spanish sentence
    assert status == 200 and status_sent == 202, (preview, sent)
    assert preview["text"] == sent["text"] == f"El pedido #1001 está en camino: {TRACKING}"
    # and text the agent writes (whose language the desk does not know) keeps the English words
    status, typed = agent_call(desk, shop, "POST", f"/agent/conversations/{spanish}/preview",
                               body={"text": "{{order.name}}: {{order.status}}"})
    assert status == 200 and typed["text"] == "#1001: in transit"


def test_a_canned_response_with_a_missing_value_is_refused_naming_it_and_not_counted(desk):
    assert admin(desk, "PUT", "/admin/canned-responses/track", TRACK)[0] == 200
    conv = customer_writes(desk, "+31612349006", "where is my parcel", "SM" + "f3" * 16)
    status, body = agent(desk, "POST", f"/agent/conversations/{conv}/replies", "alice",
                         {"canned_response_id": "track"}, groups="[admins]")
    assert status == 422 and body["missing"] == ["order.name", "order.tracking_url"]
    _, listed = admin(desk, "GET", "/admin/canned-responses")
    assert listed["items"][0]["uses"] == 0


# ------------------------------------------------------------------------------ acknowledgements

def test_acknowledgements_render_variables_and_fall_back_when_a_value_is_missing(desk):
    from tests.integration.test_admin_api import admin_call
    from tests.integration.test_sla_rules import at

    templates = {"en": {"open_now": 'Hi {{customer.first_name | default: "there"}}! {{shop.name}} answers {eta}.'},
                 "es": {"open_now": "Hola {{customer.first_name}}: {shop} le responde {eta}."}}
    status, body = admin_call(desk, "PUT", "/admin/routing", "[admins]",
                              {"acknowledgements": True, "acknowledgement_templates": templates})
    assert status == 200, body
    at("2026-11-23T08:00:00+00:00")

    def ack(conv: str) -> str:
        [message] = [m for m in outbound_all(desk, conv) if m["kind"] == "acknowledgement"]
        return message["text"]

    named = whatsapp_from(desk, "+31640009001", "Dana Rivera", "Hello, where is my order please?", "SM" + "a1" * 16)
    assert ack(named).startswith("Hi Dana! Example Shop answers ")
    # no name on SMS, and the Spanish template has no fallback: the shipped Spanish template is sent instead
    nameless = customer_writes(desk, "+31640009002", "Hola, ¿dónde está mi pedido? Gracias", "SM" + "a2" * 16)
    desk.drain_queue(desk.work_queue_url, "router")
    text = ack(nameless)
    assert text.startswith("Hola, gracias por escribir a Example Shop.") and "{" not in text
    # a template the router could not fill is refused when saved
    bad = {"en": {"open_now": "Your order {{order.tracking_url}} {eta}"}}
    status, body = admin_call(desk, "PUT", "/admin/routing", "[admins]", {"acknowledgement_templates": bad})
    assert status in (400, 422) and "order.tracking_url" in body["detail"], body


def outbound_all(desk: Any, conv: str) -> list[dict[str, Any]]:
    _, body = agent(desk, "GET", f"/agent/conversations/{conv}", "root", groups="[admins]")
    return [m for m in body["messages"] if m["direction"] == "outbound"]
