#include "api/openapi.h"
#include "api/routes.h"
#include "store/database.h"

namespace tph::api {

void addSystemRoutes(Router& router, store::Database& db, const std::string& version) {
  router.add({
      .method = "GET",
      .pattern = "/healthz",
      .access = Access::kPublic,
      .summary = "Liveness: the process serves requests",
      .tag = "system",
      .response_schema = {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}},
      .handler =
          [](RouteContext&) {
            return jsonResponse({{"status", "ok"}});
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/readyz",
      .access = Access::kPublic,
      .summary = "Readiness: the database answers",
      .tag = "system",
      .response_schema = {{"type", "object"}, {"properties", {{"status", {{"type", "string"}}}}}},
      .handler =
          [&db](RouteContext&) {
            try {
              int one = 0;
              db.read([&](soci::session& sql) {
                sql << "SELECT 1", soci::into(one);
                return 0;
              });
              return jsonResponse({{"status", "ok"}, {"database", one == 1 ? "ok" : "wrong"}});
            } catch (const std::exception&) {
              return jsonResponse({{"status", "unavailable"}, {"database", "unreachable"}}, 503);
            }
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/metrics",
      .access = Access::kPublic,
      .summary = "Prometheus metrics: requests by route and status, latency, database pool",
      .tag = "system",
      .response_schema = {{"type", "string"}},
      .response_content_type = "text/plain; version=0.0.4",
      .handler =
          [&router](RouteContext&) {
            HttpResponse response;
            response.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8");
            response.setHeader("cache-control", "no-store");
            response.body = router.metrics().renderPrometheus();
            return response;
          },
  });
  router.add({
      .method = "GET",
      .pattern = "/api/openapi.json",
      .access = Access::kPublic,
      .summary = "This API's OpenAPI 3.1 document",
      .tag = "system",
      .response_schema = {{"type", "object"}},
      .handler = [&router,
                  version](RouteContext&) { return jsonResponse(buildOpenApi(router, version)); },
  });
  router.metrics().addGauge("tph_db_pool_size", "Database sessions in the pool.",
                            [&db] { return static_cast<double>(db.stats().size); });
  router.metrics().addGauge("tph_db_pool_in_use", "Database sessions leased right now.",
                            [&db] { return static_cast<double>(db.stats().in_use); });
  router.metrics().addGauge("tph_db_pool_leases_total", "Database session leases since start.",
                            [&db] { return static_cast<double>(db.stats().leases_total); });
}

}  // namespace tph::api
