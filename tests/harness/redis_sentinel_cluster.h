// redis_sentinel_cluster: a real Redis Sentinel setup for the failover
// tests -- a primary, one replica (--replicaof) and three redis-sentinel
// processes (quorum 2, down-after 1s) on free loopback ports, each process
// with its own temp dir (the sentinels' config files are theirs to
// rewrite). Start() waits for the conditions a failover needs (the replica
// in sync, every sentinel seeing the master, the replica and the two other
// sentinels), never for a time. Every process is stopped by PID.
//
// Also a small RESP client that reads whole replies (arrays included),
// which RedisServer::Command (first line only) does not.
#ifndef SSEBRIDGE_TESTS_HARNESS_REDIS_SENTINEL_CLUSTER_H_
#define SSEBRIDGE_TESTS_HARNESS_REDIS_SENTINEL_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ssebridge_it {

// A RESP reply: type '+', '-', ':', '$', '*' ('_' for nil, 0 on I/O
// failure); `text` for the scalars, `items` for arrays.
struct RespReply {
  char type = 0;
  std::string text;
  std::vector<RespReply> items;
};
// With a `password`, AUTH goes first on the same connection (its reply is
// read and, when it is an error, returned instead).
RespReply RespCommand(int port, const std::vector<std::string>& argv,
                      absl::Duration timeout = absl::Seconds(2), const std::string& password = "");

// The redis-sentinel binary, or "" when it is not installed.
std::string FindRedisSentinel();

class RedisSentinelCluster {
 public:
  static constexpr const char* kMaster = "mymaster";

  RedisSentinelCluster();
  ~RedisSentinelCluster();
  RedisSentinelCluster(const RedisSentinelCluster&) = delete;
  RedisSentinelCluster& operator=(const RedisSentinelCluster&) = delete;

  // Before Start(): the sentinels require this password (requirepass;
  // they also use it among themselves). The Redis servers stay without one.
  void SetSentinelPassword(const std::string& password) { sentinel_password_ = password; }
  const std::string& sentinel_password() const { return sentinel_password_; }
  // Before Start(): every process also listens for TLS (tls-port) with
  // this certificate, and replication, the sentinels' links to Redis and to
  // each other go over TLS (tls-replication): the addresses the sentinels
  // hand out, and SentinelsFlag(), are the TLS ports. Client certificates
  // are not required. The plain ports stay, for the test's own commands.
  void EnableTls(const std::string& cert_file, const std::string& key_file,
                 const std::string& ca_file);
  // False with *error when a binary is missing or a condition never held.
  bool Start(std::string* error);

  // A command to the first sentinel, with the password when there is one.
  RespReply SentinelCommand(const std::vector<std::string>& argv) const;
  int sentinel_port(int i) const { return sentinels_[i].port; }
  int sentinel_tls_port(int i) const { return sentinels_[i].tls_port; }

  // "127.0.0.1:<p>,..." for --redis_sentinels (the TLS ports with TLS).
  std::string SentinelsFlag() const;
  int primary_port() const { return nodes_[primary_].port; }
  int old_primary_port() const { return replica_port(); }  // after a failover
  int replica_port() const { return nodes_[1 - primary_].port; }
  // SIGKILL of the current primary: what it had not replicated is lost.
  void KillPrimary();
  // SIGSTOP / SIGCONT of the current primary: it keeps its connections and
  // answers nothing. With a replica left, the sentinels fail over once it
  // has been silent for their down-after (1s).
  void FreezePrimary();
  void ThawPrimary();
  // Makes the replica lag for sure: SIGSTOP it (it cannot reconnect), then
  // the primary drops its replication link; writes from now on reach the
  // primary only. ResumeReplica() (SIGCONT) before the sentinels' 1s
  // down-after, or they will not promote it.
  bool CutOffReplica(std::string* error);
  void ResumeReplica();
  // Waits until every sentinel names the replica as master and it answers
  // ROLE as one; then it is the primary. False on timeout.
  bool WaitFailover(absl::Duration timeout, std::string* error);
  // SENTINEL FAILOVER: the primary stays up and becomes a replica.
  bool ForceFailover(std::string* error);
  // Clients connected to `port` other than sentinels, replication links
  // and this very query (CLIENT LIST), i.e. the bridge's.
  int OtherClients(int port) const;
  // The (plain) port of the server every sentinel names for the master, 0
  // while they disagree.
  int AgreedPrimaryPort() const;
  bool IsMaster(int port) const;

 private:
  struct Proc {
    std::string dir;
    int port = 0;
    int tls_port = 0;  // with EnableTls()
    pid_t pid = -1;
  };
  // The port a process is known by among the others (and to the bridge).
  int Announced(const Proc& p) const { return tls_ ? p.tls_port : p.port; }
  // tls-* options for redis-server's command line ("--" prefix) or for a
  // config file ("" prefix, one per line).
  std::vector<std::string> TlsArgs(int tls_port) const;
  // `password`: what PING needs to be answered (a sentinel's).
  bool Spawn(Proc* p, const std::vector<std::string>& argv, const std::string& password,
             std::string* error);
  void Stop(Proc* p);
  bool ReplicaInSync(int replica_port) const;
  bool SentinelsReady() const;

  Proc nodes_[2];  // Redis servers: [0] starts as primary
  int primary_ = 0;
  Proc sentinels_[3];
  std::string sentinel_password_;
  bool tls_ = false;
  std::string tls_cert_, tls_key_, tls_ca_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_REDIS_SENTINEL_CLUSTER_H_
