// The one instant the clock-driven unit tests start from, so that tests of
// expiry and rates read the same and (compiled in unity batches, see
// tests/CMakeLists.txt) do not each define it.
#ifndef SSEBRIDGE_TESTS_UNIT_FIXED_CLOCK_H_
#define SSEBRIDGE_TESTS_UNIT_FIXED_CLOCK_H_

#include "absl/time/time.h"

namespace ssebridge {

inline const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_UNIT_FIXED_CLOCK_H_
