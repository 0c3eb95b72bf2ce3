// The publisher role of the load generator, shared by its HTTP side
// (publisher.cc) and its gRPC side (publisher_grpc.cc).
#ifndef SSEBRIDGE_TESTS_BENCH_LOADGEN_PUBLISHER_H_
#define SSEBRIDGE_TESTS_BENCH_LOADGEN_PUBLISHER_H_

#include <cstdint>
#include <map>
#include <string>

namespace bench {

struct PubConfig {
  std::string mode;
  std::string target;  // host:port for gRPC
  std::string host;
  int port = 0;
  std::string path;
  std::string format;
  std::string channel;
  std::string event;
  int64_t events = 0;
  double rate = 0;
  int64_t size = 100;
  int64_t duration_ns = 0;
  int64_t drain_ns = 0;
  int64_t window = 0;
  int64_t batch = 0;       // grpc-batch-stream: events per message
  int64_t http_batch = 0;  // http --format=bridge: events per POST (JSON array); 0: one object
  int64_t hint_every = 0;  // gRPC streams: buffer hint on all but every N-th write
  int conns = 1;
  int pipeline = 1;
  int64_t user_targets = 0;
  std::string raw_data;  // publish this instead of timestamped payloads
};

struct PubResult {
  int64_t sent = 0;
  int64_t accepted = 0;
  int64_t errors = 0;
  int64_t subscribers_sum = 0;
  int64_t first_send_ns = 0;
  int64_t last_send_ns = 0;
  int64_t last_ack_ns = 0;
  int64_t max_lag_ns = 0;     // paced: how late the latest send was
  int64_t server_closes = 0;  // keep-alive connections the server ended
  std::map<std::string, int64_t> error_kinds;
};

// When event `i` is due (0 for an unpaced run).
int64_t DueNs(const PubConfig& c, int64_t t0, int64_t i);
bool MoreToSend(const PubConfig& c, int64_t i, int64_t now, int64_t t0);

PubResult RunGrpcStream(const PubConfig& c);
PubResult RunGrpcUnary(const PubConfig& c);

}  // namespace bench

#endif  // SSEBRIDGE_TESTS_BENCH_LOADGEN_PUBLISHER_H_
