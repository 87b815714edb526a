#include "analytics/analytics_service.h"
#include "cli/commands.h"
#include "store/database.h"

namespace tph::cli {

namespace {

int runAnalyticsCheck(const CommonOptions& options) {
  auto config = Config::load(options.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options, *config, clock);
  if (!db) return fail(db.error());
  analytics::AnalyticsService analytics(**db);
  auto report = analytics.check();
  if (!report) return fail(report.error());
  if (!report->consistent) {
    std::fprintf(stderr, "analytics check failed: %s\n", report->first_difference.c_str());
    return 1;
  }
  std::printf("analytics ok: %lld rollup cells match the detail\n",
              static_cast<long long>(report->cells_checked));
  return 0;
}

}  // namespace

void addAnalyticsCommand(CLI::App& app, int& exit_code) {
  auto* analytics = app.add_subcommand("analytics", "Analytics rollups");
  analytics->require_subcommand(1);
  auto options = std::make_shared<CommonOptions>();
  auto* check = analytics->add_subcommand(
      "check",
      "Recompute every rollup from the credited reductions; exit 1 naming the first cell that "
      "differs");
  addCommonOptions(*check, *options);
  check->callback([options, &exit_code] { exit_code = runAnalyticsCheck(*options); });
}

}  // namespace tph::cli
