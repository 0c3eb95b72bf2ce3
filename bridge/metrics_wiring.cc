#include "bridge/metrics_wiring.h"

#include "bridge/core/names.h"
#include "bridge/ops/process_metrics.h"
#include "bridge/ops/top_channels.h"
#include "bridge/sse/close_reason.h"

namespace ssebridge {
namespace {

void RegisterStreamMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const StreamWriter& writer = *s.writer;
  m.Gauge("ssebridge_streams", "Open SSE streams.", [&writer] { return double(writer.streams()); });
  m.Counter("ssebridge_streams_opened_total", "SSE streams accepted.",
            [&writer] { return writer.opened(); });
  m.Counters("ssebridge_streams_closed_total",
             "SSE streams ended, by reason (client_closed, slow_consumer, "
             "write_error, shutdown, disconnected_by_admin, auth_expired, "
             "broker_unavailable, replaced).",
             [&writer] {
               std::vector<CounterSample> out;
               for (size_t i = 0; i < kCloseReasonCount; ++i) {
                 const auto reason = static_cast<CloseReason>(i);
                 out.push_back(
                     {{{"reason", std::string(CloseReasonName(reason))}}, writer.closed(reason)});
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
  const StreamAdmission& admission = *s.admission;
  m.Counter("ssebridge_streams_refused_unauthenticated_total",
            "Stream requests refused as unauthenticated (HTTP 401, gRPC "
            "UNAUTHENTICATED: no, bad or expired credential).",
            [&admission] { return admission.refused_unauthenticated(); });
  m.Counter("ssebridge_streams_refused_forbidden_total",
            "Stream requests refused as forbidden (HTTP 403, gRPC "
            "PERMISSION_DENIED: channel not granted, status page closed).",
            [&admission] { return admission.refused_forbidden(); });
  m.Counter("ssebridge_streams_refused_limited_total",
            "Stream requests refused by a per-user or per-address limit "
            "(HTTP 429, gRPC RESOURCE_EXHAUSTED).",
            [&admission] { return admission.refused_limited(); });
  m.Counter("ssebridge_streams_refused_unavailable_total",
            "Stream requests refused as unavailable (HTTP 503, gRPC "
            "UNAVAILABLE: --max_connections reached, broker not ready, draining).",
            [&admission] { return admission.refused_unavailable(); });
  const HttpServer& http = *s.http;
  m.Gauge("ssebridge_http_waiting_connections",
          "HTTP connections waiting for (the rest of) a request.",
          [&http] { return double(http.waiting_connections()); });
  m.Counter("ssebridge_http_request_timeouts_total",
            "HTTP connections closed at --http_header_timeout or --http_idle_timeout.",
            [&http] { return http.request_timeouts(); });
  m.Counter("ssebridge_http_requests_too_large_total",
            "HTTP requests refused as too large (414, 431, 413).",
            [&http] { return http.requests_too_large(); });
  m.Counter("ssebridge_http_requests_malformed_total",
            "HTTP requests refused for bad framing (400 before routing).",
            [&http] { return http.requests_malformed(); });
  m.Counter("ssebridge_http_publishes_on_reader_total",
            "POST /v1/publish requests answered on the HTTP reader thread (one small "
            "event, a broker that never waits), without a hand-off to a pool thread.",
            [&http] { return http.answered_on_reader(); });
  m.Gauge("ssebridge_http_receiving_bytes",
          "Bytes of HTTP requests being received (--http_body_buffer_bytes).",
          [&http] { return double(http.receiving_bytes()); });
}

void RegisterHubMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const Hub& hub = *s.hub;
  m.Gauge("ssebridge_subscriptions", "Subscriptions attached to the hub (SSE and gRPC).",
          [&hub] { return double(hub.subscriptions()); });
  const size_t top = s.top_channels;
  const ChannelPatterns labelled = s.labelled_channels;
  m.Gauges("ssebridge_channel_subscribers",
           "Subscriptions per channel: of the channels --metrics_channels "
           "opts in, the busiest --metrics_top_channels; every other channel "
           "summed under channel=\"_other\".",
           [&hub, top, labelled] {
             std::vector<std::pair<std::string, uint32_t>> opted_in;
             uint64_t folded = 0;
             bool any_folded = false;
             for (auto& [channel, n] : hub.ChannelCounts()) {
               // A name is a label only when the operator chose to publish
               // it; internal channels ('$...') never are.
               if (!labelled.empty() && labelled.Matches(channel) &&
                   ValidateChannelName(channel, "channel").ok()) {
                 opted_in.emplace_back(std::move(channel), n);
               } else {
                 folded += n;
                 any_folded = true;
               }
             }
             std::vector<GaugeSample> out;
             for (auto& [channel, n] : TopChannels(std::move(opted_in), top)) {
               if (channel == kOtherChannels) {
                 folded += n;
                 any_folded = true;
                 continue;
               }
               out.push_back({{{"channel", std::move(channel)}}, double(n)});
             }
             if (any_folded) {
               out.push_back({{{"channel", std::string(kOtherChannels)}}, double(folded)});
             }
             return out;
           });
  m.Counter("ssebridge_events_delivered_total", "Events queued to a subscription (one per reader).",
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
  m.Histograms(
      "ssebridge_publish_latency_seconds",
      "Time from a publish request's arrival to its answer, by door "
      "(grpc: Publish/PublishBatch; grpc_stream: one stream message; "
      "http: POST /v1/publish).",
      [&gate] {
        std::vector<HistogramSample> out;
        for (PublishDoor door :
             {PublishDoor::kGrpc, PublishDoor::kGrpcStream, PublishDoor::kHttp}) {
          out.push_back(gate.latency(door).Read({{"door", std::string(PublishDoorName(door))}}));
        }
        return out;
      });
  const PublisherService& publisher = *s.publisher;
  m.Counter("ssebridge_grpc_publish_stream_read_pauses_total",
            "Times a PublishStream or PublishBatchStream stopped reading because 256 "
            "requests, or 4 MiB of requests and answers, were owed (a publisher that does "
            "not read its answers, or a broker slower than the publisher).",
            [&publisher] { return publisher.stream_read_pauses(); });
  const SubscriberService& subscribers = *s.subscribers;
  m.Gauge("ssebridge_grpc_subscribers", "Open gRPC Subscribe streams.",
          [&subscribers] { return double(subscribers.active()); });
}

void RegisterBrokerMetrics(MetricsRegistry& m, const MetricsSources& s) {
  const Broker& broker = *s.broker;
  m.Gauges("ssebridge_broker_ready", "1 when the broker can take publishes and attach readers.",
           [&broker, name = s.broker_name] {
             return std::vector<GaugeSample>{{{{"broker", name}}, broker.ready() ? 1.0 : 0.0}};
           });
  const MetricLabels label = {{"broker", s.broker_name}};
  auto counter = [&m, &broker, &label](const char* name, const char* help,
                                       uint64_t BrokerMetrics::*field) {
    m.Counters(name, help, [&broker, label, field] {
      return std::vector<CounterSample>{{label, broker.metrics().*field}};
    });
  };
  auto gauge = [&m, &broker](const char* name, const char* help, uint64_t BrokerMetrics::*field) {
    m.Gauge(name, help, [&broker, field] { return double(broker.metrics().*field); });
  };
  counter("ssebridge_broker_store_connects_total",
          "Connections the broker made to its store (Redis; above 1: reconnects).",
          &BrokerMetrics::store_connects);
  counter("ssebridge_broker_store_connection_losses_total",
          "Connections from the broker to its store (Redis) lost.", &BrokerMetrics::store_losses);
  gauge("ssebridge_history_channels", "Channels holding history or retained values here.",
        &BrokerMetrics::channels);
  gauge("ssebridge_history_bytes",
        "Bytes of history held in this process (--max_history_bytes_total).",
        &BrokerMetrics::history_bytes);
  gauge("ssebridge_retained_values", "Retained values held in this process.",
        &BrokerMetrics::retained_values);
  gauge("ssebridge_retained_bytes",
        "Bytes of retained values held in this process (--max_retained_bytes).",
        &BrokerMetrics::retained_bytes);
  m.Counter("ssebridge_history_budget_evictions_total",
            "Events evicted from history by --max_history_bytes_total.",
            [&broker] { return broker.metrics().history_budget_evictions; });
  m.Counter("ssebridge_retained_expired_total", "Retained values swept by --retained_ttl.",
            [&broker] { return broker.metrics().retained_expired; });
  const ConnectionLimits* connections = s.connections;
  m.Gauge("ssebridge_connected_users", "Distinct authenticated users with a stream.",
          [connections] { return double(connections->users()); });
  m.Counter("ssebridge_streams_fleet_unchecked_total",
            "Streams admitted on this replica's per-user count alone because the "
            "fleet's count in Redis could not be read (--broker=redis).",
            [connections] { return connections->fleet_unchecked(); });
  const TicketStore* tickets = s.tickets;
  m.Gauge("ssebridge_tickets_pending",
          "Tickets this replica issued, not yet redeemed (here) or expired; "
          "with --broker=redis the tickets live in Redis and any replica "
          "redeems them.",
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
