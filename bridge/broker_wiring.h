// BrokerParts: the one broker --broker names (memory or redis), built from
// the history, idempotency and Redis flags (wiring only, like main.cc).
// BrokerParts owns the broker; `hub` and `encoder` must outlive it. A Redis
// broker starts connecting at once and keeps retrying: the bridge is not
// ready until it is connected, but it starts.
#ifndef SSEBRIDGE_BROKER_WIRING_H_
#define SSEBRIDGE_BROKER_WIRING_H_

#include <memory>

#include "absl/status/status.h"
#include "bridge/broker/memory_broker.h"
#include "bridge/broker/redis_broker.h"
#include "bridge/core/hub.h"
#include "bridge/metrics_wiring.h"

namespace ssebridge {

struct BrokerParts {
  std::unique_ptr<MemoryBroker> memory;  // --broker=memory
  std::unique_ptr<RedisBroker> redis;    // --broker=redis
  RedisConnectionEvents redis_events;    // counted by `redis`'s state callback

  Broker& broker() const {
    return memory ? static_cast<Broker&>(*memory) : static_cast<Broker&>(*redis);
  }
};

// InvalidArgument naming the flag when --redis_url or its password is bad.
absl::Status MakeBrokerFromFlags(Hub* hub, const EventEncoder* encoder, BrokerParts& parts);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_WIRING_H_
