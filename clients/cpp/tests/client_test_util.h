// Helpers for the C++ client tests: running the
// ssebridge-publish CLI as a child process with given stdin, capturing its
// stdout, stderr and exit status.
#ifndef SSEBRIDGE_CLIENTS_CPP_TESTS_CLIENT_TEST_UTIL_H_
#define SSEBRIDGE_CLIENTS_CPP_TESTS_CLIENT_TEST_UTIL_H_

#include <string>
#include <vector>

#include "tests/harness/temp_dir.h"

namespace ssebridge_client_test {

using ssebridge_it::TempDir;  // tests/harness/temp_dir.h

struct CliResult {
  int exit_code = -1;  // -1: did not exit normally (signal, or no start)
  std::string out;
  std::string err;
  std::vector<std::string> OutLines() const;
  std::string Describe() const;
};

// Runs the CLI (SSEBRIDGE_PUBLISH_CLI) with `args`, feeding `stdin_text`;
// kills it after `timeout_seconds`.
CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_text = "",
                 int timeout_seconds = 60);

}  // namespace ssebridge_client_test

#endif  // SSEBRIDGE_CLIENTS_CPP_TESTS_CLIENT_TEST_UTIL_H_
