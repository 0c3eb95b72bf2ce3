// StaticFiles: read-only files under one directory, for --static_dir (a
// dashboard page served by the bridge itself, same origin as its streams).
//
// A URL path maps to a regular file under the root: "/" and directories
// serve their index.html. Paths with "..", ".", empty segments, backslashes
// or NUL are refused, and the resolved file (after symlinks) must still lie
// under the root, so nothing outside it can be read. Content-Type comes from
// the extension; unknown extensions are application/octet-stream.
#ifndef SSEBRIDGE_HTTP_STATIC_FILES_H_
#define SSEBRIDGE_HTTP_STATIC_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

class StaticFiles {
 public:
  struct File {
    std::string body;
    std::string content_type;
  };

  // Fails when `dir` is not a readable directory.
  static absl::StatusOr<StaticFiles> Open(const std::string& dir);

  // The file for an already percent-decoded URL path: NOT_FOUND (no such
  // file, or a path that would leave the root), INVALID_ARGUMENT (a
  // malformed path), RESOURCE_EXHAUSTED (larger than max_file_bytes).
  absl::StatusOr<File> Read(absl::string_view url_path) const;

  static std::string ContentTypeFor(absl::string_view path);

  const std::string& root() const { return root_; }

  static constexpr size_t kMaxFileBytes = 32 << 20;

 private:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}
  std::string root_;  // realpath, no trailing slash
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_STATIC_FILES_H_
