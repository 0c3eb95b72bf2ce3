#include "bridge/drain_wiring.h"

#include <algorithm>
#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "bridge/ops/flags.h"
#include "bridge/ops/log.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {

size_t Drain(int signal, const Serving& p) {
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_deadline);
  const absl::Time deadline = absl::Now() + grace;
  LogLine(LogLevel::kInfo, "draining")
      .Int("signal", signal)
      .Int("streams", static_cast<int64_t>(p.writer->streams()))
      .Num("deadline_seconds", absl::ToDoubleSeconds(grace));

  p.admission->BeginDrain();
  p.http->BeginDrain();
  p.internal_http->BeginDrain();
  // Jittered, so a fleet of browsers does not reconnect at once.
  HttpServer* http = p.http;
  p.writer->CloseAll([http] { return SseRetry(http->JitteredRetryMillis()); });
  p.subscriber->EndAll();
  p.publisher->EndStreams();
  // Once nothing is in flight, do not wait on idle client channels: a client
  // with no call open may only notice the server's GOAWAY seconds later.
  const bool publishes_done = p.publisher->WaitIdle(deadline);
  // Publishes still waiting on Redis at the deadline end now (outcome
  // unknown) rather than a command timeout later.
  if (!publishes_done) p.broker->CancelInFlight();
  p.subscriber->WaitEnded(deadline);
  p.grpc->Shutdown(std::min(deadline, absl::Now() + absl::Milliseconds(200)));
  p.writer->WaitClosed(deadline);
  const size_t left = p.writer->streams();
  // Leaves the fleet (no more hooks run), cut at the deadline if Redis is
  // frozen. Leaving takes one round trip: a drain that used the whole
  // deadline still gets that much, so the other replicas stop counting at once.
  if (p.fleet != nullptr) p.fleet->Stop(std::max(deadline, absl::Now() + absl::Milliseconds(200)));
  p.broker->Stop();  // no more dispatches to the hub
  return left;
}

}  // namespace ssebridge
