#pragma once
// SQL of communities and leaderboards. Internal to src/incentive.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incentive/ranking_service.h"

namespace tph::incentive::detail {

bool communityNameTaken(soci::session& sql, const std::string& region_code,
                        const std::string& name);
std::int64_t insertCommunity(soci::session& sql, const std::string& region_code,
                             const std::string& name, const std::string& actor,
                             std::int64_t now_ms);
std::optional<Community> loadCommunity(soci::session& sql, std::int64_t id);
//! Communities in regions whose code starts with `prefix` ("" for all).
std::vector<Community> listCommunities(soci::session& sql, const std::string& prefix);

std::optional<RankingProfile> loadProfile(soci::session& sql, std::int64_t user_id);
//! The user holding a nickname, if any.
std::optional<std::int64_t> nicknameOwner(soci::session& sql, const std::string& nickname);
void saveProfile(soci::session& sql, const RankingProfile& p);

struct RankedRow {
  std::int64_t user_id = 0;
  std::string nickname;
  std::int64_t grams = 0;
  std::int64_t reductions = 0;
};
//! Which listed residents a board ranks: a period key ("w:2026-03-09", "m:2026-03", "all"),
//! regions starting with `region_prefix`, optionally one community.
struct BoardFilter {
  std::string period;
  std::string region_prefix;
  std::optional<std::int64_t> community_id;
};
//! The board's first `limit` lines from the rollup: most grams first, then nickname.
std::vector<RankedRow> topResidents(soci::session& sql, const BoardFilter& filter, int limit);
//! The user's line on the board, if listed and ranked there, and how many rank above it.
struct OwnLine {
  RankedRow row;
  std::int64_t above = 0;
};
std::optional<OwnLine> ownLine(soci::session& sql, const BoardFilter& filter, std::int64_t user_id);
//! Mirrors a profile's listing onto the user's rollup rows.
void setListed(soci::session& sql, std::int64_t user_id, bool listed);

// The leaderboard rollup's refresh (ranking_daily, ranking_totals, ranking_refresh).
struct RefreshGap {
  std::int64_t from_id = 0, to_id = 0;
  std::int64_t seen_at_ms = 0;
};
struct RefreshState {
  std::int64_t watermark = 0;
  std::int64_t refreshed_at_ms = 0;
  std::vector<RefreshGap> gaps;
};
//! Loads the state; with `lock`, first takes the state row's write lock until commit, so
//! refreshes run one at a time.
RefreshState loadRefreshState(soci::session& sql, bool lock);
void saveRefreshState(soci::session& sql, const RefreshState& state);

struct ReductionRef {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::int64_t occurred_at_ms = 0;
  std::int64_t user_id = 0;  //!< the person account's owner; 0 for other accounts
  std::string region_code;   //!< the account's region
};
//! Reductions with id in (after_id, to_id], in id order, at most `limit`.
std::vector<ReductionRef> reductionsAfter(soci::session& sql, std::int64_t after_id,
                                          std::int64_t to_id, std::size_t limit);

struct AccountDay {
  std::int64_t account_id = 0;
  std::string day;
  std::int64_t from_ms = 0, to_ms = 0;  //!< the Shanghai day's range
};
struct DayTotal {
  std::int64_t grams = 0;
  std::int64_t reductions = 0;
};
//! What `reductions` holds for each account-day now, and what ranking_daily has summed of them.
std::vector<DayTotal> dayTotalsNow(soci::session& sql, const std::vector<AccountDay>& days);
std::vector<DayTotal> dayTotalsSummed(soci::session& sql, const std::vector<AccountDay>& days);
void saveDayTotals(soci::session& sql, const std::vector<AccountDay>& days,
                   const std::vector<DayTotal>& totals);
struct PeriodDelta {
  std::string period;
  std::int64_t account_id = 0;
  std::int64_t user_id = 0;
  std::string region_code;
  std::int64_t grams = 0;
  std::int64_t reductions = 0;
};
//! Adds the deltas to ranking_totals, creating rows as needed.
void addPeriodTotals(soci::session& sql, const std::vector<PeriodDelta>& deltas);

}  // namespace tph::incentive::detail
