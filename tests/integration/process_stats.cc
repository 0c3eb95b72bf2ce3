#include "tests/integration/process_stats.h"

#include <dirent.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ssebridge_it {
namespace {

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

}  // namespace

long long ReadRssBytes(pid_t pid, std::string* error) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) {
    SetError(error, absl::StrCat("cannot open ", path));
    return -1;
  }
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    // "VmRSS:     12345 kB"
    std::vector<absl::string_view> parts =
        absl::StrSplit(rest, ' ', absl::SkipWhitespace());
    long long kib = 0;
    if (parts.size() == 2 && parts[1] == "kB" && absl::SimpleAtoi(parts[0], &kib)) {
      return kib * 1024;
    }
    SetError(error, absl::StrCat("unexpected VmRSS line in ", path, ": ", line));
    return -1;
  }
  SetError(error, absl::StrCat("no VmRSS in ", path));
  return -1;
}

int CountOpenFds(pid_t pid, std::string* error) {
  const std::string path = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    SetError(error, absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
    return -1;
  }
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

bool ReadProcessStats(pid_t pid, ProcessStats* out, std::string* error) {
  out->rss_bytes = ReadRssBytes(pid, error);
  if (out->rss_bytes < 0) return false;
  out->open_fds = CountOpenFds(pid, error);
  return out->open_fds >= 0;
}

}  // namespace ssebridge_it
