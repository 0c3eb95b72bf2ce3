#include "bridge/ops/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/core/json_text.h"

namespace ssebridge {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

absl::Status SetLogLevel(absl::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    if (name == LevelName(l)) {
      g_level.store(static_cast<int>(l));
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--log_level: \"", name, "\" is not one of debug, info, warning, error"));
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

LogLine::LogLine(LogLevel level, absl::string_view msg) : enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  absl::StrAppend(
      &text_, "{\"ts\":",
      JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())),
      ",\"level\":\"", LevelName(level), "\",\"msg\":", JsonQuote(msg));
}

LogLine::~LogLine() {
  if (!enabled_) return;
  text_ += "}\n";
  // Two threads' lines must never interleave: one write(2) per line.
  size_t off = 0;
  while (off < text_.size()) {
    ssize_t n = ::write(STDERR_FILENO, text_.data() + off, text_.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

LogLine& LogLine::Str(absl::string_view key, absl::string_view value) {
  if (enabled_) absl::StrAppend(&text_, ",", JsonQuote(key), ":", JsonQuote(value));
  return *this;
}

LogLine& LogLine::Int(absl::string_view key, int64_t value) {
  if (enabled_) absl::StrAppend(&text_, ",", JsonQuote(key), ":", value);
  return *this;
}

LogLine& LogLine::Num(absl::string_view key, double value) {
  if (enabled_) absl::StrAppend(&text_, ",", JsonQuote(key), ":", value);
  return *this;
}

}  // namespace ssebridge
