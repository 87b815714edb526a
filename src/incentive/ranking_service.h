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

  //! `caller` may be anonymous (user_id 0): leaderboards are public.
  Result<Leaderboard> leaderboard(const auth::Principal& caller, const LeaderboardQuery& query);

 private:
  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::incentive
