#include "api/routes.h"
#include "region/region_service.h"

namespace tph::api {

void addRegionRoutes(Router& router, region::RegionService& regions) {
  router.add({
      .method = "GET",
      .pattern = "/api/v1/regions",
      .access = Access::kPublic,
      .summary = "The region tree (GB/T 2260 codes with Chinese and English names)",
      .tag = "region",
      .response_schema = {{"type", "object"}, {"properties", {{"regions", {{"type", "array"}}}}}},
      .handler =
          [&regions](RouteContext&) {
            auto out = nlohmann::json::array();
            for (const auto& r : regions.list()) {
              out.push_back({{"code", r.code},
                             {"parent", r.parent_code.empty() ? nlohmann::json(nullptr)
                                                              : nlohmann::json(r.parent_code)},
                             {"level", r.level},
                             {"name_zh", r.name_zh},
                             {"name_en", r.name_en}});
            }
            auto response = jsonResponse({{"regions", out}});
            response.setHeader("cache-control", "public, max-age=300");
            return response;
          },
  });
}

}  // namespace tph::api
