// DeliveryPolicy: what a connection's bounded queue does when its reader
// falls behind, chosen per channel.
//
//   disconnect   (default) close the stream; the client reconnects and
//                resumes from history, so nothing is lost.
//   drop-oldest  drop the oldest queued events until the new one fits.
//   latest-only  once the reader is behind (more than half its queue holds
//                unwritten events), an unsent event is replaced by a newer
//                one of the same channel and event type (dashboards); then
//                as drop-oldest. A reader that keeps up gets every event.
//
// Nothing is lost silently: where events were dropped or replaced, the
// stream carries an `ssebridge.dropped` event (kDroppedEventType, no id, so
// the reader's cursor stays put) before the events that follow the gap:
//   data: {"dropped":<n>,"channels":{"<channel>":<n>,...}}
// so a page can refetch what it shows (see SubscriberQueue).
//
// PolicyTable maps channel patterns ("exact", "prefix.*", "*") to policies;
// the first matching rule wins.
#ifndef SSEBRIDGE_CORE_DELIVERY_POLICY_H_
#define SSEBRIDGE_CORE_DELIVERY_POLICY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

enum class DeliveryPolicy { kDisconnect, kDropOldest, kLatestOnly };

inline constexpr absl::string_view kDroppedEventType = "ssebridge.dropped";

absl::StatusOr<DeliveryPolicy> ParseDeliveryPolicy(absl::string_view text);
absl::string_view DeliveryPolicyName(DeliveryPolicy policy);

class PolicyTable {
 public:
  PolicyTable() = default;
  // "pattern=policy,pattern=policy"; empty text means every channel uses the
  // default. INVALID_ARGUMENT names `field`.
  static absl::StatusOr<PolicyTable> Parse(absl::string_view text, absl::string_view field);

  DeliveryPolicy For(absl::string_view channel) const;

 private:
  std::vector<std::pair<std::string, DeliveryPolicy>> rules_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_DELIVERY_POLICY_H_
