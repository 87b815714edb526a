#pragma once
// The OpenAPI 3.1 document, built from the router's own route table so it cannot fall behind.

#include <nlohmann/json.hpp>

#include "api/router.h"

namespace tph::api {

nlohmann::json buildOpenApi(const Router& router, const std::string& version);

}  // namespace tph::api
