#include "pilot/fund_service.h"

#include <algorithm>

#include "audit/audit_log.h"
#include "core/region_code.h"
#include "pilot/fund_store.h"
#include "pilot/pilot_service.h"
#include "pilot/pilot_store.h"
#include "store/database.h"

namespace tph::pilot {

namespace {

Status checkText(const std::string& field, const std::string& text, std::size_t max_bytes) {
  if (text.empty()) return Error::invalid(field, "is required");
  if (text.size() > max_bytes)
    return Error::invalid(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  return {};
}

Error notFound() {
  return Error::notFound("no such fund project", "id");
}

}  // namespace

Result<FundProject> FundService::apply(const auth::Principal& caller, const FundApplication& a) {
  if (!isRegionCode(a.region_code))
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  if (!caller.administersRegion(a.region_code))
    return Error::forbidden("only the region's admins apply for its projects", "region");
  TPH_TRY(checkText("title", a.title, kMaxFundTitleBytes));
  TPH_TRY(checkText("summary", a.summary, kMaxFundTextBytes));
  const auto& tasks = planTaskDomains();
  if (std::find(tasks.begin(), tasks.end(), a.task) == tasks.end())
    return Error::invalid("task", "is not one of the plan's task domains");
  if (a.year < 2020 || a.year > 2100) return Error::invalid("year", "must be a budget year");
  if (a.requested.value() <= 0 || a.requested.value() > kMaxFundRequestFen)
    return Error::invalid("requested_fen", "must be more than 0 and at most CNY 1 billion");
  return db_.transaction([&](soci::session& sql) -> Result<FundProject> {
    if (!detail::findPilot(sql, a.region_code)) {
      return Error::conflict("only a designated pilot region applies for special funds", "region");
    }
    auto id = detail::insertFundProject(sql, a, caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "fund.apply",
                             "fund_project:" + std::to_string(id),
                             {{"region", a.region_code},
                              {"title", a.title},
                              {"year", a.year},
                              {"requested_fen", a.requested.value()}}});
    return *detail::findFundProject(sql, id, false);
  });
}

Result<FundProject> FundService::decide(const auth::Principal& caller, std::int64_t id, bool grant,
                                        Fen granted, const std::string& reason) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin))
    return Error::forbidden("only the province decides special funds");
  if (!grant) TPH_TRY(checkText("reason", reason, kMaxFundTextBytes));
  if (reason.size() > kMaxFundTextBytes) return Error::invalid("reason", "is too long");
  return db_.transaction([&](soci::session& sql) -> Result<FundProject> {
    auto project = detail::findFundProject(sql, id, true);
    if (!project) return notFound();
    if (project->state != "applied")
      return Error::conflict("the project was already " + project->state, "state");
    if (grant && (granted.value() <= 0 || granted > project->requested)) {
      return Error::invalid("granted_fen",
                            "must be more than 0 and at most the amount requested (" +
                                std::to_string(project->requested.value()) + " fen)");
    }
    std::string state = grant ? "granted" : "rejected";
    detail::decideFundProject(sql, id, state, grant ? granted.value() : 0, reason,
                              caller.auditActor(), toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "fund.decide",
         "fund_project:" + std::to_string(id),
         {{"state", state}, {"granted_fen", grant ? granted.value() : 0}, {"reason", reason}}});
    return *detail::findFundProject(sql, id, false);
  });
}

Result<FundProject> FundService::disburse(const auth::Principal& caller, std::int64_t id,
                                          Fen amount, const std::string& paid_on,
                                          const std::string& reference) {
  if (!caller.hasRole(auth::Role::kProvinceAdmin))
    return Error::forbidden("only the province records disbursements");
  if (amount.value() <= 0) return Error::invalid("amount_fen", "must be more than 0");
  auto day = shanghaiDayStart(paid_on);
  if (!day) return Error::invalid("paid_on", "must be a date YYYY-MM-DD");
  if (*day > clock_.now()) return Error::invalid("paid_on", "must not be in the future");
  TPH_TRY(checkText("reference", reference, kMaxFundTitleBytes));
  return db_.transaction([&](soci::session& sql) -> Result<FundProject> {
    auto project = detail::findFundProject(sql, id, true);
    if (!project) return notFound();
    if (project->state != "granted")
      return Error::conflict("only a granted project is paid; this one is " + project->state,
                             "state");
    if (amount > project->granted - project->disbursed) {
      return Error::conflict("the payment would exceed the grant: " +
                                 std::to_string((project->granted - project->disbursed).value()) +
                                 " fen remain",
                             "amount_fen");
    }
    detail::insertDisbursement(sql, id, amount.value(), paid_on, reference, caller.auditActor(),
                               toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "fund.disburse",
         "fund_project:" + std::to_string(id),
         {{"amount_fen", amount.value()}, {"paid_on", paid_on}, {"reference", reference}}});
    return *detail::findFundProject(sql, id, false);
  });
}

Result<FundProject> FundService::project(std::int64_t id) {
  auto found =
      db_.read([&](soci::session& sql) { return detail::findFundProject(sql, id, false); });
  if (!found) return notFound();
  return *found;
}

Result<std::vector<FundProject>> FundService::projects(const std::string& region_code, int year) {
  if (!region_code.empty() && !isRegionCode(region_code))
    return Error::invalid("region", "must be a six-digit GB/T 2260 code");
  if (year != 0 && (year < 2020 || year > 2100)) return Error::invalid("year", "is not a year");
  std::string prefix = region_code.empty() ? "" : regionPrefix(region_code);
  return db_.read([&](soci::session& sql) { return detail::listFundProjects(sql, prefix, year); });
}

Result<std::vector<FundTotals>> FundService::totals(int year) {
  if (year != 0 && (year < 2020 || year > 2100)) return Error::invalid("year", "is not a year");
  return db_.read([&](soci::session& sql) { return detail::fundTotals(sql, year); });
}

}  // namespace tph::pilot
