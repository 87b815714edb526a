#pragma once
// Themed campaigns (National Low-Carbon Day, Energy Saving Week, ...): a region admin — or the
// province, for the whole province — defines a window, the methodologies it covers, a points
// multiplier and an announcement. Ingestion multiplies the points of records that occurred in the
// window, in the region, for a covered methodology (docs/campaigns.md). Grams never change: a
// campaign rewards, it does not count more carbon.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"

namespace soci {
class session;
}

namespace tph::store {
class Database;
}

namespace tph::methodology {
class MethodologyService;
}

namespace tph::region {

inline constexpr int kMinMultiplierPermille = 1001;   //!< more than x1
inline constexpr int kMaxMultiplierPermille = 10000;  //!< at most x10
inline constexpr std::size_t kMaxCampaignNameBytes = 300;
inline constexpr std::size_t kMaxAnnouncementBytes = 20'000;
inline constexpr std::size_t kMaxCampaignMethodologies = 50;
inline constexpr int kMaxCampaignDays = 92;

struct CampaignDraft {
  std::string region_code;
  std::string name_zh;
  std::string name_en;  //!< optional
  std::string announcement_zh;
  std::string announcement_en;  //!< optional
  Instant starts_at;            //!< inclusive
  Instant ends_at;              //!< exclusive
  std::vector<std::string> methodologies;
  int multiplier_permille = 0;  //!< 1500 = points x1.5
};

struct Campaign {
  std::int64_t id = 0;
  std::string region_code;
  std::string name_zh;
  std::string name_en;
  std::string announcement_zh;
  std::string announcement_en;
  Instant starts_at;
  Instant ends_at;
  std::vector<std::string> methodologies;
  int multiplier_permille = 0;
  std::string status;  //!< "scheduled", "active", "ended" (by the clock) or "cancelled"
  std::string cancel_reason;
  std::string created_by;
  Instant created_at;
};

//! The campaign that applies to a record, and the points it adds.
struct CampaignBonus {
  std::int64_t campaign_id = 0;
  int multiplier_permille = 0;
  std::int64_t bonus_points = 0;
};

//! The campaigns whose windows overlap [from, to], cancelled ones left out, read in the caller's
//! transaction (ingestion's): a lookup for the records of one batch.
class CampaignWindows {
 public:
  static CampaignWindows load(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms);
  //! The campaign with the highest multiplier (then the lowest id) covering a record of this
  //! methodology that occurred at at_ms in region_code; base_points are what the record earns
  //! without it. Bonus = base x (multiplier - 1000) / 1000, rounded down. Campaigns do not stack.
  std::optional<CampaignBonus> bonusFor(const std::string& methodology,
                                        const std::string& region_code, std::int64_t at_ms,
                                        std::int64_t base_points) const;
  bool empty() const { return windows_.empty(); }

 private:
  struct Window {
    std::int64_t id = 0;
    std::string region_code;
    std::int64_t from_ms = 0, to_ms = 0;
    std::vector<std::string> methodologies;
    int multiplier_permille = 0;
  };
  std::vector<Window> windows_;
};

//! Names and multipliers of campaigns by id, read in the caller's session: what a record's
//! explanation says about the campaign that raised its points.
struct CampaignLabel {
  std::string name_zh;
  std::string name_en;
  int multiplier_permille = 0;
};
std::map<std::int64_t, CampaignLabel> campaignLabels(soci::session& sql,
                                                     const std::set<std::int64_t>& ids);

class CampaignService {
 public:
  CampaignService(store::Database& db, const Clock& clock,
                  methodology::MethodologyService& methodologies)
      : db_(db), clock_(clock), methodologies_(methodologies) {}

  //! A province admin anywhere, a region admin in its region. The window must end after it starts,
  //! start no earlier than now (records already credited are never re-rewarded), and last at most
  //! kMaxCampaignDays; methodologies must exist in the catalogue.
  Result<Campaign> create(const auth::Principal& caller, const CampaignDraft& draft);
  //! Only before the window starts; after that, records have earned the bonus.
  Result<Campaign> cancel(const auth::Principal& caller, std::int64_t id,
                          const std::string& reason);
  Result<Campaign> get(std::int64_t id);
  //! Campaigns in a region (and those of its ancestors that cover it), newest first; "" for all.
  //! status "" lists every one.
  Result<std::vector<Campaign>> list(const std::string& region_code, const std::string& status,
                                     int limit, int offset);

 private:
  store::Database& db_;
  const Clock& clock_;
  methodology::MethodologyService& methodologies_;
};

}  // namespace tph::region
