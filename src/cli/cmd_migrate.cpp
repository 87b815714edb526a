#include "cli/commands.h"
#include "region/region_service.h"
#include "store/database.h"
#include "store/migrations.h"

namespace tph::cli {

Status loadRegionFile(store::Database& db, const Clock& clock, const std::string& data_dir,
                      const std::string& actor) {
  auto regions = region::parseRegionsFile(std::filesystem::path(data_dir) / "regions.toml");
  if (!regions) return regions.error();
  region::RegionService service(db, clock);
  auto report = service.load(*regions, actor);
  if (!report) return report.error();
  std::printf("regions: %d added, %d renamed, %d unchanged\n", report->inserted, report->updated,
              report->unchanged);
  return {};
}

namespace {

struct MigrateOptions {
  CommonOptions common;
  std::optional<std::string> data_dir;
};

int runMigrate(const MigrateOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = store::Database::open(config->get(kDbSetting, options.common.db));
  if (!db) return fail(db.error());
  auto report = store::migrate(**db, clock);
  if (!report) return fail(report.error());
  std::printf("schema: version %d (%d applied now)\n", report->current_version,
              report->applied_now);
  if (auto attached = attachDataKey(**db, options.common, *config, clock); !attached) {
    return fail(attached.error());
  }
  std::string data_dir = config->get(kDataDirSetting, options.data_dir);
  auto regions = loadRegionFile(**db, clock, data_dir, "cli");
  if (!regions) return fail(regions.error());
  auto methodologies = importMethodologies(**db, clock, data_dir, "cli");
  if (!methodologies) return fail(methodologies.error());
  return 0;
}

}  // namespace

void addMigrateCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<MigrateOptions>();
  auto* cmd = app.add_subcommand(
      "migrate", "Create or upgrade the schema; load regions, factors and new methodologies");
  addCommonOptions(*cmd, options->common);
  cmd->add_option("--data-dir", options->data_dir,
                  "folder with regions.toml, emission_factors.toml, methodologies/ (default data)");
  cmd->callback([options, &exit_code] { exit_code = runMigrate(*options); });
}

}  // namespace tph::cli
