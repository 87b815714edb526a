#include "assessment/assessment_service.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "assessment/assessment_report.h"
#include "assessment/assessment_sources.h"
#include "assessment/assessment_store.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "region/region_service.h"
#include "store/database.h"

namespace tph::assessment {

namespace {

using nlohmann::json;

Status checkYear(int year) {
  if (year < 2000 || year > 2100) return Error::invalid("year", "must be 2000 to 2100");
  return {};
}

Status provinceOnly(const auth::Principal& caller, const std::string& what) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin)) {
    return Error::forbidden("only the province " + what);
  }
  return {};
}

//! A figure given as a JSON number with at most three decimals, in thousandths.
Result<std::int64_t> milliOf(const json& object, const std::string& key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) {
    return Error::invalid(where + key, "must be a number");
  }
  if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v < 0 || v > kMaxRuleValueMilli / 1000) {
      return Error::invalid(where + key, "must be 0 to 10^12");
    }
    return v * 1000;
  }
  double v = it->get<double>();
  if (!std::isfinite(v) || v < 0 || v > static_cast<double>(kMaxRuleValueMilli / 1000)) {
    return Error::invalid(where + key, "must be 0 to 10^12");
  }
  double scaled = v * 1000;
  double rounded = std::round(scaled);
  if (std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) {
    return Error::invalid(where + key, "has more than three decimals");
  }
  return static_cast<std::int64_t>(rounded);
}

json milliJson(std::int64_t milli) {
  if (milli % 1000 == 0) return milli / 1000;
  return static_cast<double>(milli) / 1000.0;
}

Result<ScoringRule> ruleFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Error::invalid(where, "must be an object");
  ScoringRule rule;
  auto kind = j.find("kind");
  if (kind == j.end() || !kind->is_string() || (*kind != "linear" && *kind != "bands")) {
    return Error::invalid(where + ".kind", "must be linear or bands");
  }
  rule.kind = kind->get<std::string>();
  if (rule.kind == "linear") {
    TPH_TRY_ASSIGN(floor, milliOf(j, "floor", where + "."));
    TPH_TRY_ASSIGN(full, milliOf(j, "full", where + "."));
    if (full <= floor) return Error::invalid(where + ".full", "must be above floor");
    rule.floor_milli = floor;
    rule.full_milli = full;
    return rule;
  }
  auto bands = j.find("bands");
  if (bands == j.end() || !bands->is_array() || bands->empty() || bands->size() > kMaxBands) {
    return Error::invalid(where + ".bands",
                          "must list 1 to " + std::to_string(kMaxBands) + " bands");
  }
  for (std::size_t i = 0; i < bands->size(); ++i) {
    std::string at = where + ".bands[" + std::to_string(i) + "]";
    const auto& b = (*bands)[i];
    if (!b.is_object()) return Error::invalid(at, "must be an object");
    TPH_TRY_ASSIGN(min, milliOf(b, "min", at + "."));
    auto percent = b.find("percent");
    if (percent == b.end() || !percent->is_number_integer() || percent->get<int>() < 0 ||
        percent->get<int>() > 100) {
      return Error::invalid(at + ".percent", "must be a whole number from 0 to 100");
    }
    if (!rule.bands.empty() && min <= rule.bands.back().min_milli) {
      return Error::invalid(at + ".min", "must be above the previous band's min");
    }
    rule.bands.push_back({min, percent->get<int>()});
  }
  return rule;
}

json ruleToJson(const ScoringRule& rule) {
  if (rule.kind == "linear") {
    return {{"kind", "linear"},
            {"floor", milliJson(rule.floor_milli)},
            {"full", milliJson(rule.full_milli)}};
  }
  json bands = json::array();
  for (const auto& b : rule.bands) {
    bands.push_back({{"min", milliJson(b.min_milli)}, {"percent", b.percent}});
  }
  return {{"kind", "bands"}, {"bands", bands}};
}

Result<Run> runNotFound(std::int64_t id) {
  return Error::notFound("no assessment run " + std::to_string(id), "id");
}

json runDigestJson(const Run& run) {
  json cities = json::array();
  for (const auto& c : run.cities) {
    json results = json::array();
    for (const auto& r : c.results) {
      results.push_back({r.indicator_key, r.figure_milli, r.score_milli, r.source});
    }
    cities.push_back({{"region", c.region_code},
                      {"rank", c.rank},
                      {"total_milli", c.total_milli},
                      {"results", results}});
  }
  json populations = json::array();
  for (const auto& p : run.populations) {
    populations.push_back({p.region_code, p.residents, p.source});
  }
  return {{"year", run.year},
          {"period", {run.period_from, run.period_until}},
          {"scheme", indicatorsToJson(run.scheme)},
          {"populations", populations},
          {"cities", cities}};
}

bool schemeUses(const std::vector<SchemeIndicator>& scheme, const std::string& key) {
  return std::any_of(scheme.begin(), scheme.end(),
                     [&](const SchemeIndicator& i) { return i.key == key; });
}

}  // namespace

const std::vector<IndicatorInfo>& indicatorCatalogue() {
  static const std::vector<IndicatorInfo> catalogue = {
      {"pilot_status", "试点状态（年内为试点的天数）", "Pilot status (days a pilot in the year)",
       "days"},
      {"target_progress", "试点年度目标完成度", "Progress against the pilot's yearly targets",
       "percent"},
      {"tonnes_certified", "核证减排量（年内签发 PHCER）", "Tonnes certified (PHCER issued)",
       "tCO2e"},
      {"participants_per_10k", "每万常住人口参与人数", "Participants per 10,000 residents",
       "per_10k"},
      {"merchants", "低碳商家联盟商家数", "Merchants in the alliance", "merchants"},
      {"methodologies_submitted", "提交的方法学", "Methodologies submitted", "versions"},
      {"methodologies_approved", "获批的方法学", "Methodologies approved", "versions"},
      {"data_linkage", "数据链接完整度", "Data linkage completeness", "percent"},
  };
  return catalogue;
}

const IndicatorInfo* findIndicator(const std::string& key) {
  for (const auto& i : indicatorCatalogue()) {
    if (i.key == key) return &i;
  }
  return nullptr;
}

Result<std::vector<SchemeIndicator>> indicatorsFromJson(const json& j) {
  if (!j.is_array() || j.empty() || j.size() > indicatorCatalogue().size()) {
    return Error::invalid("indicators", "must list 1 to " +
                                            std::to_string(indicatorCatalogue().size()) +
                                            " indicators of the catalogue");
  }
  std::vector<SchemeIndicator> out;
  std::set<std::string> keys;
  int weights = 0;
  for (std::size_t i = 0; i < j.size(); ++i) {
    std::string where = "indicators[" + std::to_string(i) + "]";
    const auto& item = j[i];
    if (!item.is_object()) return Error::invalid(where, "must be an object");
    auto key = item.find("key");
    if (key == item.end() || !key->is_string() || !findIndicator(key->get<std::string>())) {
      return Error::invalid(where + ".key", "must be an indicator of the catalogue");
    }
    if (!keys.insert(key->get<std::string>()).second) {
      return Error::invalid(where + ".key", "is listed twice");
    }
    auto weight = item.find("weight");
    if (weight == item.end() || !weight->is_number_integer() || weight->get<int>() < 1 ||
        weight->get<int>() > 100) {
      return Error::invalid(where + ".weight", "must be a whole number from 1 to 100");
    }
    auto rule = item.find("rule");
    if (rule == item.end()) return Error::invalid(where + ".rule", "is required");
    TPH_TRY_ASSIGN(parsed, ruleFromJson(*rule, where + ".rule"));
    weights += weight->get<int>();
    out.push_back({key->get<std::string>(), weight->get<int>(), std::move(parsed)});
  }
  if (weights != 100) {
    return Error::invalid("indicators", "weights must sum to 100, not " + std::to_string(weights));
  }
  return out;
}

json indicatorsToJson(const std::vector<SchemeIndicator>& indicators) {
  json out = json::array();
  for (const auto& i : indicators) {
    out.push_back({{"key", i.key}, {"weight", i.weight}, {"rule", ruleToJson(i.rule)}});
  }
  return out;
}

std::int64_t scoreMilli(const ScoringRule& rule, int weight, std::int64_t figure_milli) {
  const std::int64_t full_score = static_cast<std::int64_t>(weight) * 1000;
  if (rule.kind == "linear") {
    if (figure_milli <= rule.floor_milli) return 0;
    if (figure_milli >= rule.full_milli) return full_score;
    auto scaled = static_cast<__int128>(full_score) * (figure_milli - rule.floor_milli) /
                  (rule.full_milli - rule.floor_milli);
    return static_cast<std::int64_t>(scaled);
  }
  int percent = 0;
  for (const auto& b : rule.bands) {
    if (figure_milli >= b.min_milli) percent = b.percent;
  }
  return full_score * percent / 100;
}

void rankCities(std::vector<CityAssessment>& cities) {
  std::sort(cities.begin(), cities.end(), [](const CityAssessment& a, const CityAssessment& b) {
    if (a.total_milli != b.total_milli) return a.total_milli > b.total_milli;
    return a.region_code < b.region_code;
  });
  for (std::size_t i = 0; i < cities.size(); ++i) {
    bool tied = i > 0 && cities[i].total_milli == cities[i - 1].total_milli;
    cities[i].rank = tied ? cities[i - 1].rank : static_cast<int>(i) + 1;
  }
}

Result<Scheme> AssessmentService::scheme(const auth::Principal& caller, int year) {
  TPH_TRY(provinceOnly(caller, "reads the assessment scheme"));
  TPH_TRY(checkYear(year));
  auto found = db_.read([&](soci::session& sql) { return detail::findScheme(sql, year); });
  if (!found) return Error::notFound("no assessment scheme for " + std::to_string(year), "year");
  return *found;
}

Result<Scheme> AssessmentService::setScheme(const auth::Principal& caller, int year,
                                            const std::vector<SchemeIndicator>& indicators) {
  TPH_TRY(provinceOnly(caller, "sets the assessment scheme"));
  TPH_TRY(checkYear(year));
  return db_.transaction([&](soci::session& sql) -> Result<Scheme> {
    if (detail::publishedRunId(sql, year)) {
      return Error::conflict("the " + std::to_string(year) + " assessment is published", "year");
    }
    auto now_ms = toEpochMs(clock_.now());
    detail::upsertScheme(sql, year, indicators, caller.auditActor(), now_ms);
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "assessment.scheme.set",
                             "assessment_scheme:" + std::to_string(year),
                             {{"indicators", indicatorsToJson(indicators)}}});
    return *detail::findScheme(sql, year);
  });
}

Result<std::vector<Population>> AssessmentService::populations(const auth::Principal& caller,
                                                               int year) {
  TPH_TRY(provinceOnly(caller, "reads the populations"));
  TPH_TRY(checkYear(year));
  return db_.read([&](soci::session& sql) { return detail::findPopulations(sql, year); });
}

Result<std::vector<Population>> AssessmentService::setPopulations(
    const auth::Principal& caller, int year, const std::vector<Population>& entries) {
  TPH_TRY(provinceOnly(caller, "sets the populations"));
  TPH_TRY(checkYear(year));
  if (entries.empty()) return Error::invalid("populations", "must list at least one city");
  std::set<std::string> cities;
  for (const auto& r : region::RegionService(db_, clock_).list()) {
    if (r.level == "city") cities.insert(r.code);
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    std::string where = "populations[" + std::to_string(i) + "].";
    if (!cities.count(e.region_code)) {
      return Error::invalid(where + "region", "must be a prefecture-level city of Guangdong");
    }
    if (!seen.insert(e.region_code).second)
      return Error::invalid(where + "region", "is listed twice");
    if (e.residents < 1 || e.residents > kMaxResidents) {
      return Error::invalid(where + "residents", "must be 1 to 1000000000");
    }
    if (e.source.empty() || e.source.size() > kMaxSourceBytes) {
      return Error::invalid(where + "source", "must name the statistics it comes from (1 to " +
                                                  std::to_string(kMaxSourceBytes) + " bytes)");
    }
  }
  return db_.transaction([&](soci::session& sql) -> Result<std::vector<Population>> {
    if (detail::publishedRunId(sql, year)) {
      return Error::conflict("the " + std::to_string(year) + " assessment is published", "year");
    }
    json logged = json::array();
    for (auto e : entries) {
      e.entered_by = caller.auditActor();
      e.entered_at = clock_.now();
      detail::upsertPopulation(sql, year, e);
      logged.push_back(
          {{"region", e.region_code}, {"residents", e.residents}, {"source", e.source}});
    }
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "assessment.populations.set",
                             "assessment_populations:" + std::to_string(year),
                             {{"populations", logged}}});
    return detail::findPopulations(sql, year);
  });
}

Result<Run> AssessmentService::compute(const auth::Principal& caller, int year) {
  TPH_TRY(provinceOnly(caller, "computes the assessment"));
  TPH_TRY(checkYear(year));
  try {
    return computeOnce(caller, year);
  } catch (const std::exception& e) {
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict("the assessment changed while computing; try again", "year");
  }
}

Result<Run> AssessmentService::computeOnce(const auth::Principal& caller, int year) {
  auto period = detail::periodOf(year, clock_.now());
  if (!period) return Error::invalid("year", "no day of " + std::to_string(year) + " has ended");
  auto [scheme, populations, published] = db_.read([&](soci::session& sql) {
    return std::tuple(detail::findScheme(sql, year), detail::findPopulations(sql, year),
                      detail::publishedRunId(sql, year));
  });
  if (published) {
    return Error::conflict("the " + std::to_string(year) + " assessment is published", "year");
  }
  if (!scheme) {
    return Error::invalid("year", "the province has set no scheme for " + std::to_string(year));
  }
  std::vector<region::Region> cities;
  for (const auto& r : region::RegionService(db_, clock_).list()) {
    if (r.level == "city") cities.push_back(r);
  }
  if (cities.empty()) return Error::invalid("year", "the region tree has no cities; run migrate");
  std::map<std::string, Population> residents;
  for (const auto& p : populations) residents[p.region_code] = p;
  if (schemeUses(scheme->indicators, "participants_per_10k")) {
    for (const auto& c : cities) {
      if (!residents.count(c.code)) {
        return Error::invalid("populations." + c.code,
                              c.name_zh + " has no resident population for " +
                                  std::to_string(year) +
                                  "; participants per 10,000 residents cannot be computed");
      }
    }
  }

  Run run;
  run.year = year;
  run.state = "computed";
  run.scheme = scheme->indicators;
  run.populations = populations;
  run.period_from = period->from_day;
  run.period_until = period->until_day;
  run.computed_by = caller.auditActor();
  run.computed_at = clock_.now();
  detail::CitySources sources(db_, clock_, caller, *period);
  for (const auto& c : cities) {
    CityAssessment city{c.code, c.name_zh, c.name_en, 0, 0, {}};
    for (const auto& indicator : run.scheme) {
      std::optional<Population> population;
      if (auto it = residents.find(c.code); it != residents.end()) population = it->second;
      auto figure = sources.measure(indicator.key, c.code, population);
      auto score = scoreMilli(indicator.rule, indicator.weight, figure.figure_milli);
      city.total_milli += score;
      city.results.push_back({indicator.key, figure.figure_milli, score, std::move(figure.note),
                              std::move(figure.source)});
    }
    run.cities.push_back(std::move(city));
  }
  rankCities(run.cities);
  run.content_sha256 = sha256Hex(runDigestJson(run).dump());

  return db_.transaction([&](soci::session& sql) -> Result<Run> {
    if (detail::publishedRunId(sql, year)) {
      return Error::conflict("the " + std::to_string(year) + " assessment is published", "year");
    }
    run.id = detail::insertRun(sql, run, toEpochMs(run.computed_at));
    for (const auto& c : run.cities) detail::insertCity(sql, run.id, c);
    json ranking = json::array();
    for (const auto& c : run.cities) ranking.push_back({c.region_code, c.rank, c.total_milli});
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "assessment.run.compute",
                             "assessment_run:" + std::to_string(run.id),
                             {{"year", year},
                              {"period", {run.period_from, run.period_until}},
                              {"content_sha256", run.content_sha256},
                              {"ranking", ranking}}});
    return *detail::findRun(sql, run.id, true, false);
  });
}

Result<std::vector<Run>> AssessmentService::runs(const auth::Principal& caller, int year) {
  TPH_TRY(provinceOnly(caller, "lists assessment runs"));
  TPH_TRY(checkYear(year));
  return db_.read([&](soci::session& sql) { return detail::listRuns(sql, year, kMaxRunsListed); });
}

Result<Run> AssessmentService::run(const auth::Principal* caller, std::int64_t id) {
  auto found = db_.read([&](soci::session& sql) { return detail::findRun(sql, id, true, false); });
  bool province = caller && caller->hasRole(auth::Role::kProvinceAdmin);
  if (!found || (found->state != "published" && !province)) return runNotFound(id);
  return *found;
}

Result<Run> AssessmentService::publish(const auth::Principal& caller, std::int64_t id) {
  TPH_TRY(provinceOnly(caller, "publishes the assessment"));
  try {
    return db_.transaction([&](soci::session& sql) -> Result<Run> {
      auto found = detail::findRun(sql, id, false, true);
      if (!found) return runNotFound(id);
      if (found->state == "published")
        return Error::conflict("the run is published already", "state");
      if (auto other = detail::publishedRunId(sql, found->year)) {
        return Error::conflict("run " + std::to_string(*other) + " of " +
                                   std::to_string(found->year) + " is published already",
                               "year");
      }
      detail::setPublished(sql, id, caller.auditActor(), toEpochMs(clock_.now()));
      audit::appendAuditEvent(sql, clock_,
                              {caller.auditActor(),
                               "assessment.run.publish",
                               "assessment_run:" + std::to_string(id),
                               {{"year", found->year}, {"content_sha256", found->content_sha256}}});
      return *detail::findRun(sql, id, true, false);
    });
  } catch (const std::exception& e) {
    if (!store::isUniqueViolation(e)) throw;
    return Error::conflict("another run of the year was published at the same moment", "year");
  }
}

Result<Run> AssessmentService::published(int year) {
  TPH_TRY(checkYear(year));
  auto found = db_.read([&](soci::session& sql) -> std::optional<Run> {
    auto id = detail::publishedRunId(sql, year);
    if (!id) return std::nullopt;
    return detail::findRun(sql, *id, true, false);
  });
  if (!found) {
    return Error::notFound("the " + std::to_string(year) + " assessment is not published", "year");
  }
  return *found;
}

Result<CityAssessment> AssessmentService::city(const auth::Principal& caller, std::int64_t run_id,
                                               const std::string& region_code) {
  bool province = caller.hasRole(auth::Role::kProvinceAdmin);
  if (!province && !caller.actsInRegion(auth::Role::kRegionAdmin, region_code)) {
    return Error::forbidden("only the province and the city's admins see a city's assessment");
  }
  TPH_TRY_ASSIGN(found, run(&caller, run_id));
  for (auto& c : found.cities) {
    if (c.region_code == region_code) return std::move(c);
  }
  return Error::notFound("no city " + region_code + " in run " + std::to_string(run_id), "region");
}

Result<std::string> AssessmentService::reportXlsx(const auth::Principal* caller,
                                                  std::int64_t run_id) {
  TPH_TRY_ASSIGN(found, run(caller, run_id));
  return detail::reportXlsx(found);
}

Result<std::string> AssessmentService::reportPdf(const auth::Principal* caller,
                                                 std::int64_t run_id) {
  TPH_TRY_ASSIGN(found, run(caller, run_id));
  return detail::reportPdf(found);
}

}  // namespace tph::assessment
