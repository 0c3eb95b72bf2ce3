#include "bridge/http/status_page.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/http/http_error.h"
#include "bridge/http/sse_response_head.h"
#include "bridge/http/status_page_html.h"
#include "bridge/http/stream_refusal.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {
namespace {

void Refuse(httplib::Response& res, const absl::Status& refusal) {
  if (absl::IsUnauthenticated(refusal)) {
    res.set_header("WWW-Authenticate", "Bearer realm=\"ssebridge\"");
    res.set_header("WWW-Authenticate", "Basic realm=\"ssebridge status\", charset=\"UTF-8\"");
    SetJsonError(res, 401, "unauthenticated", refusal.message());
    return;
  }
  SetStreamRefusal(res, refusal, false);
}

}  // namespace

void StatusPage::AddRoutes(httplib::Server& server, const HttpServer::TakeOver& take_over) const {
  server.Get("/ui", [this](const httplib::Request& req, httplib::Response& res) {
    absl::Status allowed = wiring_.admission->CheckOperator(req.get_header_value("Authorization"));
    if (!allowed.ok()) return Refuse(res, allowed);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    // Everything is inline: no other origin, no frames, no plugins.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; "
                   "style-src 'unsafe-inline'; connect-src 'self'; "
                   "frame-ancestors 'none'");
    const absl::string_view html = StatusPageHtml();
    res.set_content(html.data(), html.size(), "text/html; charset=utf-8");
  });
  server.Get("/ui/events", [this, take_over](const httplib::Request& req, httplib::Response& res) {
    OpenFeed(req, res, take_over);
  });
}

void StatusPage::OpenFeed(const httplib::Request& req, httplib::Response& res,
                          const HttpServer::TakeOver& take_over) const {
  StreamRequest ask;
  ask.reader = StreamReader::kOperator;
  ask.channels = {std::string(kStatusChannel)};
  ask.authorization = req.get_header_value("Authorization");
  ask.client_address = req.remote_addr;
  absl::StatusOr<StreamGrant> grant = wiring_.admission->Admit(ask, absl::Now());
  if (!grant.ok()) return Refuse(res, grant.status());

  std::string head =
      absl::StrCat(SseResponseHead(req.version, {}), SseComment("ok"), SseRetry(2000));
  StreamWriter::StreamOptions extra;
  extra.access_log = wiring_.access_log;
  extra.client_ip = req.remote_addr;
  extra.hold = std::move(grant->charge);
  const Wiring w = wiring_;
  const bool taken = req.method != "HEAD" &&
                     take_over([w, sub = std::move(grant->subscription), head = std::move(head),
                                extra = std::move(extra)](int fd) mutable {
                       w.feed->Attach(w.writer->Open(fd, std::move(sub), *w.policies,
                                                     std::move(head), std::move(extra)));
                     });
  if (!taken) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content("", "text/event-stream");
    return;
  }
  res.status = 200;
}

}  // namespace ssebridge
