#include "api/router.h"

#include <spdlog/spdlog.h>

#include "api/error_response.h"
#include "auth/auth_service.h"

namespace tph::api {

namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return parts;
}

std::string bearerToken(const HttpRequest& request) {
  auto header = request.header("authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() <= kPrefix.size() || header.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(header.substr(kPrefix.size()));
}

bool isSigned(const HttpRequest& request) {
  return !request.header("x-tph-key").empty();
}

}  // namespace

HttpResponse jsonResponse(const nlohmann::json& body, int status) {
  HttpResponse response;
  response.status = status;
  response.setHeader("content-type", "application/json");
  response.setHeader("cache-control", "no-store");
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Router::Router(auth::AuthService& auth)
    : auth_(auth), unmatched_slot_(metrics_.addRoute("", "unmatched")) {}

void Router::add(RouteSpec spec) {
  Compiled compiled;
  for (auto part : splitPath(spec.pattern)) compiled.segments.emplace_back(part);
  for (const auto& existing : routes_) {
    if (existing.method == spec.method && existing.pattern == spec.pattern) {
      throw std::logic_error("route registered twice: " + spec.method + " " + spec.pattern);
    }
  }
  slots_.push_back(metrics_.addRoute(spec.method, spec.pattern));
  routes_.push_back(std::move(spec));
  compiled_.push_back(std::move(compiled));
}

void Router::setFallback(std::function<std::optional<HttpResponse>(HttpRequest&)> fallback) {
  fallback_ = std::move(fallback);
}

std::optional<HttpResponse> Router::authenticate(const RouteSpec& spec, RouteContext& context) {
  const HttpRequest& request = context.request;
  auto fromToken = [&]() -> std::optional<HttpResponse> {
    auto token = bearerToken(request);
    if (token.empty())
      return errorResponse(Error::unauthenticated("sign in first: no bearer token"));
    auto principal = auth_.authenticateToken(token);
    if (!principal) return errorResponse(principal.error());
    context.principal = std::move(*principal);
    return std::nullopt;
  };
  auto fromSignature = [&]() -> std::optional<HttpResponse> {
    auth::SignedRequest signed_request{
        request.method,
        request.target,
        std::string(request.header("x-tph-key")),
        std::string(request.header("x-tph-timestamp")),
        std::string(request.header("x-tph-nonce")),
        std::string(request.header("x-tph-signature")),
        request.body,
    };
    auto principal = auth_.authenticateSigned(signed_request);
    if (!principal) return errorResponse(principal.error());
    context.principal = std::move(*principal);
    return std::nullopt;
  };

  std::optional<HttpResponse> failure;
  switch (spec.access) {
    case Access::kPublic:
      if (!bearerToken(request).empty()) {
        if (auto principal = auth_.authenticateToken(bearerToken(request))) {
          context.principal = std::move(*principal);
        }
      }
      return std::nullopt;
    case Access::kSession:
      failure = fromToken();
      break;
    case Access::kSigned:
      failure = isSigned(request) ? fromSignature()
                                  : errorResponse(Error::unauthenticated(
                                        "this route needs a signed request (X-Tph-Key ...)"));
      break;
    case Access::kSessionOrSigned:
      failure = isSigned(request) ? fromSignature() : fromToken();
      break;
  }
  if (failure) return failure;
  if (!spec.roles.empty() && !context.principal->hasAnyRole(spec.roles)) {
    std::string names;
    for (auto role : spec.roles)
      names += (names.empty() ? "" : ", ") + std::string(auth::roleName(role));
    return errorResponse(Error::forbidden("this needs one of the roles: " + names));
  }
  return std::nullopt;
}

HttpResponse Router::handle(HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  auto parts = splitPath(request.path);
  std::size_t slot = unmatched_slot_;
  HttpResponse response;
  bool path_matched = false;
  std::string allowed;
  std::optional<std::size_t> match;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& segments = compiled_[i].segments;
    if (segments.size() != parts.size()) continue;
    std::map<std::string, std::string> candidate;
    bool ok = true;
    for (std::size_t s = 0; s < parts.size() && ok; ++s) {
      const auto& seg = segments[s];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        candidate[seg.substr(1, seg.size() - 2)] = std::string(parts[s]);
      } else {
        ok = seg == parts[s];
      }
    }
    if (!ok) continue;
    path_matched = true;
    const std::string& method = routes_[i].method;
    if (method == request.method || (request.method == "HEAD" && method == "GET")) {
      match = i;
      params = std::move(candidate);
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + method;
  }

  if (match) {
    slot = slots_[*match];
    const RouteSpec& spec = routes_[*match];
    RouteContext context{request, std::move(params), std::nullopt};
    if (auto refused = authenticate(spec, context)) {
      response = std::move(*refused);
    } else {
      try {
        response = spec.handler(context);
      } catch (const std::exception& e) {
        spdlog::error("{} {} failed: {}", request.method, spec.pattern, e.what());
        response = errorResponse(Error{ErrorCode::kInternal, {}, "internal error"});
      }
    }
  } else if (path_matched) {
    response =
        errorResponse(Error{ErrorCode::kMethodNotAllowed,
                            {},
                            "method " + request.method + " is not allowed here; use " + allowed});
    response.setHeader("allow", allowed);
  } else if (auto fallback = fallback_ ? fallback_(request) : std::nullopt) {
    response = std::move(*fallback);
  } else {
    response =
        errorResponse(Error::notFound("no route for " + request.method + " " + request.path));
  }
  metrics_.record(slot, response.status, std::chrono::steady_clock::now() - started);
  if (request.method == "HEAD") response.body.clear();
  return response;
}

}  // namespace tph::api
