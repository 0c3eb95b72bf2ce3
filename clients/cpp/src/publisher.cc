#include "ssebridge/publisher.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace ssebridge {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

v1::PublishRequest ToRequest(const Event& e) {
  v1::PublishRequest r;
  r.set_channel(e.channel);
  r.set_event(e.event);
  r.set_data(e.data);
  for (const auto& u : e.user_ids) r.add_user_ids(u);
  r.set_retain(e.retain);
  r.set_idempotency_key(e.idempotency_key);
  return r;
}

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

Ack ToAck(const v1::PublishResponse& r) {
  Ack a;
  a.id = r.id();
  a.subscribers = r.subscribers();
  a.replayed = r.replayed();
  if (r.has_published_at()) a.published_at = ToTime(r.published_at());
  return a;
}

// One result per event of a PublishBatch answer: its error, or its Ack.
// Missing answers (not the bridge's contract) are INTERNAL.
std::vector<absl::StatusOr<Ack>> ToResults(const v1::PublishBatchResponse& response,
                                           size_t events) {
  std::vector<absl::StatusOr<Ack>> results;
  results.reserve(events);
  for (const v1::PublishResponse& r : response.responses()) {
    if (results.size() == events) break;
    if (r.has_error() && r.error().code() != 0) {
      results.push_back(absl::Status(static_cast<absl::StatusCode>(r.error().code()),
                                     r.error().message()));
    } else {
      results.push_back(ToAck(r));
    }
  }
  while (results.size() < events) {
    results.push_back(absl::InternalError("the bridge sent no answer for this event"));
  }
  return results;
}

v1::PublishBatchRequest ToBatchRequest(const std::vector<Event>& events) {
  v1::PublishBatchRequest request;
  for (const Event& e : events) *request.add_requests() = ToRequest(e);
  return request;
}

bool SingleLine(const std::string& s) {
  return !absl::StrContains(s, '\n') && !absl::StrContains(s, '\r');
}

}  // namespace

namespace internal {

// A bidi stream answered in order, one Response per Request: what was
// written waits in `pending_` (as the caller's Item) until its answer.
// Threads and failures: see PublishStream in publisher.h.
template <typename Item, typename Request, typename Response>
class OrderedStream {
 public:
  using Rpc = grpc::ClientReaderWriter<Request, Response>;
  using Answer = std::pair<Item, Response>;

  // `open` authorizes the context it is given and starts the RPC on it.
  template <typename Open>
  OrderedStream(const char* name, size_t window, Open open)
      : name_(name), context_(std::make_unique<grpc::ClientContext>()), window_(window) {
    rpc_ = open(context_.get());
  }

  ~OrderedStream() {
    bool finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished = finished_;
    }
    if (!finished) {
      context_->TryCancel();
      rpc_->Finish();
    }
  }

  absl::Status Write(const Item& item, const Request& request) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] {
      return pending_.size() < window_ || finished_ || write_failed_ || writes_done_;
    });
    if (writes_done_) {
      return absl::FailedPreconditionError(absl::StrCat(name_, ": WritesDone() was called"));
    }
    if (finished_) {
      return final_status_.ok()
                 ? absl::UnavailableError(absl::StrCat(name_, ": the stream has ended"))
                 : final_status_;
    }
    if (write_failed_) return Closed();
    pending_.push_back(item);
    changed_.notify_all();
    lock.unlock();
    // The window guarantees no other Write runs; Read does not touch the
    // write side, so the lock need not be held while writing.
    if (!rpc_->Write(request)) {
      lock.lock();
      write_failed_ = true;
      changed_.notify_all();
      return Closed();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Answer> Read() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] {
        return !pending_.empty() || writes_done_ || write_failed_ || finished_;
      });
      if (finished_) {
        if (!final_status_.ok()) return final_status_;
        return NoMore();
      }
      if (pending_.empty() && writes_done_) {
        // Nothing outstanding and nothing more coming: end the RPC cleanly.
        lock.unlock();
        grpc::Status status = rpc_->Finish();
        lock.lock();
        finished_ = true;
        final_status_ = FromGrpc(status);
        changed_.notify_all();
        if (!final_status_.ok()) return final_status_;
        return NoMore();
      }
    }
    Response response;
    if (rpc_->Read(&response)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) {
        return absl::InternalError(
            absl::StrCat(name_, ": the bridge answered a request never sent"));
      }
      Answer answer{std::move(pending_.front()), std::move(response)};
      pending_.pop_front();
      changed_.notify_all();
      return answer;
    }
    grpc::Status status = rpc_->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    final_status_ = FromGrpc(status);
    if (final_status_.ok() && !pending_.empty()) {
      final_status_ = absl::UnavailableError(absl::StrCat(
          name_, ": the bridge ended the stream with ", pending_.size(),
          " request(s) unanswered"));
    }
    changed_.notify_all();
    return final_status_.ok() ? NoMore() : final_status_;
  }

  // Write then Read; a broken write returns the stream's own status.
  absl::StatusOr<Answer> Call(const Item& item, const Request& request) {
    absl::Status written = Write(item, request);
    if (!written.ok()) {
      bool broken;
      {
        std::lock_guard<std::mutex> lock(mu_);
        broken = write_failed_ && !finished_;
      }
      if (!broken) return written;
      absl::Status why = Finish(nullptr);  // the stream's own status says why
      return why.ok() ? written : why;
    }
    return Read();
  }

  void WritesDone() {
    std::lock_guard<std::mutex> lock(mu_);
    if (writes_done_) return;
    writes_done_ = true;
    if (!write_failed_ && !finished_) rpc_->WritesDone();
    changed_.notify_all();
  }

  absl::Status Finish(std::vector<Answer>* rest) {
    WritesDone();
    while (true) {
      absl::StatusOr<Answer> r = Read();
      if (r.ok()) {
        if (rest != nullptr) rest->push_back(std::move(*r));
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      return final_status_;
    }
  }

  std::vector<Item> pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::vector<Item>(pending_.begin(), pending_.end());
  }

  size_t in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }

 private:
  absl::Status Closed() const {
    return absl::UnavailableError(
        absl::StrCat(name_, ": the stream is closed; Read() or Finish() returns why"));
  }
  absl::Status NoMore() const {
    return absl::OutOfRangeError(absl::StrCat(name_, ": no more answers"));
  }

  const char* const name_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Rpc> rpc_;
  const size_t window_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> pending_;
  bool writes_done_ = false;
  bool write_failed_ = false;
  bool finished_ = false;      // rpc_->Finish() was called
  absl::Status final_status_;  // valid once finished_
};

}  // namespace internal

namespace {

StreamResult ToStreamResult(std::pair<Event, v1::PublishResponse> answer) {
  StreamResult result{std::move(answer.first), Ack{}};
  const v1::PublishResponse& response = answer.second;
  if (response.has_error() && response.error().code() != 0) {
    result.ack = absl::Status(static_cast<absl::StatusCode>(response.error().code()),
                              response.error().message());
  } else {
    result.ack = ToAck(response);
  }
  return result;
}

BatchStreamResult ToBatchStreamResult(
    std::pair<std::vector<Event>, v1::PublishBatchResponse> answer) {
  BatchStreamResult result;
  result.acks = ToResults(answer.second, answer.first.size());
  result.requests = std::move(answer.first);
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Create(PublisherOptions options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("target: must be host:port");
  }
  if (!SingleLine(options.token)) {
    return absl::InvalidArgumentError("token: must be a single line");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout: must be positive");
  }
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError("max_in_flight: must be at least 1");
  }
  if (options.tls_client_key_pem.empty() != options.tls_client_cert_pem.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_key_pem and tls_client_cert_pem: give both for mTLS, or neither");
  }
  const bool tls_material = !options.tls_root_certs_pem.empty() ||
                            !options.tls_client_key_pem.empty() ||
                            !options.tls_server_name.empty();
  if (tls_material && !options.tls) {
    return absl::InvalidArgumentError("TLS certificates or server name given without tls");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  grpc::ChannelArguments args;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    ssl.pem_private_key = options.tls_client_key_pem;
    ssl.pem_cert_chain = options.tls_client_cert_pem;
    creds = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto channel = grpc::CreateCustomChannel(options.target, creds, args);
  return std::unique_ptr<Publisher>(new Publisher(std::move(options), std::move(channel)));
}

Publisher::Publisher(PublisherOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::Publisher::NewStub(channel_)),
      batch_stub_(v1::BatchPublisher::NewStub(channel_)),
      tickets_stub_(v1::Tickets::NewStub(channel_)),
      admin_stub_(v1::Admin::NewStub(channel_)) {}

Publisher::~Publisher() = default;

void Publisher::Authorize(grpc::ClientContext* context) const {
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
}

absl::Status Publisher::Connect(absl::Duration timeout) {
  const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
  // WaitForConnected starts a connection and keeps waiting through
  // TRANSIENT_FAILURE, so one refused or reset attempt is retried.
  if (channel_->WaitForConnected(deadline)) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("no connection to the bridge at ", options_.target,
                                             " within ", absl::FormatDuration(timeout)));
}

absl::StatusOr<Ack> Publisher::Publish(const Event& event) {
  return Publish(event, options_.timeout);
}

absl::StatusOr<Ack> Publisher::Publish(const Event& event, absl::Duration timeout) {
  grpc::ClientContext context;
  Authorize(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::PublishResponse response;
  grpc::Status status = stub_->Publish(&context, ToRequest(event), &response);
  if (!status.ok()) return FromGrpc(status);
  return ToAck(response);
}

void Publisher::Prepare(grpc::ClientContext* context) const {
  Authorize(context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::StatusOr<std::vector<absl::StatusOr<Ack>>> Publisher::PublishBatch(
    const std::vector<Event>& events) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::PublishBatchResponse response;
  grpc::Status status = batch_stub_->PublishBatch(&context, ToBatchRequest(events), &response);
  if (!status.ok()) return FromGrpc(status);
  if (static_cast<size_t>(response.responses_size()) != events.size()) {
    return absl::InternalError(absl::StrCat("PublishBatch: ", response.responses_size(),
                                            " answers to ", events.size(), " requests"));
  }
  return ToResults(response, events.size());
}

absl::StatusOr<Ticket> Publisher::IssueTicket(const std::string& user_id,
                                              const std::vector<std::string>& channels,
                                              absl::Duration ttl) {
  v1::IssueTicketRequest request;
  request.set_user_id(user_id);
  for (const std::string& c : channels) request.add_channels(c);
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl: must not be negative");
  request.set_ttl_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(ttl)));
  grpc::ClientContext context;
  Prepare(&context);
  v1::IssueTicketResponse response;
  grpc::Status status = tickets_stub_->IssueTicket(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  Ticket t;
  t.ticket = response.ticket();
  if (response.has_expires_at()) t.expires_at = ToTime(response.expires_at());
  return t;
}

absl::StatusOr<uint32_t> Publisher::DisconnectUser(const std::string& user_id) {
  v1::DisconnectUserRequest request;
  request.set_user_id(user_id);
  grpc::ClientContext context;
  Prepare(&context);
  v1::DisconnectUserResponse response;
  grpc::Status status = admin_stub_->DisconnectUser(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.disconnected();
}

absl::StatusOr<Stats> Publisher::GetStats(uint32_t max_channels) {
  v1::GetStatsRequest request;
  request.set_max_channels(max_channels);
  grpc::ClientContext context;
  Prepare(&context);
  v1::Stats response;
  grpc::Status status = admin_stub_->GetStats(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  Stats s;
  s.connections = response.connections();
  s.grpc_subscribers = response.grpc_subscribers();
  s.channels = response.channels();
  s.users = response.users();
  s.published = response.published();
  for (const v1::ChannelStats& c : response.channel_stats()) {
    s.channel_stats.push_back({c.channel(), c.subscribers()});
  }
  return s;
}

std::unique_ptr<PublishStream> Publisher::OpenStream() {
  return std::unique_ptr<PublishStream>(new PublishStream(this));
}

std::unique_ptr<PublishBatchStream> Publisher::OpenBatchStream() {
  return std::unique_ptr<PublishBatchStream>(new PublishBatchStream(this));
}

// ---- PublishStream ---------------------------------------------------------

PublishStream::PublishStream(Publisher* publisher)
    : core_(std::make_unique<Core>(
          "PublishStream", static_cast<size_t>(publisher->options_.max_in_flight),
          [publisher](grpc::ClientContext* context) {
            publisher->Authorize(context);
            return publisher->stub_->PublishStream(context);
          })) {}

PublishStream::~PublishStream() = default;

absl::Status PublishStream::Write(const Event& event) {
  return core_->Write(event, ToRequest(event));
}

absl::StatusOr<StreamResult> PublishStream::Read() {
  auto answer = core_->Read();
  if (!answer.ok()) return answer.status();
  return ToStreamResult(std::move(*answer));
}

absl::StatusOr<Ack> PublishStream::Publish(const Event& event) {
  auto answer = core_->Call(event, ToRequest(event));
  if (!answer.ok()) return answer.status();
  return std::move(ToStreamResult(std::move(*answer)).ack);
}

void PublishStream::WritesDone() { core_->WritesDone(); }

absl::Status PublishStream::Finish(std::vector<StreamResult>* rest) {
  std::vector<Core::Answer> answers;
  absl::Status status = core_->Finish(rest != nullptr ? &answers : nullptr);
  for (auto& a : answers) rest->push_back(ToStreamResult(std::move(a)));
  return status;
}

std::vector<Event> PublishStream::pending() const { return core_->pending(); }

size_t PublishStream::in_flight() const { return core_->in_flight(); }

// ---- PublishBatchStream ----------------------------------------------------

PublishBatchStream::PublishBatchStream(Publisher* publisher)
    : core_(std::make_unique<Core>(
          "PublishBatchStream", static_cast<size_t>(publisher->options_.max_in_flight),
          [publisher](grpc::ClientContext* context) {
            publisher->Authorize(context);
            return publisher->batch_stub_->PublishBatchStream(context);
          })) {}

PublishBatchStream::~PublishBatchStream() = default;

absl::Status PublishBatchStream::Write(const std::vector<Event>& events) {
  return core_->Write(events, ToBatchRequest(events));
}

absl::StatusOr<BatchStreamResult> PublishBatchStream::Read() {
  auto answer = core_->Read();
  if (!answer.ok()) return answer.status();
  return ToBatchStreamResult(std::move(*answer));
}

absl::StatusOr<std::vector<absl::StatusOr<Ack>>> PublishBatchStream::PublishBatch(
    const std::vector<Event>& events) {
  auto answer = core_->Call(events, ToBatchRequest(events));
  if (!answer.ok()) return answer.status();
  return std::move(ToBatchStreamResult(std::move(*answer)).acks);
}

void PublishBatchStream::WritesDone() { core_->WritesDone(); }

absl::Status PublishBatchStream::Finish(std::vector<BatchStreamResult>* rest) {
  std::vector<Core::Answer> answers;
  absl::Status status = core_->Finish(rest != nullptr ? &answers : nullptr);
  for (auto& a : answers) rest->push_back(ToBatchStreamResult(std::move(a)));
  return status;
}

std::vector<std::vector<Event>> PublishBatchStream::pending() const {
  return core_->pending();
}

size_t PublishBatchStream::in_flight() const { return core_->in_flight(); }

}  // namespace ssebridge
