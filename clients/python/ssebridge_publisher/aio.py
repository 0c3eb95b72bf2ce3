"""ssebridge_publisher.aio: the asyncio publisher, on ``grpc.aio``.

:class:`AsyncPublisher` has the surface of
:class:`ssebridge_publisher.Publisher`, with coroutines: ``publish``,
``publish_batch``, ``issue_ticket``, ``disconnect_user``, ``get_stats`` and
``close``; ``publish_stream`` is an async iterator of :class:`Result`, and
``publish_batch_stream`` (BatchPublisher.PublishBatchStream) one of
``List[Result]``, a list per batch. The
same types, the same :class:`PublishError` for every failure (status code
and the bridge's message), and no retries: resend only with an
``idempotency_key`` (DEADLINE_EXCEEDED: outcome unknown; UNAVAILABLE: not
stored). Cancelling the awaiting task cancels the call.

Create it inside a running event loop (grpc.aio binds its channel to it).
"""

import asyncio
import collections
from typing import (Any, AsyncIterable, AsyncIterator, Callable, Iterable, List, Optional,
                    Sequence, Tuple, Union)

import grpc
import grpc.aio

from ssebridge.v1 import bridge_pb2, bridge_pb2_grpc

from ssebridge_publisher._common import (
    Ack, Event, PublishError, Result, Stats, Ticket, Tls, _batch_request, _batch_results,
    _credentials, _one_event, _one_request, _one_result, _rpc_error, _stats_request,
    _ticket_request, _to_ack, _to_request, _to_stats, _to_ticket)

__all__ = ["AsyncPublisher"]


class AsyncPublisher:
    """A grpc.aio connection to one bridge's gRPC port. Use as an async
    context manager or await close()."""

    def __init__(self, target: str, *, token: Optional[str] = None,
                 tls: Union[None, bool, Tls] = None, timeout: float = 10.0,
                 options: Sequence[tuple] = ()):
        creds, self._metadata = _credentials(target, token, tls, timeout)
        if creds is None:
            self._channel = grpc.aio.insecure_channel(target, options=list(options))
        else:
            self._channel = grpc.aio.secure_channel(target, creds, options=list(options))
        self._stub = bridge_pb2_grpc.PublisherStub(self._channel)
        self._batch = bridge_pb2_grpc.BatchPublisherStub(self._channel)
        self._tickets = bridge_pb2_grpc.TicketsStub(self._channel)
        self._admin = bridge_pb2_grpc.AdminStub(self._channel)
        self._timeout = timeout

    async def __aenter__(self) -> "AsyncPublisher":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def publish(self, channel: str, data: Any, *, event: str = "",
                      user_ids: Sequence[str] = (), retain: bool = False,
                      idempotency_key: str = "", timeout: Optional[float] = None) -> Ack:
        """Publishes one event; returns its Ack or raises PublishError."""
        request = _to_request(Event(channel=channel, data=data, event=event,
                                    user_ids=user_ids, retain=retain,
                                    idempotency_key=idempotency_key))
        return _to_ack(await self._call(self._stub.Publish, request, timeout))

    async def publish_batch(self, events: Sequence[Union[Event, dict]], *,
                            timeout: Optional[float] = None) -> List[Result]:
        """Up to 1,000 events in one call; one Result per event, in order."""
        items, request = _batch_request(events)
        return _batch_results(items, await self._call(self._batch.PublishBatch, request,
                                                      timeout))

    async def issue_ticket(self, user_id: str, channels: Sequence[str], *,
                           ttl_seconds: int = 0, timeout: Optional[float] = None) -> Ticket:
        """A one-time ticket for ``user_id``'s page (see Publisher.issue_ticket)."""
        request = _ticket_request(user_id, channels, ttl_seconds)
        return _to_ticket(await self._call(self._tickets.IssueTicket, request, timeout))

    async def disconnect_user(self, user_id: str, *,
                              timeout: Optional[float] = None) -> int:
        """Admin: ends every SSE stream of ``user_id``; returns how many."""
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user_id must be a non-empty string")
        request = bridge_pb2.DisconnectUserRequest(user_id=user_id)
        return (await self._call(self._admin.DisconnectUser, request, timeout)).disconnected

    async def get_stats(self, *, max_channels: int = 0, fleet: bool = False,
                        timeout: Optional[float] = None) -> Stats:
        """Admin: the bridge's counts; ``channel_stats`` busiest first. With
        ``fleet`` also every replica's (``Stats.fleet``, else None)."""
        request = _stats_request(max_channels, fleet)
        return _to_stats(await self._call(self._admin.GetStats, request, timeout))

    async def _call(self, method, request, timeout: Optional[float]):
        try:
            return await method(request, timeout=timeout or self._timeout,
                                metadata=self._metadata)
        except grpc.aio.AioRpcError as err:
            raise _rpc_error(err) from None

    def publish_stream(self, events: Union[Iterable, AsyncIterable], *,
                       max_in_flight: int = 64,
                       timeout: Optional[float] = None) -> AsyncIterator[Result]:
        """Publishes ``events`` (an iterable or async iterable of Event or
        dict) over one PublishStream; yields a Result per event, in order. At
        most ``max_in_flight`` are unanswered at a time; the source is not
        read further until answers come back. If the stream fails, raises
        PublishError whose ``unacked`` lists the events without an answer."""
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError("max_in_flight must be an integer >= 1")
        return self._stream(events, max_in_flight, timeout)

    def publish_batch_stream(
            self, batches: Union[Iterable[Sequence[Union[Event, dict]]],
                                 AsyncIterable[Sequence[Union[Event, dict]]]], *,
            max_in_flight: int = 64,
            timeout: Optional[float] = None) -> AsyncIterator[List[Result]]:
        """Publishes ``batches`` (an iterable or async iterable of sequences
        of up to 1,000 events) over one PublishBatchStream; yields a list of
        Results per batch, in order (as publish_batch returns). At most
        ``max_in_flight`` batches are unanswered at a time. If the stream
        fails, raises PublishError whose ``unacked`` lists the events of the
        batches without an answer."""
        if not isinstance(max_in_flight, int) or max_in_flight < 1:
            raise ValueError("max_in_flight must be an integer >= 1")
        return self._stream(batches, max_in_flight, timeout,
                            self._batch.PublishBatchStream, _batch_request,
                            _batch_results, list)

    async def _stream(self, events, window: int, timeout: Optional[float],
                      method: Optional[Callable] = None,
                      convert: Callable[[Any], Tuple[Any, Any]] = _one_request,
                      answer: Callable[[Any, Any], Any] = _one_result,
                      events_of: Callable[[Any], List[Event]] = _one_event) -> AsyncIterator:
        # See Publisher._stream: `convert`, `answer` and `events_of` make the
        # same loop serve PublishStream and PublishBatchStream.
        in_flight: collections.deque = collections.deque()
        room = asyncio.Condition()
        state = {"done": False, "bad_input": None}

        async def source():
            if hasattr(events, "__aiter__"):
                async for item in events:
                    yield item
            else:
                for item in events:
                    yield item

        async def requests():
            async for item in source():
                async with room:
                    await room.wait_for(lambda: len(in_flight) < window or state["done"])
                    if state["done"]:
                        return
                try:
                    ev, req = convert(item)
                except (TypeError, ValueError) as exc:
                    state["bad_input"] = exc
                    return
                in_flight.append(ev)
                yield req

        call = (method or self._stub.PublishStream)(requests(), timeout=timeout,
                                                    metadata=self._metadata)
        try:
            async for resp in call:
                if not in_flight:
                    continue  # more answers than requests: not the contract
                ev = in_flight.popleft()
                async with room:
                    room.notify_all()
                yield answer(ev, resp)
        except grpc.aio.AioRpcError as err:
            raise _rpc_error(err, [e for item in in_flight for e in events_of(item)]) from None
        finally:
            state["done"] = True
            async with room:
                room.notify_all()
            call.cancel()
        if state["bad_input"] is not None:
            raise state["bad_input"]
