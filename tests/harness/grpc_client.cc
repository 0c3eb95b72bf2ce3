#include "tests/harness/grpc_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/test_helpers.h"
#include "tests/harness/wait_until.h"

namespace ssebridge_it {

v1::PublishRequest MakePublish(const std::string& channel, const std::string& data,
                               const std::string& event, bool retain) {
  v1::PublishRequest r;
  r.set_channel(channel);
  r.set_data(data);
  r.set_event(event);
  r.set_retain(retain);
  return r;
}

GrpcClient::GrpcClient(int port) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  args.SetMaxSendMessageSize(16 * 1024 * 1024);
  channel_ = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials(), args);
  publisher_ = v1::Publisher::NewStub(channel_);
  subscriber_ = v1::Subscriber::NewStub(channel_);
}

grpc::Status GrpcClient::Publish(const v1::PublishRequest& request, v1::PublishResponse* response,
                                 absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.set_wait_for_ready(true);
  return publisher_->Publish(&ctx, request, response);
}

v1::PublishResponse GrpcClient::MustPublish(const v1::PublishRequest& request) {
  v1::PublishResponse resp;
  grpc::Status s = Publish(request, &resp);
  if (!s.ok()) {
    ADD_FAILURE() << "Publish(" << request.ShortDebugString() << ") failed: code " << s.error_code()
                  << ": " << s.error_message();
  }
  return resp;
}

v1::PublishResponse GrpcClient::MustPublish(const std::string& channel, const std::string& data,
                                            const std::string& event) {
  return MustPublish(MakePublish(channel, data, event));
}

GrpcSubscription::GrpcSubscription(GrpcClient* client, const std::vector<std::string>& channels,
                                   const std::string& last_event_id) {
  v1::SubscribeRequest req;
  for (const auto& c : channels) req.add_channels(c);
  req.set_last_event_id(last_event_id);
  // A long but finite deadline: no call outlives a test.
  context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(240)));
  context_.set_wait_for_ready(true);
  auto* stub = client->subscriber();
  reader_ = std::thread([this, stub, req] {
    auto reader = stub->Subscribe(&context_, req);
    v1::Event ev;
    for (int i = 0; i < 10000000 && reader->Read(&ev); ++i) {
      std::lock_guard<std::mutex> lock(mu_);
      if (ev.event() == "ssebridge.cursor") {
        cursor_ = ev.id();  // moves the resume point; not an event
      } else {
        events_.push_back(ev);
      }
    }
    grpc::Status s = reader->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    ended_ = true;
  });
}

GrpcSubscription::~GrpcSubscription() {
  Cancel();
  if (reader_.joinable()) reader_.join();
}

void GrpcSubscription::Cancel() { context_.TryCancel(); }

bool GrpcSubscription::WaitForEvents(size_t n, absl::Duration timeout) {
  auto cond = [&]() { return events_.size() >= n || ended_; };
  std::unique_lock<std::mutex> lock(mu_);
  WaitUntil(lock, cond, timeout);
  return events_.size() >= n;
}

bool GrpcSubscription::WaitForEnd(absl::Duration timeout) {
  auto cond = [&]() { return ended_; };
  std::unique_lock<std::mutex> lock(mu_);
  WaitUntil(lock, cond, timeout);
  return ended_;
}

std::string GrpcSubscription::cursor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cursor_;
}

std::vector<v1::Event> GrpcSubscription::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

bool GrpcSubscription::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

grpc::Status GrpcSubscription::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

bool ParseEventId(const std::string& id, ParsedId* out) {
  size_t dash = id.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= id.size()) {
    return false;
  }
  for (size_t i = dash + 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  if (!absl::SimpleAtoi(id.substr(dash + 1), &out->seq)) return false;
  out->epoch = id.substr(0, dash);
  return true;
}

std::string OtherEpoch(const std::string& epoch) {
  std::string other = epoch;
  if (other.empty()) return "zzz";
  char& c = other.back();
  if (c >= '0' && c <= '9') {
    c = c == '9' ? '0' : static_cast<char>(c + 1);
  } else if (c >= 'a' && c <= 'z') {
    c = c == 'z' ? 'a' : static_cast<char>(c + 1);
  } else if (c >= 'A' && c <= 'Z') {
    c = c == 'Z' ? 'A' : static_cast<char>(c + 1);
  } else {
    other = "zzz";
  }
  return other;
}

std::vector<v1::PublishResponse> PublishAllOnOneStream(
    v1::Publisher::Stub* stub, const std::vector<v1::PublishRequest>& requests,
    grpc::Status* status) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = stub->PublishStream(&ctx);
  std::thread writer([&] {
    for (const auto& r : requests) {
      if (!stream->Write(r)) return;
    }
    stream->WritesDone();
  });
  std::vector<v1::PublishResponse> out;
  v1::PublishResponse resp;
  while (out.size() < requests.size() && stream->Read(&resp)) out.push_back(resp);
  writer.join();
  *status = stream->Finish();
  return out;
}

std::string PublishThenOnlyWait(v1::Publisher::Stub* stub, const std::string& channel, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    auto stream = stub->PublishStream(&ctx);
    const int n = 2 + round * 7;
    for (int i = 0; i < n; ++i) {
      if (!stream->Write(MakePublish(channel, absl::StrCat(round, ".", i)))) {
        return absl::StrCat("round ", round, ": write ", i, " failed");
      }
    }
    const absl::Time start = absl::Now();
    for (int i = 0; i < n; ++i) {
      v1::PublishResponse resp;
      if (!stream->Read(&resp)) {
        return absl::StrCat("round ", round, ": answer ", i, " of ", n, " never came");
      }
      if (resp.has_error()) return resp.ShortDebugString();
    }
    if (absl::Now() - start > absl::Seconds(5)) {
      return absl::StrCat("round ", round, ": answers took ",
                          absl::FormatDuration(absl::Now() - start));
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return st.error_message();
  }
  return "";
}

QueuedUpStream PublishQueuedUpOnOneStream(v1::Publisher::Stub* stub) {
  std::vector<v1::PublishRequest> reqs;
  for (int i = 0; i < 3000; ++i) {
    reqs.push_back(i % 97 == 13 ? MakePublish("bad channel!", "x")
                                : MakePublish(i % 2 ? "q" : "r", absl::StrCat("e", i)));
  }
  QueuedUpStream out;
  grpc::Status status;
  std::vector<v1::PublishResponse> resps = PublishAllOnOneStream(stub, reqs, &status);
  if (!status.ok()) out.error = status.error_message();
  if (out.error.empty() && resps.size() != reqs.size()) {
    out.error = absl::StrCat(resps.size(), " answers to ", reqs.size(), " requests");
  }
  for (size_t i = 0; out.error.empty() && i < reqs.size(); ++i) {
    const bool bad = i % 97 == 13;
    if (bad != (resps[i].error().code() == 3) || (!bad && resps[i].has_error())) {
      out.error = absl::StrCat("answer ", i, ": ", resps[i].ShortDebugString());
    } else if (!bad) {
      out.ids.push_back(resps[i].id());
      out.datas.push_back(reqs[i].data());
    }
  }
  if (out.error.empty()) out.error = CheckIdsIncreasing(out.ids);
  return out;
}

}  // namespace ssebridge_it
