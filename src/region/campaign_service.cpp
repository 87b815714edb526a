#include "region/campaign_service.h"

#include <algorithm>
#include <set>

#include "audit/audit_log.h"
#include "core/region_code.h"
#include "methodology/methodology_service.h"
#include "region/campaign_store.h"
#include "store/database.h"

namespace tph::region {

namespace {

constexpr std::int64_t kMsPerDay = 24LL * 3600 * 1000;

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes,
                 bool required) {
  if (required && text.empty()) return Error::invalid(field, "is required");
  if (text.size() > max_bytes)
    return Error::invalid(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  return {};
}

nlohmann::json auditPayload(const Campaign& c) {
  return {{"region", c.region_code},
          {"name_zh", c.name_zh},
          {"starts_at", formatIso8601(c.starts_at)},
          {"ends_at", formatIso8601(c.ends_at)},
          {"methodologies", c.methodologies},
          {"multiplier_permille", c.multiplier_permille}};
}

}  // namespace

CampaignWindows CampaignWindows::load(soci::session& sql, std::int64_t from_ms,
                                      std::int64_t to_ms) {
  CampaignWindows out;
  for (auto& row : detail::campaignWindows(sql, from_ms, to_ms)) {
    out.windows_.push_back({row.id, std::move(row.region_code), row.from_ms, row.to_ms,
                            std::move(row.methodologies), row.multiplier_permille});
  }
  return out;
}

std::optional<CampaignBonus> CampaignWindows::bonusFor(const std::string& methodology,
                                                       const std::string& region_code,
                                                       std::int64_t at_ms,
                                                       std::int64_t base_points) const {
  const Window* best = nullptr;
  for (const auto& w : windows_) {  // ordered by id: the first of equal multipliers wins
    if (at_ms < w.from_ms || at_ms >= w.to_ms) continue;
    if (!regionCovers(w.region_code, region_code)) continue;
    if (!std::binary_search(w.methodologies.begin(), w.methodologies.end(), methodology)) continue;
    if (!best || w.multiplier_permille > best->multiplier_permille) best = &w;
  }
  if (!best) return std::nullopt;
  // Points are at most a few thousand per record, so the product cannot overflow.
  std::int64_t bonus = base_points * (best->multiplier_permille - 1000) / 1000;
  return CampaignBonus{best->id, best->multiplier_permille, bonus};
}

std::map<std::int64_t, CampaignLabel> campaignLabels(soci::session& sql,
                                                     const std::set<std::int64_t>& ids) {
  std::map<std::int64_t, CampaignLabel> out;
  for (auto id : ids) {
    if (auto c = detail::findCampaign(sql, id, 0))
      out[id] = {c->name_zh, c->name_en, c->multiplier_permille};
  }
  return out;
}

Result<Campaign> CampaignService::create(const auth::Principal& caller,
                                         const CampaignDraft& draft) {
  if (!isRegionCode(draft.region_code)) {
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  }
  if (!caller.administersRegion(draft.region_code)) {
    return Error::forbidden("only the province and the region's admins define its campaigns",
                            "region");
  }
  TPH_TRY(checkText("name_zh", draft.name_zh, kMaxCampaignNameBytes, true));
  TPH_TRY(checkText("name_en", draft.name_en, kMaxCampaignNameBytes, false));
  TPH_TRY(checkText("announcement_zh", draft.announcement_zh, kMaxAnnouncementBytes, true));
  TPH_TRY(checkText("announcement_en", draft.announcement_en, kMaxAnnouncementBytes, false));
  if (draft.multiplier_permille < kMinMultiplierPermille ||
      draft.multiplier_permille > kMaxMultiplierPermille) {
    return Error::invalid("multiplier", "must be more than 1 and at most 10, in steps of 0.001");
  }
  auto now = clock_.now();
  if (draft.ends_at <= draft.starts_at) return Error::invalid("ends_at", "must be after starts_at");
  if (draft.starts_at < now) {
    return Error::invalid("starts_at",
                          "must not be in the past: records already credited keep their points");
  }
  if (toEpochMs(draft.ends_at) - toEpochMs(draft.starts_at) > kMaxCampaignDays * kMsPerDay) {
    return Error::invalid("ends_at",
                          "a campaign lasts at most " + std::to_string(kMaxCampaignDays) + " days");
  }
  if (draft.methodologies.empty() || draft.methodologies.size() > kMaxCampaignMethodologies) {
    return Error::invalid(
        "methodologies",
        "name 1 to " + std::to_string(kMaxCampaignMethodologies) + " methodologies");
  }
  std::set<std::string> known;
  for (const auto& v : methodologies_.catalog()->versions()) known.insert(v->definition().id);
  std::set<std::string> chosen;
  for (std::size_t i = 0; i < draft.methodologies.size(); ++i) {
    const auto& m = draft.methodologies[i];
    if (!known.count(m)) {
      return Error::invalid("methodologies[" + std::to_string(i) + "]",
                            "no methodology " + m + " in the catalogue");
    }
    if (!chosen.insert(m).second) {
      return Error::invalid("methodologies[" + std::to_string(i) + "]", m + " is named twice");
    }
  }
  CampaignDraft clean = draft;
  clean.methodologies.assign(chosen.begin(), chosen.end());
  return db_.transaction([&](soci::session& sql) -> Result<Campaign> {
    if (!detail::regionExists(sql, clean.region_code))
      return Error::invalid("region", "no region " + clean.region_code);
    auto now_ms = toEpochMs(now);
    auto id = detail::insertCampaign(sql, clean, caller.auditActor(), now_ms);
    auto campaign = detail::findCampaign(sql, id, now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "campaign.create",
                             "campaign:" + std::to_string(id), auditPayload(*campaign)});
    return *campaign;
  });
}

Result<Campaign> CampaignService::cancel(const auth::Principal& caller, std::int64_t id,
                                         const std::string& reason) {
  TPH_TRY(checkText("reason", reason, kMaxAnnouncementBytes, true));
  return db_.transaction([&](soci::session& sql) -> Result<Campaign> {
    auto now_ms = toEpochMs(clock_.now());
    auto campaign = detail::findCampaign(sql, id, now_ms);
    if (!campaign) return Error::notFound("no such campaign", "id");
    if (!caller.administersRegion(campaign->region_code)) {
      return Error::forbidden("only the province and the region's admins cancel its campaigns",
                              "id");
    }
    if (campaign->status != "scheduled") {
      return Error::conflict(
          "only a campaign that has not started can be cancelled; this one is " + campaign->status,
          "status");
    }
    detail::cancelCampaign(sql, id, reason, now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "campaign.cancel",
                             "campaign:" + std::to_string(id),
                             {{"reason", reason}}});
    return *detail::findCampaign(sql, id, now_ms);
  });
}

Result<Campaign> CampaignService::get(std::int64_t id) {
  auto found = db_.read(
      [&](soci::session& sql) { return detail::findCampaign(sql, id, toEpochMs(clock_.now())); });
  if (!found) return Error::notFound("no such campaign", "id");
  return *found;
}

Result<std::vector<Campaign>> CampaignService::list(const std::string& region_code,
                                                    const std::string& status, int limit,
                                                    int offset) {
  static const std::set<std::string> kStatuses = {"", "scheduled", "active", "ended", "cancelled"};
  if (!kStatuses.count(status))
    return Error::invalid("status", "is scheduled, active, ended or cancelled");
  if (!region_code.empty() && !isRegionCode(region_code))
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  if (limit < 1 || limit > 200) return Error::invalid("limit", "must be 1 to 200");
  if (offset < 0) return Error::invalid("offset", "must not be negative");
  std::vector<std::string> regions;
  if (!region_code.empty()) regions = regionAndAncestors(region_code);
  return db_.read([&](soci::session& sql) {
    return detail::listCampaigns(sql, regions, status, limit, offset, toEpochMs(clock_.now()));
  });
}

}  // namespace tph::region
