// ssebridge-publish: publish events to ssebridge from the command line.
//
//   ssebridge-publish --channel tasks --event taskDone --data '{"id":1}'
//       [--user u1,u2] [--retain] [--target host:port] [--token ...]
//   producer | ssebridge-publish --stdin [--channel tasks] ...
//
// One event: its ack is printed as a JSON line on stdout. With --stdin every
// non-blank line is a JSON object {"channel", "event", "data", "user_ids",
// "retain", "idempotency_key"} (camelCase names work too; --channel, --event,
// --user and --retain are the defaults for missing fields; "data" that is not
// a string is sent as its JSON text). All lines go over one PublishStream, at
// most --max_in_flight unanswered; each answer is printed as
// {"line":N,"id":...} on stdout, each failure as "line N: ..." on stderr.
//
// With --stdin --batch the lines go in PublishBatch calls of up to 1,000
// instead (the same output). With --stdin --batch_stream they go over one
// PublishBatchStream in batches of --batch_size lines (a batch is sent when
// it is full or the input ends), at most --max_in_flight batches unanswered
// (the same output, line by line). Other calls, each printing one JSON line:
//   ssebridge-publish --issue_ticket alice --channels 'orders.*' [--ttl 30s]
//   ssebridge-publish --stats [--max_channels 10] [--fleet]  (admin key)
//   ssebridge-publish --disconnect_user alice            (admin key)
// (Admin is served on the bridge's internal port: --target=host:9090.)
// The connection is tried again within --timeout; no call is: a
// DEADLINE_EXCEEDED publish may have been stored (resend only with an
// idempotency key); UNAVAILABLE was not.
//
// Exit status: 0 every event was published; 1 a publish failed, a line was
// bad, or the bridge could not be reached; 2 bad usage.
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "service_calls.h"
#include "ssebridge/publisher.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "The bridge's gRPC address, host:port.");
ABSL_FLAG(std::string, channel, "", "Channel to publish to (with --stdin: the default).");
ABSL_FLAG(std::string, event, "", "SSE event type; empty means \"message\".");
ABSL_FLAG(std::string, data, "", "The payload, JSON typically.");
ABSL_FLAG(std::vector<std::string>, user, {}, "Deliver only to these users (comma-separated).");
ABSL_FLAG(bool, retain, false, "Keep as the channel's latest value for this event type.");
ABSL_FLAG(std::string, idempotency_key, "",
          "A repeat within the bridge's window publishes nothing.");
ABSL_FLAG(bool, stdin, false, "Read events from stdin, one JSON object per line.");
ABSL_FLAG(std::string, token, "", "Publisher key or JWT (sent as authorization: Bearer ...).");
ABSL_FLAG(std::string, token_file, "", "Read the token from this file (keeps it out of ps).");
ABSL_FLAG(bool, tls, false, "Use TLS to the gRPC port.");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM CA bundle to trust (default: system roots).");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM client certificate (mTLS).");
ABSL_FLAG(std::string, tls_key_file, "", "PEM client key (mTLS).");
ABSL_FLAG(std::string, tls_server_name, "", "Verify the server certificate against this name.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Deadline of a single publish.");
ABSL_FLAG(int, max_in_flight, 64, "With --stdin: events sent and unanswered at once.");
ABSL_FLAG(bool, batch, false,
          "With --stdin: send the lines in PublishBatch calls (up to 1,000 each).");
ABSL_FLAG(bool, batch_stream, false,
          "With --stdin: send the lines in batches of --batch_size over one PublishBatchStream.");
ABSL_FLAG(int, batch_size, 100,
          "With --batch_stream: lines per batch, 1 to 1000 (a batch goes when full or at the "
          "end of input).");
ABSL_FLAG(std::string, issue_ticket, "",
          "Mint a one-time ticket for this user (with --channels, --ttl) and print it.");
ABSL_FLAG(std::vector<std::string>, channels, {},
          "With --issue_ticket: channel patterns the ticket grants (comma-separated).");
ABSL_FLAG(absl::Duration, ttl, absl::ZeroDuration(),
          "With --issue_ticket: ticket lifetime, 1s to 60s (0: the bridge's 30s).");
ABSL_FLAG(bool, stats, false,
          "Print the bridge's Admin.GetStats (needs an admin key; --target is "
          "the internal port, 9090 by default).");
ABSL_FLAG(int, max_channels, 0, "With --stats: most channels listed (0: 100).");
ABSL_FLAG(bool, fleet, false,
          "With --stats: also every replica's numbers and their sum (\"fleet\"; "
          "--broker=memory: the one replica).");
ABSL_FLAG(std::string, disconnect_user, "",
          "End every SSE stream of this user (Admin.DisconnectUser; needs an "
          "admin key; --target is the internal port).");

namespace {

constexpr char kProg[] = "ssebridge-publish";
constexpr int kUsage = 2;

int UsageError(const std::string& message) {
  std::fprintf(stderr, "%s: %s (see --help)\n", kProg, message.c_str());
  return kUsage;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = absl::StrCat("cannot read ", path);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

std::string AckJson(const ssebridge::Ack& ack, int line) {
  nlohmann::json j;
  if (line > 0) j["line"] = line;
  j["id"] = ack.id;
  j["subscribers"] = ack.subscribers;
  j["replayed"] = ack.replayed;
  if (ack.published_at != absl::InfinitePast()) {
    j["published_at"] =
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ack.published_at, absl::UTCTimeZone());
  }
  return j.dump();
}

// Parses one --stdin line into `event`, with the flags as defaults.
bool ParseLine(const std::string& line, const ssebridge::Event& defaults, ssebridge::Event* event,
               std::string* error) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not valid JSON";
    return false;
  }
  if (!j.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  *event = defaults;
  bool has_data = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    auto want_string = [&](std::string* out) {
      if (!v.is_string()) {
        *error = absl::StrCat("\"", key, "\" must be a string");
        return false;
      }
      *out = v.get<std::string>();
      return true;
    };
    if (key == "channel") {
      if (!want_string(&event->channel)) return false;
    } else if (key == "event") {
      if (!want_string(&event->event)) return false;
    } else if (key == "idempotency_key" || key == "idempotencyKey") {
      if (!want_string(&event->idempotency_key)) return false;
    } else if (key == "data") {
      event->data = v.is_string() ? v.get<std::string>() : v.dump();
      has_data = true;
    } else if (key == "retain") {
      if (!v.is_boolean()) {
        *error = "\"retain\" must be true or false";
        return false;
      }
      event->retain = v.get<bool>();
    } else if (key == "user_ids" || key == "userIds") {
      if (!v.is_array()) {
        *error = absl::StrCat("\"", key, "\" must be an array of strings");
        return false;
      }
      event->user_ids.clear();
      for (const auto& u : v) {
        if (!u.is_string()) {
          *error = absl::StrCat("\"", key, "\" must be an array of strings");
          return false;
        }
        event->user_ids.push_back(u.get<std::string>());
      }
    } else {
      *error = absl::StrCat("unknown field \"", key,
                            "\" (expected channel, event, data, user_ids, retain, "
                            "idempotency_key)");
      return false;
    }
  }
  if (!has_data) {
    *error = "\"data\" is missing";
    return false;
  }
  if (event->channel.empty()) {
    *error = "\"channel\" is missing and no --channel was given";
    return false;
  }
  return true;
}

// Reads JSON lines from stdin until EOF or `take(event, line)` returns false;
// blank lines are skipped, bad ones reported and not sent. Returns whether a
// line was bad.
template <typename Take>
bool ReadEvents(const ssebridge::Event& defaults, Take take) {
  bool bad_line = false;
  std::string text;
  int number = 0;
  while (std::getline(std::cin, text)) {
    ++number;
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    ssebridge::Event event;
    std::string error;
    if (!ParseLine(text, defaults, &event, &error)) {
      std::fprintf(stderr, "%s: line %d: %s; not sent\n", kProg, number, error.c_str());
      bad_line = true;
      continue;
    }
    if (!take(std::move(event), number)) break;
  }
  return bad_line;
}

// --stdin --batch: every line read first, then PublishBatch calls.
int RunStdinBatches(ssebridge::Publisher& publisher, const ssebridge::Event& defaults) {
  std::vector<ssebridge::Event> events;
  std::vector<int> lines;
  const bool bad_line = ReadEvents(defaults, [&](ssebridge::Event event, int number) {
    events.push_back(std::move(event));
    lines.push_back(number);
    return true;
  });
  const int sent = ssebridge_cli::PublishBatches(publisher, events, lines);
  return bad_line ? 1 : sent;
}

// What differs between a PublishStream (a request per line) and a
// PublishBatchStream (a request per batch of lines) for RunStdin.
absl::Status WriteGroup(ssebridge::PublishStream& stream,
                        const std::vector<ssebridge::Event>& events) {
  return stream.Write(events.front());
}
absl::Status WriteGroup(ssebridge::PublishBatchStream& stream,
                        const std::vector<ssebridge::Event>& events) {
  return stream.Write(events);
}
std::vector<absl::StatusOr<ssebridge::Ack>> Acks(ssebridge::StreamResult r) {
  return {std::move(r.ack)};
}
std::vector<absl::StatusOr<ssebridge::Ack>> Acks(ssebridge::BatchStreamResult r) {
  return std::move(r.acks);
}
size_t Unanswered(const ssebridge::PublishStream& stream) { return stream.pending().size(); }
size_t Unanswered(const ssebridge::PublishBatchStream& stream) {
  size_t n = 0;
  for (const auto& batch : stream.pending()) n += batch.size();
  return n;
}

// --stdin over one stream: each request is a group of up to `group_size`
// lines (1 for a PublishStream).
template <typename Stream>
int RunStdin(Stream& stream, const ssebridge::Event& defaults, size_t group_size) {
  std::mutex mu;
  std::deque<std::vector<int>> lines;  // line numbers of the requests written, in order
  bool failed = false;

  // Answers, in order, on their own thread so the window keeps moving while
  // the main thread waits for input.
  std::thread reader([&] {
    while (true) {
      auto r = stream.Read();
      if (!r.ok()) {
        if (absl::IsOutOfRange(r.status())) return;  // every answer read
        size_t unanswered = Unanswered(stream);
        std::fprintf(stderr,
                     "%s: stream failed: %s; %zu event(s) got no answer "
                     "(they may or may not have been published)\n",
                     kProg, StatusText(r.status()).c_str(), unanswered);
        std::fflush(stdout);
        std::fflush(stderr);
        // The main thread may be blocked reading stdin for good.
        ::_exit(1);
      }
      std::vector<int> group;
      {
        std::lock_guard<std::mutex> lock(mu);
        group = std::move(lines.front());
        lines.pop_front();
      }
      std::vector<absl::StatusOr<ssebridge::Ack>> acks = Acks(std::move(*r));
      for (size_t i = 0; i < group.size() && i < acks.size(); ++i) {
        if (acks[i].ok()) {
          std::printf("%s\n", AckJson(*acks[i], group[i]).c_str());
        } else {
          std::fprintf(stderr, "%s: line %d: %s\n", kProg, group[i],
                       StatusText(acks[i].status()).c_str());
          std::lock_guard<std::mutex> lock(mu);
          failed = true;
        }
      }
      std::fflush(stdout);
    }
  });

  bool write_failed = false;
  std::vector<ssebridge::Event> events;
  std::vector<int> numbers;
  auto send = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(std::move(numbers));
    }
    numbers.clear();
    absl::Status written = WriteGroup(stream, events);
    events.clear();
    if (!written.ok()) write_failed = true;  // the reader learns and reports why
    return written.ok();
  };
  const bool bad_line = ReadEvents(defaults, [&](ssebridge::Event event, int number) {
    events.push_back(std::move(event));
    numbers.push_back(number);
    return events.size() < group_size || send();
  });
  if (bad_line) {
    std::lock_guard<std::mutex> lock(mu);
    failed = true;
  }
  if (!write_failed && !events.empty()) send();
  stream.WritesDone();
  reader.join();
  absl::Status status = stream.Finish();
  if (!status.ok() && !write_failed) {
    std::fprintf(stderr, "%s: stream failed: %s\n", kProg, StatusText(status).c_str());
    return 1;
  }
  std::lock_guard<std::mutex> lock(mu);
  return failed || write_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "publish events to ssebridge over gRPC\n"
      "  ssebridge-publish --channel tasks --event taskDone --data '{\"id\":1}' "
      "[--user u1] [--target host:port] [--token ...]\n"
      "  producer | ssebridge-publish --stdin [--channel default]   (JSON lines)\n"
      "  producer | ssebridge-publish --stdin --batch_stream [--batch_size 100]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return UsageError(absl::StrCat("unexpected argument \"", rest[1], "\""));
  }

  ssebridge::PublisherOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.token = absl::GetFlag(FLAGS_token);
  std::string error;
  if (!absl::GetFlag(FLAGS_token_file).empty()) {
    if (!options.token.empty()) return UsageError("give --token or --token_file, not both");
    if (!ReadFile(absl::GetFlag(FLAGS_token_file), &options.token, &error)) {
      return UsageError(absl::StrCat("--token_file: ", error));
    }
    options.token = std::string(absl::StripAsciiWhitespace(options.token));
    if (options.token.empty()) return UsageError("--token_file: the file is empty");
  }
  options.tls = absl::GetFlag(FLAGS_tls);
  struct {
    const char* flag;
    std::string path;
    std::string* out;
  } pem_files[] = {
      {"--tls_ca_file", absl::GetFlag(FLAGS_tls_ca_file), &options.tls_root_certs_pem},
      {"--tls_cert_file", absl::GetFlag(FLAGS_tls_cert_file), &options.tls_client_cert_pem},
      {"--tls_key_file", absl::GetFlag(FLAGS_tls_key_file), &options.tls_client_key_pem},
  };
  if (absl::GetFlag(FLAGS_tls_cert_file).empty() != absl::GetFlag(FLAGS_tls_key_file).empty()) {
    return UsageError("give both --tls_cert_file and --tls_key_file for mTLS, or neither");
  }
  for (auto& f : pem_files) {
    if (f.path.empty()) continue;
    if (!options.tls) return UsageError(absl::StrCat(f.flag, " needs --tls"));
    if (!ReadFile(f.path, f.out, &error)) return UsageError(absl::StrCat(f.flag, ": ", error));
  }
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  if (!options.tls_server_name.empty() && !options.tls) {
    return UsageError("--tls_server_name needs --tls");
  }

  ssebridge::Event defaults;
  defaults.channel = absl::GetFlag(FLAGS_channel);
  defaults.event = absl::GetFlag(FLAGS_event);
  defaults.user_ids = absl::GetFlag(FLAGS_user);
  defaults.retain = absl::GetFlag(FLAGS_retain);
  defaults.idempotency_key = absl::GetFlag(FLAGS_idempotency_key);

  const int calls = !absl::GetFlag(FLAGS_issue_ticket).empty() + absl::GetFlag(FLAGS_stats) +
                    !absl::GetFlag(FLAGS_disconnect_user).empty();
  const bool from_stdin = absl::GetFlag(FLAGS_stdin);
  if (calls > 1) return UsageError("give one of --issue_ticket, --stats, --disconnect_user");
  if (absl::GetFlag(FLAGS_batch) && !from_stdin) return UsageError("--batch needs --stdin");
  const bool batch_stream = absl::GetFlag(FLAGS_batch_stream);
  if (batch_stream && !from_stdin) return UsageError("--batch_stream needs --stdin");
  if (batch_stream && absl::GetFlag(FLAGS_batch)) {
    return UsageError("give --batch or --batch_stream, not both");
  }
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  if (batch_size < 1 || batch_size > 1000) {
    return UsageError("--batch_size must be 1 to 1000");
  }
  if (absl::GetFlag(FLAGS_fleet) && !absl::GetFlag(FLAGS_stats)) {
    return UsageError("--fleet needs --stats");
  }
  if (calls == 1) {
    if (from_stdin || !defaults.channel.empty() || !absl::GetFlag(FLAGS_data).empty()) {
      return UsageError(
          "--issue_ticket, --stats and --disconnect_user publish nothing: "
          "drop --stdin, --channel and --data");
    }
    if (!absl::GetFlag(FLAGS_issue_ticket).empty() && absl::GetFlag(FLAGS_channels).empty()) {
      return UsageError("--issue_ticket needs --channels");
    }
  } else if (from_stdin) {
    if (!absl::GetFlag(FLAGS_data).empty()) return UsageError("give --data or --stdin, not both");
    if (!defaults.idempotency_key.empty()) {
      return UsageError("--idempotency_key applies to one event; put it in each line");
    }
  } else {
    if (defaults.channel.empty()) return UsageError("--channel is required");
    if (absl::GetFlag(FLAGS_data).empty()) return UsageError("--data is required (or use --stdin)");
  }

  auto publisher = ssebridge::Publisher::Create(options);
  if (!publisher.ok()) return UsageError(std::string(publisher.status().message()));
  // A connection first, retried within --timeout: a bridge that is
  // restarting, or one failed attempt, is not worth a failed script. Nothing
  // was sent yet, so this failure is certainly UNAVAILABLE.
  absl::Status connected = (*publisher)->Connect(absl::GetFlag(FLAGS_timeout));
  if (!connected.ok()) {
    std::fprintf(stderr, "%s: %s\n", kProg, StatusText(connected).c_str());
    return 1;
  }

  if (!absl::GetFlag(FLAGS_issue_ticket).empty()) {
    return ssebridge_cli::IssueTicket(**publisher, absl::GetFlag(FLAGS_issue_ticket),
                                      absl::GetFlag(FLAGS_channels), absl::GetFlag(FLAGS_ttl));
  }
  if (absl::GetFlag(FLAGS_stats)) {
    return ssebridge_cli::PrintStats(**publisher, absl::GetFlag(FLAGS_max_channels),
                                     absl::GetFlag(FLAGS_fleet));
  }
  if (!absl::GetFlag(FLAGS_disconnect_user).empty()) {
    return ssebridge_cli::DisconnectUser(**publisher, absl::GetFlag(FLAGS_disconnect_user));
  }
  if (from_stdin && absl::GetFlag(FLAGS_batch)) return RunStdinBatches(**publisher, defaults);
  if (from_stdin && batch_stream) {
    std::unique_ptr<ssebridge::PublishBatchStream> stream = (*publisher)->OpenBatchStream();
    return RunStdin(*stream, defaults, static_cast<size_t>(batch_size));
  }
  if (from_stdin) {
    std::unique_ptr<ssebridge::PublishStream> stream = (*publisher)->OpenStream();
    return RunStdin(*stream, defaults, 1);
  }

  ssebridge::Event event = defaults;
  event.data = absl::GetFlag(FLAGS_data);
  absl::StatusOr<ssebridge::Ack> ack = (*publisher)->Publish(event);
  if (!ack.ok()) {
    std::fprintf(stderr, "%s: %s\n", kProg, StatusText(ack.status()).c_str());
    return 1;
  }
  std::printf("%s\n", AckJson(*ack, 0).c_str());
  return 0;
}
