#pragma once
// The platform's HTTP face: builds the module services over one database, registers every
// module's routes on one router, and serves them (plus the web app) with HttpServer.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/http_server.h"
#include "auth/auth_service.h"
#include "certify/certify_service.h"
#include "core/clock.h"
#include "link/link_city.h"
#include "link/link_signing.h"
#include "market/market_service.h"

namespace tph::audit {
class SigningKey;
}

namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}

namespace tph::api {

class Router;

struct ApiServerOptions {
  HttpServerOptions http;
  std::filesystem::path web_root;  //!< web/dist; empty or missing serves no static files
  auth::AuthOptions auth;
  certify::CertifyOptions certify;
  std::string audit_public_key;  //!< hex; served at /api/v1/audit/public-key, empty when none
  market::MarketOptions market;
  std::optional<link::LinkKeyPair> link_key;  //!< signs link replies; none disables the hub
  //! Set on a city node (--node city): syncs with the province on a timer, signed by link_key.
  std::optional<link::CityNodeOptions> city_node;
  //! How the city node reaches its province; tests replace it. Default: HTTP to province_url.
  std::function<std::unique_ptr<link::LinkTransport>()> city_transport;
  //! The platform's Ed25519 key, signing ETS registry exports; none disables those downloads.
  std::shared_ptr<const audit::SigningKey> audit_signing_key;
  //! The site's public base URL: feed, sitemap and share links, certificates' QR codes.
  std::string public_url = "http://127.0.0.1:8080";
};

inline constexpr const char* kVersion = "0.1.0";

class ApiServer {
 public:
  ApiServer(store::Database& db, const Clock& clock, ApiServerOptions options);
  ~ApiServer();

  //! Binds and starts serving; returns the bound port.
  std::uint16_t start();
  void stop();
  void runUntilSignal();

  Router& router();
  auth::AuthService& auth();
  methodology::MethodologyService& methodologies();

 private:
  struct Services;
  std::unique_ptr<Services> services_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
  std::shared_ptr<const audit::SigningKey> signing_key_;  //!< kept alive for the ETS routes
  std::unique_ptr<link::CityNode> city_node_;             //!< on a city node only
  std::unique_ptr<link::LinkCityRunner> city_runner_;     //!< started and stopped with the server
};

}  // namespace tph::api
