"""Lambda on one machine: a pool of worker processes per function.

Each function gets up to ``LOCAL_CONCURRENCY`` execution environments, created on demand (each
creation is a cold start) and reused while warm. An environment serves one invocation at a time
and sees only its own environment: the template's variables, the AWS settings that point at moto
and the variables the Lambda runtime defines. An invocation that outlives the function's Timeout
is killed with its environment, which is then replaced on the next demand, as in Lambda.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from local.clock import Clock
from local.functions import FunctionSpec

log = logging.getLogger("runtime")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's limit for the init phase
_INHERITED = ("PATH", "HOME", "LANG")


@dataclass
class Invocation:
    """The outcome of one invocation: the handler's result or Lambda's error payload."""

    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    request_id: str = ""

    @property
    def error_summary(self) -> str:
        if self.error is None:
            return ""
        return f"{self.error.get('errorType')}: {self.error.get('errorMessage')}"


class WorkerDied(Exception):
    pass


class Worker:
    """One execution environment: a child process speaking JSON lines."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], number: int) -> None:
        self.spec = spec
        self.number = number
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.process = subprocess.Popen(  # our own interpreter and script
            [sys.executable, str(WORKER_SCRIPT), spec.handler],
            cwd=spec.code_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        threading.Thread(target=self._read_replies, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._read_logs, args=(self.process.stderr,), daemon=True).start()

    def _read_replies(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                self.replies.put(json.loads(line))
            except json.JSONDecodeError:
                log.error("%s: unreadable reply from worker %d", self.spec.logical_id, self.number)
        self.replies.put(None)

    def _read_logs(self, stream: IO[bytes]) -> None:
        logger = logging.getLogger(self.spec.logical_id)
        for line in stream:
            logger.info("%s", line.decode("utf-8", errors="replace").rstrip("\n"))

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        try:
            message = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerDied(f"init did not finish within {timeout:.0f} s") from None
        if message is None:
            raise WorkerDied(f"worker exited during init (exit code {self.process.wait()})")
        return message

    def invoke(self, event: Any, clock_offset: float, timeout: float) -> Invocation:
        request_id = str(uuid.uuid4())
        deadline_ms = int((time.time() + timeout) * 1000)
        started = time.perf_counter()
        line = json.dumps(
            {
                "event": event,
                "request_id": request_id,
                "deadline_ms": deadline_ms,
                "clock_offset": clock_offset,
                "function_arn": self.spec.arn,
            }
        )
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(line.encode("utf-8") + b"\n")
            self.process.stdin.flush()
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            error = {
                "errorMessage": f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds",
                "errorType": "Sandbox.Timedout",
            }
            return Invocation(False, error=error, duration_ms=timeout * 1000, request_id=request_id)
        except (BrokenPipeError, OSError):
            reply = None
        duration = (time.perf_counter() - started) * 1000
        if reply is None:
            code = self.process.poll()
            error = {
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {code}",
                "errorType": "Runtime.ExitError",
            }
            return Invocation(False, error=error, duration_ms=duration, request_id=request_id)
        if reply.get("ok"):
            return Invocation(True, result=reply.get("result"), duration_ms=duration, request_id=request_id)
        return Invocation(False, error=reply.get("error"), duration_ms=duration, request_id=request_id)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("%s: worker %d did not exit", self.spec.logical_id, self.number)

    def end_input(self) -> None:
        """Close stdin: an idle worker exits at the end of its input."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass

    def stop(self, deadline: float) -> None:
        """Wait for the worker to exit until ``deadline`` (monotonic), then kill it."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        self.kill()


class FunctionPool:
    """Up to ``limit`` warm environments of one function; callers wait when all are busy."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], limit: int, clock: Clock) -> None:
        self.spec = spec
        self.env = env
        self.limit = limit
        self.clock = clock
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._count = 0
        self._spawned = 0
        self._closed = False
        self._cond = threading.Condition()

    def invoke(self, event: Any) -> Invocation:
        try:
            worker = self._acquire()
        except WorkerDied as error:
            return Invocation(False, error={"errorMessage": str(error), "errorType": "Runtime.InitError"})
        except _InitFailed as failure:
            return Invocation(False, error=failure.error)
        try:
            return worker.invoke(event, self.clock.offset, float(self.spec.timeout))
        finally:
            self._release(worker)

    def _acquire(self) -> Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerDied("the stack is shutting down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._forget(worker)
                if self._count < self.limit:
                    self._count += 1
                    self._spawned += 1
                    number = self._spawned
                    break
                self._cond.wait()
        try:
            return self._spawn(number)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _spawn(self, number: int) -> Worker:
        started = time.perf_counter()
        worker = Worker(self.spec, self.env, number)
        with self._cond:
            self._all.add(worker)
        try:
            ready = worker.wait_ready(INIT_TIMEOUT_SECONDS + self.spec.timeout)
        except WorkerDied:
            self._discard(worker)
            raise
        if not ready.get("ready"):
            self._discard(worker)
            raise _InitFailed(
                ready.get("error") or {"errorType": "Runtime.InitError", "errorMessage": "init failed"}
            )
        log.info(
            "%s: cold start in %.0f ms (environment %d, up to %d)",
            self.spec.logical_id,
            (time.perf_counter() - started) * 1000,
            number,
            self.limit,
        )
        return worker

    def _discard(self, worker: Worker) -> None:
        worker.kill()
        with self._cond:
            self._all.discard(worker)

    def _forget(self, worker: Worker) -> None:
        self._all.discard(worker)
        self._count -= 1

    def _release(self, worker: Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._forget(worker)
            self._cond.notify()

    def describe(self) -> list[dict[str, Any]]:
        """The environments alive now: their number, process id (a fault test kills one, as Lambda loses an
        environment: an invocation it was running fails with ``Runtime.ExitError``, and the next one starts a new
        environment) and whether one is serving an invocation."""
        with self._cond:
            return [{"environment": w.number, "pid": w.process.pid, "busy": w not in self._idle}
                    for w in sorted(self._all, key=lambda w: w.number) if w.alive]

    def close(self) -> list[Worker]:
        """Refuse new invocations and end every worker's input; returns the workers to stop."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.end_input()
        return workers


class _InitFailed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("errorMessage"))
        self.error = error


def function_environment(spec: FunctionSpec, aws_env: dict[str, str]) -> dict[str, str]:
    """Only what Lambda would give this function: its template variables plus the runtime's own."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(spec.environment)
    env.update(aws_env)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "TZ": "UTC",
            "PYTHONPATH": os.pathsep.join(str(path) for path in [spec.code_dir, *spec.layer_dirs]),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Runtime:
    """All function pools, addressed by logical id."""

    def __init__(self, functions: dict[str, FunctionSpec], aws_env: dict[str, str], limit: int, clock: Clock):
        self.clock = clock
        self.pools = {
            logical_id: FunctionPool(spec, function_environment(spec, aws_env), limit, clock)
            for logical_id, spec in functions.items()
        }

    def invoke(self, logical_id: str, event: Any) -> Invocation:
        return self.pools[logical_id].invoke(event)

    def close(self, grace_seconds: float = 1.0) -> None:
        workers = [worker for pool in self.pools.values() for worker in pool.close()]
        deadline = time.monotonic() + grace_seconds
        for worker in workers:
            worker.stop(deadline)
