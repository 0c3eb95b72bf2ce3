// StatusPage: the routes of the live status page, served on the internal
// listener (--admin_port).
//
//   GET /ui          one self-contained HTML page (status_page_html.h)
//   GET /ui/events   its SSE feed: a stream on StatusFeed's internal channel
//
// Who may look is StreamAdmission's operator rule: in dev mode anyone; with
// admin keys configured, `Authorization: Bearer <key>` (curl, a proxy) or
// HTTP Basic with the key as the password, which is what lets a browser in:
// it prompts once and sends the same credential with the page's EventSource
// (which cannot set headers); with other keys but no admin key, no one (403:
// the page would show channel names and rates to anonymous readers). A 401
// carries both challenges. Feed streams are admitted like any stream:
// charged to --max_connections and to --max_connections_per_ip, refused
// while draining (see stream_refusal.h for the answers).
//
// Everything it points to must outlive the HTTP server.
#ifndef SSEBRIDGE_HTTP_STATUS_PAGE_H_
#define SSEBRIDGE_HTTP_STATUS_PAGE_H_

#include <httplib.h>

#include <string>

#include "bridge/admission/stream_admission.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/http/http_server.h"
#include "bridge/http/status_feed.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

class StatusPage {
 public:
  struct Wiring {
    StatusFeed* feed = nullptr;
    StreamWriter* writer = nullptr;
    const PolicyTable* policies = nullptr;
    StreamAdmission* admission = nullptr;
    bool access_log = true;
  };
  explicit StatusPage(const Wiring& wiring) : wiring_(wiring) {}

  void AddRoutes(httplib::Server& server, const HttpServer::TakeOver& take_over) const;

 private:
  void OpenFeed(const httplib::Request& req, httplib::Response& res,
                const HttpServer::TakeOver& take_over) const;

  Wiring wiring_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_STATUS_PAGE_H_
