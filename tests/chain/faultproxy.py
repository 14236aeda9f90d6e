"""A JSON-RPC proxy that misbehaves on cue, for settlement fault tests.

``FaultProxy(upstream_url).start()`` listens on loopback (any free port; ``.url`` says which)
and forwards JSON-RPC calls, single or batched, to ``upstream_url`` (the dev chain server).
Faults are queued per method and consumed one per call, in order::

    proxy.plan("eth_sendRawTransaction", Drop(), Forward(), NonceTooLow(after_forward=True))
    proxy.plan(ANY, HttpError(502), HttpError(502))   # the next two calls, whatever the method

A call takes the next fault of its method's queue, else of the ``ANY`` queue, else is
forwarded untouched. Every call is recorded (``proxy.events``: method, params, fault, whether
it reached the upstream, what was answered) for assertions. Everything is thread-safe: the
server answers each connection in its own thread, and a test may plan while calls run.

Faults (whether the upstream sees the call; what the client hears):

- ``Forward()``: forwarded; the upstream's answer.
- ``Drop()`` (``eth_sendRawTransaction``): not forwarded; the right hash (keccak of the raw
  transaction), as if the node had taken it.
- ``NonceTooLow(after_forward=False, state=None)``: forwarded if ``after_forward``; error
  -32000 ``nonce too low: address <sender>, tx: <nonce> state: <state>`` (``state``: the
  upstream's transaction count, read after forwarding, unless given).
- ``AlreadyKnown(after_forward=True)``: forwarded if ``after_forward``; error -32000
  ``already known``.
- ``RpcFailure(code, message, after_forward=False)``: that JSON-RPC error.
- ``HttpError(status=502, after_forward=False)``: HTTP ``status``, no JSON-RPC answer.
- ``Hang(seconds, forward=False)``: no answer for ``seconds`` (past the client's timeout), then
  forwarded if ``forward``; the connection is closed without an answer. ``Timeout(seconds)``
  is ``Hang(seconds, forward=False)``.

In a batch, each element takes its own fault; an HTTP-level fault (``HttpError``, ``Hang``) of
any element applies to the whole exchange, after every element has been handled.

Standard library only, plus eth-utils, eth-account and rlp for the transaction's hash, sender
and nonce.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import rlp
from eth_account import Account
from eth_utils.crypto import keccak

ANY = "*"
SERVER_ERROR = -32000


@dataclass(frozen=True)
class Fault:
    """Base of the faults; a plain ``Fault`` is not meant to be planned."""


@dataclass(frozen=True)
class Forward(Fault):
    pass


@dataclass(frozen=True)
class Drop(Fault):
    pass


@dataclass(frozen=True)
class NonceTooLow(Fault):
    after_forward: bool = False
    state: int | None = None  # the nonce the node claims to be at; default: the upstream's


@dataclass(frozen=True)
class AlreadyKnown(Fault):
    after_forward: bool = True


@dataclass(frozen=True)
class RpcFailure(Fault):
    code: int = SERVER_ERROR
    message: str = "internal error"
    after_forward: bool = False


@dataclass(frozen=True)
class HttpError(Fault):
    status: int = 502
    after_forward: bool = False


@dataclass(frozen=True)
class Hang(Fault):
    seconds: float = 30.0
    forward: bool = False


def Timeout(seconds: float = 30.0) -> Hang:
    """A call that never answers in time and never reaches the upstream."""
    return Hang(seconds, forward=False)


@dataclass(frozen=True)
class Event:
    method: str
    params: Any
    fault: Fault | None  # None: nothing was planned, the call went through untouched
    forwarded: bool  # for a Hang: whether it is forwarded once the wait is over
    answer: dict[str, Any] | None  # the JSON-RPC answer (None: an HTTP fault or a hang)
    http_status: int = 200


@dataclass
class _Outcome:
    answer: dict[str, Any] | None
    http_status: int | None = None
    hang: float = 0.0
    forward_after_hang: bool = False
    call: dict[str, Any] = field(default_factory=dict)


def raw_transaction_facts(raw_hex: str) -> tuple[str, str, int]:
    """(hash, sender, nonce) of a signed raw transaction (legacy or typed)."""
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    tx_hash = "0x" + keccak(raw).hex()
    sender = Account.recover_transaction(raw)
    # Typed (EIP-2718): type byte, then [chainId, nonce, ...]; legacy: [nonce, ...].
    fields = rlp.decode(raw[1:]) if raw[0] <= 0x7F else rlp.decode(raw)
    nonce_field = fields[1] if raw[0] <= 0x7F else fields[0]
    return tx_hash, sender, int.from_bytes(nonce_field, "big")


class FaultProxy:
    def __init__(
        self, upstream: str, host: str = "127.0.0.1", port: int = 0, upstream_timeout: float = 60
    ) -> None:
        self.upstream = upstream
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._plans: dict[str, deque[Fault]] = {}
        self._events: list[Event] = []
        self._stopping = threading.Event()
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # --- life -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="faultproxy", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; calls still hanging wake up and give up."""
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- plans and the record ---------------------------------------------------------------

    def plan(self, method: str, *faults: Fault) -> None:
        """Queue ``faults`` for the next calls of ``method`` (``ANY``: of any method)."""
        for fault in faults:
            if type(fault) is Fault:
                raise TypeError("plan a concrete fault (Forward, Drop, HttpError, ...)")
        with self._lock:
            self._plans.setdefault(method, deque()).extend(faults)

    def fail_next(self, count: int, fault: Fault, method: str = ANY) -> None:
        """The next ``count`` calls (of ``method``, or of any method) meet ``fault``."""
        self.plan(method, *([fault] * count))

    def pending(self, method: str | None = None) -> int:
        """Faults planned and not yet met (of ``method``, or all)."""
        with self._lock:
            if method is not None:
                return len(self._plans.get(method, ()))
            return sum(len(q) for q in self._plans.values())

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
            self._events.clear()

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def calls(self, method: str) -> list[Event]:
        return [e for e in self.events if e.method == method]

    def _next_fault(self, method: str) -> Fault | None:
        with self._lock:
            for key in (method, ANY):
                queue = self._plans.get(key)
                if queue:
                    return queue.popleft()
        return None

    def _record(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    # --- the upstream ------------------------------------------------------------------------

    def _post(self, payload: Any) -> Any:
        request = urllib.request.Request(
            self.upstream,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.upstream_timeout) as response:
            return json.loads(response.read())

    def _forward(self, call: dict[str, Any]) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self._post(call)
        except (urllib.error.URLError, OSError) as exc:
            return _error(call, SERVER_ERROR, f"faultproxy: upstream unreachable ({exc})")
        return answer

    def _nonce_state(self, sender: str) -> int:
        answer = self._post(
            {"jsonrpc": "2.0", "id": 0, "method": "eth_getTransactionCount",
             "params": [sender, "latest"]}
        )  # fmt: skip
        return int(answer["result"], 16)

    # --- one call ------------------------------------------------------------------------------

    def handle(self, call: Any) -> _Outcome:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return _Outcome(self._forward(call) if isinstance(call, dict) else _invalid(call))
        method: str = call["method"]
        params = call.get("params")
        fault = self._next_fault(method)
        outcome, forwarded = self._apply(fault, call)
        self._record(
            Event(
                method=method,
                params=params,
                fault=fault,
                forwarded=forwarded,
                answer=outcome.answer,
                http_status=outcome.http_status or 200,
            )
        )
        return outcome

    def _apply(self, fault: Fault | None, call: dict[str, Any]) -> tuple[_Outcome, bool]:
        match fault:
            case None | Forward():
                return _Outcome(self._forward(call)), True
            case Drop():
                tx_hash, _sender, _nonce = raw_transaction_facts(call["params"][0])
                return _Outcome({"jsonrpc": "2.0", "id": call.get("id"), "result": tx_hash}), False
            case NonceTooLow(after_forward=after, state=state):
                _hash, sender, nonce = raw_transaction_facts(call["params"][0])
                if after:
                    self._forward(call)
                at = state if state is not None else self._nonce_state(sender)
                message = f"nonce too low: address {sender}, tx: {nonce} state: {at}"
                return _Outcome(_error(call, SERVER_ERROR, message)), after
            case AlreadyKnown(after_forward=after):
                if after:
                    self._forward(call)
                return _Outcome(_error(call, SERVER_ERROR, "already known")), after
            case RpcFailure(code=code, message=message, after_forward=after):
                if after:
                    self._forward(call)
                return _Outcome(_error(call, code, message)), after
            case HttpError(status=status, after_forward=after):
                if after:
                    self._forward(call)
                return _Outcome(None, http_status=status), after
            case Hang(seconds=seconds, forward=forward):
                return _Outcome(None, hang=seconds, forward_after_hang=forward, call=call), forward
        raise TypeError(f"not a fault: {fault!r}")

    def hang(self, outcome: _Outcome) -> dict[str, Any] | None:
        """Wait (woken early by ``stop``), then forward if the fault says so."""
        self._stopping.wait(outcome.hang)
        if outcome.forward_after_hang and not self._stopping.is_set():
            return self._forward(outcome.call)
        return None


def _error(call: Any, code: int, message: str) -> dict[str, Any]:
    ident = call.get("id") if isinstance(call, dict) else None
    return {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}


def _invalid(call: Any) -> dict[str, Any]:
    return _error(call, -32600, "invalid request")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(body)
        except ValueError:
            parse_error = {"code": -32700, "message": "parse error"}
            self._send(HTTPStatus.OK, {"jsonrpc": "2.0", "id": None, "error": parse_error})
            return
        calls = payload if isinstance(payload, list) else [payload]
        outcomes = [proxy.handle(call) for call in calls]
        hangs = [o for o in outcomes if o.hang > 0 or o.forward_after_hang]
        for outcome in hangs:
            outcome.answer = proxy.hang(outcome)
        if hangs:
            # The client gave up long ago: leave without an answer.
            self.close_connection = True
            return
        failed = next((o.http_status for o in outcomes if o.http_status is not None), None)
        if failed is not None:
            self._send(HTTPStatus(failed), {"error": f"faultproxy: HTTP {failed}"})
            return
        answers = [o.answer for o in outcomes]
        self._send(HTTPStatus.OK, answers if isinstance(payload, list) else answers[0])

    def _send(self, status: HTTPStatus, payload: Any) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)
