#include "bridge/broker/broker_registry.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ssebridge {

void BrokerRegistry::Register(std::string name, Maker make) {
  for (const auto& [known, maker] : makers_) {
    if (known == name) return;
  }
  makers_.emplace_back(std::move(name), std::move(make));
}

absl::Status BrokerRegistry::Check(absl::string_view name) const {
  for (const auto& [known, make] : makers_) {
    if (known == name) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("--broker: unknown broker \"", name,
                                                 "\" (known: ", absl::StrJoin(names(), ", "), ")"));
}

absl::StatusOr<std::unique_ptr<Broker>> BrokerRegistry::Make(absl::string_view name, Hub* hub,
                                                             const EventEncoder* encoder) const {
  if (absl::Status known = Check(name); !known.ok()) return known;
  for (const auto& [known, make] : makers_) {
    if (known == name) return make(hub, encoder);
  }
  return absl::InternalError("unreachable");
}

std::vector<std::string> BrokerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, make] : makers_) out.push_back(name);
  return out;
}

}  // namespace ssebridge
