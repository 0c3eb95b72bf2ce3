// TopChannels: bounds the cardinality of a per-channel metric. The `limit`
// channels with the most subscribers keep their own series (ties broken by
// name, so the set is stable between scrapes); every other channel is summed
// into one series named kOtherChannels, present only when something was
// folded into it.
#ifndef SSEBRIDGE_OPS_TOP_CHANNELS_H_
#define SSEBRIDGE_OPS_TOP_CHANNELS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace ssebridge {

inline constexpr absl::string_view kOtherChannels = "_other";

// Busiest first; at most limit + 1 entries.
std::vector<std::pair<std::string, uint64_t>> TopChannels(
    std::vector<std::pair<std::string, uint32_t>> counts, size_t limit);

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_TOP_CHANNELS_H_
