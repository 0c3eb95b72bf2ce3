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
* ``Publisher.publish_batch_stream(batches, max_in_flight=...)`` is the same
  over one ``BatchPublisher.PublishBatchStream``: each item of ``batches`` is
  a sequence of up to 1,000 events, and it yields one ``List[Result]`` per
  batch, in order (as ``publish_batch`` returns: a refused event has
  ``Result.error``, the rest of its batch is still published).
  ``max_in_flight`` counts batches; a failed stream raises
  :class:`PublishError` whose ``unacked`` lists the events of the batches
  that got no answer.
* Credentials: ``token`` is sent as ``authorization: Bearer <token>``;
  ``tls`` selects plaintext (``None``), TLS with system roots (``True``) or a
  :class:`Tls` with a CA bundle and, for mTLS, a client key and certificate.

* ``publish_batch``, ``issue_ticket``, ``disconnect_user`` and ``get_stats``
  (Tickets, BatchPublisher and Admin services) report failures the same way
  as ``publish``: :class:`PublishError` with the status code and message.
  Nothing is retried here. DEADLINE_EXCEEDED means the outcome is unknown
  (the event may have been stored): resend only with an ``idempotency_key``.
  UNAVAILABLE means the bridge was not reached.
* :mod:`ssebridge_publisher.aio` has :class:`AsyncPublisher`, the same
  surface on ``grpc.aio`` (every method a coroutine, ``publish_stream`` an
  async iterator).

The generated stubs (``ssebridge.v1.bridge_pb2``, ``bridge_pb2_grpc``) are
made from the repository's proto when the wheel is built (see
clients/python/README.md); nobody runs protoc by hand.
"""

import collections
import os
import threading
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import grpc

from ssebridge.v1 import bridge_pb2, bridge_pb2_grpc

from ssebridge_publisher._common import (  # noqa: F401 (re-exported)
    Ack, ChannelStats, Event, FleetStats, PublishError, ReplicaStats, Result, Stats, Ticket,
    Tls, _batch_request, _batch_results, _code, _credentials, _rpc_error,
    _one_event, _one_request, _one_result, _stats_request, _ticket_request, _to_ack,
    _to_event, _to_request, _to_stats, _to_ticket)
try:
    from ssebridge_publisher._version import __version__  # written by the wheel build
except ImportError:  # a checkout: the repository's VERSION file
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "VERSION")) as _f:
        __version__ = _f.read().strip()

__all__ = ["Publisher", "Event", "Ack", "Result", "PublishError", "Tls", "Ticket",
           "Stats", "ChannelStats", "FleetStats", "ReplicaStats", "__version__"]


class Publisher:
    """A connection to one bridge's gRPC port. Thread-safe: calls may run
    concurrently from several threads. Use as a context manager or call
    close()."""

    def __init__(self, target: str, *, token: Optional[str] = None,
                 tls: Union[None, bool, Tls] = None, timeout: float = 10.0,
                 options: Sequence[tuple] = ()):
        creds, self._metadata = _credentials(target, token, tls, timeout)
        if creds is None:
            self._channel = grpc.insecure_channel(target, options=list(options))
        else:
            self._channel = grpc.secure_channel(target, creds, options=list(options))
        self._stub = bridge_pb2_grpc.PublisherStub(self._channel)
        self._batch = bridge_pb2_grpc.BatchPublisherStub(self._channel)
        self._tickets = bridge_pb2_grpc.TicketsStub(self._channel)
        self._admin = bridge_pb2_grpc.AdminStub(self._channel)
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
        return _to_ack(self._call(self._stub.Publish, request, timeout))

    def publish_batch(self, events: Sequence[Union[Event, dict]], *,
                      timeout: Optional[float] = None) -> List[Result]:
        """Publishes up to 1,000 events in one call, in order; one Result
        per event (a refused one has ``error``, the others are published).
        Raises PublishError when the whole call fails."""
        items, request = _batch_request(events)
        return _batch_results(items, self._call(self._batch.PublishBatch, request, timeout))

    def issue_ticket(self, user_id: str, channels: Sequence[str], *,
                     ttl_seconds: int = 0, timeout: Optional[float] = None) -> Ticket:
        """Mints a one-time ticket for ``user_id``'s page to open a stream
        on ``channels`` (exact names or "prefix*"); ttl 1-60 s, 0 = 30."""
        request = _ticket_request(user_id, channels, ttl_seconds)
        return _to_ticket(self._call(self._tickets.IssueTicket, request, timeout))

    def disconnect_user(self, user_id: str, *, timeout: Optional[float] = None) -> int:
        """Admin: ends every SSE stream of ``user_id``; returns how many."""
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user_id must be a non-empty string")
        request = bridge_pb2.DisconnectUserRequest(user_id=user_id)
        return self._call(self._admin.DisconnectUser, request, timeout).disconnected

    def get_stats(self, *, max_channels: int = 0, fleet: bool = False,
                  timeout: Optional[float] = None) -> Stats:
        """Admin: the bridge's counts; ``channel_stats`` busiest first. With
        ``fleet`` also every replica's (``Stats.fleet``, else None)."""
        request = _stats_request(max_channels, fleet)
        return _to_stats(self._call(self._admin.GetStats, request, timeout))

    def _call(self, method, request, timeout: Optional[float]):
        try:
            return method(request, timeout=timeout or self._timeout,
                          metadata=self._metadata)
        except grpc.RpcError as err:
            raise _rpc_error(err) from None

    def publish_stream(self, events: Iterable[Union[Event, dict]], *,
                       max_in_flight: int = 64,
                       timeout: Optional[float] = None) -> Iterator[Result]:
        """Publishes ``events`` over one PublishStream; yields a Result per
        event, in order. ``timeout`` bounds the whole stream (None: none)."""
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError("max_in_flight must be an integer >= 1")
        return self._stream(iter(events), max_in_flight, timeout)

    def publish_batch_stream(self, batches: Iterable[Sequence[Union[Event, dict]]], *,
                             max_in_flight: int = 64,
                             timeout: Optional[float] = None) -> Iterator[List[Result]]:
        """Publishes ``batches`` (each a sequence of up to 1,000 events) over
        one PublishBatchStream; yields a list of Results per batch, in order.
        At most ``max_in_flight`` batches are unanswered at a time.
        ``timeout`` bounds the whole stream (None: none)."""
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError("max_in_flight must be an integer >= 1")
        return self._stream(iter(batches), max_in_flight, timeout,
                            self._batch.PublishBatchStream, _batch_request,
                            _batch_results, list)

    def _stream(self, source: Iterator, window: int, timeout: Optional[float],
                method: Optional[Callable] = None,
                convert: Callable[[Any], Tuple[Any, Any]] = _one_request,
                answer: Callable[[Any, Any], Any] = _one_result,
                events_of: Callable[[Any], List[Event]] = _one_event) -> Iterator:
        # `convert` turns an item of `source` into (what is remembered until
        # its answer, the request); `answer` makes the result of both;
        # `events_of` the events a remembered item stands for (unacked).
        in_flight: collections.deque = collections.deque()
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
                    ev, req = convert(next(source))
                except StopIteration:
                    return
                except (TypeError, ValueError) as exc:
                    state["bad_input"] = exc
                    return
                with cond:
                    in_flight.append(ev)
                yield req

        call = (method or self._stub.PublishStream)(requests(), timeout=timeout,
                                                    metadata=self._metadata)
        try:
            for resp in call:
                with cond:
                    if not in_flight:
                        continue  # more answers than requests: not the contract
                    ev = in_flight.popleft()
                    cond.notify_all()
                yield answer(ev, resp)
        except grpc.RpcError as err:
            with cond:
                unacked = [e for item in in_flight for e in events_of(item)]
            raise _rpc_error(err, unacked) from None
        finally:
            with cond:
                state["done"] = True
                cond.notify_all()
            call.cancel()
        if state["bad_input"] is not None:
            raise state["bad_input"]
