// `tanpuhui incentive expire`: the daily sweep a cron job runs — vouchers past their expiry give
// their points back, points expire by policy (oldest first) after their notice.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "account/carbon_accounts.h"
#include "cli/commands.h"
#include "incentive/merchant_service.h"
#include "incentive/points_expiry.h"
#include "store/database.h"

namespace tph::cli {

namespace {

struct ExpireOptions {
  CommonOptions common;
  incentive::PointsExpiryPolicy policy;
  bool vouchers = true;
  bool points = true;
  bool json_summary = false;
};

int runExpire(const ExpireOptions& options) {
  if (auto checked = incentive::checkExpiryPolicy(options.policy); !checked)
    return fail(checked.error());
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
    incentive::PointsExpiryService expiry(**db, clock, options.policy);
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

}  // namespace

void addIncentiveCommand(CLI::App& app, int& exit_code) {
  auto* incentive = app.add_subcommand("incentive", "Merchant vouchers and points (incentives)");
  incentive->require_subcommand(1);
  auto options = std::make_shared<ExpireOptions>();
  auto* expire = incentive->add_subcommand(
      "expire",
      "Daily sweep for cron: expire unused vouchers past their expiry (points back to the "
      "resident), announce points expiring within the notice period, and expire points due by "
      "the policy (oldest first)");
  addCommonOptions(*expire, options->common);
  expire
      ->add_option("--years-after", options->policy.years_after,
                   "points credited in year Y expire at the end of year Y + N (0-10)")
      ->capture_default_str();
  expire
      ->add_option("--notice-days", options->policy.notice_days,
                   "announce expiring points this many days before (1-366)")
      ->capture_default_str();
  expire->add_flag_callback(
      "--skip-vouchers", [options] { options->vouchers = false; }, "do not expire vouchers");
  expire->add_flag_callback(
      "--skip-points", [options] { options->points = false; }, "do not announce or expire points");
  expire->add_flag("--json", options->json_summary, "print the summary as one JSON object");
  expire->callback([options, &exit_code] { exit_code = runExpire(*options); });
}

}  // namespace tph::cli
