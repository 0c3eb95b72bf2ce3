// MemoryBroker::PublishBatch and Hub::DispatchBatch: a batch is the same as
// its publishes one by one (ids, failures in place, idempotency, delivery
// order), whichever shard each reader is on.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/broker/memory/memory_broker.h"
#include "bridge/core/hub.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

// Keeps every byte queued for its subscription.
class BytesSink : public SubscriptionSink {
 public:
  void OnReady() override {
    std::lock_guard<std::mutex> lock(sub->mu);
    absl::string_view v[16];
    size_t n;
    while ((n = sub->queue.Peek(v, 16)) > 0) {
      size_t total = 0;
      for (size_t i = 0; i < n; ++i) {
        bytes.append(v[i].data(), v[i].size());
        total += v[i].size();
      }
      sub->queue.Consume(total);
    }
  }
  Subscription* sub = nullptr;
  std::string bytes;
};

PublishSpec Spec(const std::string& channel, const std::string& data, const std::string& key = "") {
  PublishSpec spec;
  spec.channel = channel;
  spec.type = "message";
  spec.data = data;
  spec.idempotency_key = key;
  return spec;
}

class MemoryBrokerBatchTest : public testing::Test {
 protected:
  MemoryBrokerBatchTest() : hub_(2) {
    options_.epoch = "ep1";
    options_.max_channels = 2;
    options_.clock = [] { return absl::FromUnixSeconds(1700000000); };
    broker_ = std::make_unique<MemoryBroker>(options_, &hub_, &encoder_);
  }

  // Attached round robin: consecutive readers land on different shards.
  std::shared_ptr<Subscription> Subscribe(const std::string& channel, BytesSink* sink) {
    Subscription::Options o;
    o.channels = {channel};
    o.queue_bytes = 1 << 20;
    auto sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), sink);
    sink->sub = sub.get();
    EXPECT_TRUE(broker_->Attach(sub, "").ok());
    DrainAll();
    sink->bytes.clear();  // the snapshot's head cursor
    return sub;
  }

  void DrainAll() {
    for (int i = 0; i < hub_.shard_count(); ++i) hub_.shard(i).Drain();
  }

  Hub hub_;
  SseEncoder encoder_;
  MemoryBroker::Options options_;
  std::unique_ptr<MemoryBroker> broker_;
};

TEST_F(MemoryBrokerBatchTest, BatchEqualsItsPublishesOneByOne) {
  BytesSink on_a1, on_a2, on_b;
  auto a1 = Subscribe("a", &on_a1);
  auto a2 = Subscribe("a", &on_a2);
  auto b = Subscribe("b", &on_b);
  // Round robin over two shards: `a` has a reader on each.
  ASSERT_EQ(hub_.shard(0).attached(), 2u);
  ASSERT_EQ(hub_.shard(1).attached(), 1u);

  std::vector<PublishSpec> specs = {Spec("a", "1"),      Spec("b", "2"),
                                    Spec("c", "3"),  // a third channel: over --max_channels
                                    Spec("a", "4", "k"), Spec("b", "5", "k"),  // same key: a replay
                                    Spec("a", "6")};
  std::vector<absl::StatusOr<PublishOutcome>> out = broker_->PublishBatch(&specs);
  ASSERT_EQ(out.size(), 6u);
  ASSERT_TRUE(out[0].ok());
  EXPECT_EQ(out[0]->id, "ep1-1");
  EXPECT_EQ(out[0]->subscribers, 2u);
  EXPECT_EQ(out[1]->id, "ep1-2");
  EXPECT_EQ(out[1]->subscribers, 1u);
  ASSERT_FALSE(out[2].ok());
  EXPECT_EQ(out[2].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(out[3]->id, "ep1-3");
  EXPECT_FALSE(out[3]->replayed);
  EXPECT_EQ(out[4]->id, "ep1-3");
  EXPECT_TRUE(out[4]->replayed);
  EXPECT_EQ(out[5]->id, "ep1-4");
  EXPECT_EQ(broker_->head_seq(), 4u);

  DrainAll();
  const std::string want_a =
      "channel: a\nid: ep1-1\ndata: 1\n\nchannel: a\nid: ep1-3\ndata: 4\n\n"
      "channel: a\nid: ep1-4\ndata: 6\n\n";
  EXPECT_EQ(on_a1.bytes, want_a);
  EXPECT_EQ(on_a2.bytes, want_a);
  EXPECT_EQ(on_b.bytes, "channel: b\nid: ep1-2\ndata: 2\n\n");
}

TEST_F(MemoryBrokerBatchTest, EmptyBatchPublishesNothing) {
  std::vector<PublishSpec> specs;
  EXPECT_TRUE(broker_->PublishBatch(&specs).empty());
  EXPECT_EQ(broker_->head_seq(), 0u);
}

}  // namespace
}  // namespace ssebridge
