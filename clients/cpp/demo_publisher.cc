// demo_publisher: a small backend for the live demo. It publishes to a
// running ssebridge over one gRPC PublishStream:
//   - every --interval: a "tick" message on --channel and a retained "stats"
//     figure set on --dashboard_channel (a new tab shows it at once);
//   - now and then: a "taskDone" event on --tasks_channel, targeted
//     (user_ids) at one of --users, as if a background job finished.
// When the stream breaks (the bridge restarted, a network blip) it opens a
// new one after a jittered backoff (--max_backoff) and resends the event it
// was publishing, so the demo recovers by itself; the ticket endpoint stays
// up all the while.
// With --ticket_port it also plays the app backend that knows its users: it
// serves GET /ticket?user=<one of --users> and answers with a one-time
// ticket from Tickets.IssueTicket. DEMO ONLY: it trusts the ?user= it is
// given, so anyone who reaches that port can read as any demo user. A real
// app issues the ticket for the user its own session has authenticated.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "The bridge's gRPC address.");
ABSL_FLAG(std::string, channel, "demo", "Channel for the plain 'tick' messages.");
ABSL_FLAG(std::string, dashboard_channel, "dashboard", "Channel for the retained 'stats' figures.");
ABSL_FLAG(std::string, tasks_channel, "tasks",
          "Channel for 'taskDone' events, each targeted at one demo user.");
ABSL_FLAG(std::string, users, "alice,bob", "The demo users (comma-separated).");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1), "Time between rounds.");
ABSL_FLAG(int64_t, count, 0, "Rounds to publish; 0 = until interrupted.");
ABSL_FLAG(absl::Duration, max_backoff, absl::Seconds(5),
          "Longest wait before reopening a broken PublishStream.");
ABSL_FLAG(int32_t, ticket_port, -1,
          "DEMO ONLY, insecure: serve GET /ticket?user=<demo user> on this "
          "port of --ticket_address (0 picks one; -1: off).");
ABSL_FLAG(std::string, ticket_address, "127.0.0.1", "Address for --ticket_port.");

namespace {

using ssebridge::v1::PublishRequest;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// GET /ticket?user=alice -> {"user":"alice","ticket":"..."}; CORS open, so
// the dashboard page on the bridge's port may call it.
void ServeTickets(httplib::Server& server, std::shared_ptr<grpc::Channel> channel,
                  std::vector<std::string> users, std::vector<std::string> channels) {
  auto stub = ssebridge::v1::Tickets::NewStub(channel);
  server.Get("/ticket", [stub = std::shared_ptr<ssebridge::v1::Tickets::Stub>(std::move(stub)),
                         users, channels](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Access-Control-Allow-Origin", "*");
    res.set_header("Cache-Control", "no-store");
    const std::string user = req.get_param_value("user");
    if (std::find(users.begin(), users.end(), user) == users.end()) {
      res.status = 400;
      res.set_content(absl::StrCat("{\"error\":\"invalid_argument\",\"message\":\"user: "
                                   "not a demo user\"}\n"),
                      "application/json");
      return;
    }
    ssebridge::v1::IssueTicketRequest request;
    request.set_user_id(user);
    for (const auto& c : channels) request.add_channels(c);
    request.set_ttl_seconds(30);
    ssebridge::v1::IssueTicketResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status status = stub->IssueTicket(&ctx, request, &response);
    if (!status.ok()) {
      res.status = 502;
      res.set_content(absl::StrCat("{\"error\":\"unavailable\",\"message\":",
                                   JsonString(status.error_message()), "}\n"),
                      "application/json");
      return;
    }
    res.set_content(absl::StrCat("{\"user\":", JsonString(user),
                                 ",\"ticket\":", JsonString(response.ticket()), "}\n"),
                    "application/json");
  });
}

// One PublishStream and the context it lives in (a context serves one call).
struct PublishSession {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<PublishRequest, ssebridge::v1::PublishResponse>> stream;
};

PublishSession OpenSession(ssebridge::v1::Publisher::Stub* stub) {
  PublishSession s;
  s.context = std::make_unique<grpc::ClientContext>();
  // Wait for the bridge to be back instead of failing at once.
  s.context->set_wait_for_ready(true);
  s.stream = stub->PublishStream(s.context.get());
  return s;
}

// Writes `req` and reads its answer; on a broken stream, reopens it after
// a jittered, growing delay and tries again, for as long as it takes.
ssebridge::v1::PublishResponse PublishWithRetry(ssebridge::v1::Publisher::Stub* stub,
                                                PublishSession* session, const PublishRequest& req,
                                                std::mt19937* rng) {
  const absl::Duration max_backoff = absl::GetFlag(FLAGS_max_backoff);
  absl::Duration backoff = absl::Milliseconds(250);
  for (;;) {
    ssebridge::v1::PublishResponse resp;
    if (session->stream->Write(req) && session->stream->Read(&resp)) return resp;
    grpc::Status status = session->stream->Finish();
    const absl::Duration wait =
        backoff / 2 + backoff / 2 * std::uniform_real_distribution<double>(0, 1)(*rng);
    std::fprintf(stderr, "demo_publisher: stream closed (%s); reconnecting in %lld ms\n",
                 status.error_message().c_str(),
                 static_cast<long long>(absl::ToInt64Milliseconds(wait)));
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(wait));
    backoff = std::min(backoff * 2, max_backoff);
    *session = OpenSession(stub);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "demo_publisher: cannot reach %s\n", absl::GetFlag(FLAGS_target).c_str());
    return 1;
  }
  const std::vector<std::string> users =
      absl::StrSplit(absl::GetFlag(FLAGS_users), ',', absl::SkipEmpty());
  if (users.empty()) {
    std::fprintf(stderr, "demo_publisher: --users is empty\n");
    return 2;
  }
  const std::string dashboard = absl::GetFlag(FLAGS_dashboard_channel);
  const std::string tasks = absl::GetFlag(FLAGS_tasks_channel);

  httplib::Server ticket_server;
  std::thread ticket_thread;
  if (absl::GetFlag(FLAGS_ticket_port) >= 0) {
    ServeTickets(ticket_server, channel, users, {dashboard, tasks});
    const std::string address = absl::GetFlag(FLAGS_ticket_address);
    int port = absl::GetFlag(FLAGS_ticket_port);
    if (port == 0) {
      port = ticket_server.bind_to_any_port(address);
    } else if (!ticket_server.bind_to_port(address, port)) {
      port = -1;
    }
    if (port < 0) {
      std::fprintf(stderr, "demo_publisher: cannot listen on %s:%d\n", address.c_str(),
                   absl::GetFlag(FLAGS_ticket_port));
      return 1;
    }
    std::printf("{\"msg\":\"tickets\",\"port\":%d}\n", port);
    std::fflush(stdout);
    ticket_thread = std::thread([&ticket_server] { ticket_server.listen_after_bind(); });
  }

  auto stub = ssebridge::v1::Publisher::NewStub(channel);
  PublishSession session = OpenSession(stub.get());
  std::mt19937 rng(std::random_device{}());
  int64_t orders = 1200;
  double revenue = 48250.0;
  int64_t task_no = 0;
  const int64_t count = absl::GetFlag(FLAGS_count);
  for (int64_t i = 1; count == 0 || i <= count; ++i) {
    const std::string now =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
    std::vector<PublishRequest> round;
    PublishRequest tick;
    tick.set_channel(absl::GetFlag(FLAGS_channel));
    tick.set_data(absl::StrCat("{\"n\":", i, ",\"at\":\"", now, "\"}"));
    round.push_back(tick);

    orders += std::uniform_int_distribution<int>(0, 4)(rng);
    revenue += std::uniform_real_distribution<double>(0, 180)(rng);
    PublishRequest stats;
    stats.set_channel(dashboard);
    stats.set_event("stats");
    stats.set_retain(true);
    stats.set_data(
        absl::StrCat("{\"activeUsers\":", 40 + std::uniform_int_distribution<int>(0, 25)(rng),
                     ",\"ordersToday\":", orders, ",\"revenue\":", static_cast<int64_t>(revenue),
                     ",\"queueDepth\":", std::uniform_int_distribution<int>(0, 12)(rng),
                     ",\"updated\":\"", now, "\"}"));
    round.push_back(stats);

    if (i % 3 == 1) {  // a background task finishes for one of the users
      static const char* kTasks[] = {"Export report", "Resize images", "Send invoices",
                                     "Rebuild index", "Import contacts"};
      const std::string& user = users[static_cast<size_t>(task_no) % users.size()];
      ++task_no;
      PublishRequest done;
      done.set_channel(tasks);
      done.set_event("taskDone");
      done.add_user_ids(user);
      done.set_data(absl::StrCat("{\"task\":", task_no, ",\"title\":\"", kTasks[task_no % 5],
                                 "\",\"user\":", JsonString(user),
                                 ",\"seconds\":", std::uniform_int_distribution<int>(2, 90)(rng),
                                 ",\"at\":\"", now, "\"}"));
      round.push_back(done);
    }
    for (const auto& req : round) {
      ssebridge::v1::PublishResponse resp = PublishWithRetry(stub.get(), &session, req, &rng);
      if (resp.has_error()) {
        std::fprintf(stderr, "demo_publisher: %s\n", resp.error().message().c_str());
      } else {
        std::printf("published %s %s/%s to %d subscriber(s)\n", resp.id().c_str(),
                    req.channel().c_str(), req.event().empty() ? "message" : req.event().c_str(),
                    static_cast<int>(resp.subscribers()));
        std::fflush(stdout);
      }
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(absl::GetFlag(FLAGS_interval)));
  }
  session.stream->WritesDone();
  const int exit_code = session.stream->Finish().ok() ? 0 : 1;
  if (ticket_thread.joinable()) {
    ticket_server.stop();
    ticket_thread.join();
  }
  return exit_code;
}
