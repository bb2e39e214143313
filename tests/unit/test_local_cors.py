"""The local gateway's reading of an HttpApi's CorsConfiguration (local/functions.py ``Cors``)."""

from __future__ import annotations

from local.functions import Cors, _cors


def test_origins_match_as_the_http_api_matches_them():
    cors = Cors(allow_origins=("https://inbox.example", "http://*"))
    assert cors.allows("https://inbox.example") and cors.allows("HTTPS://Inbox.Example")
    assert cors.allows("http://anything.example:8080")                     # http://*: every http origin
    assert not cors.allows("https://evil.example") and not cors.allows("https://inbox.example.evil")
    assert Cors(allow_origins=("*",)).allows("https://any.example")
    assert not Cors(allow_origins=()).allows("https://inbox.example")


def test_the_configuration_is_read_from_the_template_and_true_allows_everything():
    cors = _cors({"AllowOrigins": ["https://inbox.example"], "AllowHeaders": ["authorization"], "MaxAge": 600,
                  "AllowMethods": ["GET"], "AllowCredentials": True})
    assert cors == Cors(allow_origins=("https://inbox.example",), allow_methods=("GET",),
                        allow_headers=("authorization",), max_age=600, allow_credentials=True)
    assert _cors(True) == Cors(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    assert _cors({}) is None and _cors(False) is None
