#include "bridge/ops/top_channels.h"

#include <algorithm>

namespace ssebridge {

std::vector<std::pair<std::string, uint64_t>> TopChannels(
    std::vector<std::pair<std::string, uint32_t>> counts, size_t limit) {
  auto busier = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::vector<std::pair<std::string, uint64_t>> out;
  if (counts.size() > limit) {
    std::partial_sort(counts.begin(), counts.begin() + static_cast<ptrdiff_t>(limit), counts.end(),
                      busier);
  } else {
    std::sort(counts.begin(), counts.end(), busier);
  }
  uint64_t other = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i < limit) {
      out.emplace_back(std::move(counts[i].first), counts[i].second);
    } else {
      other += counts[i].second;
    }
  }
  if (counts.size() > limit) out.emplace_back(std::string(kOtherChannels), other);
  return out;
}

}  // namespace ssebridge
