#include "incentive/ranking_store.h"

#include <map>

#include "store/database.h"
#include "store/json_rows.h"

namespace tph::incentive::detail {

namespace {

using store::rowInt64;
using store::rowOptionalInt64;

constexpr const char* kCommunityColumns =
    "SELECT c.id, c.region_code, c.name, c.created_at_ms, "
    "(SELECT COUNT(*) FROM ranking_profiles p WHERE p.community_id = c.id) FROM communities c ";

Community communityFrom(const soci::row& r) {
  return {rowInt64(r, 0), r.get<std::string>(1), r.get<std::string>(2), rowInt64(r, 4),
          fromEpochMs(rowInt64(r, 3))};
}

}  // namespace

bool communityNameTaken(soci::session& sql, const std::string& region_code,
                        const std::string& name) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM communities WHERE region_code = :r AND name = :n",
      soci::use(region_code), soci::use(name), soci::into(n);
  return n > 0;
}

std::int64_t insertCommunity(soci::session& sql, const std::string& region_code,
                             const std::string& name, const std::string& actor,
                             std::int64_t now_ms) {
  long long id = 0, now = now_ms;
  sql << "INSERT INTO communities (region_code, name, created_by, created_at_ms) "
         "VALUES (:r, :n, :a, :t) RETURNING id",
      soci::use(region_code), soci::use(name), soci::use(actor), soci::use(now), soci::into(id);
  return id;
}

std::optional<Community> loadCommunity(soci::session& sql, std::int64_t id) {
  soci::row r;
  long long cid = id;
  sql << std::string(kCommunityColumns) + "WHERE c.id = :id", soci::use(cid), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  return communityFrom(r);
}

std::vector<Community> listCommunities(soci::session& sql, const std::string& prefix) {
  std::vector<Community> out;
  std::string like = prefix + "%";
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kCommunityColumns) +
                          "WHERE c.region_code LIKE :p ORDER BY c.region_code, c.name",
       soci::use(like));
  for (const auto& r : rows) out.push_back(communityFrom(r));
  return out;
}

std::optional<RankingProfile> loadProfile(soci::session& sql, std::int64_t user_id) {
  soci::row r;
  long long uid = user_id;
  sql << "SELECT user_id, nickname, listed, community_id, updated_at_ms FROM ranking_profiles "
         "WHERE user_id = :u",
      soci::use(uid), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  RankingProfile p;
  p.user_id = rowInt64(r, 0);
  p.nickname = r.get<std::string>(1);
  p.listed = rowInt64(r, 2) != 0;
  if (r.get_indicator(3) != soci::i_null) p.community_id = rowInt64(r, 3);
  p.updated_at = fromEpochMs(rowInt64(r, 4));
  return p;
}

std::optional<std::int64_t> nicknameOwner(soci::session& sql, const std::string& nickname) {
  long long uid = 0;
  sql << "SELECT user_id FROM ranking_profiles WHERE nickname = :n", soci::use(nickname),
      soci::into(uid);
  if (!sql.got_data()) return std::nullopt;
  return uid;
}

void saveProfile(soci::session& sql, const RankingProfile& p) {
  long long uid = p.user_id, now = toEpochMs(p.updated_at), community = p.community_id.value_or(0);
  int listed = p.listed ? 1 : 0;
  soci::indicator ind = p.community_id ? soci::i_ok : soci::i_null;
  long long exists = 0;
  sql << "SELECT COUNT(*) FROM ranking_profiles WHERE user_id = :u", soci::use(uid),
      soci::into(exists);
  if (exists > 0) {
    sql << "UPDATE ranking_profiles SET nickname = :n, listed = :l, community_id = :c, "
           "updated_at_ms = :t WHERE user_id = :u",
        soci::use(p.nickname), soci::use(listed), soci::use(community, ind), soci::use(now),
        soci::use(uid);
  } else {
    sql << "INSERT INTO ranking_profiles (user_id, nickname, listed, community_id, updated_at_ms) "
           "VALUES (:u, :n, :l, :c, :t)",
        soci::use(uid), soci::use(p.nickname), soci::use(listed), soci::use(community, ind),
        soci::use(now);
  }
}

namespace {

// Province and region boards walk ranking_totals_board; a community's few members are found from
// their profiles first.
constexpr const char* kBoardFrom =
    "FROM ranking_totals t JOIN ranking_profiles p ON p.user_id = t.user_id "
    "WHERE t.period = :period AND t.listed = 1 AND t.grams > 0 AND t.region_code LIKE :region ";
constexpr const char* kCommunityFrom =
    "FROM ranking_profiles p CROSS JOIN account_members m CROSS JOIN ranking_totals t "
    "WHERE p.community_id = :community AND p.listed = 1 AND m.user_id = p.user_id "
    "AND m.role = 'owner' AND t.period = :period AND t.account_id = m.account_id "
    "AND t.grams > 0 AND t.region_code LIKE :region ";

}  // namespace

std::vector<RankedRow> topResidents(soci::session& sql, const BoardFilter& filter, int limit) {
  std::string like = filter.region_prefix + "%";
  long long community = filter.community_id.value_or(0);
  std::vector<RankedRow> out;
  const std::string columns = "SELECT t.user_id, p.nickname, t.grams, t.reductions ";
  const std::string order = "ORDER BY t.grams DESC, p.nickname LIMIT :n";
  auto collect = [&](soci::rowset<soci::row>& rows) {
    for (const auto& r : rows)
      out.push_back({rowInt64(r, 0), r.get<std::string>(1), rowInt64(r, 2), rowInt64(r, 3)});
  };
  if (filter.community_id) {
    soci::rowset<soci::row> rows =
        (sql.prepare << columns + kCommunityFrom + order, soci::use(community),
         soci::use(filter.period), soci::use(like), soci::use(limit));
    collect(rows);
  } else {
    soci::rowset<soci::row> rows = (sql.prepare << columns + kBoardFrom + order,
                                    soci::use(filter.period), soci::use(like), soci::use(limit));
    collect(rows);
  }
  return out;
}

std::optional<OwnLine> ownLine(soci::session& sql, const BoardFilter& filter,
                               std::int64_t user_id) {
  long long uid = user_id, account = 0;
  sql << "SELECT c.id FROM account_members m JOIN carbon_accounts c ON c.id = m.account_id "
         "WHERE m.user_id = :u AND m.role = 'owner' AND c.kind = 'person'",
      soci::use(uid), soci::into(account);
  if (!sql.got_data()) return std::nullopt;
  soci::row r;
  sql << "SELECT t.user_id, p.nickname, t.grams, t.reductions, t.region_code, p.community_id "
         "FROM ranking_totals t JOIN ranking_profiles p ON p.user_id = t.user_id "
         "WHERE t.period = :period AND t.account_id = :a AND t.listed = 1 AND t.grams > 0",
      soci::use(filter.period), soci::use(account), soci::into(r);
  if (!sql.got_data()) return std::nullopt;
  if (!r.get<std::string>(4).starts_with(filter.region_prefix)) return std::nullopt;
  auto own_community = rowOptionalInt64(r, 5);
  if (filter.community_id && own_community != filter.community_id) return std::nullopt;
  OwnLine line{{rowInt64(r, 0), r.get<std::string>(1), rowInt64(r, 2), rowInt64(r, 3)}, 0};
  std::string like = filter.region_prefix + "%";
  long long grams = line.row.grams, above = 0, community = filter.community_id.value_or(0);
  if (filter.community_id) {
    sql << std::string("SELECT COUNT(*) ") + kCommunityFrom + "AND t.grams > :g",
        soci::use(community), soci::use(filter.period), soci::use(like), soci::use(grams),
        soci::into(above);
  } else {
    // Counted in the index alone: listed, grams and region are all in ranking_totals_board.
    sql << "SELECT COUNT(*) FROM ranking_totals t WHERE t.period = :period AND t.listed = 1 "
           "AND t.grams > :g AND t.region_code LIKE :region",
        soci::use(filter.period), soci::use(grams), soci::use(like), soci::into(above);
  }
  line.above = above;
  return line;
}

void setListed(soci::session& sql, std::int64_t user_id, bool listed) {
  long long uid = user_id;
  int flag = listed ? 1 : 0;
  sql << "UPDATE ranking_totals SET listed = :l WHERE account_id IN (SELECT m.account_id FROM "
         "account_members m WHERE m.user_id = :u AND m.role = 'owner')",
      soci::use(flag), soci::use(uid);
}

RefreshState loadRefreshState(soci::session& sql, bool lock) {
  if (lock) sql << "UPDATE ranking_refresh SET watermark = watermark WHERE id = 1";
  RefreshState state;
  long long watermark = 0, at = 0;
  sql << "SELECT watermark, refreshed_at_ms FROM ranking_refresh WHERE id = 1",
      soci::into(watermark), soci::into(at);
  state.watermark = watermark;
  state.refreshed_at_ms = at;
  soci::rowset<soci::row> rows =
      sql.prepare << "SELECT from_id, to_id, seen_at_ms FROM ranking_refresh_gaps ORDER BY from_id";
  for (const auto& r : rows) state.gaps.push_back({rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2)});
  return state;
}

void saveRefreshState(soci::session& sql, const RefreshState& state) {
  long long watermark = state.watermark, at = state.refreshed_at_ms;
  sql << "UPDATE ranking_refresh SET watermark = :w, refreshed_at_ms = :t WHERE id = 1",
      soci::use(watermark), soci::use(at);
  sql << "DELETE FROM ranking_refresh_gaps";
  if (state.gaps.empty()) return;
  store::JsonRows rows;
  for (const auto& g : state.gaps) rows.row().add(g.from_id).add(g.to_id).add(g.seen_at_ms);
  std::string text = rows.text();
  sql << "INSERT INTO ranking_refresh_gaps (from_id, to_id, seen_at_ms) "
         "SELECT CAST(value ->> 0 AS BIGINT), CAST(value ->> 1 AS BIGINT), "
         "CAST(value ->> 2 AS BIGINT) FROM " +
             store::jsonRowsSource(sql),
      soci::use(text);
}

std::vector<ReductionRef> reductionsAfter(soci::session& sql, std::int64_t after_id,
                                          std::int64_t to_id, std::size_t limit) {
  long long after = after_id, to = to_id, n = static_cast<long long>(limit);
  std::vector<ReductionRef> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT r.id, r.account_id, r.occurred_at_ms, COALESCE(m.user_id, 0), "
                      "COALESCE(a.region_code, '') FROM reductions r "
                      "LEFT JOIN carbon_accounts a ON a.id = r.account_id AND a.kind = 'person' "
                      "LEFT JOIN account_members m ON m.account_id = a.id AND m.role = 'owner' "
                      "WHERE r.id > :a AND r.id <= :b ORDER BY r.id LIMIT :n",
       soci::use(after), soci::use(to), soci::use(n));
  for (const auto& r : rows)
    out.push_back(
        {rowInt64(r, 0), rowInt64(r, 1), rowInt64(r, 2), rowInt64(r, 3), r.get<std::string>(4)});
  return out;
}

namespace {

std::string dayRows(const std::vector<AccountDay>& days) {
  store::JsonRows rows;
  for (const auto& d : days) rows.row().add(d.account_id).add(d.day).add(d.from_ms).add(d.to_ms);
  return rows.text();
}

//! Totals answered in the order of `days`, by row number.
std::vector<DayTotal> totalsQuery(soci::session& sql, const std::string& query,
                                  const std::vector<AccountDay>& days) {
  std::vector<DayTotal> out(days.size());
  std::map<std::pair<std::int64_t, std::string>, std::size_t> index;
  for (std::size_t i = 0; i < days.size(); ++i) index[{days[i].account_id, days[i].day}] = i;
  std::string text = dayRows(days);
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(text));
  for (const auto& r : rows) {
    auto it = index.find({rowInt64(r, 0), r.get<std::string>(1)});
    if (it != index.end()) out[it->second] = {rowInt64(r, 2), rowInt64(r, 3)};
  }
  return out;
}

constexpr const char* kDayKeys =
    "(SELECT CAST(value ->> 0 AS BIGINT) AS account_id, value ->> 1 AS day, "
    "CAST(value ->> 2 AS BIGINT) AS from_ms, CAST(value ->> 3 AS BIGINT) AS to_ms FROM ";

}  // namespace

std::vector<DayTotal> dayTotalsNow(soci::session& sql, const std::vector<AccountDay>& days) {
  return totalsQuery(sql,
                     std::string("SELECT k.account_id, k.day, SUM(r.grams), COUNT(*) FROM ") +
                         kDayKeys + store::jsonRowsSource(sql) +
                         ") k JOIN reductions r ON r.account_id = k.account_id "
                         "AND r.occurred_at_ms >= k.from_ms AND r.occurred_at_ms < k.to_ms "
                         "GROUP BY k.account_id, k.day",
                     days);
}

std::vector<DayTotal> dayTotalsSummed(soci::session& sql, const std::vector<AccountDay>& days) {
  return totalsQuery(sql,
                     std::string("SELECT k.account_id, k.day, d.grams, d.reductions FROM ") +
                         kDayKeys + store::jsonRowsSource(sql) +
                         ") k JOIN ranking_daily d ON d.account_id = k.account_id "
                         "AND d.day = k.day",
                     days);
}

void saveDayTotals(soci::session& sql, const std::vector<AccountDay>& days,
                   const std::vector<DayTotal>& totals) {
  store::JsonRows rows;
  for (std::size_t i = 0; i < days.size(); ++i)
    rows.row()
        .add(days[i].account_id)
        .add(days[i].day)
        .add(totals[i].grams)
        .add(totals[i].reductions);
  if (rows.empty()) return;
  std::string text = rows.text();
  sql << "INSERT INTO ranking_daily (account_id, day, grams, reductions) "
         "SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, CAST(value ->> 2 AS BIGINT), "
         "CAST(value ->> 3 AS BIGINT) FROM " +
             store::jsonRowsSource(sql) +
             " WHERE true ON CONFLICT (account_id, day) DO UPDATE SET grams = excluded.grams, "
             "reductions = excluded.reductions",
      soci::use(text);
}

void addPeriodTotals(soci::session& sql, const std::vector<PeriodDelta>& deltas) {
  store::JsonRows rows;
  for (const auto& d : deltas)
    rows.row()
        .add(d.period)
        .add(d.account_id)
        .add(d.user_id)
        .add(d.region_code)
        .add(d.grams)
        .add(d.reductions);
  if (rows.empty()) return;
  std::string text = rows.text();
  sql << "INSERT INTO ranking_totals (period, account_id, user_id, region_code, listed, grams, "
         "reductions) SELECT k.period, k.account_id, k.user_id, k.region_code, "
         "COALESCE((SELECT p.listed FROM ranking_profiles p WHERE p.user_id = k.user_id), 0), "
         "k.grams, k.reductions FROM (SELECT value ->> 0 AS period, "
         "CAST(value ->> 1 AS BIGINT) AS account_id, CAST(value ->> 2 AS BIGINT) AS user_id, "
         "value ->> 3 AS region_code, CAST(value ->> 4 AS BIGINT) AS grams, "
         "CAST(value ->> 5 AS BIGINT) AS reductions FROM " +
             store::jsonRowsSource(sql) +
             ") k WHERE true ON CONFLICT (period, account_id) DO UPDATE SET "
             "grams = ranking_totals.grams + excluded.grams, "
             "reductions = ranking_totals.reductions + excluded.reductions",
      soci::use(text);
}

}  // namespace tph::incentive::detail
