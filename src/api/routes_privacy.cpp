// A resident's own data: the export and deleting the account (src/privacy, docs/privacy.md).
#include "api/error_response.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "privacy/personal_data_service.h"

namespace tph::api {

namespace {

using nlohmann::json;

}  // namespace

void addPrivacyRoutes(Router& router, privacy::PersonalDataService& personal_data) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/me/export",
      .access = Access::kSession,
      .summary = "Everything the platform holds about you, as one JSON file (tanpuhui-personal-"
                 "data/1): profile, roles, sessions, accounts, points postings, bindings, records "
                 "with their reductions, vouchers, claims, cards, proposals, ideas, footprints",
      .tag = "privacy",
      .response_schema = {{"type", "object"}},
      .handler =
          [&personal_data](RouteContext& ctx) {
            auto data = personal_data.exportData(ctx.caller());
            if (!data) return errorResponse(data.error());
            auto response = jsonResponse(*data);
            std::string day = (*data)["exported_at"].get<std::string>().substr(0, 10);
            response.setHeader("content-disposition",
                               "attachment; filename=\"tanpuhui-personal-data-" + day + ".json\"");
            response.setHeader("cache-control", "no-store");
            return response;
          },
  });
  router.add({
      .method = "POST",
      .pattern = "/api/v1/me/deletion",
      .access = Access::kSession,
      .summary = "Delete your account (residents): confirm with your password; points are "
                 "forfeited, bindings end, unused vouchers are cancelled, personal data is erased "
                 "and you are signed out everywhere",
      .tag = "privacy",
      .request_schema = {{"type", "object"},
                         {"required", {"password"}},
                         {"properties", {{"password", {{"type", "string"}}}}}},
      .response_schema = {{"type", "object"}},
      .handler =
          [&personal_data](RouteContext& ctx) {
            auto body = parseJsonObject(ctx.request);
            if (!body) return errorResponse(body.error());
            auto password = requireString(*body, "password");
            if (!password) return errorResponse(password.error());
            auto done = personal_data.deleteAccount(ctx.caller(), *password);
            if (!done) return errorResponse(done.error());
            return jsonResponse({{"deleted", true},
                                 {"user_id", done->user_id},
                                 {"deleted_at", formatIso8601(done->deleted_at)},
                                 {"points_forfeited", done->points_forfeited},
                                 {"vouchers_cancelled", done->vouchers_cancelled},
                                 {"bindings_ended", done->bindings_ended},
                                 {"households_left", done->households_left}});
          },
  });
}

}  // namespace tph::api
