// BrokerRegistry: brokers made by name (--broker). The binary fills one
// table (broker_wiring.cc) with a maker per broker; tests fill their own
// (the broker contract test makes every broker the same way). A new broker
// is its own folder under bridge/broker/ (bridge/broker/<name>/, which the
// build picks up by itself) plus one Register() line there.
#ifndef SSEBRIDGE_BROKER_BROKER_REGISTRY_H_
#define SSEBRIDGE_BROKER_BROKER_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/broker/broker.h"
#include "bridge/core/event.h"
#include "bridge/core/hub.h"

namespace ssebridge {

class BrokerRegistry {
 public:
  // Makes a broker that dispatches into `hub` (both must outlive it). Not
  // started: the caller calls Start(). An error names the bad setting.
  using Maker =
      std::function<absl::StatusOr<std::unique_ptr<Broker>>(Hub* hub, const EventEncoder* encoder)>;

  // Names are unique; registering one twice is a programming error (the
  // later maker is ignored).
  void Register(std::string name, Maker make);
  // INVALID_ARGUMENT naming --broker and the known names for an unknown one.
  absl::Status Check(absl::string_view name) const;
  // Check(name), then the maker's own answer.
  absl::StatusOr<std::unique_ptr<Broker>> Make(absl::string_view name, Hub* hub,
                                               const EventEncoder* encoder) const;
  std::vector<std::string> names() const;

 private:
  std::vector<std::pair<std::string, Maker>> makers_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_BROKER_REGISTRY_H_
