#include "assessment/assessment_store.h"

#include <map>

#include "store/database.h"

namespace tph::assessment::detail {

namespace {

using nlohmann::json;

json populationsToJson(const std::vector<Population>& populations) {
  json out = json::array();
  for (const auto& p : populations) {
    out.push_back({{"region", p.region_code},
                   {"residents", p.residents},
                   {"source", p.source},
                   {"entered_by", p.entered_by},
                   {"entered_at_ms", toEpochMs(p.entered_at)}});
  }
  return out;
}

std::vector<Population> populationsFromJson(const std::string& text) {
  std::vector<Population> out;
  for (const auto& p : json::parse(text)) {
    out.push_back({p.at("region"), p.at("residents"), p.at("source"), p.at("entered_by"),
                   fromEpochMs(p.at("entered_at_ms").get<std::int64_t>())});
  }
  return out;
}

const char* kRunColumns =
    "SELECT id, year, state, scheme_json, populations_json, period_from, period_until, "
    "content_sha256, computed_by, computed_at_ms, published_by, published_at_ms "
    "FROM assessment_runs ";

Run runFromRow(const soci::row& row) {
  Run r;
  r.id = store::rowInt64(row, 0);
  r.year = static_cast<int>(store::rowInt64(row, 1));
  r.state = row.get<std::string>(2);
  auto scheme = indicatorsFromJson(json::parse(row.get<std::string>(3)));
  if (!scheme)
    throw std::runtime_error("stored scheme of run " + std::to_string(r.id) + ": " +
                             scheme.error().field + " " + scheme.error().message);
  r.scheme = std::move(*scheme);
  r.populations = populationsFromJson(row.get<std::string>(4));
  r.period_from = row.get<std::string>(5);
  r.period_until = row.get<std::string>(6);
  r.content_sha256 = row.get<std::string>(7);
  r.computed_by = row.get<std::string>(8);
  r.computed_at = fromEpochMs(store::rowInt64(row, 9));
  r.published_by = row.get<std::string>(10);
  if (auto at = store::rowOptionalInt64(row, 11)) r.published_at = fromEpochMs(*at);
  return r;
}

void loadCities(soci::session& sql, Run& run) {
  long long id = run.id;
  soci::rowset<soci::row> totals =
      (sql.prepare << "SELECT t.region_code, r.name_zh, r.name_en, t.city_rank, t.total_milli "
                      "FROM assessment_city_totals t JOIN regions r ON r.code = t.region_code "
                      "WHERE t.run_id = :id ORDER BY t.city_rank, t.region_code",
       soci::use(id));
  for (const auto& row : totals) {
    CityAssessment c;
    c.region_code = row.get<std::string>(0);
    c.name_zh = row.get<std::string>(1);
    c.name_en = row.get<std::string>(2);
    c.rank = static_cast<int>(store::rowInt64(row, 3));
    c.total_milli = store::rowInt64(row, 4);
    run.cities.push_back(std::move(c));
  }
  std::map<std::string, std::map<std::string, CityResult>> by_city;
  soci::rowset<soci::row> results =
      (sql.prepare << "SELECT region_code, indicator_key, figure_milli, score_milli, note, "
                      "source_json FROM assessment_results WHERE run_id = :id",
       soci::use(id));
  for (const auto& row : results) {
    CityResult r{row.get<std::string>(1), store::rowInt64(row, 2), store::rowInt64(row, 3),
                 row.get<std::string>(4), json::parse(row.get<std::string>(5))};
    by_city[row.get<std::string>(0)][r.indicator_key] = std::move(r);
  }
  for (auto& c : run.cities) {
    auto& found = by_city[c.region_code];
    for (const auto& i : run.scheme) {
      auto it = found.find(i.key);
      if (it != found.end()) c.results.push_back(std::move(it->second));
    }
  }
}

}  // namespace

std::optional<Scheme> findScheme(soci::session& sql, int year) {
  std::optional<Scheme> found;
  {
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT indicators_json, updated_by, updated_at_ms FROM "
                        "assessment_schemes WHERE year = :y",
         soci::use(year));
    for (const auto& row : rows) {
      Scheme s;
      s.year = year;
      auto indicators = indicatorsFromJson(json::parse(row.get<std::string>(0)));
      if (!indicators) throw std::runtime_error("stored scheme of " + std::to_string(year));
      s.indicators = std::move(*indicators);
      s.updated_by = row.get<std::string>(1);
      s.updated_at = fromEpochMs(store::rowInt64(row, 2));
      found = std::move(s);
    }
  }
  // Read once the scheme's statement is done: one statement at a time on the session.
  if (found) found->published = publishedRunId(sql, year).has_value();
  return found;
}

void upsertScheme(soci::session& sql, int year, const std::vector<SchemeIndicator>& indicators,
                  const std::string& actor, std::int64_t now_ms) {
  std::string text = indicatorsToJson(indicators).dump();
  long long now = now_ms;
  sql << "INSERT INTO assessment_schemes (year, indicators_json, updated_by, updated_at_ms) "
         "VALUES (:y, :i, :a, :t) ON CONFLICT (year) DO UPDATE SET indicators_json = "
         "excluded.indicators_json, updated_by = excluded.updated_by, updated_at_ms = "
         "excluded.updated_at_ms",
      soci::use(year), soci::use(text), soci::use(actor), soci::use(now);
}

std::vector<Population> findPopulations(soci::session& sql, int year) {
  std::vector<Population> out;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT region_code, residents, source, entered_by, entered_at_ms FROM "
                      "assessment_populations WHERE year = :y ORDER BY region_code",
       soci::use(year));
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), store::rowInt64(row, 1), row.get<std::string>(2),
                   row.get<std::string>(3), fromEpochMs(store::rowInt64(row, 4))});
  }
  return out;
}

void upsertPopulation(soci::session& sql, int year, const Population& p) {
  long long residents = p.residents, at = toEpochMs(p.entered_at);
  sql << "INSERT INTO assessment_populations (year, region_code, residents, source, entered_by, "
         "entered_at_ms) VALUES (:y, :r, :n, :s, :a, :t) ON CONFLICT (year, region_code) DO "
         "UPDATE SET residents = excluded.residents, source = excluded.source, entered_by = "
         "excluded.entered_by, entered_at_ms = excluded.entered_at_ms",
      soci::use(year), soci::use(p.region_code), soci::use(residents), soci::use(p.source),
      soci::use(p.entered_by), soci::use(at);
}

std::optional<std::int64_t> publishedRunId(soci::session& sql, int year) {
  long long id = 0;
  sql << "SELECT id FROM assessment_runs WHERE year = :y AND state = 'published'", soci::use(year),
      soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::int64_t insertRun(soci::session& sql, const Run& run, std::int64_t computed_at_ms) {
  long long id = 0, at = computed_at_ms;
  std::string scheme = indicatorsToJson(run.scheme).dump();
  std::string populations = populationsToJson(run.populations).dump();
  sql << "INSERT INTO assessment_runs (year, state, scheme_json, populations_json, period_from, "
         "period_until, content_sha256, computed_by, computed_at_ms) VALUES (:y, 'computed', :s, "
         ":p, :f, :u, :h, :by, :at) RETURNING id",
      soci::use(run.year), soci::use(scheme), soci::use(populations), soci::use(run.period_from),
      soci::use(run.period_until), soci::use(run.content_sha256), soci::use(run.computed_by),
      soci::use(at), soci::into(id);
  return id;
}

void insertCity(soci::session& sql, std::int64_t run_id, const CityAssessment& city) {
  long long id = run_id, total = city.total_milli;
  sql << "INSERT INTO assessment_city_totals (run_id, region_code, total_milli, city_rank) "
         "VALUES (:id, :r, :t, :k)",
      soci::use(id), soci::use(city.region_code), soci::use(total), soci::use(city.rank);
  for (const auto& r : city.results) {
    long long figure = r.figure_milli, score = r.score_milli;
    std::string source = r.source.dump();
    sql << "INSERT INTO assessment_results (run_id, region_code, indicator_key, figure_milli, "
           "score_milli, note, source_json) VALUES (:id, :r, :k, :f, :s, :n, :q)",
        soci::use(id), soci::use(city.region_code), soci::use(r.indicator_key), soci::use(figure),
        soci::use(score), soci::use(r.note), soci::use(source);
  }
}

std::optional<Run> findRun(soci::session& sql, std::int64_t id, bool with_cities, bool for_update) {
  long long key = id;
  std::string query = std::string(kRunColumns) + "WHERE id = :id";
  if (for_update && store::backendOf(sql) == store::Backend::kPostgresql) query += " FOR UPDATE";
  std::optional<Run> found;
  {
    soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(key));
    for (const auto& row : rows) found = runFromRow(row);
  }
  if (found && with_cities) loadCities(sql, *found);
  return found;
}

std::vector<Run> listRuns(soci::session& sql, int year, int limit) {
  std::vector<Run> out;
  std::string query =
      std::string(kRunColumns) + "WHERE year = :y ORDER BY id DESC LIMIT " + std::to_string(limit);
  soci::rowset<soci::row> rows = (sql.prepare << query, soci::use(year));
  for (const auto& row : rows) out.push_back(runFromRow(row));
  return out;
}

void setPublished(soci::session& sql, std::int64_t id, const std::string& actor,
                  std::int64_t now_ms) {
  long long key = id, now = now_ms;
  sql << "UPDATE assessment_runs SET state = 'published', published_by = :a, published_at_ms = "
         ":t WHERE id = :id AND state = 'computed'",
      soci::use(actor), soci::use(now), soci::use(key);
}

}  // namespace tph::assessment::detail
