#include "api/link_http_transport.h"

#include <system_error>

#include "api/http_client.h"

namespace tph::api {

LinkHttpTransport::LinkHttpTransport(std::string host, std::uint16_t port,
                                     std::chrono::milliseconds timeout)
    : client_(std::make_unique<HttpClient>(std::move(host), port, timeout)) {}

LinkHttpTransport::~LinkHttpTransport() = default;

Result<std::unique_ptr<LinkHttpTransport>> LinkHttpTransport::fromUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Error::invalid("province_url", "must be http://HOST:PORT");
  auto rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error::invalid("province_url", "must name a port: http://HOST:PORT");
  }
  int port = 0;
  try {
    port = std::stoi(rest.substr(colon + 1));
  } catch (const std::exception&) {
    port = 0;
  }
  if (port < 1 || port > 65535)
    return Error::invalid("province_url", "the port must be 1 to 65535");
  return std::make_unique<LinkHttpTransport>(rest.substr(0, colon),
                                             static_cast<std::uint16_t>(port));
}

Result<nlohmann::json> LinkHttpTransport::post(const std::string& path,
                                               const nlohmann::json& body) {
  HttpResponse response;
  try {
    response = client_->send("POST", path, {{"content-type", "application/json"}}, body.dump());
  } catch (const std::exception& e) {
    client_->close();
    return Error{ErrorCode::kUnavailable, "", std::string("province unreachable: ") + e.what()};
  }
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200) {
    std::string message = parsed.is_object() && parsed.contains("error")
                              ? parsed["error"].value("message", response.body)
                              : response.body;
    return Error{ErrorCode::kUnavailable, "",
                 "province answered " + std::to_string(response.status) + ": " + message};
  }
  if (parsed.is_discarded()) return Error{ErrorCode::kUnavailable, "", "province sent no JSON"};
  return parsed;
}

}  // namespace tph::api
