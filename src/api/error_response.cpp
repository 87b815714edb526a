#include "api/error_response.h"

#include <nlohmann/json.hpp>

namespace tph::api {

int httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kInvalid:
      return 422;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse errorResponse(const Error& error) {
  return errorResponse(httpStatus(error.code), error);
}

HttpResponse errorResponse(int status, const Error& error) {
  nlohmann::json body = {
      {"error",
       {{"code", toString(error.code)}, {"field", error.field}, {"message", error.message}}}};
  HttpResponse response;
  response.status = status;
  response.setHeader("content-type", "application/json");
  response.setHeader("cache-control", "no-store");
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace tph::api
