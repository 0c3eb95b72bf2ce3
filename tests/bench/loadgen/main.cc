// ssebridge_bench_loadgen: the benchmark's load generator.
//
//   ssebridge_bench_loadgen sub --port=P --path=/v1/events?channel=c --conns=K ...
//   ssebridge_bench_loadgen pub --mode=grpc-stream --target=127.0.0.1:G ...
//
// Each process is one thread with one epoll loop (the gRPC publisher adds the
// reader thread gRPC's synchronous stream needs) and holds at most one slice
// of the streams: tests/bench/run starts several and merges their JSON.
// See subscriber.cc and publisher.cc for the options.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "common.h"

namespace bench {
int RunSubscriber(Options& options);
int RunPublisher(Options& options);
}  // namespace bench

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr,
                 "usage: %s sub|pub --name=value ...\n"
                 "  sub: --host --port --path --conns --first_index --source --connect_rate\n"
                 "       --max_pending --max_attempts --events --per_event --timeout_ms --header\n"
                 "       --jwt_secret_file ('{jwt}' in a header: a token for user u<i>)\n"
                 "       --expect (events per stream, default --events) --user_stride\n"
                 "  pub: --mode=grpc-stream|grpc-unary|http --target --host --port --path\n"
                 "       --format=bridge|nchan|pushpin|better-sse|baseline --channel --event\n"
                 "       --events --rate --size --duration_ms --drain_ms --window --conns\n"
                 "       --pipeline --user_targets\n",
                 argv[0]);
    return 2;
  }
  std::string role = argv[1];
  bench::Options options(argc, argv, 2);
  if (role == "sub") return bench::RunSubscriber(options);
  if (role == "pub") return bench::RunPublisher(options);
  bench::Die("unknown role " + role);
}
