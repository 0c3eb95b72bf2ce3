// Shared pieces of the benchmark load generator: the clock, command-line
// options, a latency histogram, the timestamped payload and a tiny JSON writer.
#ifndef SSEBRIDGE_TESTS_BENCH_LOADGEN_COMMON_H_
#define SSEBRIDGE_TESTS_BENCH_LOADGEN_COMMON_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bench {

// CLOCK_MONOTONIC in nanoseconds: system-wide, so a timestamp written by the
// publisher process is comparable with a receive time in a subscriber process.
int64_t NowNs();
void SleepUntilNs(int64_t deadline_ns);

// --name=value options after the role word. Unknown names are an error.
class Options {
 public:
  Options(int argc, char** argv, int first);
  std::string Str(const std::string& name, const std::string& def);
  int64_t Int(const std::string& name, int64_t def);
  double Double(const std::string& name, double def);
  std::vector<std::string> All(const std::string& name);  // repeatable
  // Exits with a message when an option was given that nobody asked for.
  void CheckAllUsed();

 private:
  std::multimap<std::string, std::string> values_;
  std::map<std::string, bool> used_;
};

[[noreturn]] void Die(const std::string& message);

// Log-linear histogram of microsecond values: exact below 128 µs, then 64
// buckets per power of two (under 1.6 % error).
class Histogram {
 public:
  void Add(int64_t micros);
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // {"buckets":[[lower_bound_us,count],...],"count":n,"max_us":m,"sum_us":s}
  std::string Json() const;

 private:
  static size_t Index(uint64_t v);
  static uint64_t LowerBound(size_t index);
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t max_ = 0;
  int64_t sum_ = 0;
};

// The event payload: {"t":<send ns>,"s":<seq>,"p":"xxx..."} padded to `size`
// bytes (at least the unpadded length). Written into `out`.
void MakePayload(int64_t send_ns, int64_t seq, size_t size, std::string* out);
// Finds "t" and "s" in a payload (also when the publisher path escaped the
// quotes). Returns false for data that is not a benchmark payload.
bool ParsePayload(const char* data, size_t len, int64_t* send_ns, int64_t* seq);

// Appends `s` as a JSON string literal (with quotes).
void JsonString(const std::string& s, std::string* out);

}  // namespace bench

#endif  // SSEBRIDGE_TESTS_BENCH_LOADGEN_COMMON_H_
