#include "analytics/analytics_store.h"

#include <set>
#include <stdexcept>
#include <tuple>

#include "core/region_code.h"
#include "store/bulk_insert.h"
#include "store/database.h"
#include "store/json_rows.h"

namespace tph::analytics::detail {

namespace {

void addNewSubjects(soci::session& sql, const std::string& day, long long delta) {
  for (std::string period : {"d:" + day, "m:" + day.substr(0, 7)}) {
    sql << "INSERT INTO stats_participation (period, subjects, new_subjects) "
           "VALUES (:p, 0, :n) ON CONFLICT (period) DO UPDATE SET "
           "new_subjects = stats_participation.new_subjects + excluded.new_subjects",
        soci::use(period), soci::use(delta);
  }
}

//! The kind of each account ("person", "household", "enterprise").
std::map<std::int64_t, std::string> accountKinds(soci::session& sql,
                                                 const std::map<std::int64_t, std::string>& ids) {
  store::JsonRows rows;
  for (const auto& [account, day] : ids) rows.row().add(account);
  std::string text = rows.text();
  std::map<std::int64_t, std::string> kinds;
  long long id = 0;
  std::string kind;
  soci::statement st =
      (sql.prepare << "SELECT a.id, a.kind FROM " + store::jsonRowsSource(sql) +
                          " j JOIN carbon_accounts a ON a.id = CAST(j.value ->> 0 AS BIGINT)",
       soci::use(text, "rows"), soci::into(id), soci::into(kind));
  st.execute();
  while (st.fetch()) kinds[id] = kind;
  return kinds;
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
  auto kinds = accountKinds(sql, first_day);
  auto kindOf = [&](std::int64_t account) -> const std::string& {
    auto it = kinds.find(account);
    if (it == kinds.end())
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

  using DailyKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  struct Daily {
    CellSums sums;
    std::int64_t subjects = 0;
  };
  std::map<DailyKey, Daily> daily;
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
  std::set<std::pair<std::string, std::int64_t>> periods;
  std::size_t i = 0;
  for (const auto& [key, sums] : changes) {
    const std::string& kind = kindOf(key.account_id);
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

  // Participation: subjects per day and per month, then those credited for the first time.
  store::BulkInsert period_members(
      "stats_period_subjects", {{"period", ColumnType::kText}, {"account_id", ColumnType::kInt64}},
      "ON CONFLICT DO NOTHING");
  for (const auto& [period, account] : periods) period_members.row().add(period).add(account);
  auto new_in_period = period_members.executeReportingNew(sql);
  std::map<std::string, std::int64_t> period_subjects;
  i = 0;
  for (const auto& [period, account] : periods) {
    auto& n = period_subjects[period];
    if (new_in_period[i++]) ++n;
  }
  store::BulkInsert participation("stats_participation",
                                  {{"period", ColumnType::kText},
                                   {"subjects", ColumnType::kInt64},
                                   {"new_subjects", ColumnType::kInt64}},
                                  "ON CONFLICT (period) DO UPDATE SET "
                                  "subjects = stats_participation.subjects + excluded.subjects");
  for (const auto& [period, n] : period_subjects) participation.row().add(period).add(n).add(0);
  participation.execute(sql);

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
  for (const auto& [account, day] : first_day) {
    long long id = account;
    std::string first = day;
    auto it = known.find(account);
    if (it == known.end()) {
      sql << "INSERT INTO stats_subject_first (account_id, first_day) VALUES (:a, :d)",
          soci::use(id), soci::use(first);
      addNewSubjects(sql, day, 1);
    } else if (day < it->second) {
      // A late record moved the subject's first day earlier.
      sql << "UPDATE stats_subject_first SET first_day = :d WHERE account_id = :a",
          soci::use(first), soci::use(id);
      addNewSubjects(sql, it->second, -1);
      addNewSubjects(sql, day, 1);
    }
  }
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

Where whereOf(const StatsFilter& f) {
  Where w;
  w.clause = "t.day >= :p0 AND t.day <= :p1";
  w.binds = {f.from_day, f.to_day};
  auto add = [&](const std::string& condition, const std::string& value) {
    w.clause += " AND " + condition + std::to_string(w.binds.size());
    w.binds.push_back(value);
  };
  if (!f.region.empty() && f.region != "440000")
    add("t.region_code LIKE :p", regionPrefix(f.region) + "%");
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

std::vector<GroupRow> grouped(soci::session& sql, const StatsFilter& filter,
                              const std::string& key_expr, const std::string& name_join,
                              const std::string& order, int limit) {
  auto w = whereOf(filter);
  bool enterprise = !filter.industry.empty() || key_expr.find("a.industry") != std::string::npos;
  std::string source = enterprise ? "stats_enterprise_daily t JOIN carbon_accounts a ON a.id = "
                                    "t.account_id"
                                  : "stats_daily t";
  // Enterprise cells are per account: a cell's subjects are its accounts.
  std::string subjects = enterprise ? "COUNT(*)" : "SUM(t.subjects)";
  std::string query = "SELECT g.k, " +
                      std::string(name_join.empty() ? "g.k" : "COALESCE(n.name_zh, g.k)") +
                      ", g.records, g.grams, g.points, g.subjects FROM (SELECT " + key_expr +
                      " AS k, SUM(t.records) AS records, SUM(t.grams) AS grams, SUM(t.points) AS "
                      "points, " +
                      subjects + " AS subjects FROM " + source + " WHERE " + w.clause +
                      " GROUP BY " + key_expr + ") g " + name_join + " ORDER BY " + order;
  if (limit > 0) query += " LIMIT " + std::to_string(limit);
  std::vector<GroupRow> out;
  std::string key, name;
  long long records = 0, grams = 0, points = 0, subjects_sum = 0;
  soci::indicator key_ind, name_ind;
  auto prepare = (sql.prepare << query);
  bindAll(prepare, w.binds);
  prepare, soci::into(key, key_ind), soci::into(name, name_ind), soci::into(records),
      soci::into(grams), soci::into(points), soci::into(subjects_sum);
  soci::statement st(prepare);
  st.execute();
  while (st.fetch()) {
    GroupRow row;
    row.key = key_ind == soci::i_ok ? key : "";
    row.name = name_ind == soci::i_ok ? name : row.key;
    row.figures = {records, grams, points, subjects_sum};
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
