#include "api/http_partner_webhook.h"

#include <charconv>
#include <exception>

#include "api/http_client.h"

namespace tph::api {

namespace {

struct Target {
  std::string host;
  std::uint16_t port = 80;
  std::string path;
};

std::optional<Target> parseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Target t;
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  t.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return std::nullopt;
    t.port = static_cast<std::uint16_t>(value);
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

}  // namespace

incentive::WebhookReply HttpPartnerWebhook::deliver(const incentive::WebhookRequest& request) {
  auto target = parseUrl(request.url);
  if (!target) return {false, 0, "", "the webhook URL cannot be used: " + request.url};
  try {
    HttpClient client(target->host, target->port, request.timeout);
    HttpHeaders headers(request.headers.begin(), request.headers.end());
    auto response = client.send("POST", target->path, headers, request.body);
    bool ok = response.status >= 200 && response.status < 300;
    return {ok, response.status, response.body,
            ok ? "" : "the partner answered HTTP " + std::to_string(response.status)};
  } catch (const std::exception& e) {
    return {false, 0, "", std::string("the partner could not be reached: ") + e.what()};
  }
}

}  // namespace tph::api
