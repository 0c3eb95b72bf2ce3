// test_helpers: small shared constants and checks for the integration tests.
#ifndef SSEBRIDGE_TESTS_HARNESS_TEST_HELPERS_H_
#define SSEBRIDGE_TESTS_HARNESS_TEST_HELPERS_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge_it {

// Generous: under ASan/UBSan the bridge is several times slower.
inline constexpr absl::Duration kWait = absl::Seconds(20);

inline std::vector<std::string> EventIds(const std::vector<SseEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.id);
  return ids;
}

// The "head" of an ssebridge.reset notice's data ("" when it has none).
inline std::string ResetHead(const std::string& data) {
  const std::string key = "\"head\":\"";
  size_t at = data.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return data.substr(at, data.find('"', at) - at);
}

inline std::vector<std::string> EventDatas(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.data);
  return out;
}

inline std::vector<std::string> EventIds(const std::vector<v1::Event>& events) {
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.id());
  return ids;
}

// Empty when every id parses, shares one epoch and seq strictly increases;
// otherwise a description of the first problem.
inline std::string CheckIdsIncreasing(const std::vector<std::string>& ids) {
  ParsedId prev;
  for (size_t i = 0; i < ids.size(); ++i) {
    ParsedId cur;
    if (!ParseEventId(ids[i], &cur)) {
      return absl::StrCat("id #", i, " \"", ids[i], "\" is not <epoch>-<seq>");
    }
    if (i > 0 && cur.epoch != prev.epoch) {
      return absl::StrCat("id #", i, " \"", ids[i], "\" changes epoch from ", prev.epoch);
    }
    if (i > 0 && cur.seq <= prev.seq) {
      return absl::StrCat("id #", i, " \"", ids[i], "\" does not increase after ", ids[i - 1]);
    }
    prev = cur;
  }
  return "";
}

inline std::string Summarize(const std::vector<std::string>& v, size_t max = 20) {
  if (v.size() <= max) return absl::StrCat("[", absl::StrJoin(v, ", "), "]");
  std::vector<std::string> head(v.begin(), v.begin() + max / 2);
  std::vector<std::string> tail(v.end() - max / 2, v.end());
  return absl::StrCat("[", absl::StrJoin(head, ", "), ", ... (", v.size(), " total) ..., ",
                      absl::StrJoin(tail, ", "), "]");
}

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_TEST_HELPERS_H_
