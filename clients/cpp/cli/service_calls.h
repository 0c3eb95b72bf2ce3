// The CLI's calls beyond one publish: --issue_ticket, --stats,
// --disconnect_user and --stdin --batch. Each prints its answer as one JSON
// line on stdout and a failure as "ssebridge-publish: CODE: message" on
// stderr, exactly like a publish; the return value is the exit status
// (0 done, 1 failed).
#ifndef SSEBRIDGE_CLIENTS_CPP_CLI_SERVICE_CALLS_H_
#define SSEBRIDGE_CLIENTS_CPP_CLI_SERVICE_CALLS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "ssebridge/publisher.h"

namespace ssebridge_cli {

int IssueTicket(ssebridge::Publisher& publisher, const std::string& user_id,
                const std::vector<std::string>& channels, absl::Duration ttl);
// With `fleet` the line has "fleet": {"replicas": [...], "total": {...},
// "error": "..."}, one object per replica, the answering one first.
int PrintStats(ssebridge::Publisher& publisher, int max_channels, bool fleet);
int DisconnectUser(ssebridge::Publisher& publisher, const std::string& user_id);
// `events[i]` came from input line `lines[i]`; sent in PublishBatch calls of
// at most 1,000. Answers print as {"line":N,"id":...}; failures as
// "line N: CODE: message" on stderr.
int PublishBatches(ssebridge::Publisher& publisher, const std::vector<ssebridge::Event>& events,
                   const std::vector<int>& lines);

}  // namespace ssebridge_cli

#endif  // SSEBRIDGE_CLIENTS_CPP_CLI_SERVICE_CALLS_H_
