// BrokerRegistry: --broker names a broker of the table or start-up stops
// with the known names; nothing else picks a broker.
#include "bridge/broker/broker_registry.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

BrokerRegistry TwoNames(int* made) {
  BrokerRegistry brokers;
  for (const char* name : {"memory", "redis"}) {
    brokers.Register(name,
                     [made](Hub*, const EventEncoder*) -> absl::StatusOr<std::unique_ptr<Broker>> {
                       ++*made;
                       return absl::FailedPreconditionError("made by the test");
                     });
  }
  return brokers;
}

TEST(BrokerRegistryTest, KnownNamesPassAndReachTheirMaker) {
  int made = 0;
  BrokerRegistry brokers = TwoNames(&made);
  EXPECT_TRUE(brokers.Check("memory").ok());
  EXPECT_TRUE(brokers.Check("redis").ok());
  EXPECT_EQ(brokers.names(), (std::vector<std::string>{"memory", "redis"}));
  // The maker's own answer comes back as it is.
  EXPECT_EQ(brokers.Make("redis", nullptr, nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(made, 1);
}

TEST(BrokerRegistryTest, AnUnknownNameIsRefusedNamingTheFlagAndTheKnownOnes) {
  int made = 0;
  BrokerRegistry brokers = TwoNames(&made);
  for (const std::string bad : {"", "Redis", "nats", "memory "}) {
    absl::Status s = brokers.Check(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(s.message(), "--broker")) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "known: memory, redis")) << s;
    EXPECT_EQ(brokers.Make(bad, nullptr, nullptr).status(), s);
  }
  EXPECT_EQ(made, 0) << "no maker runs for an unknown name";
}

TEST(BrokerRegistryTest, ASecondRegistrationOfANameIsIgnored) {
  int made = 0;
  BrokerRegistry brokers = TwoNames(&made);
  brokers.Register("memory",
                   [](Hub*, const EventEncoder*) -> absl::StatusOr<std::unique_ptr<Broker>> {
                     ADD_FAILURE() << "the later maker ran";
                     return absl::InternalError("later");
                   });
  EXPECT_EQ(brokers.names().size(), 2u);
  EXPECT_EQ(brokers.Make("memory", nullptr, nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ssebridge
