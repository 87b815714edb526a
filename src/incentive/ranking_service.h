#pragma once
// RankingService: leaderboards of residents' reductions (grams) for a week, a month or all time,
// for the province, a region (city or county) or a community (社区). Privacy by default: a
// resident appears only after choosing a nickname and agreeing to be listed, only by that
// nickname, and can opt out at any time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::incentive {

inline constexpr std::size_t kNicknameMinChars = 2;
inline constexpr std::size_t kNicknameMaxBytes = 48;
inline constexpr int kLeaderboardMaxLimit = 200;
//! A board is served from the rollup; a read finding it older than this refreshes it first.
inline constexpr std::int64_t kLeaderboardMaxStalenessMs = 60'000;
//! Reductions one refresh transaction reads.
inline constexpr std::size_t kLeaderboardRefreshChunk = 20'000;
//! Chunks a read's refresh may run before serving (the cron job runs until caught up).
inline constexpr int kLeaderboardReadRefreshChunks = 5;
//! Ids skipped below the watermark are re-read for this long (a rolled-back insert's never come).
inline constexpr std::int64_t kLeaderboardGapGraceMs = 10 * 60'000;
inline constexpr std::size_t kLeaderboardMaxGaps = 10'000;

struct Community {
  std::int64_t id = 0;
  std::string region_code;
  std::string name;
  std::int64_t members = 0;  //!< residents who joined (listed or not)
  Instant created_at;
};

struct RankingProfile {
  std::int64_t user_id = 0;
  std::string nickname;
  bool listed = false;
  std::optional<std::int64_t> community_id;
  Instant updated_at;
};

struct LeaderboardQuery {
  std::string period;       //!< week (Monday-start, Asia/Shanghai), month, all
  std::string region_code;  //!< "" or the province's code: the whole province
  std::optional<std::int64_t> community_id;
  int limit = 50;
};

struct LeaderboardEntry {
  int rank = 0;  //!< 1, 2, 2, 4: ties share a rank
  std::string nickname;
  Grams grams{0};
  std::int64_t reductions = 0;
  bool you = false;
};

struct Leaderboard {
  std::string period;
  std::string scope;  //!< "province", "region:440300", "community:7"
  Instant from, until;
  std::vector<LeaderboardEntry> entries;
  std::optional<LeaderboardEntry> yours;  //!< the caller's own line, when listed and ranked
  Instant as_of;                          //!< when the rollup it is read from was last refreshed
};

struct LeaderboardRefresh {
  std::int64_t reductions = 0;    //!< reductions read (new ones and re-read gaps)
  std::int64_t account_days = 0;  //!< person account-days whose totals changed
  std::int64_t watermark = 0;     //!< every reduction id up to it is summed, gaps aside
  std::int64_t gaps = 0;          //!< id ranges still awaited
  bool caught_up = false;         //!< nothing newer was left to read
  Instant refreshed_at;
};

//! The Shanghai period an instant falls in: [from, until). `all` starts at the epoch.
Result<std::pair<Instant, Instant>> rankingPeriod(const std::string& period, Instant now);

//! Shared between threads; holds no mutable state.
class RankingService {
 public:
  RankingService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! A region admin creates a community in its region.
  Result<Community> createCommunity(const auth::Principal& caller, const std::string& region_code,
                                    const std::string& name);
  Result<std::vector<Community>> communities(const std::string& region_code);

  Result<std::optional<RankingProfile>> profile(const auth::Principal& caller);
  //! Sets the caller's nickname, whether to be listed and the community joined (nullopt: none).
  Result<RankingProfile> setProfile(const auth::Principal& caller, const std::string& nickname,
                                    bool listed, std::optional<std::int64_t> community_id);
  //! Opts out: the caller disappears from every leaderboard (the nickname is kept, unlisted).
  Result<RankingProfile> optOut(const auth::Principal& caller);

  //! `caller` may be anonymous (user_id 0): leaderboards are public. Served from the rollup,
  //! refreshed first when it is older than kLeaderboardMaxStalenessMs.
  Result<Leaderboard> leaderboard(const auth::Principal& caller, const LeaderboardQuery& query);

  //! Brings the leaderboard rollup up to date with `reductions`: reads reductions past the
  //! watermark in chunks (at most `max_chunks`), re-sums each account-day they touch and adds the
  //! change to the week, month and all-time totals. The job behind `tanpuhui incentive
  //! rankings-refresh`; `caller` must be a province admin.
  Result<LeaderboardRefresh> refresh(const auth::Principal& caller, int max_chunks);
  Result<LeaderboardRefresh> refreshAsSystem(int max_chunks);

 private:
  //! One chunk in one transaction; with `only_if_stale`, nothing when the rollup is fresh.
  Result<LeaderboardRefresh> refreshChunk(bool only_if_stale);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::incentive
