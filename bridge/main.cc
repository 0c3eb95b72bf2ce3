// ssebridge: wiring only. Flags become options, the parts are built in
// dependency order, and SIGTERM/SIGINT drains them in reverse.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bridge/admission/stream_admission.h"
#include "bridge/auth/cors_policy.h"
#include "bridge/auth_wiring.h"
#include "bridge/broker_wiring.h"
#include "bridge/core/hub.h"
#include "bridge/drain_wiring.h"
#include "bridge/grpc/admin_service.h"
#include "bridge/grpc/batch_publisher_service.h"
#include "bridge/grpc/grpc_server.h"
#include "bridge/grpc/publisher_service.h"
#include "bridge/grpc/subscriber_service.h"
#include "bridge/grpc/ticket_service.h"
#include "bridge/http/http_server.h"
#include "bridge/http/static_files.h"
#include "bridge/http/status_page.h"
#include "bridge/http_wiring.h"
#include "bridge/metrics_wiring.h"
#include "bridge/ops/build_info.h"
#include "bridge/ops/flags.h"
#include "bridge/ops/log.h"
#include "bridge/ops/metrics.h"
#include "bridge/ops/periodic_task.h"
#include "bridge/ops/shutdown_signal.h"
#include "bridge/publish/json_batch_body.h"
#include "bridge/publish/json_publish.h"
#include "bridge/publish/publish_gate.h"
#include "bridge/sse/sse_encoder.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {
namespace {

// The internal listener serves scrapes and a few status pages; its streams
// are handed to the writer like any other, so two request threads suffice.
constexpr int kInternalHttpThreads = 2;

int Fail(const absl::Status& status) {
  LogLine(LogLevel::kError, "cannot start").Str("error", status.message());
  return 2;
}

int Run(ShutdownSignal& signals) {
  absl::Status s = ValidateFlags();
  if (!s.ok()) return Fail(s);
  s = CheckBrokerFlag();
  if (!s.ok()) return Fail(s);
  s = SetLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!s.ok()) return Fail(s);
  absl::StatusOr<PolicyTable> policies =
      PolicyTable::Parse(absl::GetFlag(FLAGS_channel_policies), "--channel_policies");
  if (!policies.ok()) return Fail(policies.status());
  absl::StatusOr<CorsPolicy> cors = CorsPolicy::Parse(absl::GetFlag(FLAGS_cors_origins));
  if (!cors.ok()) return Fail(cors.status());

  // Declared before auth: connection limits' leases release into it.
  std::unique_ptr<Fleet> fleet;
  s = MakeFleetFromFlags(fleet);
  if (!s.ok()) return Fail(s);
  AuthParts auth;
  auth.fleet = fleet.get();
  s = MakeTicketVaultFromFlags(auth.ticket_vault);
  if (!s.ok()) return Fail(s);
  s = LoadAuthFromFlags(auth);
  if (!s.ok()) return Fail(s);

  int writer_threads = absl::GetFlag(FLAGS_writer_threads);
  if (writer_threads == 0) {
    writer_threads = std::max(1u, std::thread::hardware_concurrency());
  }
  Hub hub(writer_threads);
  SseEncoder encoder;
  BrokerParts brokers;
  s = MakeBrokerFromFlags(&hub, &encoder, brokers);
  if (!s.ok()) return Fail(s);
  Broker& broker = brokers.broker();

  StreamWriter writer({absl::GetFlag(FLAGS_heartbeat)}, &hub);
  s = writer.Start();
  if (!s.ok()) return Fail(s);

  PublishLimits limits;
  limits.max_event_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_event_bytes));
  limits.max_user_ids = static_cast<size_t>(absl::GetFlag(FLAGS_max_user_ids));
  limits.max_batch = static_cast<size_t>(absl::GetFlag(FLAGS_max_publish_batch));
  PublishGate gate(&broker, limits, auth.publishers.get());
  PublisherService publisher(&gate, auth.grpc_publish_streams.get());
  BatchPublisherService batch_publisher(&gate, publisher.drain(), auth.grpc_publish_streams.get(),
                                        publisher.read_pause_counter());
  const size_t max_channels = static_cast<size_t>(absl::GetFlag(FLAGS_max_channels_per_connection));
  const size_t queue_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_queue_bytes));
  const bool dev_mode = auth.publishers->open() && auth.admin_keys.empty();
  StreamAdmission::Options admission_options;
  admission_options.max_channels = max_channels;
  admission_options.max_streams = static_cast<size_t>(absl::GetFlag(FLAGS_max_connections));
  admission_options.queue_bytes = queue_bytes;
  StreamAdmission::Wiring admission_wiring;
  admission_wiring.subscribers = auth.subscribers.get();
  admission_wiring.publishers = auth.publishers.get();
  admission_wiring.admin_keys = &auth.admin_keys;
  admission_wiring.limits = auth.connections.get();
  admission_wiring.dev_mode = dev_mode;
  admission_wiring.ready = [&broker] { return broker.ready(); };
  StreamAdmission admission(admission_options, std::move(admission_wiring));
  SubscriberService subscriber(&admission, &broker, &hub, &*policies,
                               auth.grpc_subscribe_streams.get());
  TicketService tickets(auth.publishers.get(), auth.tickets.get());
  AdminService::Wiring admin_wiring;
  admin_wiring.admin_keys = &auth.admin_keys;
  admin_wiring.open = dev_mode;
  admin_wiring.hub = &hub;
  admin_wiring.disconnect_user = [&writer](const std::string& user) {
    return writer.DisconnectUser(user);
  };
  admin_wiring.connections = [&writer] { return uint64_t{writer.streams()}; };
  admin_wiring.grpc_subscribers = [&subscriber] { return uint64_t{subscriber.active()}; };
  admin_wiring.users = [&auth] { return uint64_t{auth.connections->users()}; };
  admin_wiring.published = [&gate] { return gate.published(); };
  admin_wiring.fleet = fleet.get();
  AdminService admin(std::move(admin_wiring));
  GrpcServer grpc_server(absl::GetFlag(FLAGS_grpc_address), absl::GetFlag(FLAGS_grpc_port),
                         absl::GetFlag(FLAGS_grpc_max_threads), {&subscriber, &tickets, &admin},
                         {&publisher, &batch_publisher});
  const int64_t grpc_max_message_bytes =
      absl::GetFlag(FLAGS_grpc_max_message_bytes) > 0
          ? absl::GetFlag(FLAGS_grpc_max_message_bytes)
          : std::max<int64_t>(int64_t{4} << 20, absl::GetFlag(FLAGS_max_event_bytes) + (1 << 20));
  grpc_server.SetMaxMessageBytes(grpc_max_message_bytes);
  // A publish that waits on Redis must not hold the loop that reads every
  // publish stream and answers health checks; one into memory is cheaper
  // where it is read.
  grpc_server.SetHandlerThreads(broker.publish_waits() ? absl::GetFlag(FLAGS_grpc_handler_threads)
                                                       : 0);
  grpc_server.SetTls({absl::GetFlag(FLAGS_grpc_tls_cert_file),
                      absl::GetFlag(FLAGS_grpc_tls_key_file),
                      absl::GetFlag(FLAGS_grpc_tls_client_ca_file)});
  MetricsRegistry metrics;

  const HttpServer::Options http_options =
      HttpOptionsFromFlags(limits.max_event_bytes, max_channels);
  std::optional<StaticFiles> static_files;
  if (const std::string dir = absl::GetFlag(FLAGS_static_dir); !dir.empty()) {
    absl::StatusOr<StaticFiles> opened = StaticFiles::Open(dir);
    if (!opened.ok()) {
      grpc_server.Shutdown(absl::Now());
      return Fail(opened.status());
    }
    static_files = std::move(*opened);
  }
  HttpServer::Wiring wiring;
  wiring.admission = &admission;
  wiring.writer = &writer;
  wiring.static_files = static_files ? &*static_files : nullptr;
  wiring.policies = &*policies;
  wiring.cors = &*cors;
  wiring.attach = [&broker, &hub](std::shared_ptr<Subscription> sub, absl::string_view cursor) {
    // Only the hub can end a stream the writer holds: a refused attach is
    // handed over closed (broker_unavailable), and the client retries.
    if (!broker.Attach(sub, cursor).ok()) hub.AttachRefused(std::move(sub));
  };
  wiring.publish = [&gate](const std::string& body, const std::string& authorization,
                           const std::string& content_type) {
    JsonReply reply = JsonPublish(gate, body, authorization, content_type);
    return HttpReply{reply.status, std::move(reply.json)};
  };
  if (!broker.publish_waits()) wiring.publish_on_reader = IsShortSinglePublish;
  wiring.publisher_auth = auth.publishers.get();
  wiring.ready = [&broker] { return broker.ready(); };
  StatusFeed status_feed(
      {static_cast<size_t>(absl::GetFlag(FLAGS_status_recent_events))},
      {[&writer] { return uint64_t{writer.streams()}; }, [&gate] { return gate.published(); },
       [&hub] { return hub.deliveries(); }, [&hub] { return hub.dropped(); },
       [&broker] { return broker.ready(); }, absl::GetFlag(FLAGS_broker), &metrics},
      &hub);
  const StatusPage status_page(
      {&status_feed, &writer, &*policies, &admission, http_options.access_log});
  HttpServer http(http_options, std::move(wiring));

  // The internal listener: /metrics and the status page, never on the
  // public port (a LoadBalancer Service would put them on the internet).
  HttpServer::Options internal_options = http_options;
  internal_options.address = absl::GetFlag(FLAGS_admin_address);
  internal_options.port = absl::GetFlag(FLAGS_admin_port);
  internal_options.threads = kInternalHttpThreads;
  HttpServer::Wiring internal_wiring;
  internal_wiring.ready = [&broker] { return broker.ready(); };
  internal_wiring.metrics = [&metrics] { return metrics.Render(); };
  if (absl::GetFlag(FLAGS_status_page) && internal_options.port >= 0) {
    status_feed.Start();
    internal_wiring.extra_routes = [&status_page](httplib::Server& svr,
                                                  const HttpServer::TakeOver& take) {
      status_page.AddRoutes(svr, take);
    };
  }
  // Publishes start here, once the hub's observer (the status feed) is set:
  // Hub::SetObserver must come before the first dispatch.
  s = grpc_server.Start();
  if (!s.ok()) return Fail(s);
  // gRPC Admin answers on the internal port: its reader hands the gRPC
  // server every connection that opens with the HTTP/2 preface, and Admin
  // refuses calls that came any other way. One gRPC server for both ports:
  // a second one's polling threads would take the publish port's reads
  // and hand each over (tests/bench/README.md, "gRPC doors").
  if (internal_options.port >= 0) {
    internal_wiring.http2_connections = [&grpc_server](int fd) { grpc_server.AddConnection(fd); };
  }
  HttpServer internal_http(internal_options, std::move(internal_wiring));
  MetricsSources sources;
  sources.hub = &hub;
  sources.writer = &writer;
  sources.broker = &broker;
  sources.broker_name = absl::GetFlag(FLAGS_broker);
  sources.gate = &gate;
  sources.subscribers = &subscriber;
  sources.publisher = &publisher;
  sources.http = &http;
  sources.admission = &admission;
  sources.connections = auth.connections.get();
  sources.tickets = auth.tickets.get();
  sources.top_channels = static_cast<size_t>(absl::GetFlag(FLAGS_metrics_top_channels));
  // Checked by ValidateFlags.
  sources.labelled_channels = *ChannelPatterns::Parse(absl::GetFlag(FLAGS_metrics_channels));
  RegisterMetrics(metrics, sources);
  RegisterBuildInfoMetric(metrics);
  s = http.Start();
  if (s.ok() && internal_options.port >= 0) s = internal_http.Start();
  if (!s.ok()) {
    grpc_server.Shutdown(absl::Now());
    return Fail(s);
  }

  // Started last: its thread ends streams through the writer and reports
  // the Admin service's numbers, and is stopped before either goes away.
  if (fleet != nullptr) {
    Fleet::Hooks hooks;
    hooks.disconnect_local = [&writer](const std::string& user) {
      return writer.DisconnectUser(user);
    };
    hooks.local_stats = [&admin] { return admin.LocalStats(); };
    s = fleet->Start(std::move(hooks));
    if (!s.ok()) {
      grpc_server.Shutdown(absl::Now());
      return Fail(s);
    }
  }

  LogLine(LogLevel::kInfo, "listening")
      .Str("version", GetBuildInfo().version)
      .Str("commit", GetBuildInfo().commit)
      .Str("build_type", GetBuildInfo().build_type)
      .Int("http_port", http.port())
      .Int("grpc_port", grpc_server.port())
      .Int("admin_port", internal_options.port >= 0 ? internal_http.port() : -1)
      .Str("epoch", broker.epoch())
      .Str("broker", absl::GetFlag(FLAGS_broker))
      .Str("replica", fleet != nullptr ? fleet->replica() : "")
      .Int("writer_threads", writer_threads)
      .Str("auth", auth.subscribers->open() ? "open" : "jwt")
      .Str("static_dir", static_files ? static_files->root() : "")
      .Str("grpc_tls", absl::GetFlag(FLAGS_grpc_tls_cert_file).empty()        ? "off"
                       : absl::GetFlag(FLAGS_grpc_tls_client_ca_file).empty() ? "tls"
                                                                              : "mtls");

  PeriodicTask sweeper(absl::Seconds(1), [&broker, &auth] {
    broker.Sweep(absl::Now());
    auth.tickets->Sweep(absl::Now());
  });
  const int sig = signals.Wait();
  const size_t left = Drain(sig, {&admission, &http, &internal_http, &writer, &subscriber,
                                  &publisher, &broker, &grpc_server, fleet.get()});
  status_feed.Stop();
  writer.Stop();
  http.Stop();
  internal_http.Stop();
  sweeper.Stop();
  LogLine(LogLevel::kInfo, "stopped").Int("streams_cut", static_cast<int64_t>(left));
  return 0;
}

}  // namespace
}  // namespace ssebridge

int main(int argc, char** argv) {
  // gRPC locks absl::Mutex on every call; Debian's Abseil checks each lock
  // order for deadlock cycles (a debugging aid: ~1 % of a publish stream's
  // CPU in GraphCycles). Sanitizer builds keep it.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  // Before any thread exists, so every thread inherits the blocked signals.
  ssebridge::ShutdownSignal signals;
  absl::SetProgramUsageMessage(
      "relays events published over gRPC (or POST /v1/publish) to browsers as "
      "Server-Sent Events.\n\n  ssebridge [--flag=value ...]\n\nEvery flag "
      "can also be set as SSEBRIDGE_<FLAG_NAME_IN_CAPITALS> in the "
      "environment; the command line wins.");
  // --help lists the bridge's own flags: those defined in bridge/ops/
  // (flags.cc, broker_flags.cc), not the libraries' (gRPC, absl).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "bridge/ops/") && absl::EndsWith(file, "flags.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] { return ssebridge::VersionText(); };
  absl::SetFlagsUsageConfig(usage);
  absl::Status env = ssebridge::ApplyEnvironmentToFlags();
  if (!env.ok()) {
    ssebridge::LogLine(ssebridge::LogLevel::kError, "cannot start").Str("error", env.message());
    return 2;
  }
  absl::ParseCommandLine(argc, argv);
  return ssebridge::Run(signals);
}
