// The bridge's metrics: which parts are read for GET /metrics, under which
// names. Wiring only (like main.cc): it reads the counters the parts keep
// and adds none on any data path. The list, with labels:
//
//   ssebridge_streams                       gauge   open SSE streams
//   ssebridge_streams_opened_total          counter SSE streams accepted
//   ssebridge_streams_closed_total{reason}  counter see sse/close_reason.h
//   ssebridge_stream_bytes_written_total    counter bytes written to streams
//   ssebridge_stream_queued_bytes           gauge   bytes waiting for sockets
//   ssebridge_channel_subscribers{channel}  gauge   channels --metrics_channels
//                                                   opts in (the busiest
//                                                   --metrics_top_channels),
//                                                   every other one "_other"
//   ssebridge_streams_refused_*_total       counter StreamAdmission refusals
//   ssebridge_events_published_total        counter accepted publishes
//   ssebridge_events_delivered_total        counter events queued to readers
//   ssebridge_events_dropped_total          counter dropped by a policy
//   ssebridge_slow_consumer_disconnects_total counter queue overflows
//   ssebridge_resumes_total{outcome}        counter fresh | replayed | reset
//   ssebridge_publish_latency_seconds{door} histogram grpc | grpc_stream | http
//   ssebridge_broker_ready{broker}          gauge   1 when publishes can go
//   ssebridge_broker_store_connects_total{broker},
//   ssebridge_broker_store_connection_losses_total{broker}
//                                           counter connections to the
//                                                   broker's store (Redis)
//   ssebridge_history_channels, ssebridge_history_bytes,
//   ssebridge_retained_values, ssebridge_retained_bytes   gauge
//   ssebridge_history_budget_evictions_total,
//   ssebridge_retained_expired_total        counter
// (all broker figures from Broker::metrics(); 0 where a broker has none)
// and the older ones kept for dashboards already built on them (see .cc),
// and the process_* families of ops/process_metrics.h.
#ifndef SSEBRIDGE_METRICS_WIRING_H_
#define SSEBRIDGE_METRICS_WIRING_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "bridge/admission/stream_admission.h"
#include "bridge/auth/connection_limits.h"
#include "bridge/auth/ticket_store.h"
#include "bridge/broker/broker.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/hub.h"
#include "bridge/grpc/publisher_service.h"
#include "bridge/grpc/subscriber_service.h"
#include "bridge/http/http_server.h"
#include "bridge/ops/metrics.h"
#include "bridge/publish/publish_gate.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

// What the metrics read; every pointer must outlive the registry's use.
struct MetricsSources {
  const Hub* hub = nullptr;
  const StreamWriter* writer = nullptr;
  const Broker* broker = nullptr;
  std::string broker_name;
  const PublishGate* gate = nullptr;
  const SubscriberService* subscribers = nullptr;
  const PublisherService* publisher = nullptr;
  const HttpServer* http = nullptr;  // the public listener
  const StreamAdmission* admission = nullptr;
  const ConnectionLimits* connections = nullptr;
  const TicketStore* tickets = nullptr;
  size_t top_channels = 20;
  // --metrics_channels: the channels whose names may be labels.
  ChannelPatterns labelled_channels;
};

void RegisterMetrics(MetricsRegistry& m, const MetricsSources& s);

}  // namespace ssebridge

#endif  // SSEBRIDGE_METRICS_WIRING_H_
