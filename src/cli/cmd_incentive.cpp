// `tanpuhui incentive expire`: the daily sweep a cron job runs — vouchers past their expiry give
// their points back, points expire by the stored policy (oldest first) after their notice.
// `tanpuhui incentive expiry-policy`: store and list the policy's versions.
// `tanpuhui incentive rankings-refresh`: bring the leaderboard rollup up to date.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "account/carbon_accounts.h"
#include "cli/commands.h"
#include "incentive/merchant_service.h"
#include "incentive/points_expiry.h"
#include "incentive/ranking_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct ExpireOptions {
  CommonOptions common;
  bool vouchers = true;
  bool points = true;
  bool json_summary = false;
};

int runExpire(const ExpireOptions& options) {
  if (!options.vouchers && !options.points)
    return fail(Error::invalid("--skip-vouchers", "nothing to do: both sweeps are skipped"));
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  nlohmann::json summary = nlohmann::json::object();
  if (options.vouchers) {
    account::CarbonAccountService accounts(**db, clock);
    incentive::MerchantService merchants(**db, clock, accounts);
    auto r = merchants.expireVouchers("cli:incentive-expire");
    if (!r) return fail(r.error());
    summary["vouchers_expired"] = r->expired;
    summary["voucher_points_returned"] = r->points_returned.value();
  }
  if (options.points) {
    incentive::PointsExpiryService expiry(**db, clock);
    auto r = expiry.run("cli:incentive-expire");
    if (!r) return fail(r.error());
    summary["expiry_notices"] = r->notices;
    summary["accounts_expired"] = r->accounts;
    summary["points_expired"] = r->points_expired.value();
  }
  if (options.json_summary) {
    std::printf("%s\n", summary.dump().c_str());
    return 0;
  }
  if (options.vouchers)
    std::printf("vouchers: %lld expired, %lld points returned\n",
                summary["vouchers_expired"].get<long long>(),
                summary["voucher_points_returned"].get<long long>());
  if (options.points)
    std::printf("points: %lld notices written, %lld points expired in %lld accounts\n",
                summary["expiry_notices"].get<long long>(),
                summary["points_expired"].get<long long>(),
                summary["accounts_expired"].get<long long>());
  return 0;
}

struct PolicyOptions {
  CommonOptions common;
  incentive::NewExpiryPolicy policy;
  std::string effective_from;
  bool json_output = false;
};

nlohmann::json policyJson(const incentive::ExpiryPolicyVersion& v) {
  return {{"id", v.id},
          {"region", v.region_code},
          {"version", v.version},
          {"kind", v.policy.kind},
          {"term", v.policy.term},
          {"notice_days", v.policy.notice_days},
          {"effective_from", formatIso8601(v.effective_from)},
          {"reason", v.reason},
          {"created_by", v.created_by}};
}

void printPolicy(const incentive::ExpiryPolicyVersion& v) {
  std::printf("%s v%d: %s %d, notice %d days, effective from %s (%s) — %s\n", v.region_code.c_str(),
              v.version, v.policy.kind.c_str(), v.policy.term, v.policy.notice_days,
              formatIso8601(v.effective_from).c_str(), v.created_by.c_str(), v.reason.c_str());
}

int runPolicySet(PolicyOptions options) {
  if (!options.effective_from.empty()) {
    auto at = parseIso8601(options.effective_from);
    if (!at)
      return fail(Error::invalid("--effective-from",
                                 "--effective-from is an ISO 8601 instant with its offset"));
    options.policy.effective_from = *at;
  }
  if (auto checked = incentive::checkExpiryPolicy(options.policy.policy); !checked)
    return fail(Error::invalid("--" + checked.error().field, checked.error().message));
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  incentive::PointsExpiryService expiry(**db, clock);
  auto stored = expiry.setPolicyAsSystem("cli:incentive-expiry-policy", options.policy);
  if (!stored) return fail(stored.error());
  if (options.json_output)
    std::printf("%s\n", policyJson(*stored).dump().c_str());
  else
    printPolicy(*stored);
  return 0;
}

int runPolicyList(const PolicyOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  incentive::PointsExpiryService expiry(**db, clock);
  auto list = expiry.policies(options.policy.region_code);
  if (!list) return fail(list.error());
  auto in_force = expiry.policyInForce(
      options.policy.region_code.empty() ? "440000" : options.policy.region_code);
  if (!in_force) return fail(in_force.error());
  if (options.json_output) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *list) out.push_back(policyJson(v));
    std::printf(
        "%s\n",
        nlohmann::json{{"policies", out}, {"in_force", policyJson(*in_force)}}.dump().c_str());
    return 0;
  }
  for (const auto& v : *list) printPolicy(v);
  std::printf("in force: ");
  printPolicy(*in_force);
  return 0;
}

void addExpiryPolicyCommand(CLI::App& incentive, int& exit_code) {
  auto* policy = incentive.add_subcommand(
      "expiry-policy", "The stored points expiry policy: the province default and overrides");
  policy->require_subcommand(1);
  auto set_options = std::make_shared<PolicyOptions>();
  auto* set = policy->add_subcommand(
      "set",
      "Store a new version of a region's policy (audited); it applies from its effective "
      "date and never expires points before a full notice period");
  addCommonOptions(*set, set_options->common);
  set->add_option("--region", set_options->policy.region_code,
                  "the province's code for the default, or a city or county")
      ->required();
  set->add_option("--kind", set_options->policy.policy.kind, "year_end, months or never")
      ->required();
  set->add_option("--term", set_options->policy.policy.term,
                  "years after the year earned (year_end, 0-10) or months after the month "
                  "earned (months, 1-120); 0 for never")
      ->required();
  set->add_option("--notice-days", set_options->policy.policy.notice_days,
                  "announce expiring points this many days before (1-366)")
      ->capture_default_str();
  set->add_option("--effective-from", set_options->effective_from,
                  "ISO 8601 instant (default now; never in the past)");
  set->add_option("--reason", set_options->policy.reason, "why the policy changes")->required();
  set->add_flag("--json", set_options->json_output, "print the stored version as JSON");
  set->callback([set_options, &exit_code] { exit_code = runPolicySet(*set_options); });

  auto list_options = std::make_shared<PolicyOptions>();
  auto* list = policy->add_subcommand("list", "Every stored version and the one in force");
  addCommonOptions(*list, list_options->common);
  list->add_option("--region", list_options->policy.region_code, "one region's versions");
  list->add_flag("--json", list_options->json_output, "print JSON");
  list->callback([list_options, &exit_code] { exit_code = runPolicyList(*list_options); });
}

struct RefreshOptions {
  CommonOptions common;
  int max_chunks = 1'000'000;
  bool json_output = false;
};

int runRankingsRefresh(const RefreshOptions& options) {
  if (options.max_chunks < 1)
    return fail(Error::invalid("--max-chunks", "--max-chunks must be at least 1"));
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  incentive::RankingService rankings(**db, clock);
  auto r = rankings.refreshAsSystem(options.max_chunks);
  if (!r) return fail(r.error());
  nlohmann::json out = {{"reductions", r->reductions},
                        {"account_days", r->account_days},
                        {"watermark", r->watermark},
                        {"gaps", r->gaps},
                        {"caught_up", r->caught_up}};
  if (options.json_output)
    std::printf("%s\n", out.dump().c_str());
  else
    std::printf("leaderboards: %lld reductions read, %lld account-days changed, watermark %lld%s\n",
                static_cast<long long>(r->reductions), static_cast<long long>(r->account_days),
                static_cast<long long>(r->watermark), r->caught_up ? "" : " (more to read)");
  return 0;
}

}  // namespace

void addIncentiveCommand(CLI::App& app, int& exit_code) {
  auto* incentive = app.add_subcommand("incentive", "Merchant vouchers and points (incentives)");
  incentive->require_subcommand(1);
  auto options = std::make_shared<ExpireOptions>();
  auto* expire = incentive->add_subcommand(
      "expire",
      "Daily sweep for cron: expire unused vouchers past their expiry (points back to the "
      "resident), announce points expiring within the notice period, and expire points due by "
      "the stored policy (oldest first; see `incentive expiry-policy`)");
  addCommonOptions(*expire, options->common);
  expire->add_flag_callback(
      "--skip-vouchers", [options] { options->vouchers = false; }, "do not expire vouchers");
  expire->add_flag_callback(
      "--skip-points", [options] { options->points = false; }, "do not announce or expire points");
  expire->add_flag("--json", options->json_summary, "print the summary as one JSON object");
  expire->callback([options, &exit_code] { exit_code = runExpire(*options); });

  addExpiryPolicyCommand(*incentive, exit_code);

  auto refresh_options = std::make_shared<RefreshOptions>();
  auto* refresh = incentive->add_subcommand(
      "rankings-refresh",
      "Bring the leaderboard rollup up to date with the credited reductions (cron, every "
      "minute); leaderboard reads also refresh a rollup older than 60 s");
  addCommonOptions(*refresh, refresh_options->common);
  refresh->add_option("--max-chunks", refresh_options->max_chunks,
                      "stop after this many chunks of 20000 reductions");
  refresh->add_flag("--json", refresh_options->json_output, "print the summary as JSON");
  refresh->callback(
      [refresh_options, &exit_code] { exit_code = runRankingsRefresh(*refresh_options); });
}

}  // namespace tph::cli
