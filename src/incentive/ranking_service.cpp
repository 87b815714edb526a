#include "incentive/ranking_service.h"

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "core/region_code.h"
#include "incentive/incentive_common.h"
#include "incentive/incentive_store.h"
#include "incentive/ranking_store.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::int64_t kShanghaiOffsetMs = 8LL * 3600 * 1000;

//! The code prefix regions under `code` share: "44" for the province, "4403" for a city.
std::string regionPrefix(const std::string& code) {
  if (code.ends_with("0000")) return code.substr(0, 2);
  if (code.ends_with("00")) return code.substr(0, 4);
  return code;
}

Status checkNickname(const std::string& nickname) {
  // Counted in UTF-8 code points: two Chinese characters make a nickname.
  std::size_t chars = 0;
  for (unsigned char c : nickname) {
    if ((c & 0xC0) != 0x80) ++chars;
    if (c < 0x20 || c == 0x7F)
      return Error::invalid("nickname", "nickname has no control characters");
  }
  if (chars < kNicknameMinChars || nickname.size() > kNicknameMaxBytes)
    return Error::invalid("nickname", "nickname is 2 characters to 48 bytes");
  if (nickname.front() == ' ' || nickname.back() == ' ')
    return Error::invalid("nickname", "nickname does not start or end with a space");
  return {};
}

}  // namespace

Result<std::pair<Instant, Instant>> rankingPeriod(const std::string& period, Instant now) {
  std::int64_t ms = toEpochMs(now);
  std::int64_t day = (ms + kShanghaiOffsetMs) / kDayMs;  // Shanghai days since 1970-01-01
  std::int64_t day_start = day * kDayMs - kShanghaiOffsetMs;
  if (period == "week") {
    std::int64_t monday = day_start - ((day + 3) % 7) * kDayMs;  // 1970-01-01 was a Thursday
    return std::pair{fromEpochMs(monday), fromEpochMs(monday + 7 * kDayMs)};
  }
  if (period == "month") return detail::shanghaiMonthRange(detail::shanghaiMonth(now));
  if (period == "all") return std::pair{fromEpochMs(0), fromEpochMs(day_start + kDayMs)};
  return Error::invalid("period", "period is week, month or all");
}

Result<Community> RankingService::createCommunity(const Principal& caller,
                                                  const std::string& region_code,
                                                  const std::string& name) {
  if (!isRegionCode(region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  TPH_TRY(detail::checkText("name", name, kTextMaxBytes, true));
  if (!caller.administersRegion(region_code))
    return Error::forbidden("only an admin of region " + region_code + " creates its communities");
  return db_.transaction([&](soci::session& sql) -> Result<Community> {
    if (!detail::regionExists(sql, region_code))
      return Error::invalid("region", "unknown region " + region_code);
    if (detail::communityNameTaken(sql, region_code, name))
      return Error::conflict("the region has a community of that name", "name");
    auto id = detail::insertCommunity(sql, region_code, name, caller.auditActor(),
                                      toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "community.create",
                             "community:" + std::to_string(id),
                             {{"region", region_code}, {"name", name}}});
    return *detail::loadCommunity(sql, id);
  });
}

Result<std::vector<Community>> RankingService::communities(const std::string& region_code) {
  if (!region_code.empty() && !isRegionCode(region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  return db_.read([&](soci::session& sql) -> Result<std::vector<Community>> {
    return detail::listCommunities(sql, region_code.empty() ? "" : regionPrefix(region_code));
  });
}

Result<std::optional<RankingProfile>> RankingService::profile(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::optional<RankingProfile>> {
    return detail::loadProfile(sql, caller.user_id);
  });
}

Result<RankingProfile> RankingService::setProfile(const Principal& caller,
                                                  const std::string& nickname, bool listed,
                                                  std::optional<std::int64_t> community_id) {
  TPH_TRY(checkNickname(nickname));
  if (!caller.hasRole(Role::kResident)) return Error::forbidden("residents appear on leaderboards");
  return db_.transaction([&](soci::session& sql) -> Result<RankingProfile> {
    if (auto owner = detail::nicknameOwner(sql, nickname); owner && *owner != caller.user_id)
      return Error::conflict("the nickname is taken", "nickname");
    if (community_id && !detail::loadCommunity(sql, *community_id))
      return Error::invalid("community_id", "no such community");
    RankingProfile p{caller.user_id, nickname, listed, community_id, clock_.now()};
    detail::saveProfile(sql, p);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "ranking.profile",
                             "user:" + std::to_string(caller.user_id),
                             {{"nickname", nickname},
                              {"listed", listed},
                              {"community", community_id ? json(*community_id) : json(nullptr)}}});
    return p;
  });
}

Result<RankingProfile> RankingService::optOut(const Principal& caller) {
  return db_.transaction([&](soci::session& sql) -> Result<RankingProfile> {
    auto p = detail::loadProfile(sql, caller.user_id);
    if (!p)
      return Error::notFound("you have no leaderboard profile: you are not listed", "user_id");
    p->listed = false;
    p->updated_at = clock_.now();
    detail::saveProfile(sql, *p);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "ranking.opt_out",
                             "user:" + std::to_string(caller.user_id), json::object()});
    return *p;
  });
}

Result<Leaderboard> RankingService::leaderboard(const Principal& caller,
                                                const LeaderboardQuery& query) {
  auto range = rankingPeriod(query.period, clock_.now());
  if (!range) return range.error();
  if (!query.region_code.empty() && !isRegionCode(query.region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  if (query.limit < 1 || query.limit > kLeaderboardMaxLimit)
    return Error::invalid("limit", "limit must be 1-200");
  return db_.read([&](soci::session& sql) -> Result<Leaderboard> {
    Leaderboard board;
    board.period = query.period;
    board.from = range->first;
    board.until = range->second;
    std::string prefix;
    board.scope = "province";
    if (query.community_id) {
      auto c = detail::loadCommunity(sql, *query.community_id);
      if (!c) return Error::notFound("no such community", "community");
      prefix = "";
      board.scope = "community:" + std::to_string(c->id);
    } else if (!query.region_code.empty() && regionPrefix(query.region_code).size() > 2) {
      if (!detail::regionExists(sql, query.region_code))
        return Error::notFound("no such region", "region");
      prefix = regionPrefix(query.region_code);
      board.scope = "region:" + query.region_code;
    } else if (!query.region_code.empty()) {
      prefix = regionPrefix(query.region_code);
    }
    auto rows = detail::rankedResidents(sql, toEpochMs(range->first), toEpochMs(range->second),
                                        prefix, query.community_id);
    int rank = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i == 0 || rows[i].grams != rows[i - 1].grams) rank = static_cast<int>(i) + 1;
      LeaderboardEntry e{rank, rows[i].nickname, Grams(rows[i].grams), rows[i].reductions,
                         caller.user_id != 0 && rows[i].user_id == caller.user_id};
      if (e.you) board.yours = e;
      if (static_cast<int>(board.entries.size()) < query.limit) board.entries.push_back(e);
    }
    return board;
  });
}

}  // namespace tph::incentive
