#pragma once
// Shapes route handlers share: the {id} path parameter, and a JSON object body, checked before
// the handler's own work, each failure answered with its 4xx.

#include <cstdint>
#include <nlohmann/json.hpp>

#include "api/error_response.h"
#include "api/json_body.h"
#include "api/router.h"

namespace tph::api {

//! fn(id) with the {id} path parameter parsed.
template <class Fn>
HttpResponse withId(RouteContext& ctx, Fn&& fn) {
  auto id = parseId(ctx.param("id"), "id");
  if (!id) return errorResponse(id.error());
  return fn(*id);
}

//! fn(id, body) with the {id} path parameter and a JSON object body parsed.
template <class Fn>
HttpResponse withIdAndBody(RouteContext& ctx, Fn&& fn) {
  auto id = parseId(ctx.param("id"), "id");
  if (!id) return errorResponse(id.error());
  auto body = parseJsonObject(ctx.request);
  if (!body) return errorResponse(body.error());
  return fn(*id, *body);
}

}  // namespace tph::api
