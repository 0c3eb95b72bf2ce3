"""What the synchronous and the asyncio publishers share: the request and
answer types, PublishError, and the conversions to and from the proto.
Imported through ssebridge_publisher and ssebridge_publisher.aio."""

import dataclasses
import datetime
import json
from typing import Any, List, Optional, Sequence, Union

import grpc

from ssebridge.v1 import bridge_pb2

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
    return Ack(id=resp.id, subscribers=resp.subscribers, replayed=resp.replayed,
               published_at=_timestamp(resp, "published_at"))


def _code(value: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == value:
            return code
    return grpc.StatusCode.UNKNOWN




@dataclasses.dataclass(frozen=True)
class Ticket:
    """A one-time ticket: the page connects with
    ``GET /v1/events?channel=...&ticket=<ticket>`` before ``expires_at``."""
    ticket: str
    expires_at: Optional[datetime.datetime]


@dataclasses.dataclass(frozen=True)
class ChannelStats:
    channel: str
    subscribers: int


@dataclasses.dataclass(frozen=True)
class ReplicaStats:
    """One replica's numbers in :class:`FleetStats`."""
    replica: str                # its name ("" in FleetStats.total)
    connections: int
    grpc_subscribers: int
    channels: int
    users: int
    published: int
    # When they were taken: the answering replica's are current, the others'
    # as last reported. None in FleetStats.total.
    reported_at: Optional[datetime.datetime]


@dataclasses.dataclass(frozen=True)
class FleetStats:
    """``get_stats(fleet=True)``: every replica whose lease is live, the
    answering one first (--broker=memory: that one alone); ``total`` sums
    them (a user or channel on two replicas counts twice); ``error`` is
    non-empty when the other replicas could not be read (then ``replicas``
    holds the answering one alone)."""
    replicas: List[ReplicaStats]
    total: ReplicaStats
    error: str


@dataclasses.dataclass(frozen=True)
class Stats:
    connections: int            # open SSE streams
    grpc_subscribers: int       # open gRPC Subscribe streams
    channels: int               # channels with a subscriber on this replica
    users: int                  # distinct authenticated users connected
    published: int              # events accepted since start
    channel_stats: List[ChannelStats]
    # Defaults, so that code building a Stats itself (fakes in tests) keeps
    # working. The answering replica's name (--broker=redis; "" with memory).
    replica: str = ""
    fleet: Optional[FleetStats] = None  # None unless get_stats(fleet=True)


def _timestamp(msg, field: str) -> Optional[datetime.datetime]:
    if not msg.HasField(field):
        return None
    return getattr(msg, field).ToDatetime().replace(tzinfo=datetime.timezone.utc)


def _rpc_error(err: grpc.RpcError, unacked: Sequence[Event] = ()) -> PublishError:
    """One mapping for every call: the status code and the bridge's message.
    DEADLINE_EXCEEDED means the outcome is unknown (a publish may have been
    stored); UNAVAILABLE that the bridge was not reached (nothing stored)."""
    return PublishError(err.code(), err.details() or "", unacked)


def _batch_request(events: Sequence[Union[Event, dict]]):
    if isinstance(events, (str, bytes, dict)):
        raise TypeError("events must be a sequence of Event or dict")
    items = [_to_event(e) for e in events]
    return items, bridge_pb2.PublishBatchRequest(requests=[_to_request(e) for e in items])


def _one_request(item: Union[Event, dict]):
    """A PublishStream item: (the Event, its PublishRequest)."""
    ev = _to_event(item)
    return ev, _to_request(ev)


def _one_result(ev: Event, resp: "bridge_pb2.PublishResponse") -> Result:
    """The Result of one PublishStream answer: its error, or its Ack."""
    if resp.HasField("error") and resp.error.code != 0:
        return Result(ev, error=PublishError(_code(resp.error.code), resp.error.message))
    return Result(ev, ack=_to_ack(resp))


def _one_event(ev: Event) -> List[Event]:
    return [ev]


def _batch_results(items: Sequence[Event], resp) -> List[Result]:
    return [_one_result(ev, r) for ev, r in zip(items, resp.responses)]


def _ticket_request(user_id: str, channels: Sequence[str],
                    ttl_seconds: int) -> "bridge_pb2.IssueTicketRequest":
    if not isinstance(user_id, str):
        raise TypeError("user_id must be a string")
    if isinstance(channels, str) or not all(isinstance(c, str) for c in channels):
        raise TypeError("channels must be a sequence of strings")
    return bridge_pb2.IssueTicketRequest(user_id=user_id, channels=list(channels),
                                         ttl_seconds=int(ttl_seconds))


def _to_ticket(resp) -> Ticket:
    return Ticket(ticket=resp.ticket, expires_at=_timestamp(resp, "expires_at"))


def _stats_request(max_channels: int, fleet: bool) -> "bridge_pb2.GetStatsRequest":
    # bool only: a truthy string such as "false" must not ask for the fleet.
    if not isinstance(fleet, bool):
        raise TypeError("fleet must be a bool")
    return bridge_pb2.GetStatsRequest(max_channels=int(max_channels), fleet=fleet)


def _to_replica_stats(r) -> ReplicaStats:
    return ReplicaStats(replica=r.replica, connections=r.connections,
                        grpc_subscribers=r.grpc_subscribers, channels=r.channels,
                        users=r.users, published=r.published,
                        reported_at=_timestamp(r, "reported_at"))


def _to_stats(s) -> Stats:
    fleet = None
    # Presence, not emptiness: an asked-for fleet has at least the answering
    # replica; one not asked for is absent on the wire.
    if s.HasField("fleet"):
        fleet = FleetStats(replicas=[_to_replica_stats(r) for r in s.fleet.replicas],
                           total=_to_replica_stats(s.fleet.total), error=s.fleet.error)
    return Stats(connections=s.connections, grpc_subscribers=s.grpc_subscribers,
                 channels=s.channels, users=s.users, published=s.published,
                 channel_stats=[ChannelStats(c.channel, c.subscribers)
                                for c in s.channel_stats],
                 replica=s.replica, fleet=fleet)


def _credentials(target: str, token: Optional[str], tls, timeout: float):
    """Checks the constructor's arguments; returns (channel credentials or
    None for plaintext, call metadata)."""
    if not isinstance(target, str) or not target:
        raise ValueError("target must be 'host:port'")
    if token is not None and (not isinstance(token, str) or not token
                              or "\n" in token or "\r" in token):
        raise ValueError("token must be a non-empty single-line string")
    if not timeout or timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    if tls is None or tls is False:
        return None, metadata
    cfg = Tls() if tls is True else tls
    if not isinstance(cfg, Tls):
        raise TypeError("tls must be None, True or a Tls")
    return grpc.ssl_channel_credentials(cfg.root_certificates, cfg.private_key,
                                        cfg.certificate_chain), metadata
