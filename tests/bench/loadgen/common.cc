#include "common.h"

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void SleepUntilNs(int64_t deadline_ns) {
  timespec ts;
  ts.tv_sec = deadline_ns / 1000000000;
  ts.tv_nsec = deadline_ns % 1000000000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void Die(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n", message.c_str());
  std::exit(2);
}

Options::Options(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) Die("unexpected argument: " + arg);
    size_t eq = arg.find('=');
    if (eq == std::string::npos) Die("options are --name=value: " + arg);
    std::string name = arg.substr(2, eq - 2);
    values_.emplace(name, arg.substr(eq + 1));
    used_[name] = false;
  }
}

std::string Options::Str(const std::string& name, const std::string& def) {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  used_[name] = true;
  return it->second;
}

int64_t Options::Int(const std::string& name, int64_t def) {
  std::string v = Str(name, "");
  if (v.empty()) return def;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') Die("--" + name + " wants an integer: " + v);
  return n;
}

double Options::Double(const std::string& name, double def) {
  std::string v = Str(name, "");
  if (v.empty()) return def;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (*end != '\0') Die("--" + name + " wants a number: " + v);
  return d;
}

std::vector<std::string> Options::All(const std::string& name) {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  if (!out.empty()) used_[name] = true;
  return out;
}

void Options::CheckAllUsed() {
  for (const auto& [name, used] : used_) {
    if (!used) Die("unknown option --" + name);
  }
}

size_t Histogram::Index(uint64_t v) {
  if (v < 128) return size_t(v);
  int msb = 63 - __builtin_clzll(v);  // >= 7
  int shift = msb - 6;
  uint64_t mantissa = v >> shift;  // [64, 127]
  return 128 + size_t(msb - 7) * 64 + size_t(mantissa - 64);
}

uint64_t Histogram::LowerBound(size_t index) {
  if (index < 128) return index;
  size_t k = index - 128;
  int msb = int(k / 64) + 7;
  uint64_t mantissa = 64 + k % 64;
  return mantissa << (msb - 6);
}

void Histogram::Add(int64_t micros) {
  if (micros < 0) micros = 0;
  size_t i = Index(uint64_t(micros));
  if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
  ++buckets_[i];
  ++count_;
  sum_ += micros;
  if (micros > max_) max_ = micros;
}

std::string Histogram::Json() const {
  std::string out = "{\"buckets\":[";
  bool first = true;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] == 0) continue;
    if (!first) out += ',';
    first = false;
    out += '[' + std::to_string(LowerBound(i)) + ',' + std::to_string(buckets_[i]) + ']';
  }
  out += "],\"count\":" + std::to_string(count_) + ",\"max_us\":" + std::to_string(max_) +
         ",\"sum_us\":" + std::to_string(sum_) + '}';
  return out;
}

void MakePayload(int64_t send_ns, int64_t seq, size_t size, std::string* out) {
  char head[96];
  int n = std::snprintf(head, sizeof head, "{\"t\":%lld,\"s\":%lld,\"p\":\"",
                        static_cast<long long>(send_ns), static_cast<long long>(seq));
  out->assign(head, size_t(n));
  size_t pad = size > out->size() + 2 ? size - out->size() - 2 : 0;
  out->append(pad, 'x');
  out->append("\"}");
}

namespace {

// Reads the integer after `key` ("t" or "s") followed by an optional
// backslash, a quote and a colon.
bool FindNumber(const char* data, size_t len, char key, int64_t* value) {
  for (size_t i = 0; i + 3 < len; ++i) {
    if (data[i] != '"' || data[i + 1] != key) continue;
    size_t j = i + 2;
    if (j < len && data[j] == '\\') ++j;
    if (j >= len || data[j] != '"') continue;
    ++j;
    if (j >= len || data[j] != ':') continue;
    ++j;
    if (j >= len || data[j] < '0' || data[j] > '9') return false;
    int64_t v = 0;
    while (j < len && data[j] >= '0' && data[j] <= '9') v = v * 10 + (data[j++] - '0');
    *value = v;
    return true;
  }
  return false;
}

}  // namespace

bool ParsePayload(const char* data, size_t len, int64_t* send_ns, int64_t* seq) {
  // The payload starts with {"t": (or {\"t\": when a peer escaped it): look
  // only at the first bytes so a long non-benchmark event costs little.
  size_t window = len < 64 ? len : 64;
  return FindNumber(data, window, 't', send_ns) && FindNumber(data, window, 's', seq);
}

void JsonString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(char(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace bench
