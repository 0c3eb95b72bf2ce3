#include "bridge/metrics_wiring.h"

#include "bridge/ops/process_metrics.h"
#include "bridge/ops/top_channels.h"
#include "bridge/sse/close_reason.h"

namespace ssebridge {
namespace {

void RegisterStreamMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const StreamWriter& writer = *s.writer;
  m.Gauge("ssebridge_streams", "Open SSE streams.",
          [&writer] { return double(writer.streams()); });
  m.Counter("ssebridge_streams_opened_total", "SSE streams accepted.",
            [&writer] { return writer.opened(); });
  m.Counters("ssebridge_streams_closed_total",
             "SSE streams ended, by reason (client_closed, slow_consumer, "
             "write_error, shutdown, disconnected_by_admin, auth_expired, "
             "broker_unavailable).",
             [&writer] {
               std::vector<CounterSample> out;
               for (size_t i = 0; i < kCloseReasonCount; ++i) {
                 const auto reason = static_cast<CloseReason>(i);
                 out.push_back({{{"reason", std::string(CloseReasonName(reason))}},
                                writer.closed(reason)});
               }
               return out;
             });
  m.Counter("ssebridge_stream_bytes_written_total",
            "Bytes written to SSE streams (headers, events, heartbeats).",
            [&writer] { return writer.bytes_written(); });
  m.Gauge("ssebridge_stream_queued_bytes",
          "Bytes queued on open SSE streams that their sockets have not taken yet.",
          [&writer] { return double(writer.queued_bytes()); });
  m.Counter("ssebridge_stream_writes_total", "writev calls on SSE streams.",
            [&writer] { return writer.writes(); });
  m.Counter("ssebridge_heartbeats_total", "Heartbeat comments sent.",
            [&writer] { return writer.heartbeats(); });
  const HttpServer& http = *s.http;
  m.Counter("ssebridge_streams_refused_unauthenticated_total",
            "Stream requests answered 401 (no, bad or expired credential).",
            [&http] { return http.refused_unauthenticated(); });
  m.Counter("ssebridge_streams_refused_forbidden_total",
            "Stream requests answered 403 (channel not granted).",
            [&http] { return http.refused_forbidden(); });
  m.Counter("ssebridge_streams_refused_limited_total",
            "Stream requests answered 429 (per-user or per-address limit).",
            [&http] { return http.refused_limited(); });
  m.Gauge("ssebridge_http_waiting_connections",
          "HTTP connections waiting for (the rest of) a request.",
          [&http] { return double(http.waiting_connections()); });
  m.Counter("ssebridge_http_request_timeouts_total",
            "HTTP connections closed at --http_header_timeout or --http_idle_timeout.",
            [&http] { return http.request_timeouts(); });
  m.Counter("ssebridge_http_requests_too_large_total",
            "HTTP requests refused as too large (414, 431, 413).",
            [&http] { return http.requests_too_large(); });
}

void RegisterHubMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const Hub& hub = *s.hub;
  m.Gauge("ssebridge_subscriptions", "Subscriptions attached to the hub (SSE and gRPC).",
          [&hub] { return double(hub.subscriptions()); });
  const size_t top = s.top_channels;
  m.Gauges("ssebridge_channel_subscribers",
           "Subscriptions per channel: the busiest --metrics_top_channels "
           "channels, the others summed under channel=\"_other\".",
           [&hub, top] {
             std::vector<GaugeSample> out;
             for (auto& [channel, n] : TopChannels(hub.ChannelCounts(), top)) {
               out.push_back({{{"channel", std::move(channel)}}, double(n)});
             }
             return out;
           });
  m.Counter("ssebridge_events_delivered_total",
            "Events queued to a subscription (one per reader).",
            [&hub] { return hub.deliveries(); });
  m.Counter("ssebridge_events_dropped_total",
            "Events dropped or replaced by the drop-oldest / latest-only policies.",
            [&hub] { return hub.dropped(); });
  m.Counter("ssebridge_slow_consumer_disconnects_total",
            "Subscriptions ended because their queue overflowed (disconnect policy).",
            [&hub] { return hub.overflow_disconnects(); });
  m.Counters("ssebridge_resumes_total",
             "Subscriptions attached, by how their cursor was answered: fresh "
             "(none sent), replayed (events after it), reset (ssebridge.reset).",
             [&hub] {
               return std::vector<CounterSample>{
                   {{{"outcome", "fresh"}}, hub.resumes(ResumeOutcome::kFresh)},
                   {{{"outcome", "replayed"}}, hub.resumes(ResumeOutcome::kReplayed)},
                   {{{"outcome", "reset"}}, hub.resumes(ResumeOutcome::kReset)}};
             });
}

void RegisterPublishMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const PublishGate& gate = *s.gate;
  m.Counter("ssebridge_events_published_total", "Events published (accepted).",
            [&gate] { return gate.published(); });
  m.Counter("ssebridge_publish_rejected_total", "Publishes refused (bad input, limits).",
            [&gate] { return gate.rejected(); });
  m.Histograms("ssebridge_publish_latency_seconds",
               "Time from a publish request's arrival to its answer, by door "
               "(grpc: Publish/PublishBatch; grpc_stream: one stream message; "
               "http: POST /v1/publish).",
               [&gate] {
                 std::vector<HistogramSample> out;
                 for (PublishDoor door : {PublishDoor::kGrpc, PublishDoor::kGrpcStream,
                                          PublishDoor::kHttp}) {
                   out.push_back(gate.latency(door).Read(
                       {{"door", std::string(PublishDoorName(door))}}));
                 }
                 return out;
               });
  const SubscriberService& subscribers = *s.subscribers;
  m.Gauge("ssebridge_grpc_subscribers", "Open gRPC Subscribe streams.",
          [&subscribers] { return double(subscribers.active()); });
}

void RegisterBrokerMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const Broker& broker = *s.broker;
  m.Gauges("ssebridge_broker_ready",
           "1 when the broker can take publishes and attach readers.",
           [&broker, name = s.broker_name] {
             return std::vector<GaugeSample>{
                 {{{"broker", name}}, broker.ready() ? 1.0 : 0.0}};
           });
  if (s.memory != nullptr) {
    const MemoryBroker* memory = s.memory;
    m.Gauge("ssebridge_history_channels", "Channels holding history or retained values.",
            [memory] { return double(memory->channels()); });
  }
  if (s.redis != nullptr) {
    const RedisConnectionEvents* redis = s.redis;
    m.Counter("ssebridge_redis_connects_total",
              "Fan-out connections established to Redis (above 1: reconnects).",
              [redis] { return redis->connects.load(std::memory_order_relaxed); });
    m.Counter("ssebridge_redis_connection_losses_total",
              "Fan-out connections to Redis lost.",
              [redis] { return redis->losses.load(std::memory_order_relaxed); });
  }
  const ConnectionLimits* connections = s.connections;
  m.Gauge("ssebridge_connected_users", "Distinct authenticated users with a stream.",
          [connections] { return double(connections->users()); });
  const TicketStore* tickets = s.tickets;
  m.Gauge("ssebridge_tickets_pending", "Issued tickets not yet redeemed or expired.",
          [tickets] { return double(tickets->size()); });
}

}  // namespace

void RegisterMetrics(MetricsRegistry& m, const MetricsSources& s) {
  RegisterStreamMetrics(m, s);
  RegisterHubMetrics(m, s);
  RegisterPublishMetrics(m, s);
  RegisterBrokerMetrics(m, s);
  RegisterProcessMetrics(m);
}

}  // namespace ssebridge
