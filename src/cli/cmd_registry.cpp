#include "cli/commands.h"
#include "registry/registry_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

int runRegistryCheck(const CommonOptions& options) {
  auto config = Config::load(options.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options, *config, clock);
  if (!db) return fail(db.error());
  registry::RegistryService registry(**db, clock);
  auto report = registry.check();
  if (!report.ok) {
    std::fprintf(stderr, "registry check failed: %s\n", report.problem.c_str());
    return 1;
  }
  std::printf("registry ok: %lld issuances, %lld serial blocks, every unit in exactly one block\n",
              static_cast<long long>(report.issuances), static_cast<long long>(report.blocks));
  return 0;
}

}  // namespace

void addRegistryCommand(CLI::App& app, int& exit_code) {
  auto* registry = app.add_subcommand("registry", "The PHCER registry");
  registry->require_subcommand(1);
  auto options = std::make_shared<CommonOptions>();
  auto* check = registry->add_subcommand(
      "check",
      "Verify that serial blocks tile every issuance (issued = held + retired + cancelled) and "
      "operations add up; exit 1 naming the first violation");
  addCommonOptions(*check, *options);
  check->callback([options, &exit_code] { exit_code = runRegistryCheck(*options); });
}

}  // namespace tph::cli
