// `loadgen pub` over gRPC: Publisher/PublishStream, Publisher/Publish and
// BatchPublisher/PublishBatchStream (see publisher.cc for the options).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "common.h"
#include "publisher.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace bench {

void FillRequest(const PubConfig& c, int64_t seq, std::string* payload,
                 ssebridge::v1::PublishRequest* req) {
  if (c.raw_data.empty()) {
    MakePayload(NowNs(), seq, size_t(c.size), payload);
  } else {
    *payload = c.raw_data;
  }
  req->set_channel(c.channel);
  if (!c.event.empty()) req->set_event(c.event);
  req->set_data(*payload);
  req->clear_user_ids();
  if (c.user_targets > 0) req->add_user_ids("u" + std::to_string(seq % c.user_targets));
}

std::shared_ptr<grpc::Channel> MakeChannel(const PubConfig& c) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetMaxReceiveMessageSize(16 << 20);
  return grpc::CreateCustomChannel(c.target, grpc::InsecureChannelCredentials(), args);
}

namespace {

// Counts one response (an event's answer) into `r`. Caller holds the lock.
void Account(const ssebridge::v1::PublishResponse& resp, PubResult* r) {
  if (resp.has_error() && resp.error().code() != 0) {
    ++r->errors;
    ++r->error_kinds["grpc code " + std::to_string(resp.error().code()) + ": " +
                     resp.error().message().substr(0, 80)];
  } else {
    ++r->accepted;
    r->subscribers_sum += resp.subscribers();
  }
}

int64_t Account(const ssebridge::v1::PublishBatchResponse& resp, PubResult* r) {
  for (const auto& one : resp.responses()) Account(one, r);
  return resp.responses_size();
}

// Requests event `first`.. into `req`, at most `room` of them; returns how
// many. PublishStream carries one event per message.
int64_t Fill(const PubConfig& c, int64_t first, int64_t, std::string* payload,
             ssebridge::v1::PublishRequest* req) {
  FillRequest(c, first, payload, req);
  return 1;
}

int64_t Fill(const PubConfig& c, int64_t first, int64_t room, std::string* payload,
             ssebridge::v1::PublishBatchRequest* req) {
  const int64_t n = std::min<int64_t>(c.batch, room);
  while (req->requests_size() > n) req->mutable_requests()->RemoveLast();
  while (req->requests_size() < n) req->add_requests();
  for (int64_t k = 0; k < n; ++k) {
    FillRequest(c, first + k, payload, req->mutable_requests(int(k)));
  }
  return n;
}

// The stream loop shared by PublishStream (one event per message) and
// PublishBatchStream (up to --batch per message): a writer keeping up to
// --window events unanswered, a reader thread counting the answers.
template <typename Request, typename Response, typename Stream>
PubResult RunStream(const PubConfig& c, grpc::ClientContext& ctx, Stream* stream) {
  PubResult r;
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> last_ack{0};
  std::mutex mu;  // guards r.errors, r.error_kinds, r.accepted, r.subscribers_sum
  std::condition_variable acked_cv;
  std::thread reader([&] {
    Response resp;
    while (stream->Read(&resp)) {
      int64_t now = NowNs();
      int64_t n = 1;
      {
        std::lock_guard<std::mutex> lock(mu);
        if constexpr (std::is_same_v<Response, ssebridge::v1::PublishResponse>) {
          Account(resp, &r);
        } else {
          n = Account(resp, &r);
        }
      }
      last_ack.store(now, std::memory_order_relaxed);
      acked.fetch_add(n, std::memory_order_release);
      acked_cv.notify_one();
    }
    acked_cv.notify_one();
  });
  const int64_t t0 = NowNs();
  Request req;
  std::string payload;
  int64_t i = 0;
  int64_t writes = 0;
  bool write_failed = false;
  while (MoreToSend(c, i, NowNs(), t0)) {
    int64_t due = DueNs(c, t0, i);
    if (due > 0) {
      int64_t now = NowNs();
      if (due > now) SleepUntilNs(due);
    }
    // Bounded window of events awaiting their response.
    if (i - acked.load(std::memory_order_acquire) >= c.window) {
      std::unique_lock<std::mutex> lock(mu);
      while (i - acked.load(std::memory_order_acquire) >= c.window &&
             NowNs() - t0 <= c.duration_ns + c.drain_ns) {
        acked_cv.wait_for(lock, std::chrono::milliseconds(50));
      }
    }
    int64_t room = c.window - (i - acked.load(std::memory_order_acquire));
    if (room <= 0) break;
    if (c.events > 0) room = std::min(room, c.events - i);
    if (c.rate > 0) room = 1;  // paced: each event at its own time
    int64_t n = Fill(c, i, room, &payload, &req);
    int64_t now = NowNs();
    if (due > 0 && now - due > r.max_lag_ns) r.max_lag_ns = now - due;
    if (r.first_send_ns == 0) r.first_send_ns = now;
    grpc::WriteOptions wopts;
    // Experimental (--hint_every=N): let gRPC hold all but every N-th write.
    if (c.hint_every > 1 && (writes + 1) % c.hint_every != 0) wopts.set_buffer_hint();
    if (!stream->Write(req, wopts)) {
      write_failed = true;
      break;
    }
    ++writes;
    r.last_send_ns = now;
    i += n;
  }
  r.sent = i;
  stream->WritesDone();
  // Wait (bounded) for every response, then end the call.
  const int64_t drain_until = NowNs() + c.drain_ns;
  while (acked.load(std::memory_order_acquire) < r.sent && NowNs() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (acked.load() < r.sent) ctx.TryCancel();
  reader.join();
  grpc::Status st = stream->Finish();
  std::lock_guard<std::mutex> lock(mu);
  if (write_failed || !st.ok()) {
    ++r.error_kinds["stream ended: " + std::to_string(int(st.error_code())) + " " +
                    st.error_message().substr(0, 80)];
  }
  r.last_ack_ns = last_ack.load();
  return r;
}

}  // namespace

PubResult RunGrpcStream(const PubConfig& c) {
  auto channel = MakeChannel(c);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    Die("pub: cannot connect to " + c.target);
  }
  grpc::ClientContext ctx;
  // A server that stops reading must not block Write() forever.
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::nanoseconds(c.duration_ns + c.drain_ns + 10000000000LL));
  if (c.batch > 0) {
    auto stub = ssebridge::v1::BatchPublisher::NewStub(channel);
    auto stream = stub->PublishBatchStream(&ctx);
    return RunStream<ssebridge::v1::PublishBatchRequest, ssebridge::v1::PublishBatchResponse>(
        c, ctx, stream.get());
  }
  auto stub = ssebridge::v1::Publisher::NewStub(channel);
  auto stream = stub->PublishStream(&ctx);
  return RunStream<ssebridge::v1::PublishRequest, ssebridge::v1::PublishResponse>(c, ctx,
                                                                                  stream.get());
}

PubResult RunGrpcUnary(const PubConfig& c) {
  PubResult r;
  auto channel = MakeChannel(c);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    Die("pub: cannot connect to " + c.target);
  }
  auto stub = ssebridge::v1::Publisher::NewStub(channel);
  const int64_t t0 = NowNs();
  ssebridge::v1::PublishRequest req;
  ssebridge::v1::PublishResponse resp;
  std::string payload;
  int64_t i = 0;
  while (MoreToSend(c, i, NowNs(), t0)) {
    int64_t due = DueNs(c, t0, i);
    if (due > NowNs()) SleepUntilNs(due);
    FillRequest(c, i, &payload, &req);
    int64_t now = NowNs();
    if (due > 0 && now - due > r.max_lag_ns) r.max_lag_ns = now - due;
    if (r.first_send_ns == 0) r.first_send_ns = now;
    r.last_send_ns = now;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status st = stub->Publish(&ctx, req, &resp);
    ++i;
    if (st.ok()) {
      ++r.accepted;
      r.subscribers_sum += resp.subscribers();
      r.last_ack_ns = NowNs();
    } else {
      ++r.errors;
      ++r.error_kinds["grpc " + std::to_string(int(st.error_code())) + ": " +
                      st.error_message().substr(0, 80)];
    }
  }
  r.sent = i;
  return r;
}

}  // namespace bench
