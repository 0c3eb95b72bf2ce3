"""ssebridge_publisher: publish events to ssebridge over gRPC.

What it promises:

* ``Publisher.publish(channel, data, ...)`` returns an :class:`Ack` once the
  bridge's broker accepted the event, or raises :class:`PublishError`
  carrying the gRPC status code and the bridge's message. It never retries
  on its own.
* ``Publisher.publish_stream(requests, max_in_flight=...)`` sends an iterable
  of :class:`Event` (or dicts of the same fields) over one ``PublishStream``
  and yields one :class:`Result` per request, in order: the bridge answers
  in order, so each answer is matched to the request sent at the same
  position. A bad request gets ``Result.error`` and the stream carries on. At
  most ``max_in_flight`` requests are sent and unanswered at a time: the
  iterable is not read further until answers come back, so a slow bridge
  slows the producer instead of growing a buffer. If the stream itself fails
  (bad credential, bridge gone, deadline) the generator raises
  :class:`PublishError`; its ``unacked`` lists the requests that got no
  answer (they may or may not have been published: resend them with an
  ``idempotency_key`` to be safe).
* Credentials: ``token`` is sent as ``authorization: Bearer <token>``;
  ``tls`` selects plaintext (``None``), TLS with system roots (``True``) or a
  :class:`Tls` with a CA bundle and, for mTLS, a client key and certificate.

The generated stubs (``ssebridge.v1.bridge_pb2``, ``bridge_pb2_grpc``) must
be importable; they are made from the repository's proto with ``protoc`` and
``grpc_python_plugin`` (the build does it into ``build/<flavour>/gen-python``;
see the README).
"""

import collections
import dataclasses
import datetime
import json
import threading
from typing import Any, Iterable, Iterator, List, Optional, Sequence, Union

import grpc

try:
    from ssebridge.v1 import bridge_pb2, bridge_pb2_grpc
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "ssebridge_publisher needs the generated stubs ssebridge.v1.bridge_pb2 "
        "on sys.path; generate them with: protoc -Iproto --python_out=OUT "
        "--grpc_python_out=OUT --plugin=protoc-gen-grpc_python="
        "$(command -v grpc_python_plugin) proto/ssebridge/v1/bridge.proto "
        "and add OUT to PYTHONPATH") from exc

__all__ = ["Publisher", "Event", "Ack", "Result", "PublishError", "Tls"]


class PublishError(Exception):
    """A failed publish. ``code`` is a ``grpc.StatusCode``; ``message`` the
    bridge's explanation (it names the bad field for INVALID_ARGUMENT)."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 unacked: Sequence["Event"] = ()):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.unacked = list(unacked)


@dataclasses.dataclass(frozen=True)
class Event:
    """One event to publish. ``data`` may be str (sent as is), bytes (UTF-8)
    or any JSON-serialisable value (sent as JSON text)."""
    channel: str
    data: Any
    event: str = ""
    user_ids: Sequence[str] = ()
    retain: bool = False
    idempotency_key: str = ""


@dataclasses.dataclass(frozen=True)
class Ack:
    id: str                     # "<epoch>-<seq>"
    subscribers: int            # local subscriptions it was queued for
    replayed: bool              # a repeated idempotency key: nothing published
    published_at: Optional[datetime.datetime]


@dataclasses.dataclass(frozen=True)
class Result:
    """The answer to one request of publish_stream: ``ack`` or ``error``."""
    request: Event
    ack: Optional[Ack] = None
    error: Optional[PublishError] = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclasses.dataclass(frozen=True)
class Tls:
    """TLS for the gRPC port. ``root_certificates``: PEM of the CA(s) to
    trust (None: system roots). ``private_key`` + ``certificate_chain``: PEM
    client key and certificate for mTLS."""
    root_certificates: Optional[bytes] = None
    private_key: Optional[bytes] = None
    certificate_chain: Optional[bytes] = None


def _to_event(item: Union[Event, dict]) -> Event:
    if isinstance(item, Event):
        return item
    if isinstance(item, dict):
        try:
            return Event(**item)
        except TypeError as exc:
            raise TypeError(f"bad event {item!r}: {exc}") from None
    raise TypeError(f"expected an Event or a dict, got {type(item).__name__}")


def _to_request(ev: Event) -> "bridge_pb2.PublishRequest":
    if not isinstance(ev.channel, str) or not ev.channel:
        raise ValueError("channel must be a non-empty string")
    if not isinstance(ev.event, str):
        raise TypeError("event must be a string")
    data = ev.data
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    elif not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if isinstance(ev.user_ids, str) or not all(isinstance(u, str) for u in ev.user_ids):
        raise TypeError("user_ids must be a sequence of strings")
    if not isinstance(ev.idempotency_key, str):
        raise TypeError("idempotency_key must be a string")
    return bridge_pb2.PublishRequest(
        channel=ev.channel, event=ev.event, data=data, user_ids=list(ev.user_ids),
        retain=bool(ev.retain), idempotency_key=ev.idempotency_key)


def _to_ack(resp: "bridge_pb2.PublishResponse") -> Ack:
    published_at = None
    if resp.HasField("published_at"):
        published_at = resp.published_at.ToDatetime().replace(tzinfo=datetime.timezone.utc)
    return Ack(id=resp.id, subscribers=resp.subscribers, replayed=resp.replayed,
               published_at=published_at)


def _code(value: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == value:
            return code
    return grpc.StatusCode.UNKNOWN


class Publisher:
    """A connection to one bridge's gRPC port. Thread-safe: calls may run
    concurrently from several threads. Use as a context manager or call
    close()."""

    def __init__(self, target: str, *, token: Optional[str] = None,
                 tls: Union[None, bool, Tls] = None, timeout: float = 10.0,
                 options: Sequence[tuple] = ()):
        if not isinstance(target, str) or not target:
            raise ValueError("target must be 'host:port'")
        if token is not None and (not isinstance(token, str) or not token
                                  or "\n" in token or "\r" in token):
            raise ValueError("token must be a non-empty single-line string")
        if not timeout or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if tls is None or tls is False:
            self._channel = grpc.insecure_channel(target, options=list(options))
        else:
            cfg = Tls() if tls is True else tls
            if not isinstance(cfg, Tls):
                raise TypeError("tls must be None, True or a Tls")
            creds = grpc.ssl_channel_credentials(
                cfg.root_certificates, cfg.private_key, cfg.certificate_chain)
            self._channel = grpc.secure_channel(target, creds, options=list(options))
        self._stub = bridge_pb2_grpc.PublisherStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def publish(self, channel: str, data: Any, *, event: str = "",
                user_ids: Sequence[str] = (), retain: bool = False,
                idempotency_key: str = "", timeout: Optional[float] = None) -> Ack:
        """Publishes one event; returns its Ack or raises PublishError."""
        request = _to_request(Event(channel=channel, data=data, event=event,
                                    user_ids=user_ids, retain=retain,
                                    idempotency_key=idempotency_key))
        try:
            resp = self._stub.Publish(request, timeout=timeout or self._timeout,
                                      metadata=self._metadata)
        except grpc.RpcError as err:
            raise PublishError(err.code(), err.details() or "") from None
        return _to_ack(resp)

    def publish_stream(self, events: Iterable[Union[Event, dict]], *,
                       max_in_flight: int = 64,
                       timeout: Optional[float] = None) -> Iterator[Result]:
        """Publishes ``events`` over one PublishStream; yields a Result per
        event, in order. ``timeout`` bounds the whole stream (None: none)."""
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError("max_in_flight must be an integer >= 1")
        return self._stream(iter(events), max_in_flight, timeout)

    def _stream(self, source: Iterator, window: int,
                timeout: Optional[float]) -> Iterator[Result]:
        in_flight: "collections.deque[Event]" = collections.deque()
        cond = threading.Condition()
        state = {"done": False, "bad_input": None}

        def requests():
            # Runs on gRPC's sending thread: waits for room in the window
            # before reading the caller's iterable.
            while True:
                with cond:
                    while len(in_flight) >= window and not state["done"]:
                        cond.wait()
                    if state["done"]:
                        return
                try:
                    ev = _to_event(next(source))
                    req = _to_request(ev)
                except StopIteration:
                    return
                except (TypeError, ValueError) as exc:
                    state["bad_input"] = exc
                    return
                with cond:
                    in_flight.append(ev)
                yield req

        call = self._stub.PublishStream(requests(), timeout=timeout,
                                        metadata=self._metadata)
        try:
            for resp in call:
                with cond:
                    if not in_flight:
                        continue  # more answers than requests: not the contract
                    ev = in_flight.popleft()
                    cond.notify_all()
                if resp.HasField("error") and resp.error.code != 0:
                    yield Result(ev, error=PublishError(_code(resp.error.code),
                                                        resp.error.message))
                else:
                    yield Result(ev, ack=_to_ack(resp))
        except grpc.RpcError as err:
            with cond:
                unacked = list(in_flight)
            raise PublishError(err.code(), err.details() or "", unacked) from None
        finally:
            with cond:
                state["done"] = True
                cond.notify_all()
            call.cancel()
        if state["bad_input"] is not None:
            raise state["bad_input"]
