#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "privacy/personal_data_service.h"
#include "store/data_key.h"
#include "store/database.h"
#include "store/migrations.h"

namespace tph::cli {

void addCommonOptions(CLI::App& command, CommonOptions& options) {
  command.add_option("--config", options.config, "TOML config file (also TPH_CONFIG)");
  command.add_option("--db", options.db,
                     "database URL: sqlite:PATH or postgresql://USER@HOST:PORT/DB "
                     "(also TPH_DATABASE_URL; default sqlite:var/tanpuhui.db)");
  command.add_option("--data-key-file", options.data_key_file,
                     "the key personal data is sealed with, created with a new database (also "
                     "TPH_DATA_KEY_FILE; default var/data.key)");
}

Status attachDataKey(store::Database& db, const CommonOptions& options, const Config& config,
                     const Clock& clock) {
  TPH_TRY(store::attachDataKey(db, config.get(kDataKeySetting, options.data_key_file), clock));
  if (auto sealed = privacy::sealPlainPersonalData(db); sealed > 0) {
    spdlog::info("sealed {} personal values stored in clear", sealed);
  }
  return {};
}

int fail(const Error& error) {
  if (error.field.empty()) {
    std::fprintf(stderr, "tanpuhui: %s\n", error.message.c_str());
  } else {
    std::fprintf(stderr, "tanpuhui: %s: %s\n", error.field.c_str(), error.message.c_str());
  }
  return 1;
}

Result<std::unique_ptr<store::Database>> openMigratedDatabase(const CommonOptions& options,
                                                              const Config& config,
                                                              const Clock& clock) {
  auto db = store::Database::open(config.get(kDbSetting, options.db));
  if (!db) return db.error();
  auto report = store::migrate(**db, clock);
  if (!report) return report.error();
  if (report->applied_now > 0) {
    spdlog::info("database migrated to version {} ({} applied)", report->current_version,
                 report->applied_now);
  }
  TPH_TRY(attachDataKey(**db, options, config, clock));
  return std::move(*db);
}

}  // namespace tph::cli

int main(int argc, char** argv) {
  // Logs go to stderr: stdout is for what a command prints (JSON summaries, exports).
  spdlog::set_default_logger(spdlog::stderr_color_mt("tanpuhui"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  CLI::App app{"tanpuhui: the carbon-inclusive platform (碳普惠) — one binary for every role"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tanpuhui 0.1.0");
  int exit_code = 0;
  tph::cli::addServeCommand(app, exit_code);
  tph::cli::addMigrateCommand(app, exit_code);
  tph::cli::addDemoCommand(app, exit_code);
  tph::cli::addUserCommand(app, exit_code);
  tph::cli::addAuditCommand(app, exit_code);
  tph::cli::addMethodologyCommands(app, exit_code);
  tph::cli::addGenCommand(app, exit_code);
  tph::cli::addIngestCommand(app, exit_code);
  tph::cli::addRegistryCommand(app, exit_code);
  tph::cli::addVerifyProofCommand(app, exit_code);
  tph::cli::addAnalyticsCommand(app, exit_code);
  tph::cli::addIncentiveCommand(app, exit_code);
  tph::cli::addEtsCommand(app, exit_code);
  tph::cli::addNeutralCommand(app, exit_code);
  tph::cli::addMarketCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tanpuhui: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
