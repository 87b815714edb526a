#include "region/campaign_store.h"

#include <map>

#include "store/database.h"

namespace tph::region::detail {

namespace {

constexpr const char* kColumns =
    "c.id, c.region_code, c.name_zh, c.name_en, c.announcement_zh, c.announcement_en, "
    "c.starts_at_ms, c.ends_at_ms, c.multiplier_permille, c.cancel_reason, c.cancelled_at_ms, "
    "c.created_by, c.created_at_ms";

std::string statusOf(const soci::row& r, std::int64_t now_ms) {
  if (store::rowOptionalInt64(r, 10)) return "cancelled";
  if (now_ms < store::rowInt64(r, 6)) return "scheduled";
  if (now_ms < store::rowInt64(r, 7)) return "active";
  return "ended";
}

Campaign campaignOf(const soci::row& r, std::int64_t now_ms) {
  Campaign c;
  c.id = store::rowInt64(r, 0);
  c.region_code = r.get<std::string>(1);
  c.name_zh = r.get<std::string>(2);
  c.name_en = r.get<std::string>(3);
  c.announcement_zh = r.get<std::string>(4);
  c.announcement_en = r.get<std::string>(5);
  c.starts_at = fromEpochMs(store::rowInt64(r, 6));
  c.ends_at = fromEpochMs(store::rowInt64(r, 7));
  c.multiplier_permille = static_cast<int>(store::rowInt64(r, 8));
  c.cancel_reason = r.get<std::string>(9);
  c.status = statusOf(r, now_ms);
  c.created_by = r.get<std::string>(11);
  c.created_at = fromEpochMs(store::rowInt64(r, 12));
  return c;
}

//! Fills each campaign's methodologies, in one query.
void addMethodologies(soci::session& sql, std::vector<Campaign>& campaigns) {
  if (campaigns.empty()) return;
  std::string ids;  // integers read from the database: safe to write into the text
  std::map<std::int64_t, Campaign*> by_id;
  for (auto& c : campaigns) {
    ids += (ids.empty() ? "" : ",") + std::to_string(c.id);
    by_id[c.id] = &c;
  }
  long long id = 0;
  std::string methodology;
  soci::statement st =
      (sql.prepare << "SELECT campaign_id, methodology_id FROM campaign_methodologies WHERE "
                      "campaign_id IN (" +
                          ids + ") ORDER BY campaign_id, methodology_id",
       soci::into(id), soci::into(methodology));
  st.execute();
  while (st.fetch()) by_id[id]->methodologies.push_back(methodology);
}

}  // namespace

std::int64_t insertCampaign(soci::session& sql, const CampaignDraft& draft,
                            const std::string& created_by, std::int64_t now_ms) {
  long long starts = toEpochMs(draft.starts_at), ends = toEpochMs(draft.ends_at), now = now_ms,
            id = 0;
  int multiplier = draft.multiplier_permille;
  sql << "INSERT INTO campaigns (region_code, name_zh, name_en, announcement_zh, announcement_en, "
         "starts_at_ms, ends_at_ms, multiplier_permille, created_by, created_at_ms) "
         "VALUES (:r, :nz, :ne, :az, :ae, :s, :e, :m, :by, :t) RETURNING id",
      soci::use(draft.region_code), soci::use(draft.name_zh), soci::use(draft.name_en),
      soci::use(draft.announcement_zh), soci::use(draft.announcement_en), soci::use(starts),
      soci::use(ends), soci::use(multiplier), soci::use(created_by), soci::use(now), soci::into(id);
  for (const auto& m : draft.methodologies) {
    sql << "INSERT INTO campaign_methodologies (campaign_id, methodology_id) VALUES (:c, :m)",
        soci::use(id), soci::use(m);
  }
  return id;
}

std::optional<Campaign> findCampaign(soci::session& sql, std::int64_t id, std::int64_t now_ms) {
  long long wanted = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kColumns + " FROM campaigns c WHERE c.id = :id",
       soci::use(wanted));
  std::vector<Campaign> out;
  for (const auto& r : rows) out.push_back(campaignOf(r, now_ms));
  if (out.empty()) return std::nullopt;
  addMethodologies(sql, out);
  return out.front();
}

void cancelCampaign(soci::session& sql, std::int64_t id, const std::string& reason,
                    std::int64_t now_ms) {
  long long wanted = id, now = now_ms;
  sql << "UPDATE campaigns SET cancelled_at_ms = :t, cancel_reason = :r WHERE id = :id",
      soci::use(now), soci::use(reason), soci::use(wanted);
}

std::vector<Campaign> listCampaigns(soci::session& sql, const std::vector<std::string>& regions,
                                    const std::string& status, int limit, int offset,
                                    std::int64_t now_ms) {
  std::string where = "1 = 1";
  // Region codes are checked six-digit codes and the status one of four words: safe in the text.
  if (!regions.empty()) {
    std::string list;
    for (const auto& r : regions) list += (list.empty() ? "'" : ",'") + r + "'";
    where += " AND c.region_code IN (" + list + ")";
  }
  std::string now = std::to_string(now_ms);
  if (status == "cancelled") where += " AND c.cancelled_at_ms IS NOT NULL";
  if (status == "scheduled") where += " AND c.cancelled_at_ms IS NULL AND c.starts_at_ms > " + now;
  if (status == "active") {
    where += " AND c.cancelled_at_ms IS NULL AND c.starts_at_ms <= " + now +
             " AND c.ends_at_ms > " + now;
  }
  if (status == "ended") where += " AND c.cancelled_at_ms IS NULL AND c.ends_at_ms <= " + now;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string("SELECT ") + kColumns + " FROM campaigns c WHERE " + where +
                          " ORDER BY c.starts_at_ms DESC, c.id DESC LIMIT :l OFFSET :o",
       soci::use(limit), soci::use(offset));
  std::vector<Campaign> out;
  for (const auto& r : rows) out.push_back(campaignOf(r, now_ms));
  addMethodologies(sql, out);
  return out;
}

std::vector<CampaignWindowRow> campaignWindows(soci::session& sql, std::int64_t from_ms,
                                               std::int64_t to_ms) {
  std::vector<CampaignWindowRow> out;
  long long from = from_ms, to = to_ms, id = 0, starts = 0, ends = 0;
  int multiplier = 0;
  std::string region, methodology;
  soci::statement st =
      (sql.prepare << "SELECT c.id, c.region_code, c.starts_at_ms, c.ends_at_ms, "
                      "c.multiplier_permille, m.methodology_id FROM campaigns c "
                      "JOIN campaign_methodologies m ON m.campaign_id = c.id "
                      "WHERE c.cancelled_at_ms IS NULL AND c.starts_at_ms <= :t "
                      "AND c.ends_at_ms > :f ORDER BY c.id, m.methodology_id",
       soci::use(to), soci::use(from), soci::into(id), soci::into(region), soci::into(starts),
       soci::into(ends), soci::into(multiplier), soci::into(methodology));
  st.execute();
  while (st.fetch()) {
    if (out.empty() || out.back().id != id)
      out.push_back({id, region, starts, ends, multiplier, {}});
    out.back().methodologies.push_back(methodology);
  }
  return out;
}

}  // namespace tph::region::detail

namespace tph::region::detail {

bool regionExists(soci::session& sql, const std::string& code) {
  int n = 0;
  sql << "SELECT COUNT(*) FROM regions WHERE code = :c", soci::use(code), soci::into(n);
  return n > 0;
}

}  // namespace tph::region::detail
