"""make deploy's web step: config.json from the stack's outputs, and how each file of the build is uploaded."""

from __future__ import annotations

from scripts.web_deploy import IMMUTABLE, NO_CACHE, WIDGET, samconfig_target, upload_plan, web_config

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "InboxUrl": "https://d111111abcdef8.cloudfront.net",
    "InboxAuthDomain": "https://shopdesk-prod-123456789012.auth.eu-west-1.amazoncognito.com",
    "AgentUserPoolClientId": "4abc",
}


def test_config_points_the_inbox_at_the_api_and_the_hosted_ui_with_its_own_url_as_redirect():
    assert web_config(OUTPUTS) == {
        "apiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "wsUrl": None,
        "auth": {
            "mode": "cognito",
            "domain": "https://shopdesk-prod-123456789012.auth.eu-west-1.amazoncognito.com",
            "clientId": "4abc",
            "redirectUri": "https://d111111abcdef8.cloudfront.net/",
            "logoutUri": "https://d111111abcdef8.cloudfront.net/",
        },
    }
    assert web_config({**OUTPUTS, "WebSocketUrl": "wss://ws.example/prod"})["wsUrl"] == "wss://ws.example/prod"


def test_hashed_assets_are_cached_for_a_year_and_index_html_never_and_goes_last(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc.js").write_text("x")
    (tmp_path / "assets" / "index-abc.css").write_text("x")
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / ".sources").write_text("digest")
    (tmp_path / "widget.js").write_text("x")
    plan = [(key, kind, cache) for _, key, kind, cache in upload_plan(tmp_path)]
    assert plan[-1] == ("index.html", "text/html; charset=utf-8", NO_CACHE)
    assert ("assets/index-abc.css", "text/css; charset=utf-8", IMMUTABLE) in plan
    assert ("widget.js", "text/javascript; charset=utf-8", WIDGET) in plan     # the shops' pages name it: 5 minutes
    assert {key for key, _, _ in plan} == {"index.html", "assets/index-abc.js", "assets/index-abc.css", "widget.js"}


def test_stack_name_and_region_come_from_samconfig_like_sam_deploy():
    assert samconfig_target("default") == ("shopdesk-dev", "us-east-1")
    assert samconfig_target("prod") == ("shopdesk-prod", "us-east-1")
    assert samconfig_target("nope") == (None, None)


def test_index_html_gets_its_policy_first_in_its_head_escaped_and_a_page_without_a_head_is_refused():
    import pytest
    from scripts.web_deploy import with_policy

    page = with_policy(b"<!doctype html><html><head><title>x</title><script src=/a.js></script>", "script-src 'self'")
    assert page == (b"<!doctype html><html><head>\n    <meta http-equiv=\"Content-Security-Policy\" "
                    b"content=\"script-src &#x27;self&#x27;\" /><title>x</title><script src=/a.js></script>")
    with pytest.raises(ValueError, match="no <head>"):
        with_policy(b"<p>nothing</p>", "default-src 'self'")
