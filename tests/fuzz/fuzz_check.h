// FUZZ_CHECK: an invariant a fuzz target asserts. A failure prints what was
// expected and aborts, which libFuzzer reports as a crash and saves the input.
#ifndef SSEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SSEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#endif  // SSEBRIDGE_TESTS_FUZZ_FUZZ_CHECK_H_
