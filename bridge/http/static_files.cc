#include "bridge/http/static_files.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ssebridge {
namespace {

bool RealPath(const std::string& path, std::string* out) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return false;
  *out = buf;
  return true;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

absl::StatusOr<StaticFiles> StaticFiles::Open(const std::string& dir) {
  std::string resolved;
  if (dir.empty() || !RealPath(dir, &resolved) || !IsDirectory(resolved)) {
    return absl::InvalidArgumentError(absl::StrCat("--static_dir: '", dir, "' is not a directory"));
  }
  if (resolved.size() > 1 && resolved.back() == '/') resolved.pop_back();
  return StaticFiles(std::move(resolved));
}

std::string StaticFiles::ContentTypeFor(absl::string_view path) {
  struct Type {
    const char* ext;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
  };
  const std::string lower = absl::AsciiStrToLower(path);
  for (const Type& t : kTypes) {
    if (absl::EndsWith(lower, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

absl::StatusOr<StaticFiles::File> StaticFiles::Read(absl::string_view url_path) const {
  if (url_path.empty() || url_path.front() != '/') {
    return absl::InvalidArgumentError("path: must start with '/'");
  }
  if (url_path.find('\0') != absl::string_view::npos ||
      url_path.find('\\') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path: contains NUL or a backslash");
  }
  std::vector<absl::string_view> segments = absl::StrSplit(url_path.substr(1), '/');
  std::string relative;
  for (size_t i = 0; i < segments.size(); ++i) {
    absl::string_view s = segments[i];
    if (s.empty() && i + 1 == segments.size()) break;  // trailing slash
    if (s.empty() || s == "." || s == "..") {
      return absl::InvalidArgumentError("path: empty, '.' and '..' segments are not allowed");
    }
    absl::StrAppend(&relative, "/", s);
  }
  std::string candidate = root_ + relative;
  if (IsDirectory(candidate)) candidate += "/index.html";
  std::string resolved;
  if (!RealPath(candidate, &resolved)) {
    return absl::NotFoundError(absl::StrCat("no file at ", url_path));
  }
  // Symlinks may point anywhere: what is served must still be under root.
  if (!absl::StartsWith(resolved, root_ + "/")) {
    return absl::NotFoundError(absl::StrCat("no file at ", url_path));
  }
  struct stat st;
  if (::stat(resolved.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("no file at ", url_path));
  }
  if (static_cast<size_t>(st.st_size) > kMaxFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(url_path, " is larger than ", kMaxFileBytes, " bytes"));
  }
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no file at ", url_path));
  File file;
  file.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  file.content_type = ContentTypeFor(resolved);
  return file;
}

}  // namespace ssebridge
