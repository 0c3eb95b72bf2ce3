// StatusPage: the routes of the live status page.
//
//   GET /ui          one self-contained HTML page (status_page_html.h)
//   GET /ui/events   its SSE feed: a stream on StatusFeed's internal channel
//
// With admin keys configured both ask for one: `Authorization: Bearer <key>`
// (curl, a proxy), or HTTP Basic with the key as the password, which is what
// lets a browser in: it prompts once and sends the same credential with the
// page's EventSource (which cannot set headers). Without admin keys the page
// is open, like the Admin service in dev mode. A refusal is 401 with both
// challenges and a JSON {"error","message"} body.
//
// Everything it points to must outlive the HTTP server.
#ifndef SSEBRIDGE_SSE_STATUS_PAGE_H_
#define SSEBRIDGE_SSE_STATUS_PAGE_H_

#include <httplib.h>

#include <string>

#include "absl/strings/string_view.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/sse/http_server.h"
#include "bridge/sse/status_feed.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

class StatusPage {
 public:
  struct Wiring {
    StatusFeed* feed = nullptr;
    StreamWriter* writer = nullptr;
    const PolicyTable* policies = nullptr;
    const PublisherKeys* admin_keys = nullptr;  // empty or null: open
    bool access_log = true;
  };
  explicit StatusPage(const Wiring& wiring) : wiring_(wiring) {}

  void AddRoutes(httplib::Server& server, const HttpServer::TakeOver& take_over) const;

  // Whether `authorization` (the header's value) carries an admin key.
  bool Allowed(absl::string_view authorization) const;

 private:
  bool Admit(const httplib::Request& req, httplib::Response& res) const;
  void OpenFeed(const httplib::Request& req, httplib::Response& res,
                const HttpServer::TakeOver& take_over) const;

  Wiring wiring_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_STATUS_PAGE_H_
