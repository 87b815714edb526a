#pragma once
// The subcommands of `tanpuhui`. Each add*Command registers one on the app; its callback sets
// the process exit code. Commands parse, call module services and print; no rules live here.

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "cli/config.h"
#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::cli {

//! Options every data-touching command takes.
struct CommonOptions {
  std::optional<std::string> config;
  std::optional<std::string> db;
  std::optional<std::string> data_key_file;
};

//! Adds --config, --db and --data-key-file to a subcommand.
void addCommonOptions(CLI::App& command, CommonOptions& options);

//! Attaches the deployment's data key to a migrated database and seals what rows written before
//! sealing began hold in clear (store/data_key.h, privacy::sealPlainPersonalData).
Status attachDataKey(store::Database& db, const CommonOptions& options, const Config& config,
                     const Clock& clock);

//! Loads the config and opens the database the options name, migrating it to this binary's schema
//! and attaching its data key.
Result<std::unique_ptr<store::Database>> openMigratedDatabase(const CommonOptions& options,
                                                              const Config& config,
                                                              const Clock& clock);

//! Prints "tanpuhui: FIELD: MESSAGE" to stderr and returns the exit code for it.
int fail(const Error& error);

void addServeCommand(CLI::App& app, int& exit_code);
void addMigrateCommand(CLI::App& app, int& exit_code);
void addDemoCommand(CLI::App& app, int& exit_code);
void addUserCommand(CLI::App& app, int& exit_code);
void addAuditCommand(CLI::App& app, int& exit_code);
void addMethodologyCommands(CLI::App& app, int& exit_code);
void addGenCommand(CLI::App& app, int& exit_code);
void addIngestCommand(CLI::App& app, int& exit_code);
void addRegistryCommand(CLI::App& app, int& exit_code);
void addVerifyProofCommand(CLI::App& app, int& exit_code);
void addAnalyticsCommand(CLI::App& app, int& exit_code);
void addIncentiveCommand(CLI::App& app, int& exit_code);
void addEtsCommand(CLI::App& app, int& exit_code);
void addNeutralCommand(CLI::App& app, int& exit_code);
void addMarketCommand(CLI::App& app, int& exit_code);

//! Imports data_dir's factor library and new methodology files, printing every problem found.
Status importMethodologies(store::Database& db, const Clock& clock, const std::string& data_dir,
                           const std::string& actor);

//! Loads data_dir/regions.toml into the database (used by migrate and demo).
Status loadRegionFile(store::Database& db, const Clock& clock, const std::string& data_dir,
                      const std::string& actor);

}  // namespace tph::cli
