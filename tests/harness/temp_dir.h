// TempDir: a private directory for a test's files (keys, certificates,
// config), removed with everything in it when the TempDir goes. Shared by the
// integration tests and the C++ client's tests.
#ifndef SSEBRIDGE_TESTS_HARNESS_TEMP_DIR_H_
#define SSEBRIDGE_TESTS_HARNESS_TEMP_DIR_H_

#include <string>

namespace ssebridge_it {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (mode 0600); returns the full path.
  std::string Write(const std::string& name, const std::string& content);

 private:
  std::string path_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_TEMP_DIR_H_
