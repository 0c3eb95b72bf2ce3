// ssebridge::PublishBatchStream (BatchPublisher.PublishBatchStream) against
// the real bridge binary: batches answered in order with a result per event,
// a refused event reported as Publish reports errors, the window counting
// batches, a broken stream naming what got no answer, and a clean end.
#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ssebridge/publisher.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/sse_client.h"

namespace {

using ssebridge::Ack;
using ssebridge::BatchStreamResult;
using ssebridge::Event;
using ssebridge::Publisher;
using ssebridge::PublisherOptions;
using ssebridge_it::BridgeProcess;
using ssebridge_it::SseClient;
using ssebridge_it::StartBridge;

uint64_t SeqOf(const std::string& id) {
  uint64_t seq = 0;
  size_t dash = id.rfind('-');
  EXPECT_NE(dash, std::string::npos) << id;
  if (dash == std::string::npos) return 0;
  EXPECT_TRUE(absl::SimpleAtoi(id.substr(dash + 1), &seq)) << id;
  return seq;
}

std::unique_ptr<Publisher> MakePublisher(const BridgeProcess& bridge, int max_in_flight = 64) {
  PublisherOptions o;
  o.target = bridge.grpc_target();
  o.max_in_flight = max_in_flight;
  auto p = Publisher::Create(o);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

Event Ev(std::string channel, std::string data) {
  Event e;
  e.channel = std::move(channel);
  e.data = std::move(data);
  return e;
}

std::vector<Event> Batch(int b, int n, const std::string& channel = "bs") {
  std::vector<Event> events;
  for (int i = 0; i < n; ++i) events.push_back(Ev(channel, absl::StrCat(b, ".", i)));
  return events;
}

TEST(PublishBatchStreamTest, BatchesAreAnsweredInOrderWithinTheWindow) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), "/v1/events?channel=bs")) << sse.Describe();
  auto pub = MakePublisher(*bridge, /*max_in_flight=*/3);
  auto stream = pub->OpenBatchStream();
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 5;
  std::atomic<size_t> max_in_flight{0};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      absl::Status written = stream->Write(Batch(b, kPerBatch));
      if (!written.ok()) {
        ADD_FAILURE() << written;
        break;
      }
      size_t now = stream->in_flight();
      if (now > max_in_flight) max_in_flight = now;
    }
    stream->WritesDone();
  });
  std::vector<BatchStreamResult> results;
  while (true) {
    absl::StatusOr<BatchStreamResult> r = stream->Read();
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
      break;
    }
    results.push_back(std::move(*r));
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_LE(max_in_flight.load(), 3u);
  ASSERT_EQ(results.size(), static_cast<size_t>(kBatches));
  std::vector<std::string> ids;
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_EQ(results[b].requests.size(), static_cast<size_t>(kPerBatch));
    ASSERT_EQ(results[b].acks.size(), static_cast<size_t>(kPerBatch));
    for (int i = 0; i < kPerBatch; ++i) {
      EXPECT_EQ(results[b].requests[i].data, absl::StrCat(b, ".", i));
      ASSERT_TRUE(results[b].acks[i].ok()) << results[b].acks[i].status();
      ids.push_back(results[b].acks[i]->id);
    }
  }
  for (size_t k = 1; k < ids.size(); ++k) EXPECT_GT(SeqOf(ids[k]), SeqOf(ids[k - 1]));
  ASSERT_TRUE(sse.WaitForEvents(ids.size(), absl::Seconds(20))) << sse.Describe();
  for (size_t k = 0; k < ids.size(); ++k) {
    EXPECT_EQ(sse.events()[k].id, ids[k]);
    EXPECT_EQ(sse.events()[k].data, absl::StrCat(k / kPerBatch, ".", k % kPerBatch));
  }
}

TEST(PublishBatchStreamTest, ARefusedEventFailsAloneAsPublishReportsIt) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), "/v1/events?channel=ok")) << sse.Describe();
  auto pub = MakePublisher(*bridge);
  // What Publish says about the bad channel, to compare with.
  absl::StatusOr<Ack> unary = pub->Publish(Ev("no spaces allowed", "x"));
  ASSERT_TRUE(absl::IsInvalidArgument(unary.status())) << unary.status();
  auto stream = pub->OpenBatchStream();
  ASSERT_TRUE(stream->Write({Ev("ok", "1"), Ev("no spaces allowed", "x"), Ev("ok", "3")}).ok());
  ASSERT_TRUE(stream->Write({}).ok());
  ASSERT_TRUE(stream->Write(Batch(0, 1001, "ok")).ok());  // over 1,000: all refused
  ASSERT_TRUE(stream->Write({Ev("ok", "4")}).ok());
  std::vector<BatchStreamResult> got;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<BatchStreamResult> r = stream->Read();
    ASSERT_TRUE(r.ok()) << r.status();
    got.push_back(std::move(*r));
  }
  ASSERT_EQ(got[0].acks.size(), 3u);
  EXPECT_TRUE(got[0].acks[0].ok());
  EXPECT_EQ(got[0].acks[1].status(), unary.status());  // the same code and message
  EXPECT_EQ(got[0].requests[1].channel, "no spaces allowed");
  ASSERT_TRUE(got[0].acks[2].ok());
  EXPECT_TRUE(got[1].acks.empty());
  ASSERT_EQ(got[2].acks.size(), 1001u);
  for (const auto& a : got[2].acks) EXPECT_TRUE(absl::IsInvalidArgument(a.status()));
  ASSERT_EQ(got[3].acks.size(), 1u);
  ASSERT_TRUE(got[3].acks[0].ok());
  EXPECT_GT(SeqOf(got[3].acks[0]->id), SeqOf(got[0].acks[2]->id));
  // The stream carries on; nothing outstanding, so PublishBatch reads its own answer.
  absl::StatusOr<std::vector<absl::StatusOr<Ack>>> last = stream->PublishBatch({Ev("ok", "5")});
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_EQ(last->size(), 1u);
  ASSERT_TRUE((*last)[0].ok()) << (*last)[0].status();
  std::vector<BatchStreamResult> rest;
  ASSERT_TRUE(stream->Finish(&rest).ok());
  EXPECT_TRUE(rest.empty());
  EXPECT_TRUE(absl::IsFailedPrecondition(stream->Write({Ev("ok", "6")})));
  EXPECT_TRUE(absl::IsOutOfRange(stream->Read().status()));
  ASSERT_TRUE(sse.WaitForEvents(4, absl::Seconds(10))) << sse.Describe();
  std::vector<std::string> data;
  for (const auto& e : sse.events()) data.push_back(e.data);
  EXPECT_EQ(data, (std::vector<std::string>{"1", "3", "4", "5"}));
}

TEST(PublishBatchStreamTest, WriteBlocksWhileTheWindowOfBatchesIsFull) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge, /*max_in_flight=*/2);
  auto stream = pub->OpenBatchStream();
  ASSERT_TRUE(stream->PublishBatch({Ev("bp", "warm-up")}).ok());
  ASSERT_TRUE(bridge->Freeze());  // no answers from now on
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int b = 0; b < 6; ++b) {
      if (!stream->Write(Batch(b, 3, "bp")).ok()) return;
      ++written;
    }
    stream->WritesDone();
  });
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (written.load() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  absl::SleepFor(absl::Milliseconds(300));  // a third Write would return by now
  EXPECT_EQ(written.load(), 2);
  EXPECT_EQ(stream->in_flight(), 2u);
  bridge->Signal(SIGCONT);
  int read = 0;
  while (true) {  // reading frees the window for the writer's last four
    absl::StatusOr<BatchStreamResult> r = stream->Read();
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
      break;
    }
    EXPECT_EQ(r->acks.size(), 3u);
    for (const auto& a : r->acks) EXPECT_TRUE(a.ok()) << a.status();
    ++read;
  }
  writer.join();
  EXPECT_EQ(written.load(), 6);
  EXPECT_EQ(read, 6);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(PublishBatchStreamTest, ABrokenStreamReportsTheBatchesThatGotNoAnswer) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  auto pub = MakePublisher(*bridge);
  auto stream = pub->OpenBatchStream();
  ASSERT_TRUE(stream->PublishBatch(Batch(0, 2, "gone")).ok());
  ASSERT_TRUE(bridge->Freeze());
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(stream->Write(Batch(b, 2, "gone")).ok());
  absl::SleepFor(absl::Milliseconds(200));
  bridge->Signal(SIGKILL);
  absl::StatusOr<BatchStreamResult> r = stream->Read();
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  std::vector<std::vector<Event>> pending = stream->pending();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0][0].data, "1.0");
  EXPECT_EQ(pending[2][1].data, "3.1");
  EXPECT_FALSE(stream->Write(Batch(4, 1, "gone")).ok());
  EXPECT_TRUE(absl::IsUnavailable(stream->Finish()));
}

}  // namespace
