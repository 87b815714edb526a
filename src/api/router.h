#pragma once
// The one HTTP router: routes declare method, path pattern, who may call them and their OpenAPI
// description; the router matches, authenticates, enforces roles, times and counts every request.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/http_message.h"
#include "api/metrics.h"
#include "auth/role.h"

namespace tph::auth {
class AuthService;
}

namespace tph::api {

//! How a route's caller proves who it is.
enum class Access {
  kPublic,           //!< anyone; a bearer token, if sent, is still read
  kSession,          //!< a bearer token from /auth/login
  kSigned,           //!< a provider's HMAC-signed request
  kSessionOrSigned,  //!< either
};

struct RouteContext {
  HttpRequest& request;
  std::map<std::string, std::string> params;  //!< path parameters by name
  std::optional<auth::Principal> principal;

  const std::string& param(const std::string& name) const { return params.at(name); }
  const auth::Principal& caller() const { return *principal; }
};

using RouteHandler = std::function<HttpResponse(RouteContext&)>;

struct RouteSpec {
  std::string method;
  std::string pattern;  //!< "/api/v1/users/{id}"
  Access access = Access::kSession;
  std::vector<auth::Role> roles;  //!< any of these; empty admits every authenticated caller
  std::string summary;            //!< one line for the OpenAPI document
  std::string tag;                //!< OpenAPI tag, usually the module
  nlohmann::json request_schema;  //!< JSON Schema of the body; null when the route takes none
  nlohmann::json response_schema = nlohmann::json::object();  //!< of a successful response
  int success_status = 200;
  std::string response_content_type = "application/json";
  RouteHandler handler;
};

//! Routes are added before start; handle() is then called from many threads.
class Router {
 public:
  explicit Router(auth::AuthService& auth);

  void add(RouteSpec spec);
  //! Called for requests no route matches (static files); returns nullopt to fall through to 404.
  void setFallback(std::function<std::optional<HttpResponse>(HttpRequest&)> fallback);

  HttpResponse handle(HttpRequest& request);

  const std::vector<RouteSpec>& routes() const { return routes_; }
  Metrics& metrics() { return metrics_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;  //!< "{name}" marks a parameter
  };
  std::optional<HttpResponse> authenticate(const RouteSpec& spec, RouteContext& context);

  auth::AuthService& auth_;
  std::vector<RouteSpec> routes_;
  std::vector<Compiled> compiled_;
  std::vector<std::size_t> slots_;  //!< metrics slot of each route
  std::function<std::optional<HttpResponse>(HttpRequest&)> fallback_;
  Metrics metrics_;
  std::size_t unmatched_slot_;
};

//! A JSON response with the given status.
HttpResponse jsonResponse(const nlohmann::json& body, int status = 200);

}  // namespace tph::api
