#include "incentive/points_expiry.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "account/points_ledger.h"
#include "audit/audit_log.h"
#include "core/region_code.h"
#include "incentive/incentive_common.h"
#include "incentive/points_expiry_store.h"
#include "store/database.h"

namespace tph::incentive {

namespace {

using nlohmann::json;

constexpr const char* kExpiredLedgerCode = "points-expired";
//! How far nextExpiry looks ahead, in months.
constexpr int kLookaheadMonths = 15 * 12;
//! How many coming expiries are announced or searched for an account's next one.
constexpr int kAnnouncedExpiriesMax = 24;

//! Shanghai months counted from year 0: year * 12 + month - 1.
int monthIndex(Instant t) {
  auto day = shanghaiDay(t);
  return std::stoi(day.substr(0, 4)) * 12 + std::stoi(day.substr(5, 2)) - 1;
}

Instant monthStart(int index) {
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-01T00:00:00+08:00", index / 12, index % 12 + 1);
  return *parseIso8601(text);
}

//! The period boundaries a policy expires points at: year starts (year_end) or month starts.
int boundaryStep(const PointsExpiryPolicy& p) {
  return p.kind == "year_end" ? 12 : 1;
}

//! The cutoff a policy applies at a boundary (a month index that is one of its boundaries).
Instant cutoffAt(const PointsExpiryPolicy& p, int boundary) {
  return monthStart(boundary - (p.kind == "year_end" ? 12 * p.term : p.term));
}

//! The latest boundary of the segment's policy at or before `at`, no earlier than a full notice
//! period after the segment starts and before it ends; none for `never`.
std::optional<int> latestBoundary(const PolicySegment& segment, std::optional<Instant> end,
                                  Instant at) {
  const auto& p = segment.version.policy;
  if (p.kind == "never") return std::nullopt;
  Instant upper = at;
  if (end && *end - std::chrono::milliseconds(1) < upper)
    upper = *end - std::chrono::milliseconds(1);
  int step = boundaryStep(p);
  int k = monthIndex(upper);
  k -= ((k % step) + step) % step;
  Instant earliest = segment.from + std::chrono::hours(24) * p.notice_days;
  if (monthStart(k) < earliest) return std::nullopt;
  return k;
}

ExpiryPolicyVersion builtInDefault(const std::string& province) {
  ExpiryPolicyVersion v;
  v.region_code = province;
  v.effective_from = fromEpochMs(0);
  v.reason = "built-in default";
  v.created_by = "system";
  v.created_at = fromEpochMs(0);
  return v;
}

//! What of the points credited before the cutoff is still in the account, oldest first.
std::int64_t remaining(const detail::CohortBalance& b) {
  return std::clamp<std::int64_t>(b.earned - b.net_out, 0, std::max<std::int64_t>(b.balance, 0));
}

//! The cohort a cutoff closes: the year before a 1 January cutoff, else YYYYMM of the month
//! before. A function of the cutoff alone, so one set of points has one cohort whatever policy.
int cohortOf(Instant cutoff) {
  auto day = shanghaiDay(cutoff - std::chrono::milliseconds(1));
  int year = std::stoi(day.substr(0, 4)), month = std::stoi(day.substr(5, 2));
  return month == 12 ? year : year * 100 + month;
}

std::string regionOrProvince(const std::string& code) {
  return isRegionCode(code) ? code : "440000";
}

}  // namespace

Status checkExpiryPolicy(const PointsExpiryPolicy& policy) {
  if (policy.kind == "year_end") {
    if (policy.term < 0 || policy.term > kExpiryYearsMax)
      return Error::invalid("term", "a year_end term is 0-10 years");
  } else if (policy.kind == "months") {
    if (policy.term < 1 || policy.term > kExpiryMonthsMax)
      return Error::invalid("term", "a months term is 1-120 months");
  } else if (policy.kind == "never") {
    if (policy.term != 0) return Error::invalid("term", "a never policy has term 0");
  } else {
    return Error::invalid("kind", "kind is year_end, months or never");
  }
  if (policy.notice_days < 1 || policy.notice_days > kExpiryNoticeDaysMax)
    return Error::invalid("notice_days", "notice_days must be 1-366");
  return {};
}

std::vector<PolicySegment> expiryTimeline(const std::vector<ExpiryPolicyVersion>& stored,
                                          const std::string& region_code) {
  auto levels = regionAndAncestors(regionOrProvince(region_code));
  std::vector<std::pair<int, const ExpiryPolicyVersion*>> relevant;  // level, version
  ExpiryPolicyVersion fallback = builtInDefault(levels.front());
  relevant.push_back({0, &fallback});
  for (const auto& v : stored) {
    auto at = std::find(levels.begin(), levels.end(), v.region_code);
    if (at != levels.end()) relevant.push_back({static_cast<int>(at - levels.begin()), &v});
  }
  std::vector<Instant> starts;
  for (const auto& [level, v] : relevant) starts.push_back(v->effective_from);
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  std::vector<PolicySegment> out;
  for (Instant t : starts) {
    const ExpiryPolicyVersion* best = nullptr;
    int best_level = -1;
    for (const auto& [level, v] : relevant) {
      if (v->effective_from > t) continue;
      if (!best || std::tie(level, v->effective_from, v->version) >
                       std::tie(best_level, best->effective_from, best->version)) {
        best = v;
        best_level = level;
      }
    }
    if (!out.empty() && out.back().version.id == best->id &&
        out.back().version.region_code == best->region_code)
      continue;
    out.push_back({t, *best});
  }
  return out;
}

Instant dueCutoff(const std::vector<PolicySegment>& timeline, Instant at) {
  Instant cutoff = fromEpochMs(0);
  for (std::size_t i = 0; i < timeline.size() && timeline[i].from <= at; ++i) {
    std::optional<Instant> end;
    if (i + 1 < timeline.size()) end = timeline[i + 1].from;
    if (auto k = latestBoundary(timeline[i], end, at))
      cutoff = std::max(cutoff, cutoffAt(timeline[i].version.policy, *k));
  }
  return cutoff;
}

std::optional<ScheduledExpiry> nextExpiry(const std::vector<PolicySegment>& timeline, Instant now) {
  Instant current = dueCutoff(timeline, now);
  int first = monthIndex(now) + 1;
  for (int k = first; k < first + kLookaheadMonths; ++k) {
    Instant at = monthStart(k);
    Instant cutoff = dueCutoff(timeline, at);
    if (cutoff <= current) continue;
    const PolicySegment* governing = &timeline.front();
    for (const auto& s : timeline)
      if (s.from <= at) governing = &s;
    return ScheduledExpiry{at, cutoff, governing->version.policy.notice_days,
                           governing->version.id};
  }
  return std::nullopt;
}

Result<ExpiryPolicyVersion> PointsExpiryService::setPolicy(const auth::Principal& caller,
                                                           const NewExpiryPolicy& request) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin))
    return Error::forbidden("only a province admin sets the points expiry policy");
  return storePolicy(caller.auditActor(), request);
}

Result<ExpiryPolicyVersion> PointsExpiryService::setPolicyAsSystem(const std::string& actor,
                                                                   const NewExpiryPolicy& request) {
  return storePolicy(actor, request);
}

Result<ExpiryPolicyVersion> PointsExpiryService::storePolicy(const std::string& actor,
                                                             const NewExpiryPolicy& request) {
  if (!isRegionCode(request.region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  TPH_TRY(checkExpiryPolicy(request.policy));
  TPH_TRY(detail::checkText("reason", request.reason, kExpiryReasonMaxBytes, true));
  Instant now = clock_.now();
  Instant from = request.effective_from.value_or(now);
  // A minute's grace for a caller that sends "now" by its own clock.
  if (from < now - std::chrono::minutes(1))
    return Error::invalid("effective_from", "effective_from is not in the past");
  if (from > now + std::chrono::hours(24) * kExpiryScheduleMaxDays)
    return Error::invalid("effective_from", "effective_from is at most two years ahead");
  from = std::max(from, now);
  return db_.transaction([&](soci::session& sql) -> Result<ExpiryPolicyVersion> {
    std::string level;
    sql << "SELECT level FROM regions WHERE code = :c", soci::use(request.region_code),
        soci::into(level);
    if (!sql.got_data()) return Error::invalid("region", "unknown region " + request.region_code);
    for (const auto& v : detail::loadExpiryPolicies(sql))
      if (v.region_code == request.region_code && v.effective_from > from)
        return Error::conflict("version " + std::to_string(v.version) + " of this region is " +
                                   "effective from " + formatIso8601(v.effective_from) +
                                   "; a new version takes effect no earlier",
                               "effective_from");
    auto [id, version] =
        detail::insertExpiryPolicy(sql, request, toEpochMs(from), actor, toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {actor,
                             "points.expiry_policy",
                             "points-expiry-policy:" + request.region_code,
                             {{"id", id},
                              {"version", version},
                              {"kind", request.policy.kind},
                              {"term", request.policy.term},
                              {"notice_days", request.policy.notice_days},
                              {"effective_from", formatIso8601(from)},
                              {"reason", request.reason}}});
    for (auto& v : detail::loadExpiryPolicies(sql))
      if (v.id == id) return v;
    throw std::logic_error("a stored expiry policy is not found");
  });
}

Result<std::vector<ExpiryPolicyVersion>> PointsExpiryService::policies(
    const std::string& region_code) {
  if (!region_code.empty() && !isRegionCode(region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  return db_.read([&](soci::session& sql) -> Result<std::vector<ExpiryPolicyVersion>> {
    auto all = detail::loadExpiryPolicies(sql);
    if (region_code.empty()) return all;
    std::vector<ExpiryPolicyVersion> out;
    for (auto& v : all)
      if (v.region_code == region_code) out.push_back(std::move(v));
    return out;
  });
}

Result<ExpiryPolicyVersion> PointsExpiryService::policyInForce(const std::string& region_code) {
  if (!isRegionCode(region_code))
    return Error::invalid("region", "region is a six-digit GB/T 2260 code");
  Instant now = clock_.now();
  return db_.read([&](soci::session& sql) -> Result<ExpiryPolicyVersion> {
    auto timeline = expiryTimeline(detail::loadExpiryPolicies(sql), region_code);
    const PolicySegment* governing = &timeline.front();
    for (const auto& s : timeline)
      if (s.from <= now) governing = &s;
    return governing->version;
  });
}

Result<PointsExpiryRun> PointsExpiryService::run(const std::string& actor) {
  Instant now = clock_.now();
  PointsExpiryRun out;

  // Each account's region has its timeline; regions sharing a cutoff are handled together. Every
  // expiry whose notice period has begun is announced (a notice period may span several monthly
  // expiries), each with the points it adds to the one before.
  struct NoticeKey {
    std::int64_t expires_ms, cutoff_ms, previous_cutoff_ms, policy_id;
    auto operator<=>(const NoticeKey&) const = default;
  };
  auto plan = db_.read([&](soci::session& sql) {
    std::map<std::int64_t, std::vector<std::string>> due;  // cutoff -> regions
    std::map<NoticeKey, std::vector<std::string>> notice;
    auto stored = detail::loadExpiryPolicies(sql);
    for (const auto& region : detail::accountRegions(sql)) {
      auto timeline = expiryTimeline(stored, region);
      auto cutoff = dueCutoff(timeline, now);
      if (toEpochMs(cutoff) > 0) due[toEpochMs(cutoff)].push_back(region);
      Instant at = now, previous = cutoff;
      for (int i = 0; i < kAnnouncedExpiriesMax; ++i) {
        auto next = nextExpiry(timeline, at);
        if (!next || now < next->expires_at - std::chrono::hours(24) * next->notice_days) break;
        notice[{toEpochMs(next->expires_at), toEpochMs(next->credited_before), toEpochMs(previous),
                next->policy_id}]
            .push_back(region);
        previous = next->credited_before;
        at = next->expires_at;
      }
    }
    return std::pair{due, notice};
  });
  auto& [due, notice] = plan;

  for (const auto& [key, regions] : notice) {
    int cohort = cohortOf(fromEpochMs(key.cutoff_ms));
    auto noticed = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
      std::map<std::int64_t, std::int64_t> before;  // what the previous cutoff already covers
      for (const auto& b :
           detail::cohortBalances(sql, key.previous_cutoff_ms, std::nullopt, regions))
        before[b.ledger_account_id] = remaining(b);
      std::int64_t n = 0;
      for (const auto& b : detail::cohortBalances(sql, key.cutoff_ms, std::nullopt, regions)) {
        auto points = remaining(b) - before[b.ledger_account_id];
        if (points > 0 && detail::insertExpiryNotice(sql,
                                                     {b.ledger_account_id, cohort, key.cutoff_ms,
                                                      points, key.expires_ms, key.policy_id},
                                                     toEpochMs(now)))
          ++n;
      }
      if (n > 0)
        audit::appendAuditEvent(sql, clock_,
                                {actor,
                                 "points.expiry_notice",
                                 "points-expiry:" + std::to_string(cohort),
                                 {{"accounts", n},
                                  {"credited_before", formatIso8601(fromEpochMs(key.cutoff_ms))},
                                  {"expires_at", formatIso8601(fromEpochMs(key.expires_ms))},
                                  {"policy_id", key.policy_id},
                                  {"regions", regions}}});
      return n;
    });
    if (!noticed) return noticed.error();
    out.notices += *noticed;
  }

  std::string day = shanghaiDay(now);
  for (const auto& [cutoff, regions] : due) {
    int cohort = cohortOf(fromEpochMs(cutoff));
    auto candidates = db_.read([&](soci::session& sql) {
      std::vector<std::int64_t> ids;
      for (const auto& b : detail::cohortBalances(sql, cutoff, std::nullopt, regions))
        if (remaining(b) > 0) ids.push_back(b.ledger_account_id);
      return ids;
    });
    for (auto ledger : candidates) {
      // One transaction per account, recomputed inside it: a spend in between is respected.
      auto expired = db_.transaction([&](soci::session& sql) -> Result<std::int64_t> {
        auto rows = detail::cohortBalances(sql, cutoff, ledger);
        if (rows.empty()) return 0;
        auto points = remaining(rows.front());
        if (points <= 0) return 0;
        auto to = account::openLedgerAccount(sql, kExpiredLedgerCode, "expired", false, clock_);
        std::string before = formatIso8601(fromEpochMs(cutoff));
        auto posted = account::postEntry(
            sql,
            detail::transferEntry("points-expiry:" + std::to_string(ledger) + ":" +
                                      std::to_string(cohort) + ":" + day,
                                  "points_expire", "points credited before " + before + " expired",
                                  ledger, to, Points(points)),
            clock_);
        if (!posted) return posted.error();
        if (posted->duplicate) return 0;
        detail::insertPointsExpiry(sql, ledger, cohort, day, points, posted->entry_id,
                                   toEpochMs(now));
        audit::appendAuditEvent(
            sql, clock_,
            {actor,
             "points.expire",
             "ledger_account:" + std::to_string(ledger),
             {{"cohort", cohort}, {"credited_before", before}, {"points", points}}});
        return points;
      });
      if (!expired) return expired.error();
      if (*expired > 0) {
        ++out.accounts;
        out.points_expired += Points(*expired);
      }
    }
  }
  return out;
}

Result<std::vector<PointsExpiryNotice>> PointsExpiryService::notices(
    const auth::Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<PointsExpiryNotice>> {
    auto person = detail::personLedgerAccount(sql, caller.user_id);
    if (!person) return std::vector<PointsExpiryNotice>{};
    return detail::expiryNotices(sql, person->ledger_account_id);
  });
}

Result<std::optional<UpcomingExpiry>> PointsExpiryService::upcoming(const auth::Principal& caller) {
  Instant now = clock_.now();
  return db_.read([&](soci::session& sql) -> Result<std::optional<UpcomingExpiry>> {
    auto person = detail::personLedgerAccount(sql, caller.user_id);
    if (!person) return std::optional<UpcomingExpiry>{};
    auto timeline = expiryTimeline(detail::loadExpiryPolicies(sql), person->region_code);
    // The first coming expiry that takes any of the account's points.
    Instant at = now;
    for (int i = 0; i < kAnnouncedExpiriesMax; ++i) {
      auto next = nextExpiry(timeline, at);
      if (!next) break;
      auto rows =
          detail::cohortBalances(sql, toEpochMs(next->credited_before), person->ledger_account_id);
      if (!rows.empty() && remaining(rows.front()) > 0) {
        int cohort = cohortOf(next->credited_before);
        return std::optional<UpcomingExpiry>{UpcomingExpiry{
            cohort > 9999 ? cohort / 100 : cohort, next->credited_before,
            Points(remaining(rows.front())), next->expires_at, next->notice_days, next->policy_id}};
      }
      at = next->expires_at;
    }
    return std::optional<UpcomingExpiry>{};
  });
}

}  // namespace tph::incentive
