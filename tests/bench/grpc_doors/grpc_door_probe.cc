// ssebridge_bench_grpc_doors: what gRPC 1.51 itself costs per publish, with
// a handler that does nothing, for each way of serving a method. It answers
// the bridge's Publisher service (Publish, PublishStream) with a fixed
// response, so tests/bench/profile_grpc_doors.sh can drive it with the
// bench's load generator and read its CPU and context switches per call.
//
//   ssebridge_bench_grpc_doors MODE ADDRESS [EXTRA]
//
// MODE: which APIs the server uses.
//   sync         Publisher and Subscriber on the sync API
//   callback     both on the callback API
//   async        Publisher on the async API, one thread draining its
//                completion queue (AsyncLoop below); nothing else
//   async+sync   the same, plus Subscriber on the sync API
//   async+cb     the same, plus Subscriber on the callback API
// EXTRA: "health" (gRPC's built-in health service), "reflection", or
//   "extras" (both), as the bridge registers them; "second": a second
//   server in the process with a sync service (the bridge's internal port).
// THREADS (environment): threads draining the async queue (default 1).
//
// Loopback only in the script; runs until killed.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ssebridge/v1/bridge.grpc.pb.h"

namespace {

using ssebridge::v1::Publisher;
using ssebridge::v1::PublishRequest;
using ssebridge::v1::PublishResponse;
using ssebridge::v1::Subscriber;

void Answer(const PublishRequest& request, PublishResponse* response) {
  response->set_id(request.channel());
  response->set_subscribers(1);
}

class SyncPublisher final : public Publisher::Service {
  grpc::Status Publish(grpc::ServerContext*, const PublishRequest* request,
                       PublishResponse* response) override {
    Answer(*request, response);
    return grpc::Status::OK;
  }
  grpc::Status PublishStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<PublishResponse, PublishRequest>* stream) override {
    PublishRequest request;
    PublishResponse response;
    while (stream->Read(&request)) {
      Answer(request, &response);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }
};

class CallbackPublisher final : public Publisher::CallbackService {
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const PublishRequest* request,
                                    PublishResponse* response) override {
    Answer(*request, response);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<PublishRequest, PublishResponse>* PublishStream(
      grpc::CallbackServerContext*) override {
    class Echo final : public grpc::ServerBidiReactor<PublishRequest, PublishResponse> {
     public:
      Echo() { StartRead(&request_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        Answer(request_, &response_);
        StartWrite(&response_);
      }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        StartRead(&request_);
      }
      void OnDone() override { delete this; }

     private:
      PublishRequest request_;
      PublishResponse response_;
    };
    return new Echo;
  }
};

class SyncSubscriber final : public Subscriber::Service {};
class CallbackSubscriber final : public Subscriber::CallbackService {};

// A completion on the async queue.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

class UnaryCall final : public Tag {
 public:
  UnaryCall(Publisher::AsyncService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), responder_(&context_) {
    service_->RequestPublish(&context_, &request_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;
      return;
    }
    new UnaryCall(service_, cq_);
    Answer(request_, &response_);
    finishing_ = true;
    responder_.Finish(response_, grpc::Status::OK, this);
  }

 private:
  Publisher::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  PublishRequest request_;
  PublishResponse response_;
  grpc::ServerAsyncResponseWriter<PublishResponse> responder_;
  bool finishing_ = false;
};

class StreamCall final : public Tag {
 public:
  StreamCall(Publisher::AsyncService* service, grpc::ServerCompletionQueue* cq)
      : service_(service), cq_(cq), stream_(&context_) {
    service_->RequestPublishStream(&context_, &stream_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    switch (state_) {
      case State::kNew:
        if (!ok) {
          delete this;
          return;
        }
        new StreamCall(service_, cq_);
        Read();
        return;
      case State::kRead:
        if (!ok) return Finish();
        Answer(request_, &response_);
        state_ = State::kWrite;
        stream_.Write(response_, this);
        return;
      case State::kWrite:
        if (!ok) return Finish();
        Read();
        return;
      case State::kFinish:
        delete this;
        return;
    }
  }

 private:
  enum class State { kNew, kRead, kWrite, kFinish };
  void Read() {
    state_ = State::kRead;
    stream_.Read(&request_, this);
  }
  void Finish() {
    state_ = State::kFinish;
    stream_.Finish(grpc::Status::OK, this);
  }

  Publisher::AsyncService* service_;
  grpc::ServerCompletionQueue* cq_;
  grpc::ServerContext context_;
  PublishRequest request_;
  PublishResponse response_;
  grpc::ServerAsyncReaderWriter<PublishResponse, PublishRequest> stream_;
  State state_ = State::kNew;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s sync|callback|async|async+sync|async+cb ADDRESS "
                 "[health|reflection|extras|second]\n",
                 argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string extra = argc > 3 ? argv[3] : "";
  if (extra == "health" || extra == "extras") grpc::EnableDefaultHealthCheckService(true);
  if (extra == "reflection" || extra == "extras") {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(argv[2], grpc::InsecureServerCredentials());
  SyncPublisher sync_publisher;
  CallbackPublisher callback_publisher;
  Publisher::AsyncService async_publisher;
  SyncSubscriber sync_subscriber;
  CallbackSubscriber callback_subscriber;
  const bool async = mode.rfind("async", 0) == 0;
  if (mode == "sync") {
    builder.RegisterService(&sync_publisher);
    builder.RegisterService(&sync_subscriber);
  } else if (mode == "callback") {
    builder.RegisterService(&callback_publisher);
    builder.RegisterService(&callback_subscriber);
  } else if (async) {
    builder.RegisterService(&async_publisher);
    if (mode == "async+sync") {
      builder.RegisterService(&sync_subscriber);
    } else if (mode == "async+cb") {
      builder.RegisterService(&callback_subscriber);
    } else if (mode != "async") {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  if (async) cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "cannot listen on %s\n", argv[2]);
    return 1;
  }
  // "second": another server in the process (as the bridge's internal port
  // is), with a sync service and no listening port of its own.
  SyncSubscriber second_subscriber;
  std::unique_ptr<grpc::Server> second;
  if (extra == "second") {
    grpc::ServerBuilder second_builder;
    second_builder.RegisterService(&second_subscriber);
    second = second_builder.BuildAndStart();
  }
  if (!async) {
    server->Wait();
    return 0;
  }
  new UnaryCall(&async_publisher, cq.get());
  new StreamCall(&async_publisher, cq.get());
  const char* threads_env = std::getenv("THREADS");
  const int threads = threads_env != nullptr ? std::max(1, std::atoi(threads_env)) : 1;
  std::vector<std::thread> loops;
  for (int i = 0; i < threads; ++i) {
    loops.emplace_back([&cq] {
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
    });
  }
  for (std::thread& t : loops) t.join();
  return 0;
}
