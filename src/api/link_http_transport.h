#pragma once
// The link's HTTP transport: a city node's outbox reaches the province's /api/link/v1 routes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "link/link_outbox.h"

namespace tph::api {

class HttpClient;

//! Not shared between threads (one keep-alive connection).
class LinkHttpTransport final : public link::LinkTransport {
 public:
  LinkHttpTransport(std::string host, std::uint16_t port,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~LinkHttpTransport() override;
  //! Parses "http://HOST:PORT" (no path); errors name "province_url".
  static Result<std::unique_ptr<LinkHttpTransport>> fromUrl(const std::string& url);

  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body) override;

 private:
  std::unique_ptr<HttpClient> client_;
};

}  // namespace tph::api
