"""A small fake of OpenSearch's HTTP API: what the search back-end uses, nothing more.

The real OpenSearch Serverless service is not reachable from a machine without AWS; this fake lets the
back-end's client code (opensearch-py, its SigV4 signing, the query DSL it builds) run for real. It keeps
documents in memory and answers: create index (``PUT /<index>``, ``HEAD /<index>``), index and delete a
document (``PUT``/``DELETE /<index>/_doc/<id>``), ``POST /<index>/_delete_by_query`` with a ``term`` query and
``POST /<index>/_search`` with a ``bool`` of ``terms`` (must) and ``terms``/``range`` (filter) clauses on a
``whitespace``-analysed field, scored by the number of matching terms (BM25 is not reproduced; only what
matches, not the exact scores, is what the shared back-end tests compare). Anything else is a 400, as an
unsupported query would be. Requests without a SigV4 ``Authorization`` header for service ``aoss`` are 403.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/[a-z0-9-]+/aoss/aws4_request")


class FakeOpenSearch:
    def __init__(self) -> None:
        self.indexes: dict[str, dict[str, Any] | None] = {}   # name -> mappings
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not _SIGV4.match(self.headers.get("Authorization", "")):
                    return self._answer(403, {"message": "missing or invalid SigV4 signature for aoss"})
                body = json.loads(raw) if raw else None
                status, answer = fake.handle(self.command, self.path.split("?", 1)[0], body)
                self._answer(status, answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeOpenSearch:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ the API

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        with self.lock:
            self.requests.append((method, path))
            if len(parts) == 1 and method == "HEAD":
                return (200 if parts[0] in self.indexes else 404), None
            if len(parts) == 1 and method == "PUT":
                if parts[0] in self.indexes:
                    return 400, {"error": {"type": "resource_already_exists_exception"}, "status": 400}
                self.indexes[parts[0]] = (body or {}).get("mappings")
                self.docs[parts[0]] = {}
                return 200, {"acknowledged": True, "index": parts[0]}
            if not parts or parts[0] not in self.indexes:
                return 404, {"error": {"type": "index_not_found_exception"}, "status": 404}
            docs = self.docs[parts[0]]
            if len(parts) == 3 and parts[1] == "_doc" and method in ("PUT", "POST"):
                created = parts[2] not in docs
                docs[parts[2]] = body
                return (201 if created else 200), {"_id": parts[2], "result": "created" if created else "updated"}
            if len(parts) == 3 and parts[1] == "_doc" and method == "DELETE":
                if docs.pop(parts[2], None) is None:
                    return 404, {"_id": parts[2], "result": "not_found"}
                return 200, {"_id": parts[2], "result": "deleted"}
            if len(parts) == 2 and parts[1] == "_delete_by_query" and method == "POST":
                ((field, value),) = body["query"]["term"].items()
                gone = [i for i, d in docs.items() if d.get(field) == value]
                for i in gone:
                    del docs[i]
                return 200, {"deleted": len(gone)}
            if len(parts) == 2 and parts[1] == "_search" and method in ("GET", "POST"):
                try:
                    return 200, self._search(docs, body or {})
                except (KeyError, ValueError) as exc:
                    return 400, {"error": {"type": "parsing_exception", "reason": str(exc)}, "status": 400}
            return 400, {"error": {"type": "unsupported", "reason": f"{method} {path}"}, "status": 400}

    def _search(self, docs: dict[str, dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        query = body["query"]["bool"]
        hits = []
        for doc_id, doc in docs.items():
            if not all(self._filter(clause, doc) for clause in query.get("filter", [])):
                continue
            score = 0.0
            for clause in query.get("must", []):
                ((field, forms),) = clause["terms"].items()
                tokens = str(doc.get(field) or "").split()
                found = sum(tokens.count(form) for form in forms)
                if not found:
                    break
                score += found / (1 + len(tokens))
            else:
                source = {k: doc.get(k) for k in body.get("_source", doc.keys())}
                hits.append({"_id": doc_id, "_score": score, "_source": source})
        hits.sort(key=lambda h: -h["_score"])
        return {"hits": {"total": {"value": len(hits)}, "hits": hits[: int(body.get("size", 10))]}}

    @staticmethod
    def _filter(clause: dict[str, Any], doc: dict[str, Any]) -> bool:
        if "terms" in clause:
            ((field, values),) = clause["terms"].items()
            return doc.get(field) in values
        if "range" in clause:
            ((field, bounds),) = clause["range"].items()
            value = str(doc.get(field) or "")
            return all({"gte": value >= str(v), "gt": value > str(v), "lte": value <= str(v),
                        "lt": value < str(v)}[op] for op, v in bounds.items())
        raise ValueError(f"filter {clause} is not supported by the fake")
