#pragma once
// The one JSON error shape of the API: {"error": {"code", "field", "message"}}.

#include "api/http_message.h"
#include "core/result.h"

namespace tph::api {

//! The HTTP status an error code maps to.
int httpStatus(ErrorCode code);

//! A JSON error response with the status of its code.
HttpResponse errorResponse(const Error& error);

//! Same, with an explicit status for protocol-level failures (405, 408, 431, ...).
HttpResponse errorResponse(int status, const Error& error);

}  // namespace tph::api
