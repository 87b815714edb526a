#include "assessment/assessment_sources.h"

#include <algorithm>

#include "assessment/assessment_report.h"
#include "core/region_code.h"
#include "incentive/merchant_stats.h"
#include "ingest/reduction_stats.h"
#include "link/link_stats.h"
#include "methodology/version_stats.h"
#include "pilot/pilot_service.h"
#include "registry/issuance_stats.h"

namespace tph::assessment::detail {

namespace {

using nlohmann::json;
constexpr std::int64_t kDayMs = 24 * 60 * 60 * 1000;

std::string pattern(const std::string& region) {
  return regionPrefix(region) + "%";
}

json reductionTotalsSource(const std::string& region, const Period& p) {
  return {
      {"query", "ingest.reduction_totals"},
      {"function", "ingest::ReductionStats::totals"},
      {"params", {{"region_code", region}, {"from_day", p.from_day}, {"until_day", p.until_day}}},
      {"sql",
       "SELECT COUNT(*), COUNT(DISTINCT account_id), SUM(grams), COUNT(DISTINCT "
       "methodology_id), COUNT(DISTINCT provider_id) FROM reductions WHERE day >= :from_day "
       "AND day <= :until_day AND region_code LIKE :region"},
      {"bind",
       {{"region", pattern(region)}, {"from_day", p.from_day}, {"until_day", p.until_day}}}};
}

json merchantsSource(const std::string& region, std::int64_t until_ms) {
  return {{"query", "incentive.approved_merchants_before"},
          {"function", "incentive::approvedMerchantsBefore"},
          {"params", {{"region_code", region}, {"until", formatIso8601(fromEpochMs(until_ms))}}},
          {"sql",
           "SELECT COUNT(*) FROM merchants WHERE region_code LIKE :region AND status = 'approved' "
           "AND decided_at_ms < :until"},
          {"bind", {{"region", pattern(region)}, {"until", until_ms}}}};
}

}  // namespace

std::optional<Period> periodOf(int year, Instant now) {
  std::string y = std::to_string(year);
  auto start = shanghaiDayStart(y + "-01-01");
  auto next_year = shanghaiDayStart(std::to_string(year + 1) + "-01-01");
  if (!start || !next_year) return std::nullopt;
  auto today = shanghaiDayStart(shanghaiDay(now));
  Instant until = std::min(*next_year, *today);
  if (until <= *start) return std::nullopt;
  Period p;
  p.year = year;
  p.from_day = y + "-01-01";
  p.until_day = shanghaiDay(until - std::chrono::milliseconds(kDayMs));
  p.from_ms = toEpochMs(*start);
  p.until_ms = toEpochMs(until);
  p.days = (p.until_ms - p.from_ms + kDayMs / 2) / kDayMs;
  return p;
}

CitySources::CitySources(store::Database& db, const Clock& clock, const auth::Principal& caller,
                         const Period& period)
    : db_(db), clock_(clock), caller_(caller), period_(period) {}

Figure CitySources::measure(const std::string& key, const std::string& city,
                            std::optional<Population> population) {
  if (key == "pilot_status") return pilotStatus(city);
  if (key == "target_progress") return targetProgress(city);
  if (key == "tonnes_certified") return tonnesCertified(city);
  if (key == "participants_per_10k") return participantsPer10k(city, *population);
  if (key == "merchants") return merchants(city);
  if (key == "methodologies_submitted") return methodologies(city, "submit");
  if (key == "methodologies_approved") return methodologies(city, "approve");
  if (key == "data_linkage") return dataLinkage(city);
  throw std::logic_error("no source for indicator " + key);
}

std::optional<CitySources::PilotOfCity> CitySources::pilotOf(const std::string& city) {
  if (!pilots_) {
    pilots_.emplace();
    for (const auto& p : pilot::PilotService(db_, clock_).pilots()) {
      if (p.pilot_from > period_.until_day) continue;  // not a pilot yet in the period
      std::string owner = p.region_code.substr(0, 4) + "00";
      PilotOfCity candidate{p.region_code, p.application_id, p.pilot_from};
      auto it = pilots_->find(owner);
      if (it == pilots_->end()) {
        pilots_->emplace(owner, candidate);
      } else if (it->second.region_code != owner &&
                 (p.region_code == owner || p.pilot_from < it->second.pilot_from)) {
        it->second = candidate;
      }
    }
  }
  auto it = pilots_->find(city);
  if (it == pilots_->end()) return std::nullopt;
  return it->second;
}

Figure CitySources::pilotStatus(const std::string& city) {
  json source = {{"query", "pilot.pilots"},
                 {"function", "pilot::PilotService::pilots"},
                 {"params", {{"city", city}, {"until_day", period_.until_day}}},
                 {"sql",
                  "SELECT region_code, application_id, pilot_from FROM pilots ORDER BY "
                  "region_code"},
                 {"selection",
                  "the city's own pilot, else the earliest designated below it; pilot_from <= "
                  "until_day"}};
  auto pilot = pilotOf(city);
  if (!pilot) return {0, "未被确定为试点 / not a pilot", source};
  std::string from = std::max(pilot->pilot_from, period_.from_day);
  auto from_start = shanghaiDayStart(from);
  std::int64_t days =
      from_start ? (period_.until_ms - toEpochMs(*from_start) + kDayMs / 2) / kDayMs : 0;
  return {days * 1000,
          "试点 " + pilot->region_code + " 自 " + pilot->pilot_from + " 起 / pilot " +
              pilot->region_code + " from " + pilot->pilot_from + ": " + std::to_string(days) +
              " of " + std::to_string(period_.days) + " days",
          source};
}

Figure CitySources::targetProgress(const std::string& city) {
  json source = {{"query", "pilot.plan_goal_progress"},
                 {"function",
                  "pilot::PilotService::application + ingest::ReductionStats::totals + "
                  "incentive::approvedMerchantsBefore"},
                 {"params", {{"city", city}, {"year", period_.year}}}};
  auto pilot = pilotOf(city);
  if (!pilot) return {0, "无试点实施方案 / no pilot plan", source};
  auto application = pilot::PilotService(db_, clock_).application(caller_, pilot->application_id);
  source["params"]["pilot_region"] = pilot->region_code;
  source["params"]["application_id"] = pilot->application_id;
  if (!application) return {0, "实施方案不可读 / plan not readable", source};
  const pilot::YearGoal* goal = nullptr;
  for (const auto& g : application->plan.goals) {
    if (g.year == period_.year) goal = &g;
  }
  if (!goal) {
    return {0, "实施方案未设 " + std::to_string(period_.year) + " 年目标 / no goal for the year",
            source};
  }
  auto totals =
      ingest::ReductionStats(db_).totals(pilot->region_code, period_.from_day, period_.until_day);
  std::int64_t merchant_count =
      incentive::approvedMerchantsBefore(db_, pilot->region_code, fromEpochMs(period_.until_ms));
  // Each target's achievement capped at 100 %, in thousandths of a percent; the figure is their
  // mean.
  struct Part {
    const char* name;
    std::int64_t actual_milli, target_milli;
  };
  std::vector<Part> parts = {
      {"participants", totals.participants * 1000, goal->participants * 1000},
      {"tonnes", totals.grams.value() / 1000, goal->tonnes * 1000},
      {"merchants", merchant_count * 1000, goal->merchants * 1000},
      {"methodologies", totals.methodologies * 1000, goal->methodologies * 1000}};
  std::int64_t sum = 0, counted = 0;
  std::string note;
  for (const auto& part : parts) {
    if (part.target_milli <= 0) continue;
    auto ratio = static_cast<std::int64_t>(std::min<__int128>(
        static_cast<__int128>(part.actual_milli) * 100'000 / part.target_milli, 100'000));
    sum += ratio;
    ++counted;
    note += std::string(note.empty() ? "" : "; ") + part.name + " " +
            fixedMilli(part.actual_milli) + "/" + fixedMilli(part.target_milli) + " = " +
            fixedMilli(ratio) + "%";
  }
  source["derivation"] =
      "mean over the year's non-zero plan goals of min(actual / target, 100 %); tonnes = grams / "
      "10^6; methodologies = distinct methodologies credited";
  source["goal"] = {{"participants", goal->participants},
                    {"tonnes", goal->tonnes},
                    {"merchants", goal->merchants},
                    {"methodologies", goal->methodologies}};
  source["inputs"] = json::array({reductionTotalsSource(pilot->region_code, period_),
                                  merchantsSource(pilot->region_code, period_.until_ms)});
  if (counted == 0) return {0, "目标均为 0 / every goal is 0", source};
  return {sum / counted, note, source};
}

Figure CitySources::tonnesCertified(const std::string& city) {
  auto issued = registry::issuedUnitsIn(db_, city, period_.from_ms, period_.until_ms);
  json source = {
      {"query", "registry.issued_units"},
      {"function", "registry::issuedUnitsIn"},
      {"params",
       {{"region_code", city},
        {"from", formatIso8601(fromEpochMs(period_.from_ms))},
        {"until", formatIso8601(fromEpochMs(period_.until_ms))}}},
      {"sql", registry::kIssuedUnitsSql},
      {"bind",
       {{"region", pattern(city)}, {"from", period_.from_ms}, {"until", period_.until_ms}}}};
  return {issued.units * 1000,
          std::to_string(issued.units) + " PHCER in " + std::to_string(issued.batches) +
              " batch(es) issued",
          source};
}

Figure CitySources::participantsPer10k(const std::string& city, const Population& population) {
  auto totals = ingest::ReductionStats(db_).totals(city, period_.from_day, period_.until_day);
  json source = reductionTotalsSource(city, period_);
  source["population"] = {{"residents", population.residents}, {"source", population.source}};
  source["derivation"] = "participants (distinct accounts credited) × 10 000 / residents";
  auto figure = static_cast<std::int64_t>(static_cast<__int128>(totals.participants) * 10'000'000 /
                                          population.residents);
  return {figure,
          std::to_string(totals.participants) + " participants / " +
              std::to_string(population.residents) + " residents (" + population.source + ")",
          source};
}

Figure CitySources::merchants(const std::string& city) {
  std::int64_t n = incentive::approvedMerchantsBefore(db_, city, fromEpochMs(period_.until_ms));
  return {n * 1000, std::to_string(n) + " approved alliance merchants by " + period_.until_day,
          merchantsSource(city, period_.until_ms)};
}

Figure CitySources::methodologies(const std::string& city, const std::string& kind) {
  std::int64_t n =
      methodology::versionsWithEvent(db_, city, kind, period_.from_ms, period_.until_ms);
  json source = {{"query", "methodology.versions_with_event"},
                 {"function", "methodology::versionsWithEvent"},
                 {"params",
                  {{"region_code", city},
                   {"kind", kind},
                   {"from", formatIso8601(fromEpochMs(period_.from_ms))},
                   {"until", formatIso8601(fromEpochMs(period_.until_ms))}}},
                 {"sql", methodology::kVersionsWithEventSql},
                 {"bind",
                  {{"region", pattern(city)},
                   {"kind", kind},
                   {"from", period_.from_ms},
                   {"until", period_.until_ms}}}};
  return {n * 1000,
          std::to_string(n) + " methodology version(s) scoped to the city " +
              (kind == "submit" ? "submitted" : "approved"),
          source};
}

Figure CitySources::dataLinkage(const std::string& city) {
  auto days = link::linkageDays(db_, city, period_.from_day, period_.until_day);
  json bind = {{"region", pattern(city)}, {"from", period_.from_day}, {"until", period_.until_day}};
  json source = {
      {"query", "link.linkage_days"},
      {"function", "link::linkageDays"},
      {"params",
       {{"region_code", city}, {"from_day", period_.from_day}, {"until_day", period_.until_day}}},
      {"sql",
       json::array({link::kLinkedPlatformsSql, link::kDeliveredDaysSql, link::kMismatchedDaysSql})},
      {"bind", bind},
      {"derivation",
       "(days delivered − days a spot check found mismatched) × 100 % / days in the "
       "period"}};
  if (days.platforms == 0) return {0, "无接入平台 / no linked platform", source};
  std::int64_t good = std::max<std::int64_t>(0, days.delivered_days - days.mismatched_days);
  return {good * 100'000 / period_.days,
          std::to_string(days.delivered_days) + " of " + std::to_string(period_.days) +
              " days delivered, " + std::to_string(days.mismatched_days) + " mismatched",
          source};
}

}  // namespace tph::assessment::detail
