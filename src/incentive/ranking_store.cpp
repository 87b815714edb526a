#include "incentive/ranking_store.h"

#include "store/database.h"

namespace tph::incentive::detail {

namespace {

using store::rowInt64;

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

std::vector<RankedRow> rankedResidents(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                                       const std::string& region_prefix,
                                       std::optional<std::int64_t> community_id) {
  long long from = from_ms, to = to_ms, community = community_id.value_or(0);
  int any_community = community_id ? 0 : 1;
  std::string like = region_prefix + "%";
  std::vector<RankedRow> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT p.user_id, p.nickname, SUM(r.grams), COUNT(*) FROM reductions r "
                      "JOIN carbon_accounts a ON a.id = r.account_id AND a.kind = 'person' "
                      "JOIN account_members m ON m.account_id = a.id AND m.role = 'owner' "
                      "JOIN ranking_profiles p ON p.user_id = m.user_id AND p.listed = 1 "
                      "WHERE r.occurred_at_ms >= :f AND r.occurred_at_ms < :t "
                      "AND a.region_code LIKE :r AND (:any = 1 OR p.community_id = :c) "
                      "GROUP BY p.user_id, p.nickname HAVING SUM(r.grams) > 0 "
                      "ORDER BY SUM(r.grams) DESC, p.nickname",
       soci::use(from), soci::use(to), soci::use(like), soci::use(any_community),
       soci::use(community));
  for (const auto& r : rows)
    out.push_back({rowInt64(r, 0), r.get<std::string>(1), rowInt64(r, 2), rowInt64(r, 3)});
  return out;
}

}  // namespace tph::incentive::detail
