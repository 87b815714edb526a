#include "incentive/ranking_service.h"

#include <limits>
#include <map>
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

//! The rollup's key of the period starting at `from` ("week": its Monday), or of the month an
//! instant is in: "w:2026-03-09", "m:2026-03", "all".
std::string periodKey(const std::string& period, Instant from) {
  if (period == "week") return "w:" + shanghaiDay(from);
  if (period == "month") return "m:" + detail::shanghaiMonth(from);
  return "all";
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
    // Taken after the refresh's lock, so a refresh never writes a listing this change replaced.
    detail::loadRefreshState(sql, true);
    detail::saveProfile(sql, p);
    detail::setListed(sql, caller.user_id, listed);
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
    detail::loadRefreshState(sql, true);
    detail::saveProfile(sql, *p);
    detail::setListed(sql, caller.user_id, false);
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
  // Only a stale rollup costs the read a write transaction (which re-checks under its lock).
  auto refreshed_at = db_.read([&](soci::session& sql) -> Result<std::int64_t> {
    return detail::loadRefreshState(sql, false).refreshed_at_ms;
  });
  if (!refreshed_at) return refreshed_at.error();
  if (toEpochMs(clock_.now()) - *refreshed_at >= kLeaderboardMaxStalenessMs) {
    auto refreshed = refreshChunk(true);
    for (int i = 1; refreshed && !refreshed->caught_up && i < kLeaderboardReadRefreshChunks; ++i)
      refreshed = refreshChunk(false);
    if (!refreshed) return refreshed.error();
  }
  return db_.read([&](soci::session& sql) -> Result<Leaderboard> {
    Leaderboard board;
    board.period = query.period;
    board.from = range->first;
    board.until = range->second;
    board.as_of = fromEpochMs(detail::loadRefreshState(sql, false).refreshed_at_ms);
    detail::BoardFilter filter;
    filter.period = periodKey(query.period, range->first);
    board.scope = "province";
    if (query.community_id) {
      auto c = detail::loadCommunity(sql, *query.community_id);
      if (!c) return Error::notFound("no such community", "community");
      filter.community_id = c->id;
      board.scope = "community:" + std::to_string(c->id);
    } else if (!query.region_code.empty() && regionPrefix(query.region_code).size() > 2) {
      if (!detail::regionExists(sql, query.region_code))
        return Error::notFound("no such region", "region");
      filter.region_prefix = regionPrefix(query.region_code);
      board.scope = "region:" + query.region_code;
    } else if (!query.region_code.empty()) {
      filter.region_prefix = regionPrefix(query.region_code);
    }
    auto rows = detail::topResidents(sql, filter, query.limit);
    int rank = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i == 0 || rows[i].grams != rows[i - 1].grams) rank = static_cast<int>(i) + 1;
      board.entries.push_back({rank, rows[i].nickname, Grams(rows[i].grams), rows[i].reductions,
                               caller.user_id != 0 && rows[i].user_id == caller.user_id});
    }
    if (caller.user_id != 0) {
      if (auto own = detail::ownLine(sql, filter, caller.user_id))
        board.yours = LeaderboardEntry{static_cast<int>(own->above) + 1, own->row.nickname,
                                       Grams(own->row.grams), own->row.reductions, true};
    }
    return board;
  });
}

Result<LeaderboardRefresh> RankingService::refresh(const Principal& caller, int max_chunks) {
  if (!caller.hasRole(Role::kProvinceAdmin))
    return Error::forbidden("only a province admin refreshes the leaderboards");
  return refreshAsSystem(max_chunks);
}

Result<LeaderboardRefresh> RankingService::refreshAsSystem(int max_chunks) {
  if (max_chunks < 1) return Error::invalid("max_chunks", "max_chunks must be at least 1");
  LeaderboardRefresh total;
  for (int i = 0; i < max_chunks; ++i) {
    auto r = refreshChunk(false);
    if (!r) return r.error();
    total.reductions += r->reductions;
    total.account_days += r->account_days;
    total.watermark = r->watermark;
    total.gaps = r->gaps;
    total.caught_up = r->caught_up;
    total.refreshed_at = r->refreshed_at;
    if (r->caught_up) break;
  }
  return total;
}

Result<LeaderboardRefresh> RankingService::refreshChunk(bool only_if_stale) {
  Instant now = clock_.now();
  std::int64_t now_ms = toEpochMs(now);
  return db_.transaction([&](soci::session& sql) -> Result<LeaderboardRefresh> {
    auto state = detail::loadRefreshState(sql, true);
    LeaderboardRefresh out;
    if (only_if_stale && now_ms - state.refreshed_at_ms < kLeaderboardMaxStalenessMs) {
      out.watermark = state.watermark;
      out.gaps = static_cast<std::int64_t>(state.gaps.size());
      out.caught_up = true;
      out.refreshed_at = fromEpochMs(state.refreshed_at_ms);
      return out;
    }
    auto fresh = detail::reductionsAfter(
        sql, state.watermark, std::numeric_limits<std::int64_t>::max(), kLeaderboardRefreshChunk);
    std::vector<detail::ReductionRef> read = fresh;
    // Ids skipped earlier: what has appeared since is summed now, the rest stays awaited.
    std::vector<detail::RefreshGap> gaps;
    for (const auto& g : state.gaps) {
      auto found = detail::reductionsAfter(sql, g.from_id - 1, g.to_id,
                                           static_cast<std::size_t>(g.to_id - g.from_id + 1));
      std::int64_t expect = g.from_id;
      for (const auto& r : found) {
        if (r.id > expect) gaps.push_back({expect, r.id - 1, g.seen_at_ms});
        expect = r.id + 1;
      }
      if (expect <= g.to_id) gaps.push_back({expect, g.to_id, g.seen_at_ms});
      read.insert(read.end(), found.begin(), found.end());
    }
    std::erase_if(gaps, [&](const detail::RefreshGap& g) {
      return now_ms - g.seen_at_ms > kLeaderboardGapGraceMs;
    });
    std::int64_t expect = state.watermark + 1;
    for (const auto& r : fresh) {
      if (r.id > expect) gaps.push_back({expect, r.id - 1, now_ms});
      expect = r.id + 1;
    }
    if (gaps.size() > kLeaderboardMaxGaps)
      gaps.erase(gaps.begin(), gaps.end() - static_cast<std::ptrdiff_t>(kLeaderboardMaxGaps));

    // The person account-days touched, re-summed from reductions: a reduction recomputed in
    // place (a late record redoing its day) is always in the same account-day as a new one.
    std::map<std::pair<std::int64_t, std::string>, const detail::ReductionRef*> touched;
    for (const auto& r : read)
      if (r.user_id != 0)
        touched.emplace(std::pair{r.account_id, shanghaiDay(fromEpochMs(r.occurred_at_ms))}, &r);
    std::vector<detail::AccountDay> days;
    for (const auto& [key, r] : touched) {
      auto start = toEpochMs(*shanghaiDayStart(key.second));
      days.push_back({key.first, key.second, start, start + kDayMs});
    }
    auto now_totals = detail::dayTotalsNow(sql, days);
    auto summed = detail::dayTotalsSummed(sql, days);
    std::vector<detail::AccountDay> changed_days;
    std::vector<detail::DayTotal> changed_totals;
    std::map<std::pair<std::string, std::int64_t>, detail::PeriodDelta> deltas;
    auto it = touched.begin();
    for (std::size_t i = 0; i < days.size(); ++i, ++it) {
      std::int64_t grams = now_totals[i].grams - summed[i].grams;
      std::int64_t count = now_totals[i].reductions - summed[i].reductions;
      if (grams == 0 && count == 0) continue;
      changed_days.push_back(days[i]);
      changed_totals.push_back(now_totals[i]);
      Instant day_start = fromEpochMs(days[i].from_ms);
      for (const auto& period : {periodKey("week", rankingPeriod("week", day_start)->first),
                                 periodKey("month", day_start), std::string("all")}) {
        auto& d = deltas[{period, days[i].account_id}];
        d.period = period;
        d.account_id = days[i].account_id;
        d.user_id = it->second->user_id;
        d.region_code = it->second->region_code;
        d.grams += grams;
        d.reductions += count;
      }
    }
    detail::saveDayTotals(sql, changed_days, changed_totals);
    std::vector<detail::PeriodDelta> rows;
    for (auto& [key, d] : deltas) rows.push_back(std::move(d));
    detail::addPeriodTotals(sql, rows);

    if (!fresh.empty()) state.watermark = fresh.back().id;
    state.refreshed_at_ms = now_ms;
    state.gaps = gaps;
    detail::saveRefreshState(sql, state);
    out.reductions = static_cast<std::int64_t>(read.size());
    out.account_days = static_cast<std::int64_t>(changed_days.size());
    out.watermark = state.watermark;
    out.gaps = static_cast<std::int64_t>(gaps.size());
    out.caught_up = fresh.size() < kLeaderboardRefreshChunk;
    out.refreshed_at = now;
    return out;
  });
}

}  // namespace tph::incentive
