#include "analytics/analytics_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>

#include "analytics/analytics_store.h"
#include "core/region_code.h"
#include "store/database.h"

namespace tph::analytics {

namespace {

std::string describe(const std::vector<std::int64_t>& figures,
                     const std::vector<const char*>& names) {
  std::string out;
  for (std::size_t i = 0; i < figures.size() && i < names.size(); ++i)
    out += (i ? " " : "") + std::string(names[i]) + "=" + std::to_string(figures[i]);
  return out;
}

//! Compares stored cells with the detail's; "" when they agree, else the first difference.
std::string compare(const char* table, const std::vector<detail::CellRow>& stored,
                    const std::vector<detail::CellRow>& recomputed,
                    const std::vector<const char*>& names, std::int64_t& checked) {
  std::map<std::string, const std::vector<std::int64_t>*> a, b;
  for (const auto& c : stored) a[c.key] = &c.figures;
  for (const auto& c : recomputed) b[c.key] = &c.figures;
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    ++checked;
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first))
      return std::string(table) + " cell " + ia->first + ": stored " +
             describe(*ia->second, names) + ", the detail has no such cell";
    if (ia == a.end() || ib->first < ia->first)
      return std::string(table) + " cell " + ib->first + ": missing, the detail has " +
             describe(*ib->second, names);
    if (*ia->second != *ib->second)
      return std::string(table) + " cell " + ia->first + ": stored " +
             describe(*ia->second, names) + ", the detail has " + describe(*ib->second, names);
    ++ia;
    ++ib;
  }
  return "";
}

}  // namespace

Result<CheckReport> AnalyticsService::check() {
  // One snapshot for the stored rollups and the detail, so batches committed meanwhile cannot show
  // as a difference.
  return db_.transaction([&](soci::session& sql) -> Result<CheckReport> {
    if (store::backendOf(sql) == store::Backend::kPostgresql)
      sql << "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
    CheckReport report;
    auto differs =
        compare("stats_daily", detail::storedDailyCells(sql), detail::detailDailyCells(sql),
                {"records", "subjects", "grams", "points"}, report.cells_checked);
    if (differs.empty()) {
      differs = compare("stats_enterprise_daily", detail::storedEnterpriseCells(sql),
                        detail::detailEnterpriseCells(sql), {"records", "grams", "points"},
                        report.cells_checked);
    }
    if (differs.empty()) {
      differs = compare("stats_enterprise_monthly", detail::storedEnterpriseMonths(sql),
                        detail::derivedEnterpriseMonths(sql),
                        {"records", "grams", "points", "subject_days"}, report.cells_checked);
    }
    if (differs.empty()) {
      differs = compare("stats_industry_daily/stats_industry_monthly",
                        detail::storedIndustryCells(sql), detail::derivedIndustryCells(sql),
                        {"records", "subjects", "grams", "points"}, report.cells_checked);
    }
    if (differs.empty()) {
      differs = compare("stats_daily_area/stats_monthly_area", detail::storedAreaCells(sql),
                        detail::derivedAreaCells(sql),
                        {"records", "subjects", "grams", "points", "max_cell_subjects"},
                        report.cells_checked);
    }
    if (differs.empty()) {
      differs = compare("stats_participation", detail::storedParticipation(sql),
                        detail::detailParticipation(sql), {"subjects", "new_subjects"},
                        report.cells_checked);
    }
    report.consistent = differs.empty();
    report.first_difference = differs;
    return report;
  });
}

std::optional<Interval> parseInterval(const std::string& text) {
  if (text == "day") return Interval::kDay;
  if (text == "week") return Interval::kWeek;
  if (text == "month") return Interval::kMonth;
  if (text == "year") return Interval::kYear;
  return std::nullopt;
}

namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr int kMaxSpanDays = 3 * 366;

std::optional<year_month_day> parseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3)
    return std::nullopt;
  year_month_day day{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!day.ok()) return std::nullopt;
  return day;
}

//! The ISO 8601 week of a day, e.g. 2026-W09: weeks start on Monday and belong to the year of
//! their Thursday.
std::string isoWeek(year_month_day d) {
  sys_days day{d};
  std::chrono::weekday wd{day};
  int from_monday = static_cast<int>(wd.iso_encoding()) - 1;
  sys_days thursday = day - std::chrono::days(from_monday) + std::chrono::days(3);
  year_month_day t{thursday};
  sys_days jan1{t.year() / std::chrono::January / 1};
  int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(t.year()), week);
  return buf;
}

std::string bucketOf(const std::string& day, Interval interval) {
  switch (interval) {
    case Interval::kDay:
      return day;
    case Interval::kWeek:
      return isoWeek(*parseDay(day));
    case Interval::kMonth:
      return day.substr(0, 7);
    case Interval::kYear:
      return day.substr(0, 4);
  }
  return day;
}

bool plainName(const std::string& s) {
  if (s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

//! Checks the filter's shape and fills defaults: the last 30 days, the province.
Result<StatsFilter> normalise(StatsFilter f) {
  if (f.to_day.empty()) f.to_day = f.from_day.empty() ? "" : f.from_day;
  auto to = f.to_day.empty() ? std::optional<year_month_day>() : parseDay(f.to_day);
  if (!f.to_day.empty() && !to) return Error::invalid("to", "to must be a day, YYYY-MM-DD");
  auto from = f.from_day.empty() ? std::optional<year_month_day>() : parseDay(f.from_day);
  if (!f.from_day.empty() && !from) return Error::invalid("from", "from must be a day, YYYY-MM-DD");
  if (!from || !to) return Error::invalid("from", "from (and to) are required, YYYY-MM-DD");
  auto span = (sys_days{*to} - sys_days{*from}).count();
  if (span < 0) return Error::invalid("to", "to must not be before from");
  if (span >= kMaxSpanDays)
    return Error::invalid("to", "a query spans at most " + std::to_string(kMaxSpanDays) + " days");
  if (f.region.empty()) f.region = "440000";
  if (!isRegionCode(f.region) || f.region.rfind("44", 0) != 0)
    return Error::invalid("region", "region must be a GB/T 2260 code in Guangdong (44xxxx)");
  if (!plainName(f.domain)) return Error::invalid("domain", "domain is not a domain name");
  if (!plainName(f.methodology))
    return Error::invalid("methodology", "methodology is not a methodology id");
  if (!f.subject_kind.empty() && f.subject_kind != "person" && f.subject_kind != "household" &&
      f.subject_kind != "enterprise")
    return Error::invalid("subject_kind", "subject_kind is person, household or enterprise");
  if (!f.industry.empty()) {
    bool ok = f.industry.size() == 1 || f.industry.size() == 3;
    ok = ok && f.industry[0] >= 'A' && f.industry[0] <= 'T';
    if (ok && f.industry.size() == 3)
      ok = std::isdigit(static_cast<unsigned char>(f.industry[1])) &&
           std::isdigit(static_cast<unsigned char>(f.industry[2]));
    if (!ok)
      return Error::invalid("industry",
                            "industry is a GB/T 4754 section letter A-T, optionally with its "
                            "two-digit division (C or C26)");
    if (!f.subject_kind.empty() && f.subject_kind != "enterprise")
      return Error::invalid("industry", "only enterprises have an industry");
  }
  return f;
}

std::int64_t shanghaiMidnightMs(year_month_day d) {
  auto utc = sys_days{d}.time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(utc).count() - 8LL * 3'600'000;
}

void add(StatsFigures& to, const StatsFigures& from) {
  to.records += from.records;
  to.grams += from.grams;
  to.points += from.points;
  to.subject_days += from.subject_days;
}

}  // namespace

Status AnalyticsService::authorize(const std::optional<auth::Principal>& caller,
                                   const StatsFilter& filter) const {
  bool detailed = (!filter.region.empty() && regionLevel(filter.region) == RegionLevel::kCounty) ||
                  !filter.industry.empty();
  if (!detailed) return {};
  if (!caller) {
    return Error::forbidden(
        "the public portal shows the province and cities; counties and industries are for the "
        "region and province consoles",
        filter.industry.empty() ? "region" : "industry");
  }
  if (!caller->administersRegion(filter.region.empty() ? "440000" : filter.region))
    return Error::forbidden("you do not administer region " + filter.region, "region");
  return {};
}

namespace {

//! Applies public suppression to one figure: a figure about one city (or a county, which only its
//! administrators see) is withheld from a caller who does not administer that region unless its
//! largest single county cell has at least kPublicMinSubjects distinct subjects.
void suppressSmall(const std::optional<auth::Principal>& caller, const std::string& region,
                   std::int64_t subjects_lower_bound, StatsFigures& figures) {
  if (region.empty() || regionLevel(region) == RegionLevel::kProvince) return;
  if (caller && caller->administersRegion(region)) return;
  if (subjects_lower_bound >= kPublicMinSubjects) return;
  figures = {};
  figures.suppressed = true;
}

}  // namespace

Result<StatsFigures> AnalyticsService::totals(const std::optional<auth::Principal>& caller,
                                              const StatsFilter& filter) {
  auto f = normalise(filter);
  if (!f) return f.error();
  TPH_TRY(authorize(caller, *f));
  return db_.read([&](soci::session& sql) -> Result<StatsFigures> {
    StatsFigures total;
    std::int64_t bound = 0;
    for (const auto& row : detail::grouped(sql, *f, detail::GroupBy::kAll, true, "1", 0)) {
      add(total, row.figures);
      bound = std::max(bound, row.subjects_lower_bound);
    }
    // An empty slice reveals nothing about anyone.
    if (total.records > 0) suppressSmall(caller, f->region, bound, total);
    return total;
  });
}

Result<std::vector<SeriesPoint>> AnalyticsService::series(
    const std::optional<auth::Principal>& caller, const StatsFilter& filter, Interval interval) {
  auto f = normalise(filter);
  if (!f) return f.error();
  TPH_TRY(authorize(caller, *f));
  bool months_ok = interval == Interval::kMonth || interval == Interval::kYear;
  auto rows = db_.read([&](soci::session& sql) {
    return detail::grouped(sql, *f, detail::GroupBy::kPeriod, months_ok, "1", 0);
  });
  std::vector<SeriesPoint> out;
  std::vector<std::int64_t> bounds;
  for (const auto& row : rows) {
    // A key is a day, or a month (YYYY-MM) read from the monthly rollup.
    auto bucket = row.key.size() == 7
                      ? (interval == Interval::kYear ? row.key.substr(0, 4) : row.key)
                      : bucketOf(row.key, interval);
    if (out.empty() || out.back().bucket != bucket) {
      out.push_back({bucket, {}});
      bounds.push_back(0);
    }
    add(out.back().figures, row.figures);
    bounds.back() = std::max(bounds.back(), row.subjects_lower_bound);
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    suppressSmall(caller, f->region, bounds[i], out[i].figures);
  return out;
}

Result<std::vector<RankedRow>> AnalyticsService::top(const std::optional<auth::Principal>& caller,
                                                     const StatsFilter& filter,
                                                     const std::string& by, int n) {
  if (n < 1 || n > kTopMax) return Error::invalid("n", "n must be 1-" + std::to_string(kTopMax));
  auto f = normalise(filter);
  if (!f) return f.error();
  TPH_TRY(authorize(caller, *f));
  detail::GroupBy group;
  if (by == "region") {
    // The children of the filter's region: cities of the province, counties of a city.
    auto level = regionLevel(f->region);
    if (level == RegionLevel::kCounty)
      return Error::invalid("by", "a county has no smaller regions to rank");
    if (level == RegionLevel::kCity) {
      StatsFilter county = *f;
      county.region = "440101";  // any county: ranking counties is county-level detail
      if (!caller)
        TPH_TRY(authorize(caller, county));
      else if (!caller->administersRegion(f->region))
        return Error::forbidden("you do not administer region " + f->region, "region");
    }
    group = detail::GroupBy::kRegion;
  } else if (by == "methodology") {
    group = detail::GroupBy::kMethodology;
  } else if (by == "domain") {
    group = detail::GroupBy::kDomain;
  } else if (by == "industry") {
    StatsFilter industry = *f;
    industry.industry = "C";
    TPH_TRY(authorize(caller, industry));
    group = detail::GroupBy::kIndustry;
  } else {
    return Error::invalid("by", "by is region, methodology, domain or industry");
  }
  auto rows = db_.read([&](soci::session& sql) {
    return detail::grouped(sql, *f, group, true, "g.grams DESC, g.k", n);
  });
  std::vector<RankedRow> out;
  for (auto& r : rows) {
    RankedRow ranked{r.key, r.name, r.figures};
    if (group != detail::GroupBy::kIndustry)
      suppressSmall(caller, group == detail::GroupBy::kRegion ? r.key : f->region,
                    r.subjects_lower_bound, ranked.figures);
    out.push_back(std::move(ranked));
  }
  // Withheld rows go last, so their rank does not hint at their size.
  std::stable_partition(out.begin(), out.end(),
                        [](const RankedRow& r) { return !r.figures.suppressed; });
  return out;
}

Result<std::vector<ParticipationPoint>> AnalyticsService::participation(const StatsFilter& filter,
                                                                        Interval interval) {
  auto f = normalise(filter);
  if (!f) return f.error();
  if (interval != Interval::kDay && interval != Interval::kMonth)
    return Error::invalid("interval", "participation is counted per day or per month");
  std::string prefix = interval == Interval::kDay ? "d:" : "m:";
  std::string from = prefix + (interval == Interval::kDay ? f->from_day : f->from_day.substr(0, 7));
  std::string to = prefix + (interval == Interval::kDay ? f->to_day : f->to_day.substr(0, 7));
  return db_.read([&](soci::session& sql) -> Result<std::vector<ParticipationPoint>> {
    return detail::participationRows(sql, from, to);
  });
}

Result<IssuanceFigures> AnalyticsService::issuance(const StatsFilter& filter) {
  auto f = normalise(filter);
  if (!f) return f.error();
  auto from_ms = shanghaiMidnightMs(*parseDay(f->from_day));
  auto to_ms =
      shanghaiMidnightMs(year_month_day{sys_days{*parseDay(f->to_day)} + std::chrono::days(1)});
  return db_.read([&](soci::session& sql) -> Result<IssuanceFigures> {
    return detail::issuanceFigures(sql, f->region, from_ms, to_ms);
  });
}

Result<std::int64_t> AnalyticsService::participants(const std::optional<auth::Principal>& caller,
                                                    const StatsFilter& filter) {
  auto f = normalise(filter);
  if (!f) return f.error();
  TPH_TRY(authorize(caller, *f));
  return db_.read([&](soci::session& sql) -> Result<std::int64_t> {
    return detail::participantsUpTo(sql, f->region, f->to_day);
  });
}

Result<std::int64_t> AnalyticsService::pointsRedeemed(const std::optional<auth::Principal>& caller,
                                                      const StatsFilter& filter) {
  auto f = normalise(filter);
  if (!f) return f.error();
  TPH_TRY(authorize(caller, *f));
  auto from_ms = shanghaiMidnightMs(*parseDay(f->from_day));
  auto to_ms =
      shanghaiMidnightMs(year_month_day{sys_days{*parseDay(f->to_day)} + std::chrono::days(1)});
  return db_.read([&](soci::session& sql) -> Result<std::int64_t> {
    return detail::pointsRedeemed(sql, f->region, from_ms, to_ms);
  });
}

Result<std::vector<OpenDataCell>> AnalyticsService::openData(const StatsFilter& filter) {
  auto f = normalise(filter);
  if (!f) return f.error();
  if (!f->industry.empty() || !f->subject_kind.empty())
    return Error::invalid("industry", "the open dataset is by city, domain and methodology only");
  if (regionLevel(f->region) == RegionLevel::kCounty)
    return Error::invalid("region", "the open dataset goes down to cities, not counties");
  auto span = (sys_days{*parseDay(f->to_day)} - sys_days{*parseDay(f->from_day)}).count();
  if (span >= kOpenDataMaxDays)
    return Error::invalid(
        "to", "one request covers at most " + std::to_string(kOpenDataMaxDays) + " days");
  auto cells = db_.read([&](soci::session& sql) { return detail::openDataCells(sql, *f); });
  for (auto& c : cells) {
    if (c.subjects < kOpenDataMinSubjects) {
      c.suppressed = true;
      c.records = c.subjects = c.grams = 0;
    }
  }
  return cells;
}

}  // namespace tph::analytics
