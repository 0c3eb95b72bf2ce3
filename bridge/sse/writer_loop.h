// WriterLoop: the EventLoop of one hub shard (see stream_writer.h) and the
// connections it owns. Its thread wakes on the shard's inbox or a posted
// task, applies the inbox and writes each touched stream, reads peers' ends,
// sends heartbeats and ends streams whose credential ran out. Other threads
// reach it only through Post().
#ifndef SSEBRIDGE_SSE_WRITER_LOOP_H_
#define SSEBRIDGE_SSE_WRITER_LOOP_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/core/hub.h"
#include "bridge/event/event_loop.h"
#include "bridge/sse/close_reason.h"
#include "bridge/sse/connection.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

class WriterLoop {
 public:
  WriterLoop(StreamWriter* writer, HubShard* shard) : writer_(writer), shard_(shard) {}
  ~WriterLoop();

  absl::Status Init();

  void StartThread() {
    thread_ = std::thread([this] { Run(); });
  }

  void Post(std::function<void()> task);

  void Join();

  // Owner thread: takes a stream on its first delivery / on its close (it
  // is freed at the end of the loop's round).
  void Adopt(Connection* stream, int fd);
  void Forget(Connection* stream, int fd);

  // Owner thread: ends the streams of `user` with `bytes`; how many.
  uint32_t EndUser(const std::string& user, const std::string& bytes);
  // Owner thread: closes the streams of `user` keyed `key`; how many.
  uint32_t EndKeyed(const std::string& user, const std::string& key);

  // Owner thread: every stream, now and later, ends with `farewell()`.
  void BeginFarewell(std::function<std::string()> farewell);

  HubShard* shard() const { return shard_; }
  // The loop whose thread this is (nullptr elsewhere).
  static thread_local WriterLoop* current;

  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> heartbeats{0};
  std::atomic<uint64_t> slow_disconnects{0};
  std::atomic<uint64_t> bytes_written{0};
  // What this loop's streams have queued that their sockets did not take
  // yet (as of each stream's last write).
  std::atomic<int64_t> queued_bytes{0};
  std::array<std::atomic<uint64_t>, kCloseReasonCount> closed{};

 private:
  void Run();
  void ScanDeadlines();
  // Owner thread, last task before the loop stops: closes every stream, and
  // any adopted after it.
  void CloseEverything();

  StreamWriter* writer_;
  HubShard* shard_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  // Owner thread only.
  absl::flat_hash_set<Connection*> streams_;
  bool stopping_ = false;
  std::function<std::string()> farewell_;
  // Users ended by DisconnectUser, remembered for streams of theirs that are
  // adopted later (attaching takes at most a broker round trip or two).
  struct EndedUser {
    absl::Time at;
    std::string bytes;
  };
  static constexpr absl::Duration kEndedUserMemory = absl::Seconds(30);
  absl::flat_hash_map<std::string, EndedUser> ended_users_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_WRITER_LOOP_H_
