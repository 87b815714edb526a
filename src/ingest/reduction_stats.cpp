#include "ingest/reduction_stats.h"

#include <map>
#include <tuple>

#include "core/crypto.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::ingest {

namespace {

// A LIKE pattern matching a region code and its descendants: "44%", "4403%", "440305".

}  // namespace

std::vector<DailyReductionAggregate> ReductionStats::daily(const std::string& region_code,
                                                           const std::string& day) {
  return db_.read([&](soci::session& sql) {
    std::string pattern = regionPrefix(region_code) + "%";
    using Key = std::tuple<std::string, std::string, int>;
    std::map<Key, DailyReductionAggregate> groups;
    std::map<Key, std::string> digest_input;
    std::map<Key, std::map<std::int64_t, bool>> subjects;
    std::string region, methodology;
    int version = 0;
    long long record_id = 0, account_id = 0, grams = 0;
    soci::statement st =
        (sql.prepare << "SELECT region_code, methodology_id, methodology_version, record_id, "
                        "account_id, grams FROM reductions WHERE day = :d AND region_code LIKE :p "
                        "ORDER BY record_id",
         soci::use(day), soci::use(pattern), soci::into(region), soci::into(methodology),
         soci::into(version), soci::into(record_id), soci::into(account_id), soci::into(grams));
    st.execute();
    while (st.fetch()) {
      Key key{region, methodology, version};
      auto& g = groups[key];
      if (g.records == 0) {
        g.day = day;
        g.region_code = region;
        g.methodology_id = methodology;
        g.methodology_version = version;
      }
      ++g.records;
      g.grams += Grams(grams);
      subjects[key][account_id] = true;
      digest_input[key] += std::to_string(record_id) + ":" + std::to_string(grams) + "\n";
    }
    std::vector<DailyReductionAggregate> out;
    for (auto& [key, g] : groups) {
      g.subjects = static_cast<std::int64_t>(subjects[key].size());
      g.records_digest = sha256Hex(digest_input[key]);
      out.push_back(std::move(g));
    }
    return out;
  });
}

std::vector<AggregateRecord> ReductionStats::records(const std::string& region_code,
                                                     const std::string& day,
                                                     const std::string& methodology_id,
                                                     int methodology_version, std::size_t limit) {
  return db_.read([&](soci::session& sql) {
    std::vector<AggregateRecord> out;
    long long record_id = 0, occurred = 0, grams = 0, max_rows = static_cast<long long>(limit);
    std::string ref;
    soci::statement st =
        (sql.prepare << "SELECT r.record_id, i.subject_ref, r.occurred_at_ms, r.grams "
                        "FROM reductions r JOIN ingest_records i ON i.id = r.record_id "
                        "WHERE r.day = :d AND r.region_code = :g AND r.methodology_id = :m "
                        "AND r.methodology_version = :v ORDER BY r.record_id LIMIT :n",
         soci::use(day), soci::use(region_code), soci::use(methodology_id),
         soci::use(methodology_version), soci::use(max_rows), soci::into(record_id),
         soci::into(ref), soci::into(occurred), soci::into(grams));
    st.execute();
    while (st.fetch()) out.push_back({record_id, ref, occurred, Grams(grams)});
    return out;
  });
}

std::vector<std::string> ReductionStats::activeDays(const std::string& region_code,
                                                    const std::string& from_day,
                                                    const std::string& until_day) {
  return db_.read([&](soci::session& sql) {
    std::string pattern = regionPrefix(region_code) + "%";
    std::vector<std::string> days;
    std::string day;
    soci::statement st =
        (sql.prepare << "SELECT DISTINCT day FROM reductions WHERE day >= :f "
                        "AND day <= :u AND region_code LIKE :p ORDER BY day",
         soci::use(from_day), soci::use(until_day), soci::use(pattern), soci::into(day));
    st.execute();
    while (st.fetch()) days.push_back(day);
    return days;
  });
}

RegionReductionTotals ReductionStats::totals(const std::string& region_code,
                                             const std::string& from_day,
                                             const std::string& until_day) {
  return db_.read([&](soci::session& sql) {
    std::string pattern = regionPrefix(region_code) + "%";
    RegionReductionTotals t;
    long long records = 0, participants = 0, grams = 0, methodologies = 0, providers = 0;
    soci::indicator grams_ind;
    sql << "SELECT COUNT(*), COUNT(DISTINCT account_id), SUM(grams), "
           "COUNT(DISTINCT methodology_id), COUNT(DISTINCT provider_id) FROM reductions "
           "WHERE day >= :f AND day <= :u AND region_code LIKE :p",
        soci::use(from_day), soci::use(until_day), soci::use(pattern), soci::into(records),
        soci::into(participants), soci::into(grams, grams_ind), soci::into(methodologies),
        soci::into(providers);
    t.records = records;
    t.participants = participants;
    t.grams = Grams(grams_ind == soci::i_ok ? grams : 0);
    t.methodologies = methodologies;
    t.providers = providers;
    return t;
  });
}

CampaignReductionFigures ReductionStats::campaign(std::int64_t campaign_id) {
  return db_.read([&](soci::session& sql) {
    CampaignReductionFigures f;
    long long id = campaign_id;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT day, COUNT(*), COUNT(DISTINCT account_id), SUM(grams), "
                        "SUM(points), SUM(campaign_bonus_points) FROM reductions "
                        "WHERE campaign_id = :c GROUP BY day ORDER BY day",
         soci::use(id));
    for (const auto& r : rows) {
      f.days.push_back({r.get<std::string>(0), store::rowInt64(r, 1), store::rowInt64(r, 2),
                        Grams(store::rowInt64(r, 3)), store::rowInt64(r, 4),
                        store::rowInt64(r, 5)});
      f.records += f.days.back().records;
      f.grams += f.days.back().grams;
      f.points += f.days.back().points;
      f.bonus_points += f.days.back().bonus_points;
    }
    long long subjects = 0;
    sql << "SELECT COUNT(DISTINCT account_id) FROM reductions WHERE campaign_id = :c",
        soci::use(id), soci::into(subjects);
    f.subjects = subjects;
    return f;
  });
}

}  // namespace tph::ingest
