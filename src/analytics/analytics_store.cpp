#include "analytics/analytics_store.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "core/region_code.h"
#include "store/bulk_insert.h"
#include "store/database.h"
#include "store/json_rows.h"

namespace tph::analytics::detail {

namespace {

//! An account's kind ("person", "household", "enterprise") and, for an enterprise, its GB/T 4754
//! section and division ('' when not set).
struct AccountFacts {
  std::string kind, section, division;
};

std::map<std::int64_t, AccountFacts> accountFacts(soci::session& sql,
                                                  const std::map<std::int64_t, std::string>& ids) {
  store::JsonRows rows;
  for (const auto& [account, day] : ids) rows.row().add(account);
  std::string text = rows.text();
  std::map<std::int64_t, AccountFacts> facts;
  long long id = 0;
  std::string kind, section, division;
  soci::indicator section_ind, division_ind;
  soci::statement st =
      (sql.prepare << "SELECT a.id, a.kind, a.industry_section, a.industry_division FROM " +
                          store::jsonRowsSource(sql) +
                          " j JOIN carbon_accounts a ON a.id = CAST(j.value ->> 0 AS BIGINT)",
       soci::use(text, "rows"), soci::into(id), soci::into(kind), soci::into(section, section_ind),
       soci::into(division, division_ind));
  st.execute();
  while (st.fetch()) {
    facts[id] = {kind, section_ind == soci::i_ok ? section : "",
                 division_ind == soci::i_ok ? division : ""};
  }
  return facts;
}

//! An industry rollup cell: (level, region, period, section, division, domain, methodology).
using IndustryKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                               std::string, std::string>;
struct IndustryChange {
  CellSums sums;
  std::int64_t subjects = 0;
};

//! Adds the changes to stats_industry_daily or stats_industry_monthly (`period` is day or month).
void upsertIndustry(soci::session& sql, const std::string& table, const std::string& period,
                    const std::map<IndustryKey, IndustryChange>& changes) {
  using store::ColumnType;
  store::BulkInsert upsert(table,
                           {{"level", ColumnType::kText},
                            {"region_code", ColumnType::kText},
                            {period, ColumnType::kText},
                            {"industry_section", ColumnType::kText},
                            {"industry_division", ColumnType::kText},
                            {"domain", ColumnType::kText},
                            {"methodology_id", ColumnType::kText},
                            {"records", ColumnType::kInt64},
                            {"subjects", ColumnType::kInt64},
                            {"grams", ColumnType::kInt64},
                            {"points", ColumnType::kInt64}},
                           "ON CONFLICT (level, region_code, " + period +
                               ", industry_section, industry_division, domain, methodology_id) DO "
                               "UPDATE SET records = " +
                               table + ".records + excluded.records, subjects = " + table +
                               ".subjects + excluded.subjects, grams = " + table +
                               ".grams + excluded.grams, points = " + table +
                               ".points + excluded.points");
  for (const auto& [key, c] : changes) {
    const auto& [level, region, p, section, division, domain, methodology] = key;
    upsert.row()
        .add(level)
        .add(region)
        .add(p)
        .add(section)
        .add(division)
        .add(domain)
        .add(methodology)
        .add(c.sums.records)
        .add(c.subjects)
        .add(c.sums.grams)
        .add(c.sums.points);
  }
  upsert.execute(sql);
}

//! The county cells' figures changed by a transaction, keyed (day, region, domain, methodology,
//! kind).
using DailyKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
struct DailyChange {
  CellSums sums;
  std::int64_t subjects = 0;
};

//! Adds a transaction's county-cell changes to stats_daily_area and stats_monthly_area (city and
//! province, by day and month). The figures add up; max_cell_subjects takes the larger of its
//! stored value and the changed county cells' subjects, read back after their upsert (a cell's
//! subjects only grow, so the larger is the largest of all its county cells).
void applyAreaRollups(soci::session& sql, const std::map<DailyKey, DailyChange>& daily) {
  using store::ColumnType;
  store::JsonRows keys;
  for (const auto& [key, change] : daily) {
    const auto& [day, region, domain, methodology, kind] = key;
    keys.row().add(day).add(region).add(domain).add(methodology).add(kind);
  }
  std::string key_rows = keys.text();
  std::map<DailyKey, std::int64_t> subjects_now;
  {
    std::string day, region, domain, methodology, kind;
    long long subjects = 0;
    soci::statement st =
        (sql.prepare << "SELECT d.day, d.region_code, d.domain, d.methodology_id, d.subject_kind, "
                        "d.subjects FROM " +
                            store::jsonRowsSource(sql) +
                            " j JOIN stats_daily d ON d.day = j.value ->> 0 AND d.region_code = "
                            "j.value ->> 1 AND d.domain = j.value ->> 2 AND d.methodology_id = "
                            "j.value ->> 3 AND d.subject_kind = j.value ->> 4",
         soci::use(key_rows, "rows"), soci::into(day), soci::into(region), soci::into(domain),
         soci::into(methodology), soci::into(kind), soci::into(subjects));
    st.execute();
    while (st.fetch()) subjects_now[{day, region, domain, methodology, kind}] = subjects;
  }
  struct AreaChange {
    CellSums sums;
    std::int64_t subjects = 0, max_cell = 0;
  };
  // (level, period, region, domain, methodology, kind)
  using AreaKey =
      std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
  std::map<AreaKey, AreaChange> by_day, by_month;
  for (const auto& [key, change] : daily) {
    const auto& [day, region, domain, methodology, kind] = key;
    auto now = subjects_now.count(key) ? subjects_now[key] : 0;
    std::string city = region.substr(0, 4) + "00";
    for (auto [level, code] : {std::pair<std::string, std::string>{"county", region},
                               std::pair<std::string, std::string>{"city", city},
                               std::pair<std::string, std::string>{"province", "440000"}}) {
      for (auto* table : {&by_day, &by_month}) {
        if (level == "county" && table == &by_day) continue;  // that is stats_daily itself
        auto& a = (*table)[{level, table == &by_day ? day : day.substr(0, 7), code, domain,
                            methodology, kind}];
        a.sums.records += change.sums.records;
        a.sums.grams += change.sums.grams;
        a.sums.points += change.sums.points;
        a.subjects += change.subjects;
        a.max_cell = std::max(a.max_cell, now);
      }
    }
  }
  for (auto [table, period, changes] :
       {std::tuple<const char*, const char*, std::map<AreaKey, AreaChange>*>{"stats_daily_area",
                                                                             "day", &by_day},
        std::tuple<const char*, const char*, std::map<AreaKey, AreaChange>*>{"stats_monthly_area",
                                                                             "month", &by_month}}) {
    std::string t = table;
    store::BulkInsert upsert(
        t,
        {{"level", ColumnType::kText},
         {period, ColumnType::kText},
         {"region_code", ColumnType::kText},
         {"domain", ColumnType::kText},
         {"methodology_id", ColumnType::kText},
         {"subject_kind", ColumnType::kText},
         {"records", ColumnType::kInt64},
         {"subjects", ColumnType::kInt64},
         {"grams", ColumnType::kInt64},
         {"points", ColumnType::kInt64},
         {"max_cell_subjects", ColumnType::kInt64}},
        "ON CONFLICT (level, " + std::string(period) +
            ", region_code, domain, methodology_id, subject_kind) DO UPDATE SET records = " + t +
            ".records + excluded.records, subjects = " + t +
            ".subjects + excluded.subjects, grams = " + t + ".grams + excluded.grams, points = " +
            t + ".points + excluded.points, max_cell_subjects = CASE WHEN " + t +
            ".max_cell_subjects > excluded.max_cell_subjects THEN " + t +
            ".max_cell_subjects ELSE excluded.max_cell_subjects END");
    for (const auto& [key, a] : *changes) {
      const auto& [level, p, region, domain, methodology, kind] = key;
      upsert.row()
          .add(level)
          .add(p)
          .add(region)
          .add(domain)
          .add(methodology)
          .add(kind)
          .add(a.sums.records)
          .add(a.subjects)
          .add(a.sums.grams)
          .add(a.sums.points)
          .add(a.max_cell);
    }
    upsert.execute(sql);
  }
}

}  // namespace

void applyRollups(soci::session& sql, const std::map<AccountCell, CellSums>& changes,
                  const std::map<std::int64_t, std::string>& first_day) {
  using store::ColumnType;
  // Which subjects are new to a cell is read and then written: concurrent batches on PostgreSQL
  // take turns here (SQLite's write lock already serialises them). The lock is held to commit,
  // as the audit chain's head is anyway.
  if (store::backendOf(sql) == store::Backend::kPostgresql)
    sql << "SELECT pg_advisory_xact_lock(4400010)";
  auto facts = accountFacts(sql, first_day);
  auto factsOf = [&](std::int64_t account) -> const AccountFacts& {
    auto it = facts.find(account);
    if (it == facts.end())
      throw std::logic_error("a reduction names account " + std::to_string(account) +
                             ", which does not exist");
    return it->second;
  };

  // A subject counts once in a cell, when it first reaches it: the membership rows this
  // transaction is the first to write are the new subjects.
  store::BulkInsert members("stats_cell_subjects",
                            {{"day", ColumnType::kText},
                             {"region_code", ColumnType::kText},
                             {"methodology_id", ColumnType::kText},
                             {"account_id", ColumnType::kInt64}},
                            "ON CONFLICT DO NOTHING");
  for (const auto& [key, sums] : changes)
    members.row().add(key.day).add(key.region_code).add(key.methodology_id).add(key.account_id);
  auto fresh = members.executeReportingNew(sql);

  std::map<DailyKey, DailyChange> daily;
  store::BulkInsert enterprise(
      "stats_enterprise_daily",
      {{"day", ColumnType::kText},
       {"region_code", ColumnType::kText},
       {"domain", ColumnType::kText},
       {"methodology_id", ColumnType::kText},
       {"account_id", ColumnType::kInt64},
       {"records", ColumnType::kInt64},
       {"grams", ColumnType::kInt64},
       {"points", ColumnType::kInt64}},
      "ON CONFLICT (day, region_code, domain, methodology_id, account_id) DO UPDATE SET "
      "records = stats_enterprise_daily.records + excluded.records, "
      "grams = stats_enterprise_daily.grams + excluded.grams, "
      "points = stats_enterprise_daily.points + excluded.points");
  store::BulkInsert enterprise_monthly(
      "stats_enterprise_monthly",
      {{"month", ColumnType::kText},
       {"region_code", ColumnType::kText},
       {"domain", ColumnType::kText},
       {"methodology_id", ColumnType::kText},
       {"account_id", ColumnType::kInt64},
       {"records", ColumnType::kInt64},
       {"grams", ColumnType::kInt64},
       {"points", ColumnType::kInt64},
       {"subject_days", ColumnType::kInt64}},
      "ON CONFLICT (month, region_code, domain, methodology_id, account_id) DO UPDATE SET "
      "records = stats_enterprise_monthly.records + excluded.records, "
      "grams = stats_enterprise_monthly.grams + excluded.grams, "
      "points = stats_enterprise_monthly.points + excluded.points, "
      "subject_days = stats_enterprise_monthly.subject_days + excluded.subject_days");
  struct EnterpriseMonth {
    CellSums sums;
    std::int64_t days = 0;
  };
  std::map<AccountCell, EnterpriseMonth> enterprise_months;
  std::map<IndustryKey, IndustryChange> industry_days, industry_months;
  std::set<std::pair<std::string, std::int64_t>> periods;
  std::size_t i = 0;
  for (const auto& [key, sums] : changes) {
    const AccountFacts& account = factsOf(key.account_id);
    const std::string& kind = account.kind;
    auto& cell = daily[{key.day, key.region_code, key.domain, key.methodology_id, kind}];
    cell.sums.records += sums.records;
    cell.sums.grams += sums.grams;
    cell.sums.points += sums.points;
    if (fresh[i++]) ++cell.subjects;
    if (kind == "enterprise") {
      enterprise.row()
          .add(key.day)
          .add(key.region_code)
          .add(key.domain)
          .add(key.methodology_id)
          .add(key.account_id)
          .add(sums.records)
          .add(sums.grams)
          .add(sums.points);
      auto& month = enterprise_months[{key.day.substr(0, 7), key.region_code, key.domain,
                                       key.methodology_id, key.account_id}];
      month.sums.records += sums.records;
      month.sums.grams += sums.grams;
      month.sums.points += sums.points;
      // The account's first record in this day cell adds a day to the month (stats_cell_subjects
      // keys a cell without its domain, which the methodology decides).
      if (fresh[i - 1]) ++month.days;
      // The industry cells at county, city and province level, by day and by month; an
      // enterprise's first record in a day cell is one more subject in each.
      std::string city = key.region_code.substr(0, 4) + "00";
      for (const auto& [level, code] :
           {std::pair<std::string, std::string>{"county", key.region_code},
            std::pair<std::string, std::string>{"city", city},
            std::pair<std::string, std::string>{"province", "440000"}}) {
        for (auto* table : {&industry_days, &industry_months}) {
          auto& c = (*table)[{level, code, table == &industry_days ? key.day : key.day.substr(0, 7),
                              account.section, account.division, key.domain, key.methodology_id}];
          c.sums.records += sums.records;
          c.sums.grams += sums.grams;
          c.sums.points += sums.points;
          if (fresh[i - 1]) ++c.subjects;
        }
      }
    }
    periods.insert({"d:" + key.day, key.account_id});
    periods.insert({"m:" + key.day.substr(0, 7), key.account_id});
  }
  store::BulkInsert cells(
      "stats_daily",
      {{"day", ColumnType::kText},
       {"region_code", ColumnType::kText},
       {"domain", ColumnType::kText},
       {"methodology_id", ColumnType::kText},
       {"subject_kind", ColumnType::kText},
       {"records", ColumnType::kInt64},
       {"subjects", ColumnType::kInt64},
       {"grams", ColumnType::kInt64},
       {"points", ColumnType::kInt64}},
      "ON CONFLICT (day, region_code, domain, methodology_id, subject_kind) DO UPDATE SET "
      "records = stats_daily.records + excluded.records, "
      "subjects = stats_daily.subjects + excluded.subjects, "
      "grams = stats_daily.grams + excluded.grams, points = stats_daily.points + excluded.points");
  for (const auto& [key, cell] : daily) {
    const auto& [day, region, domain, methodology, kind] = key;
    cells.row()
        .add(day)
        .add(region)
        .add(domain)
        .add(methodology)
        .add(kind)
        .add(cell.sums.records)
        .add(cell.subjects)
        .add(cell.sums.grams)
        .add(cell.sums.points);
  }
  cells.execute(sql);
  enterprise.execute(sql);
  for (const auto& [key, month] : enterprise_months) {
    enterprise_monthly.row()
        .add(key.day)
        .add(key.region_code)
        .add(key.domain)
        .add(key.methodology_id)
        .add(key.account_id)
        .add(month.sums.records)
        .add(month.sums.grams)
        .add(month.sums.points)
        .add(month.days);
  }
  enterprise_monthly.execute(sql);
  if (!industry_days.empty()) {
    upsertIndustry(sql, "stats_industry_daily", "day", industry_days);
    upsertIndustry(sql, "stats_industry_monthly", "month", industry_months);
  }
  applyAreaRollups(sql, daily);

  // Participation: subjects per day and per month (the membership rows this transaction is the
  // first to write), and those credited for the first time, written in one upsert.
  store::BulkInsert period_members(
      "stats_period_subjects", {{"period", ColumnType::kText}, {"account_id", ColumnType::kInt64}},
      "ON CONFLICT DO NOTHING");
  for (const auto& [period, account] : periods) period_members.row().add(period).add(account);
  auto new_in_period = period_members.executeReportingNew(sql);
  struct PeriodChange {
    std::int64_t subjects = 0, new_subjects = 0;
  };
  std::map<std::string, PeriodChange> period_changes;
  i = 0;
  for (const auto& [period, account] : periods) {
    auto& n = period_changes[period];
    if (new_in_period[i++]) ++n.subjects;
  }

  store::JsonRows accounts;
  for (const auto& [account, day] : first_day) accounts.row().add(account);
  std::string account_rows = accounts.text();
  std::map<std::int64_t, std::string> known;
  {
    long long account = 0;
    std::string day;
    soci::statement st =
        (sql.prepare << "SELECT f.account_id, f.first_day FROM stats_subject_first f JOIN " +
                            store::jsonRowsSource(sql) +
                            " j ON f.account_id = CAST(j.value ->> 0 AS BIGINT)",
         soci::use(account_rows, "rows"), soci::into(account), soci::into(day));
    st.execute();
    while (st.fetch()) known[account] = day;
  }
  store::BulkInsert firsts("stats_subject_first",
                           {{"account_id", ColumnType::kInt64}, {"first_day", ColumnType::kText}},
                           "ON CONFLICT (account_id) DO UPDATE SET first_day = excluded.first_day");
  auto addNew = [&](const std::string& day, std::int64_t delta) {
    period_changes["d:" + day].new_subjects += delta;
    period_changes["m:" + day.substr(0, 7)].new_subjects += delta;
  };
  for (const auto& [account, day] : first_day) {
    auto it = known.find(account);
    if (it == known.end()) {
      firsts.row().add(account).add(day);
      addNew(day, 1);
    } else if (day < it->second) {
      // A late record moved the subject's first day earlier.
      firsts.row().add(account).add(day);
      addNew(it->second, -1);
      addNew(day, 1);
    }
  }
  firsts.execute(sql);
  store::BulkInsert participation(
      "stats_participation",
      {{"period", ColumnType::kText},
       {"subjects", ColumnType::kInt64},
       {"new_subjects", ColumnType::kInt64}},
      "ON CONFLICT (period) DO UPDATE SET "
      "subjects = stats_participation.subjects + excluded.subjects, "
      "new_subjects = stats_participation.new_subjects + excluded.new_subjects");
  for (const auto& [period, n] : period_changes)
    if (n.subjects != 0 || n.new_subjects != 0)
      participation.row().add(period).add(n.subjects).add(n.new_subjects);
  participation.execute(sql);
}

namespace {

std::vector<CellRow> cells(soci::session& sql, const std::string& query, int key_columns,
                           int figure_columns) {
  std::vector<CellRow> out;
  soci::rowset<soci::row> rows = sql.prepare << query;
  for (const auto& r : rows) {
    CellRow cell;
    for (int i = 0; i < key_columns; ++i) {
      if (i) cell.key += '/';
      if (r.get_properties(static_cast<std::size_t>(i)).get_data_type() == soci::dt_string)
        cell.key += r.get<std::string>(static_cast<std::size_t>(i));
      else
        cell.key += std::to_string(store::rowInt64(r, static_cast<std::size_t>(i)));
    }
    for (int i = 0; i < figure_columns; ++i)
      cell.figures.push_back(store::rowInt64(r, static_cast<std::size_t>(key_columns + i)));
    out.push_back(std::move(cell));
  }
  return out;
}

}  // namespace

std::vector<CellRow> storedDailyCells(soci::session& sql) {
  return cells(sql,
               "SELECT day, region_code, domain, methodology_id, subject_kind, records, subjects, "
               "grams, points FROM stats_daily "
               "ORDER BY day, region_code, domain, methodology_id, subject_kind",
               5, 4);
}

std::vector<CellRow> detailDailyCells(soci::session& sql) {
  return cells(sql,
               "SELECT r.day, r.region_code, r.domain, r.methodology_id, a.kind, COUNT(*), "
               "COUNT(DISTINCT r.account_id), SUM(r.grams), SUM(r.points) FROM reductions r "
               "JOIN carbon_accounts a ON a.id = r.account_id "
               "GROUP BY r.day, r.region_code, r.domain, r.methodology_id, a.kind "
               "ORDER BY r.day, r.region_code, r.domain, r.methodology_id, a.kind",
               5, 4);
}

std::vector<CellRow> storedEnterpriseCells(soci::session& sql) {
  return cells(sql,
               "SELECT day, region_code, domain, methodology_id, account_id, records, grams, "
               "points FROM stats_enterprise_daily "
               "ORDER BY day, region_code, domain, methodology_id, account_id",
               5, 3);
}

std::vector<CellRow> detailEnterpriseCells(soci::session& sql) {
  return cells(sql,
               "SELECT r.day, r.region_code, r.domain, r.methodology_id, r.account_id, COUNT(*), "
               "SUM(r.grams), SUM(r.points) FROM reductions r "
               "JOIN carbon_accounts a ON a.id = r.account_id WHERE a.kind = 'enterprise' "
               "GROUP BY r.day, r.region_code, r.domain, r.methodology_id, r.account_id "
               "ORDER BY r.day, r.region_code, r.domain, r.methodology_id, r.account_id",
               5, 3);
}

std::vector<CellRow> storedParticipation(soci::session& sql) {
  return cells(sql,
               "SELECT period, subjects, new_subjects FROM stats_participation "
               "WHERE subjects <> 0 OR new_subjects <> 0 ORDER BY period",
               1, 2);
}

std::vector<CellRow> storedEnterpriseMonths(soci::session& sql) {
  return cells(sql,
               "SELECT month, region_code, domain, methodology_id, account_id, records, grams, "
               "points, subject_days FROM stats_enterprise_monthly "
               "ORDER BY month, region_code, domain, methodology_id, account_id",
               5, 4);
}

std::vector<CellRow> derivedEnterpriseMonths(soci::session& sql) {
  return cells(sql,
               "SELECT substr(day, 1, 7), region_code, domain, methodology_id, account_id, "
               "SUM(records), SUM(grams), SUM(points), COUNT(*) FROM stats_enterprise_daily "
               "GROUP BY substr(day, 1, 7), region_code, domain, methodology_id, account_id "
               "ORDER BY 1, 2, 3, 4, 5",
               5, 4);
}

std::vector<CellRow> storedAreaCells(soci::session& sql) {
  return cells(sql,
               "SELECT 'd' AS p, level, day AS period, region_code, domain, methodology_id, "
               "subject_kind, records, subjects, grams, points, max_cell_subjects FROM "
               "stats_daily_area UNION ALL SELECT 'm', level, month, region_code, domain, "
               "methodology_id, subject_kind, records, subjects, grams, points, max_cell_subjects "
               "FROM stats_monthly_area ORDER BY 1, 2, 3, 4, 5, 6, 7",
               7, 5);
}

std::vector<CellRow> derivedAreaCells(soci::session& sql) {
  // Every area cell from the county cells: a city is its code's first four digits.
  std::string city = "substr(region_code, 1, 4) || '00'";
  std::string figures =
      "SUM(records), SUM(subjects), SUM(grams), SUM(points), MAX(subjects) FROM stats_daily GROUP "
      "BY ";
  std::string rest = "domain, methodology_id, subject_kind";
  return cells(sql,
               "SELECT 'd' AS p, 'city' AS level, day AS period, " + city + " AS region_code, " +
                   rest + ", " + figures + "day, " + city + ", " + rest +
                   " UNION ALL SELECT 'd', 'province', day, '440000', " + rest + ", " + figures +
                   "day, " + rest + " UNION ALL SELECT 'm', 'city', substr(day, 1, 7), " + city +
                   ", " + rest + ", " + figures + "substr(day, 1, 7), " + city + ", " + rest +
                   " UNION ALL SELECT 'm', 'province', substr(day, 1, 7), '440000', " + rest +
                   ", " + figures + "substr(day, 1, 7), " + rest +
                   " UNION ALL SELECT 'm', 'county', substr(day, 1, 7), region_code, " + rest +
                   ", " + figures + "substr(day, 1, 7), region_code, " + rest +
                   " ORDER BY 1, 2, 3, 4, 5, 6, 7",
               7, 5);
}

namespace {

//! The industry cells at the three levels, by day and month, from a source of enterprise day cells
//! (`e`: region_code, day, domain, methodology_id, records, grams, points) and their industry
//! (`section`, `division` expressions), each figure multiplied by `sign`.
std::string industryCellsFrom(const std::string& source, const std::string& section,
                              const std::string& division, const std::string& sign) {
  std::string figures = sign + " * SUM(e.records) AS records, " + sign +
                        " * COUNT(*) AS subjects, " + sign + " * SUM(e.grams) AS grams, " + sign +
                        " * SUM(e.points) AS points FROM " + source + " GROUP BY ";
  std::string rest = section + ", " + division + ", e.domain, e.methodology_id";
  std::string city = "substr(e.region_code, 1, 4) || '00'";
  std::string out;
  for (std::string period : {"e.day", "substr(e.day, 1, 7)"}) {
    std::string p = period == "e.day" ? "'d'" : "'m'";
    if (!out.empty()) out += " UNION ALL ";
    out += "SELECT " + p + " AS p, 'county' AS level, e.region_code AS region_code, " + period +
           " AS period, " + section + " AS industry_section, " + division +
           " AS industry_division, e.domain AS domain, e.methodology_id AS methodology_id, " +
           figures + "e.region_code, " + period + ", " + rest;
    out += " UNION ALL SELECT " + p + ", 'city', " + city + ", " + period + ", " + section + ", " +
           division + ", e.domain, e.methodology_id, " + figures + city + ", " + period + ", " +
           rest;
    out += " UNION ALL SELECT " + p + ", 'province', '440000', " + period + ", " + section + ", " +
           division + ", e.domain, e.methodology_id, " + figures + period + ", " + rest;
  }
  return out;
}

}  // namespace

std::vector<CellRow> storedIndustryCells(soci::session& sql) {
  return cells(sql,
               "SELECT 'd' AS p, level, region_code, day AS period, industry_section, "
               "industry_division, domain, methodology_id, records, subjects, grams, points FROM "
               "stats_industry_daily UNION ALL SELECT 'm', level, region_code, month, "
               "industry_section, industry_division, domain, methodology_id, records, subjects, "
               "grams, points FROM stats_industry_monthly ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
               8, 4);
}

std::vector<CellRow> derivedIndustryCells(soci::session& sql) {
  return cells(sql,
               industryCellsFrom("stats_enterprise_daily e JOIN carbon_accounts a ON a.id = "
                                 "e.account_id",
                                 "COALESCE(a.industry_section, '')",
                                 "COALESCE(a.industry_division, '')", "1") +
                   " ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
               8, 4);
}

void moveIndustryCells(soci::session& sql, std::int64_t account_id, const std::string& from_section,
                       const std::string& from_division, const std::string& to_section,
                       const std::string& to_division) {
  if (from_section == to_section && from_division == to_division) return;
  // Ingest reads an enterprise's industry under this lock and adds to its cells before commit:
  // taken first, the cells moved below include every batch committed before.
  if (store::backendOf(sql) == store::Backend::kPostgresql)
    sql << "SELECT pg_advisory_xact_lock(4400010)";
  long long id = account_id;
  for (const auto& [sign, section, division] :
       {std::tuple<std::string, std::string, std::string>{"-1", from_section, from_division},
        std::tuple<std::string, std::string, std::string>{"1", to_section, to_division}}) {
    std::string sec = section, div = division;
    for (std::string table : {"stats_industry_daily", "stats_industry_monthly"}) {
      std::string period = table == "stats_industry_daily" ? "day" : "month";
      std::string t = table;
      sql << "INSERT INTO " + t + " (level, region_code, " + period +
                 ", industry_section, industry_division, domain, methodology_id, records, "
                 "subjects, grams, points) WITH src AS (SELECT region_code, day, domain, "
                 "methodology_id, records, grams, points, CAST(:s AS TEXT) AS sec, CAST(:d AS "
                 "TEXT) AS dv FROM stats_enterprise_daily WHERE account_id = :a) SELECT c.level, "
                 "c.region_code, c.period, c.industry_section, c.industry_division, c.domain, "
                 "c.methodology_id, c.records, c.subjects, c.grams, c.points FROM (" +
                 industryCellsFrom("src e", "e.sec", "e.dv", sign) + ") c WHERE c.p = '" +
                 (period == "day" ? "d" : "m") + "' ON CONFLICT (level, region_code, " + period +
                 ", industry_section, industry_division, domain, methodology_id) DO UPDATE SET "
                 "records = " +
                 t + ".records + excluded.records, subjects = " + t +
                 ".subjects + excluded.subjects, grams = " + t +
                 ".grams + excluded.grams, "
                 "points = " +
                 t + ".points + excluded.points",
          soci::use(sec), soci::use(div), soci::use(id);
      // Cells the enterprise alone made are left with nothing.
      if (sign == "-1")
        sql << "DELETE FROM " + t +
                   " WHERE industry_section = :s AND industry_division = :d AND records = 0",
            soci::use(sec), soci::use(div);
    }
  }
}

std::vector<CellRow> detailParticipation(soci::session& sql) {
  // A subject is new in the day (and month) of its first credited reduction.
  return cells(
      sql,
      "SELECT p.period, COUNT(DISTINCT p.account_id), "
      "COUNT(DISTINCT CASE WHEN f.first_day = p.day OR (p.period LIKE 'm:%' AND "
      "substr(f.first_day, 1, 7) = p.day) THEN p.account_id END) "
      "FROM (SELECT DISTINCT 'd:' || day AS period, day, account_id FROM reductions "
      "UNION SELECT DISTINCT 'm:' || substr(day, 1, 7), substr(day, 1, 7), account_id "
      "FROM reductions) p "
      "JOIN (SELECT account_id, MIN(day) AS first_day FROM reductions GROUP BY account_id) f "
      "ON f.account_id = p.account_id GROUP BY p.period ORDER BY p.period",
      1, 2);
}

}  // namespace tph::analytics::detail

namespace tph::analytics::detail {

namespace {

void bindAll(soci::details::prepare_temp_type& prepare, const std::vector<std::string>& binds) {
  for (const auto& b : binds) prepare, soci::use(b);
}

}  // namespace

Where whereOf(const StatsFilter& f, bool monthly) {
  Where w;
  if (monthly) {
    w.clause = "t.month >= :p0 AND t.month <= :p1";
    w.binds = {f.from_day.substr(0, 7), f.to_day.substr(0, 7)};
  } else {
    w.clause = "t.day >= :p0 AND t.day <= :p1";
    w.binds = {f.from_day, f.to_day};
  }
  auto add = [&](const std::string& condition, const std::string& value) {
    w.clause += " AND " + condition + std::to_string(w.binds.size());
    w.binds.push_back(value);
  };
  if (!f.region.empty() && f.region != "440000") {
    // A prefix as a range, which both backends answer from an index on region_code (LIKE would
    // need a case-insensitive or C collation for that).
    add("t.region_code >= :p", regionPrefix(f.region));
    add("t.region_code <= :p", regionPrefix(f.region) + "~");
  }
  if (!f.domain.empty()) add("t.domain = :p", f.domain);
  if (!f.methodology.empty()) add("t.methodology_id = :p", f.methodology);
  if (!f.industry.empty()) {
    add("a.industry_section = :p", f.industry.substr(0, 1));
    if (f.industry.size() > 1) add("a.industry_division = :p", f.industry.substr(1));
  } else if (!f.subject_kind.empty()) {
    add("t.subject_kind = :p", f.subject_kind);
  }
  return w;
}

namespace {

bool wholeMonths(const std::string& from, const std::string& to) {
  if (from.size() != 10 || to.size() != 10 || from.substr(8) != "01") return false;
  // The day after `to` is the first of a month when `to` is a month's last day.
  int y = std::stoi(to.substr(0, 4)), m = std::stoi(to.substr(5, 2)), d = std::stoi(to.substr(8));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = kDays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
  return d == last;
}

}  // namespace

std::vector<GroupRow> grouped(soci::session& sql, const StatsFilter& filter, GroupBy by,
                              bool months_ok, const std::string& order, int limit) {
  auto level = regionLevel(filter.region.empty() ? "440000" : filter.region);
  bool enterprise = !filter.industry.empty() || by == GroupBy::kIndustry;
  bool county = !enterprise && (level == RegionLevel::kCounty ||
                                (by == GroupBy::kRegion && level == RegionLevel::kCity));
  std::string source, subjects, bound, key;
  Where w;
  if (enterprise) {
    // The industry rollups, at the level the filter asks for (its children's for a breakdown by
    // region); cells count an enterprise once per day, county and methodology.
    bool monthly =
        (by != GroupBy::kPeriod || months_ok) && wholeMonths(filter.from_day, filter.to_day);
    std::string period = monthly ? "t.month" : "t.day";
    source = monthly ? "stats_industry_monthly t" : "stats_industry_daily t";
    subjects = "SUM(t.subjects)";
    bound = "0";
    w.clause = period + " >= :p0 AND " + period + " <= :p1";
    w.binds = {monthly ? filter.from_day.substr(0, 7) : filter.from_day,
               monthly ? filter.to_day.substr(0, 7) : filter.to_day};
    auto add = [&](const std::string& condition, const std::string& value) {
      w.clause += " AND " + condition + std::to_string(w.binds.size());
      w.binds.push_back(value);
    };
    if (level == RegionLevel::kProvince) {
      w.clause += by == GroupBy::kRegion ? " AND t.level = 'city'"
                                         : " AND t.level = 'province' AND t.region_code = '440000'";
    } else if (level == RegionLevel::kCity && by == GroupBy::kRegion) {
      w.clause += " AND t.level = 'county'";
      add("t.region_code >= :p", regionPrefix(filter.region));
      add("t.region_code <= :p", regionPrefix(filter.region) + "~");
    } else {
      w.clause += level == RegionLevel::kCity ? " AND t.level = 'city'" : " AND t.level = 'county'";
      add("t.region_code = :p", filter.region);
    }
    if (!filter.domain.empty()) add("t.domain = :p", filter.domain);
    if (!filter.methodology.empty()) add("t.methodology_id = :p", filter.methodology);
    if (!filter.industry.empty()) {
      add("t.industry_section = :p", filter.industry.substr(0, 1));
      if (filter.industry.size() > 1) add("t.industry_division = :p", filter.industry.substr(1));
    } else if (!filter.subject_kind.empty() && filter.subject_kind != "enterprise") {
      w.clause += " AND 1 = 0";
    }
    switch (by) {
      case GroupBy::kAll:
        key = "'all'";
        break;
      case GroupBy::kPeriod:
        key = period;
        break;
      case GroupBy::kRegion:
        key = "t.region_code";
        break;
      case GroupBy::kMethodology:
        key = "t.methodology_id";
        break;
      case GroupBy::kDomain:
        key = "t.domain";
        break;
      case GroupBy::kIndustry:
        key =
            "CASE WHEN t.industry_section = '' OR t.industry_division = '' THEN 'unclassified' "
            "ELSE t.industry_section || t.industry_division END";
        break;
    }
  } else if (county) {
    w = whereOf(filter);
    if ((by != GroupBy::kPeriod || months_ok) && wholeMonths(filter.from_day, filter.to_day)) {
      source = "stats_monthly_area t";
      w = whereOf(filter, true);
      w.clause += " AND t.level = 'county'";
      subjects = "SUM(t.subjects)";
      bound = "MAX(t.max_cell_subjects)";
    } else {
      source = "stats_daily t";
      subjects = "SUM(t.subjects)";
      bound = "MAX(t.subjects)";
    }
    switch (by) {
      case GroupBy::kAll:
        key = "'all'";
        break;
      case GroupBy::kPeriod:
        key = source.find("monthly") != std::string::npos ? "t.month" : "t.day";
        break;
      case GroupBy::kRegion:
        key = level == RegionLevel::kProvince ? "substr(t.region_code, 1, 4) || '00'"
                                              : "t.region_code";
        break;
      case GroupBy::kMethodology:
        key = "t.methodology_id";
        break;
      case GroupBy::kDomain:
        key = "t.domain";
        break;
      case GroupBy::kIndustry:
        break;  // enterprise above
    }
  } else {
    bool monthly =
        (by != GroupBy::kPeriod || months_ok) && wholeMonths(filter.from_day, filter.to_day);
    std::string period = monthly ? "t.month" : "t.day";
    source = monthly ? "stats_monthly_area t" : "stats_daily_area t";
    subjects = "SUM(t.subjects)";
    bound = "MAX(t.max_cell_subjects)";
    w.clause = period + " >= :p0 AND " + period + " <= :p1";
    w.binds = {monthly ? filter.from_day.substr(0, 7) : filter.from_day,
               monthly ? filter.to_day.substr(0, 7) : filter.to_day};
    auto add = [&](const std::string& condition, const std::string& value) {
      w.clause += " AND " + condition + std::to_string(w.binds.size());
      w.binds.push_back(value);
    };
    if (by == GroupBy::kRegion) {
      w.clause += " AND t.level = 'city'";  // the province's children
    } else if (level == RegionLevel::kProvince) {
      w.clause += " AND t.level = 'province'";
    } else {
      w.clause += " AND t.level = 'city'";
      add("t.region_code = :p", filter.region);
    }
    if (!filter.domain.empty()) add("t.domain = :p", filter.domain);
    if (!filter.methodology.empty()) add("t.methodology_id = :p", filter.methodology);
    if (!filter.subject_kind.empty()) add("t.subject_kind = :p", filter.subject_kind);
    switch (by) {
      case GroupBy::kAll:
        key = "'all'";
        break;
      case GroupBy::kPeriod:
        key = period;
        break;
      case GroupBy::kRegion:
        key = "t.region_code";
        break;
      case GroupBy::kMethodology:
        key = "t.methodology_id";
        break;
      case GroupBy::kDomain:
        key = "t.domain";
        break;
      case GroupBy::kIndustry:
        break;  // enterprise above
    }
  }
  bool names = by == GroupBy::kRegion;
  // Totals aggregate without GROUP BY (PostgreSQL refuses a constant there): one row, zeros when
  // nothing matches.
  bool all = by == GroupBy::kAll;
  auto agg = [all](const std::string& e) { return all ? "COALESCE(" + e + ", 0)" : e; };
  std::string query = "SELECT g.k, " + std::string(names ? "COALESCE(n.name_zh, g.k)" : "g.k") +
                      ", g.records, g.grams, g.points, g.subjects, g.bound FROM (SELECT " + key +
                      " AS k, " + agg("SUM(t.records)") + " AS records, " + agg("SUM(t.grams)") +
                      " AS grams, " + agg("SUM(t.points)") + " AS points, " + agg(subjects) +
                      " AS subjects, " + agg(bound) + " AS bound FROM " + source + " WHERE " +
                      w.clause + (all ? "" : " GROUP BY " + key) + ") g " +
                      (names ? "LEFT JOIN regions n ON n.code = g.k " : "") + "ORDER BY " + order;
  if (limit > 0) query += " LIMIT " + std::to_string(limit);
  std::vector<GroupRow> out;
  std::string k, name;
  long long records = 0, grams = 0, points = 0, subjects_sum = 0, lower_bound = 0;
  soci::indicator key_ind, name_ind, bound_ind;
  auto prepare = (sql.prepare << query);
  bindAll(prepare, w.binds);
  prepare, soci::into(k, key_ind), soci::into(name, name_ind), soci::into(records),
      soci::into(grams), soci::into(points), soci::into(subjects_sum),
      soci::into(lower_bound, bound_ind);
  soci::statement st(prepare);
  st.execute();
  while (st.fetch()) {
    GroupRow row;
    row.key = key_ind == soci::i_ok ? k : "";
    row.name = name_ind == soci::i_ok ? name : row.key;
    row.figures = {records, grams, points, subjects_sum};
    row.subjects_lower_bound = bound_ind == soci::i_ok ? lower_bound : 0;
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<ParticipationPoint> participationRows(soci::session& sql, const std::string& from,
                                                  const std::string& to) {
  std::vector<ParticipationPoint> out;
  std::string period, f = from, t = to;
  long long subjects = 0, fresh = 0;
  soci::statement st =
      (sql.prepare << "SELECT period, subjects, new_subjects FROM "
                      "stats_participation WHERE period >= :f AND period <= :t "
                      "ORDER BY period",
       soci::use(f), soci::use(t), soci::into(period), soci::into(subjects), soci::into(fresh));
  st.execute();
  while (st.fetch()) out.push_back({period.substr(2), subjects, fresh, subjects - fresh});
  return out;
}

IssuanceFigures issuanceFigures(soci::session& sql, const std::string& region, std::int64_t from_ms,
                                std::int64_t to_ms) {
  IssuanceFigures out;
  long long from = from_ms, to = to_ms, batches = 0, units = 0, retired = 0;
  std::string prefix = regionPrefix(region) + "%";
  soci::indicator ind;
  sql << "SELECT COUNT(*), SUM(units) FROM registry_issuances WHERE issued_at_ms >= :f AND "
         "issued_at_ms < :t AND region_code LIKE :r",
      soci::use(from), soci::use(to), soci::use(prefix), soci::into(batches),
      soci::into(units, ind);
  out.batches_issued = batches;
  out.units_issued = ind == soci::i_ok ? units : 0;
  // Retirements of units issued in the region, by when they were retired.
  sql << "SELECT SUM(b.last_unit - b.first_unit + 1) FROM registry_operations o "
         "JOIN registry_operation_blocks b ON b.operation_id = o.id "
         "JOIN registry_issuances i ON i.batch_id = b.batch_id "
         "WHERE o.kind = 'retire' AND o.at_ms >= :f AND o.at_ms < :t AND i.region_code LIKE :r",
      soci::use(from), soci::use(to), soci::use(prefix), soci::into(retired, ind);
  out.units_retired = ind == soci::i_ok ? retired : 0;
  return out;
}

std::int64_t participantsUpTo(soci::session& sql, const std::string& region,
                              const std::string& to_day) {
  long long n = 0;
  soci::indicator ind;
  if (region.empty() || region == "440000") {
    // One row per day: the accounts new that day, kept by applyRollups (late records move them).
    std::string to = "d:" + to_day;
    sql << "SELECT SUM(new_subjects) FROM stats_participation WHERE period >= 'd:' AND "
           "period <= :t",
        soci::use(to), soci::into(n, ind);
  } else {
    std::string prefix = regionPrefix(region) + "%";
    std::string to = to_day;
    sql << "SELECT COUNT(*) FROM stats_subject_first f JOIN carbon_accounts a ON a.id = "
           "f.account_id WHERE f.first_day <= :t AND a.region_code LIKE :r",
        soci::use(to), soci::use(prefix), soci::into(n, ind);
  }
  return ind == soci::i_ok ? n : 0;
}

std::int64_t pointsRedeemed(soci::session& sql, const std::string& region, std::int64_t from_ms,
                            std::int64_t to_ms) {
  // Each redemption adds its points when made; a refund (the ledger entry that gave them back, or
  // a failed claim's decision) takes them off when given back.
  static const std::string kMoves =
      "SELECT v.ledger_account_id AS l, v.points AS p FROM vouchers v "
      "WHERE v.issued_at_ms >= :f1 AND v.issued_at_ms < :t1 "
      "UNION ALL SELECT v.ledger_account_id, -v.points FROM vouchers v "
      "JOIN journal_entries e ON e.id = v.refund_entry_id WHERE e.at_ms >= :f2 AND e.at_ms < :t2 "
      "UNION ALL SELECT c.ledger_account_id, c.points FROM benefit_claims c "
      "WHERE c.created_at_ms >= :f3 AND c.created_at_ms < :t3 "
      "UNION ALL SELECT c.ledger_account_id, -c.points FROM benefit_claims c "
      "WHERE c.status = 'failed' AND c.decided_at_ms >= :f4 AND c.decided_at_ms < :t4 "
      "UNION ALL SELECT k.ledger_account_id, k.points FROM card_conversions k "
      "WHERE k.created_at_ms >= :f5 AND k.created_at_ms < :t5 "
      "UNION ALL SELECT k.ledger_account_id, -k.points FROM card_conversions k "
      "JOIN journal_entries e ON e.id = k.refund_entry_id WHERE e.at_ms >= :f6 AND e.at_ms < :t6";
  bool province = region.empty() || region == "440000";
  std::string query = province ? "SELECT SUM(m.p) FROM (" + kMoves + ") m"
                               : "SELECT SUM(m.p) FROM (" + kMoves +
                                     ") m JOIN carbon_accounts a ON a.ledger_account_id = m.l "
                                     "WHERE a.region_code LIKE :r";
  long long from = from_ms, to = to_ms, n = 0;
  std::string prefix = regionPrefix(region) + "%";
  soci::indicator ind;
  auto prepare = (sql.prepare << query);
  for (int i = 0; i < 6; ++i) prepare, soci::use(from), soci::use(to);
  if (!province) prepare, soci::use(prefix);
  prepare, soci::into(n, ind);
  soci::statement st(prepare);
  st.execute(true);
  return ind == soci::i_ok ? n : 0;
}

std::vector<OpenDataCell> openDataCells(soci::session& sql, const StatsFilter& filter) {
  StatsFilter f = filter;
  f.subject_kind.clear();
  f.industry.clear();
  auto w = whereOf(f);
  std::map<std::tuple<std::string, std::string, std::string>, OpenDataCell> cells;
  {
    auto prepare = (sql.prepare << "SELECT t.day, substr(t.region_code, 1, 4) || '00', t.domain, "
                                   "t.methodology_id, SUM(t.records), SUM(t.grams) FROM "
                                   "stats_daily t WHERE " +
                                       w.clause +
                                       " GROUP BY t.day, substr(t.region_code, 1, 4) || '00', "
                                       "t.domain, t.methodology_id");
    bindAll(prepare, w.binds);
    std::string day, city, domain, methodology;
    long long records = 0, grams = 0;
    prepare, soci::into(day), soci::into(city), soci::into(domain), soci::into(methodology),
        soci::into(records), soci::into(grams);
    soci::statement st(prepare);
    st.execute();
    while (st.fetch())
      cells[{day, city, methodology}] = {day, city, domain, methodology, false, records, 0, grams};
  }
  // A subject credited in two counties of a city counts once for the city. The table has no
  // domain: the methodology decides it, so the cells found above already carry it.
  StatsFilter by_methodology = f;
  by_methodology.domain.clear();
  auto subject_where = whereOf(by_methodology);
  {
    auto prepare = (sql.prepare << "SELECT t.day, substr(t.region_code, 1, 4) || '00', "
                                   "t.methodology_id, COUNT(DISTINCT t.account_id) FROM "
                                   "stats_cell_subjects t WHERE " +
                                       subject_where.clause +
                                       " GROUP BY t.day, substr(t.region_code, 1, 4) || '00', "
                                       "t.methodology_id");
    bindAll(prepare, subject_where.binds);
    std::string day, city, methodology;
    long long subjects = 0;
    prepare, soci::into(day), soci::into(city), soci::into(methodology), soci::into(subjects);
    soci::statement st(prepare);
    st.execute();
    while (st.fetch()) {
      auto it = cells.find({day, city, methodology});
      if (it != cells.end()) it->second.subjects = subjects;
    }
  }
  std::vector<OpenDataCell> out;
  for (auto& [key, cell] : cells) out.push_back(std::move(cell));
  return out;
}

}  // namespace tph::analytics::detail
