#include "bridge/sse/status_page.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/sse/http_error.h"
#include "bridge/sse/sse_encoder.h"
#include "bridge/sse/status_page_html.h"

namespace ssebridge {
namespace {

void Refuse(httplib::Response& res, absl::string_view message) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"ssebridge\"");
  res.set_header("WWW-Authenticate", "Basic realm=\"ssebridge status\", charset=\"UTF-8\"");
  SetJsonError(res, 401, "unauthenticated", message);
}

// The password of an "Authorization: Basic base64(user:password)" header.
std::string BasicPassword(absl::string_view authorization) {
  if (authorization.size() < 6 ||
      !absl::EqualsIgnoreCase(authorization.substr(0, 6), "basic ")) {
    return "";
  }
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(authorization.substr(6)),
                            &decoded)) {
    return "";
  }
  const size_t colon = decoded.find(':');
  return colon == std::string::npos ? "" : decoded.substr(colon + 1);
}

}  // namespace

bool StatusPage::Allowed(absl::string_view authorization) const {
  if (wiring_.admin_keys == nullptr || wiring_.admin_keys->empty()) return true;
  std::string key = BearerToken(authorization);
  if (key.empty()) key = BasicPassword(authorization);
  return !key.empty() && wiring_.admin_keys->Authenticate(key).ok();
}

bool StatusPage::Admit(const httplib::Request& req, httplib::Response& res) const {
  const std::string authorization = req.get_header_value("Authorization");
  if (Allowed(authorization)) return true;
  Refuse(res, authorization.empty()
                  ? "authorization: the status page needs an admin key "
                    "(Bearer, or Basic with the key as password)"
                  : "authorization: unknown admin key");
  return false;
}

void StatusPage::AddRoutes(httplib::Server& server,
                           const HttpServer::TakeOver& take_over) const {
  server.Get("/ui", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
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
  server.Get("/ui/events", [this, take_over](const httplib::Request& req,
                                             httplib::Response& res) {
    if (!Admit(req, res)) return;
    OpenFeed(req, res, take_over);
  });
}

void StatusPage::OpenFeed(const httplib::Request& req, httplib::Response& res,
                          const HttpServer::TakeOver& take_over) const {
  std::string head = absl::StrCat(
      req.version == "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1",
      " 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n\r\n",
      SseComment("ok"), SseRetry(2000));
  Subscription::Options sub;
  sub.channels = {std::string(kStatusChannel)};
  StreamWriter::StreamOptions extra;
  extra.access_log = wiring_.access_log;
  extra.client_ip = req.remote_addr;
  const Wiring w = wiring_;
  const bool taken = req.method != "HEAD" &&
                     take_over([w, sub = std::move(sub), head = std::move(head),
                                extra = std::move(extra)](int fd) mutable {
    w.feed->Attach(w.writer->Open(fd, std::move(sub), *w.policies, std::move(head),
                                  std::move(extra)));
  });
  if (!taken) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content("", "text/event-stream");
    return;
  }
  res.status = 200;
}

}  // namespace ssebridge
