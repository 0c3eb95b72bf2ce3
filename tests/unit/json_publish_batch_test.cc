// JsonPublish's batch form (a JSON array or NDJSON body): one result per
// event in order, failures in place with their index while the others are
// published, the channel grant and the rate charged per event, and bodies
// refused whole (malformed, empty, over --max_publish_batch) publishing
// nothing. The broker records what it is given.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/rate_limiter.h"
#include "bridge/publish/json_publish.h"
#include "bridge/publish/publish_gate.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ssebridge {
namespace {

class RecordingBroker : public Broker {
 public:
  absl::StatusOr<PublishOutcome> Publish(const PublishSpec& spec) override {
    specs.push_back(spec);
    PublishOutcome out;
    out.id = absl::StrCat("ep-", specs.size());
    out.subscribers = 2;
    out.published_at = absl::FromUnixMillis(1700000000123);
    return out;
  }
  std::vector<absl::StatusOr<PublishOutcome>> PublishBatch(
      std::vector<PublishSpec>* batch) override {
    ++batches;
    return Broker::PublishBatch(batch);
  }
  absl::Status Attach(std::shared_ptr<Subscription>, absl::string_view) override {
    return absl::OkStatus();
  }
  void Sweep(absl::Time) override {}
  std::string epoch() const override { return "ep"; }

  std::vector<PublishSpec> specs;
  int batches = 0;
};

constexpr char kTasksKey[] = "0123456789abcdef-tasks";

class JsonPublishBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(keys_.Add("tasks-svc", kTasksKey, "tasks*").ok()); }

  // Publishes `body` through a gate over keys (or open when `key` is "").
  nlohmann::json Post(const std::string& body, int expect_status,
                      const std::string& content_type = "application/json",
                      const std::string& key = "", RateLimiter* limiter = nullptr) {
    PublisherAuth auth({}, key.empty() ? &no_keys_ : &keys_, &verifier_,
                       limiter != nullptr ? limiter : &unlimited_);
    PublishGate gate(&broker_, limits_, &auth);
    JsonReply reply =
        JsonPublish(gate, body, key.empty() ? "" : absl::StrCat("Bearer ", key), content_type);
    EXPECT_EQ(reply.status, expect_status) << reply.json;
    nlohmann::json parsed = nlohmann::json::parse(reply.json, nullptr, false);
    EXPECT_TRUE(parsed.is_object()) << reply.json;
    return parsed;
  }

  PublishLimits limits_;
  RecordingBroker broker_;
  PublisherKeys keys_;
  PublisherKeys no_keys_;
  JwtVerifier verifier_{JwtVerifier::Options{}, nullptr};
  RateLimiter unlimited_{0, 0};
};

std::string Event(const std::string& channel, const std::string& data) {
  return absl::StrCat(R"({"channel":")", channel, R"(","data":")", data, R"("})");
}

TEST_F(JsonPublishBatchTest, ArrayPublishesEveryEventInOrderInOneBrokerBatch) {
  nlohmann::json r =
      Post(absl::StrCat("[", Event("a", "1"), ",", Event("b", "2"), ",",
                        R"({"channel":"a","event":"e","data":"3","retain":true})", "]"),
           200);
  ASSERT_EQ(r["results"].size(), 3u) << r;
  for (int i = 0; i < 3; ++i) {
    const nlohmann::json& e = r["results"][i];
    EXPECT_EQ(e["id"], absl::StrCat("ep-", i + 1)) << e;
    EXPECT_EQ(e["subscribers"], 2) << e;
    EXPECT_EQ(e["publishedAt"], "2023-11-14T22:13:20.123Z") << e;
    EXPECT_EQ(e["replayed"], false) << e;
    EXPECT_FALSE(e.contains("error")) << e;
  }
  ASSERT_EQ(broker_.specs.size(), 3u);
  EXPECT_EQ(broker_.batches, 1);
  EXPECT_EQ(broker_.specs[0].data, "1");
  EXPECT_EQ(broker_.specs[1].channel, "b");
  EXPECT_EQ(broker_.specs[2].type, "e");
  EXPECT_TRUE(broker_.specs[2].retain);
}

TEST_F(JsonPublishBatchTest, NdjsonPublishesEachLine) {
  nlohmann::json r = Post(absl::StrCat(Event("a", "1"), "\n\n", Event("a", "2"), "\r\n"), 200,
                          "application/x-ndjson; charset=utf-8");
  ASSERT_EQ(r["results"].size(), 2u) << r;
  EXPECT_EQ(r["results"][1]["id"], "ep-2");
  ASSERT_EQ(broker_.specs.size(), 2u);
  EXPECT_EQ(broker_.specs[1].data, "2");
  // One line is still a batch: the answer is {"results":[...]}.
  broker_.specs.clear();
  r = Post(Event("a", "x"), 200, "application/x-ndjson");
  ASSERT_EQ(r["results"].size(), 1u) << r;
}

TEST_F(JsonPublishBatchTest, BadEventsFailAloneNamingIndexAndField) {
  nlohmann::json r = Post(absl::StrCat("[", Event("a", "1"), ",", Event("no spaces", "2"), ",",
                                       R"({"channel":"a","data":"3","colour":"red"})", ",",
                                       Event("a", ""), ",", Event("a", "5"), "]"),
                          200);
  ASSERT_EQ(r["results"].size(), 5u) << r;
  EXPECT_EQ(r["results"][0]["id"], "ep-1");
  const nlohmann::json& bad_channel = r["results"][1];
  EXPECT_EQ(bad_channel["error"], "invalid_argument") << bad_channel;
  EXPECT_EQ(bad_channel["index"], 1) << bad_channel;
  EXPECT_EQ(bad_channel["message"].get<std::string>().rfind("event 1: channel", 0), 0u)
      << bad_channel;
  EXPECT_FALSE(bad_channel.contains("id"));
  const nlohmann::json& undecodable = r["results"][2];
  EXPECT_EQ(undecodable["error"], "invalid_argument") << undecodable;
  EXPECT_EQ(undecodable["message"].get<std::string>().rfind("event 2: not a PublishRequest", 0), 0u)
      << undecodable;
  EXPECT_EQ(r["results"][3]["message"].get<std::string>().rfind("event 3: data", 0), 0u)
      << r["results"][3];
  EXPECT_EQ(r["results"][4]["id"], "ep-2");
  ASSERT_EQ(broker_.specs.size(), 2u);
  EXPECT_EQ(broker_.specs[1].data, "5");
}

TEST_F(JsonPublishBatchTest, ChannelGrantIsCheckedPerEvent) {
  nlohmann::json r = Post(absl::StrCat("[", Event("tasks", "1"), ",", Event("billing", "2"), ",",
                                       Event("tasks.a", "3"), "]"),
                          200, "application/json", kTasksKey);
  ASSERT_EQ(r["results"].size(), 3u) << r;
  EXPECT_EQ(r["results"][0]["id"], "ep-1");
  EXPECT_EQ(r["results"][1]["error"], "permission_denied") << r;
  EXPECT_NE(r["results"][1]["message"].get<std::string>().find("billing"), std::string::npos);
  EXPECT_EQ(r["results"][2]["id"], "ep-2");
  ASSERT_EQ(broker_.specs.size(), 2u);
  // No credential: refused before the body is looked at.
  PublisherAuth auth({}, &keys_, &verifier_, &unlimited_);
  PublishGate gate(&broker_, limits_, &auth);
  EXPECT_EQ(JsonPublish(gate, "[not json", "", "application/json").status, 401);
}

TEST_F(JsonPublishBatchTest, RateIsChargedPerEvent) {
  RateLimiter two(0.001, 2);
  nlohmann::json r = Post(absl::StrCat("[", Event("tasks", "1"), ",", Event("tasks", "2"), ",",
                                       Event("tasks", "3"), "]"),
                          200, "application/json", kTasksKey, &two);
  ASSERT_EQ(r["results"].size(), 3u) << r;
  EXPECT_TRUE(r["results"][1].contains("id")) << r;
  EXPECT_EQ(r["results"][2]["error"], "resource_exhausted") << r;
  EXPECT_EQ(broker_.specs.size(), 2u);
}

TEST_F(JsonPublishBatchTest, OverTheLimitPublishesNothingAndNamesTheFlag) {
  limits_.max_batch = 3;
  const std::string four = absl::StrCat("[", Event("a", "1"), ",", Event("a", "2"), ",",
                                        Event("a", "3"), ",", Event("a", "4"), "]");
  nlohmann::json r = Post(four, 413);
  EXPECT_EQ(r["error"], "payload_too_large");
  EXPECT_NE(r["message"].get<std::string>().find("--max_publish_batch"), std::string::npos) << r;
  r = Post(absl::StrCat(Event("a", "1"), "\n", Event("a", "2"), "\n", Event("a", "3"), "\n",
                        Event("a", "4")),
           413, "application/x-ndjson");
  EXPECT_EQ(r["error"], "payload_too_large");
  EXPECT_TRUE(broker_.specs.empty());
  // Exactly the limit is fine.
  r = Post(absl::StrCat("[", Event("a", "1"), ",", Event("a", "2"), ",", Event("a", "3"), "]"),
           200);
  EXPECT_EQ(r["results"].size(), 3u);
}

TEST_F(JsonPublishBatchTest, MalformedOrEmptyBodyPublishesNothing) {
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {absl::StrCat("[", Event("a", "1"), ",", Event("a", "2"), ",]"), "application/json"},
           {absl::StrCat("[", Event("a", "1"), ", 7]"), "application/json"},
           {"[]", "application/json"},
           {absl::StrCat(Event("a", "1"), "\n[1]\n"), "application/x-ndjson"},
           {absl::StrCat(Event("a", "1"), "\n", Event("a", "2"), Event("a", "3")),
            "application/x-ndjson"},
           {"\n\n", "application/x-ndjson"},
       }) {
    nlohmann::json r = Post(body, 400, type);
    EXPECT_EQ(r["error"], "invalid_json") << body;
    EXPECT_TRUE(r["message"].is_string());
  }
  EXPECT_TRUE(broker_.specs.empty());
}

TEST_F(JsonPublishBatchTest, SingleObjectAnswerIsUnchanged) {
  nlohmann::json r = Post(Event("a", "1"), 200);
  EXPECT_FALSE(r.contains("results")) << r;
  EXPECT_EQ(r["id"], "ep-1");
  EXPECT_EQ(r["subscribers"], 2);
  EXPECT_EQ(r["replayed"], false);
}

TEST(PublishResponseJsonTest, MatchesProtobufsJsonOfTheSameResponse) {
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  // One writer for all: its cached second must never leak into the next.
  PublishResponseJson writer;
  for (const int64_t seconds : {int64_t{1700000000}, int64_t{1700000001}, int64_t{0},
                                int64_t{253402300799}, int64_t{1700000001}}) {
    for (const int64_t nanos :
         {int64_t{0}, int64_t{120000000}, int64_t{123456000}, int64_t{123456789}, int64_t{1},
          int64_t{999999999}, int64_t{5000}, int64_t{1000000}}) {
      for (const bool replayed : {false, true}) {
        v1::PublishResponse response;
        response.set_id(replayed ? "1a2b-99" : "ep\"odd\\-1");
        response.set_subscribers(replayed ? 0 : 4000000000u);
        response.set_replayed(replayed);
        response.mutable_published_at()->set_seconds(seconds);
        response.mutable_published_at()->set_nanos(static_cast<int32_t>(nanos));
        std::string expected;
        ASSERT_TRUE(google::protobuf::util::MessageToJsonString(response, &expected, print).ok());
        std::string ours;
        writer.Append(response, &ours);
        EXPECT_EQ(ours, expected);
      }
    }
  }
  v1::PublishResponse bare;  // no timestamp: protobuf leaves the field out
  std::string expected;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(bare, &expected, print).ok());
  std::string ours;
  writer.Append(bare, &ours);
  EXPECT_EQ(ours, expected);
}

}  // namespace
}  // namespace ssebridge
