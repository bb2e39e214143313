"""Personalised text: variables, fallbacks, missing values named, the sandbox, syntax errors, bounds."""

from __future__ import annotations

import pytest

from shopdesk.logic.render import (
    MAX_TEMPLATE,
    VARIABLES,
    MissingVariables,
    TemplateInvalid,
    Variables,
    check,
    first_name,
    render,
)

ORDER = {"name": "#1001", "status": "in transit", "tracking_url": "https://t.example/1Z9",
         "tracking_number": "1Z9"}


def full(order=ORDER, **changes):
    values = {"customer": {"first_name": "Ana", "name": "Ana López"}, "agent": {"first_name": "Sam"},
              "shop": {"name": "Ropa & Co"}}
    values.update(changes)
    return Variables(**values, order=lambda: order)


def test_every_documented_variable_renders():
    text = " | ".join("{{" + name + "}}" for name in VARIABLES)
    assert render(text, full()) == ("Ana | Ana López | #1001 | in transit | https://t.example/1Z9 | 1Z9 | "
                                    "Sam | Ropa & Co")


def test_spacing_inside_braces_does_not_matter():
    assert render("Hi {{ customer.first_name }}!", full()) == "Hi Ana!"


def test_a_fallback_is_used_only_when_the_value_is_missing():
    text = 'Hi {{customer.first_name | default: "there"}}'
    assert render(text, full()) == "Hi Ana"
    assert render(text, full(customer={})) == "Hi there"
    assert render(text, full(customer={"first_name": "  "})) == "Hi there"     # blank counts as missing


def test_missing_values_without_fallback_are_refused_naming_every_one():
    with pytest.raises(MissingVariables) as caught:
        render("{{agent.first_name}}: {{order.tracking_url}} for {{customer.first_name}} {{order.tracking_url}}",
               full(order={"name": "#1"}, customer={}, agent={}))
    assert caught.value.names == ["customer.first_name", "order.tracking_url", "agent.first_name"]
    assert "customer.first_name, order.tracking_url, agent.first_name" in str(caught.value)


def test_no_order_at_all_makes_every_order_variable_missing():
    with pytest.raises(MissingVariables) as caught:
        render("{{order.name}} {{order.status}}", Variables(order=lambda: None))
    assert caught.value.names == ["order.name", "order.status"]


def test_the_order_is_looked_up_only_when_the_text_uses_it():
    asked = []
    variables = Variables(customer={"first_name": "Ana"}, order=lambda: asked.append(1) or ORDER)
    assert render("Hi {{customer.first_name}}", variables) == "Hi Ana" and asked == []
    assert render("{{order.name}}", variables) == "#1001" and asked == [1]


def test_a_value_that_is_only_tested_is_not_missing():
    text = "{% if order.tracking_url %}Track it: {{order.tracking_url}}{% else %}It ships soon.{% endif %}"
    assert render(text, full(order={"name": "#1"})) == "It ships soon."
    assert render(text, full()) == "Track it: https://t.example/1Z9"


@pytest.mark.parametrize("text", [
    "{{ ''.__class__ }}",
    "{{ customer.__class__ }}",
    "{{ customer.first_name.__class__.__mro__ }}",
    "{{ customer }}",
    "{{ customer.email }}",
    "{{ foo }}",
    "{% assign x = customer.name %}{{ x.__class__ }}",
])
def test_anything_beyond_the_documented_variables_is_refused(text):
    with pytest.raises(TemplateInvalid) as caught:
        render(text, full())
    assert not isinstance(caught.value, MissingVariables)
    assert "class" not in render("{{customer.name}}", full())     # and nothing leaked on the way


@pytest.mark.parametrize("text,words", [
    ("Hi {{ customer.first_name", "expected '}}'"),
    ("{% if customer.name %}open", "endif"),
    ("{{ customer.name | shout }}", "unknown filter 'shout'"),
    ("{% include 'secrets' %}", "not a valid template"),
])
def test_syntax_errors_are_refused_in_words(text, words):
    with pytest.raises(TemplateInvalid) as caught:
        check(text)
        render(text, full())
    assert words in str(caught.value)


def test_the_output_and_the_template_are_bounded():
    with pytest.raises(TemplateInvalid, match="loop iteration limit"):
        render("{% for i in (1..100000) %}x{% endfor %}", full())
    with pytest.raises(TemplateInvalid, match="at most 20"):
        render("{{customer.name}} {{customer.name}} {{customer.name}}", full(), limit=20)
    with pytest.raises(TemplateInvalid, match=str(MAX_TEMPLATE)):
        render("x" * (MAX_TEMPLATE + 1), full())


def test_text_is_not_escaped_but_an_html_part_is():
    variables = full(customer={"first_name": "<b>O'Brien</b>"})
    assert render("Hi {{customer.first_name}} from {{shop.name}}", variables) == "Hi <b>O'Brien</b> from Ropa & Co"
    assert render("Hi {{customer.first_name}}", variables, html=True) == "Hi &lt;b&gt;O&#39;Brien&lt;/b&gt;"


def test_a_customer_value_is_never_rendered_as_a_template():
    variables = full(customer={"first_name": "{{shop.name}}{% raw %}"})
    assert render("Hi {{customer.first_name}}", variables) == "Hi {{shop.name}}{% raw %}"


def test_check_names_the_variables_used():
    assert check('{{customer.first_name | default: "x"}} {{order.tracking_url}}') == {
        "customer.first_name", "order.tracking_url"}


def test_first_name_is_the_first_word():
    assert first_name("  María José López ") == "María"
    assert first_name("") is None and first_name(None) is None
