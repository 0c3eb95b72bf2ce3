#include "tests/harness/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ssebridge_it {
namespace {

bool ValidName(absl::string_view name, bool allow_colon) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && !(allow_colon && c == ':')) return false;
  }
  return true;
}

absl::StatusOr<double> ParseValue(absl::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  if (text.empty()) return absl::InvalidArgumentError("empty value");
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || absl::StrContains(s, "nan") || absl::StrContains(s, "inf") ||
      absl::StrContains(s, "x") || absl::StrContains(s, "X")) {
    return absl::InvalidArgumentError(absl::StrCat("bad value '", text, "'"));
  }
  return v;
}

std::string Key(const std::string& name, const PromLabels& labels) {
  std::string key = name + "{";
  for (const auto& [k, v] : labels) absl::StrAppend(&key, k, "=", v, "\x1f");
  return key + "}";
}

// name{a="x",b="y"} value -- returns the rest after the labels in *rest.
absl::Status ParseSampleLine(absl::string_view line, PromSample* out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out->name = std::string(line.substr(0, i));
  if (!ValidName(out->name, true)) return absl::InvalidArgumentError("bad metric name");
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      size_t start = i;
      while (i < line.size() && line[i] != '=') ++i;
      std::string label(line.substr(start, i - start));
      if (!ValidName(label, false) || absl::StartsWith(label, "__")) {
        return absl::InvalidArgumentError(absl::StrCat("bad label name '", label, "'"));
      }
      if (i + 1 >= line.size() || line[i + 1] != '"') {
        return absl::InvalidArgumentError("label value must be quoted");
      }
      i += 2;
      std::string value;
      while (true) {
        if (i >= line.size()) return absl::InvalidArgumentError("unterminated label value");
        char c = line[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= line.size()) return absl::InvalidArgumentError("dangling backslash");
          char e = line[i++];
          if (e == '\\')
            value += '\\';
          else if (e == '"')
            value += '"';
          else if (e == 'n')
            value += '\n';
          else
            return absl::InvalidArgumentError(absl::StrCat("bad escape \\", std::string(1, e)));
        } else {
          value += c;
        }
      }
      if (!out->labels.emplace(label, value).second) {
        return absl::InvalidArgumentError(absl::StrCat("label '", label, "' twice"));
      }
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return absl::InvalidArgumentError("expected , or } after a label");
    }
  }
  if (i >= line.size() || line[i] != ' ') return absl::InvalidArgumentError("no value");
  std::vector<absl::string_view> rest = absl::StrSplit(line.substr(i + 1), ' ');
  if (rest.empty() || rest.size() > 2)
    return absl::InvalidArgumentError("expected value [timestamp]");
  absl::StatusOr<double> v = ParseValue(rest[0]);
  if (!v.ok()) return v.status();
  out->value = *v;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PromText> PromText::Parse(absl::string_view text) {
  PromText out;
  if (!text.empty() && text.back() != '\n') {
    return absl::InvalidArgumentError("the last line does not end with \\n");
  }
  std::set<std::string> helped, finished, series;
  std::string current;  // family whose samples we are in
  auto family_of = [&out](const std::string& name) -> std::string {
    for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix)) {
        std::string base(name.substr(0, name.size() - suffix.size()));
        auto t = out.types_.find(base);
        if (t != out.types_.end() && (t->second == "histogram" || t->second == "summary")) {
          return base;
        }
      }
    }
    return name;
  };
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", why, ": ", line));
    };
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      if (parts.size() < 3 || (parts[1] != "HELP" && parts[1] != "TYPE")) {
        return fail("only # HELP and # TYPE comments");
      }
      const std::string& name = parts[2];
      if (!ValidName(name, true)) return fail("bad metric name");
      if (finished.count(name) ||
          (name != current && out.types_.count(name) && parts[1] == "TYPE")) {
        return fail("family declared after its samples or twice");
      }
      if (parts[1] == "HELP") {
        if (!helped.insert(name).second) return fail("HELP twice");
      } else {
        const std::string type = parts.size() == 4 ? parts[3] : "";
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return fail("unknown type");
        }
        if (!out.types_.emplace(name, type).second) return fail("TYPE twice");
        if (type == "counter" && !absl::EndsWith(name, "_total")) {
          return fail("counter not named *_total");
        }
      }
      if (name != current) {
        if (!current.empty()) finished.insert(current);
        current = name;
      }
      continue;
    }
    PromSample sample;
    absl::Status s = ParseSampleLine(line, &sample);
    if (!s.ok()) return fail(s.message());
    const std::string family = family_of(sample.name);
    if (family != current) return fail("sample outside its family's block (or before TYPE)");
    if (!out.types_.count(family)) return fail("sample before its TYPE");
    const std::string& type = out.types_[family];
    // The bridge's own counters count things (whole numbers); a process_*
    // counter may count seconds (process_cpu_seconds_total).
    if (type == "counter" && (sample.value < 0 || (absl::StartsWith(family, "ssebridge_") &&
                                                   sample.value != std::floor(sample.value)))) {
      return fail("counter value negative, or an ssebridge_ counter not a whole number");
    }
    if (sample.labels.count("le") && !absl::EndsWith(sample.name, "_bucket")) {
      return fail("le outside a histogram bucket");
    }
    if (!series.insert(Key(sample.name, sample.labels)).second) return fail("series twice");
    out.samples_.push_back(std::move(sample));
  }
  // Histograms: cumulative buckets, +Inf last and equal to _count.
  for (const auto& [name, type] : out.types_) {
    if (type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // by labels
    for (const PromSample& s : out.samples_) {
      if (s.name != name + "_bucket") continue;
      PromLabels rest = s.labels;
      auto le = rest.find("le");
      if (le == rest.end()) return absl::InvalidArgumentError(name + ": bucket without le");
      absl::StatusOr<double> bound = ParseValue(le->second);
      if (!bound.ok()) return absl::InvalidArgumentError(name + ": bad le");
      rest.erase(le);
      buckets[Key(name, rest)].push_back({*bound, s.value});
    }
    for (const PromSample& s : out.samples_) {
      if (s.name != name + "_count") continue;
      auto& b = buckets[Key(name, s.labels)];
      if (b.empty() || !std::isinf(b.back().first)) {
        return absl::InvalidArgumentError(name + ": no le=\"+Inf\" bucket last");
      }
      for (size_t i = 1; i < b.size(); ++i) {
        if (b[i].first <= b[i - 1].first || b[i].second < b[i - 1].second) {
          return absl::InvalidArgumentError(name + ": buckets not cumulative");
        }
      }
      if (b.back().second != s.value) {
        return absl::InvalidArgumentError(name + ": +Inf bucket differs from _count");
      }
      if (!out.Value(name + "_sum", s.labels)) {
        return absl::InvalidArgumentError(name + ": no _sum");
      }
    }
  }
  return out;
}

std::optional<double> PromText::Value(const std::string& name, const PromLabels& labels) const {
  for (const PromSample& s : samples_) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::string PromText::Type(const std::string& family) const {
  auto it = types_.find(family);
  return it == types_.end() ? "" : it->second;
}

std::vector<PromSample> PromText::Series(const std::string& name) const {
  std::vector<PromSample> out;
  for (const PromSample& s : samples_) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

}  // namespace ssebridge_it
