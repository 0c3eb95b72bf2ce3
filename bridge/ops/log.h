// Structured logs: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-25T12:00:00.123Z","level":"info","msg":"listening",
//    "http_port":8080}
// Lines below the configured level are not even formatted. Thread-safe:
// each line is written with one write(2).
#ifndef SSEBRIDGE_OPS_LOG_H_
#define SSEBRIDGE_OPS_LOG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

absl::Status SetLogLevel(absl::string_view name);
bool LogEnabled(LogLevel level);

// LogLine(LogLevel::kInfo, "listening").Int("http_port", 8080);
// The line is written when the temporary is destroyed.
class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Str(absl::string_view key, absl::string_view value);
  LogLine& Int(absl::string_view key, int64_t value);
  LogLine& Num(absl::string_view key, double value);

 private:
  bool enabled_;
  std::string text_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_LOG_H_
