#pragma once
// SQL of the campaigns. Internal to src/region.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "region/campaign_service.h"

namespace tph::region::detail {

std::int64_t insertCampaign(soci::session& sql, const CampaignDraft& draft,
                            const std::string& created_by, std::int64_t now_ms);
std::optional<Campaign> findCampaign(soci::session& sql, std::int64_t id, std::int64_t now_ms);
void cancelCampaign(soci::session& sql, std::int64_t id, const std::string& reason,
                    std::int64_t now_ms);
//! Newest first. regions: the campaign regions to include ({} for all).
std::vector<Campaign> listCampaigns(soci::session& sql, const std::vector<std::string>& regions,
                                    const std::string& status, int limit, int offset,
                                    std::int64_t now_ms);

struct CampaignWindowRow {
  std::int64_t id = 0;
  std::string region_code;
  std::int64_t from_ms = 0, to_ms = 0;
  int multiplier_permille = 0;
  std::vector<std::string> methodologies;
};
std::vector<CampaignWindowRow> campaignWindows(soci::session& sql, std::int64_t from_ms,
                                               std::int64_t to_ms);

}  // namespace tph::region::detail

namespace tph::region::detail {

bool regionExists(soci::session& sql, const std::string& code);

}  // namespace tph::region::detail
