#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "methodology/methodology_file.h"
#include "methodology/methodology_service.h"
#include "store/database.h"

namespace tph::cli {

namespace {

std::optional<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct LintOptions {
  std::vector<std::string> files;
  std::optional<std::string> factors;
  std::optional<std::string> config;
  std::optional<std::string> data_dir;
};

int runLint(const LintOptions& options) {
  auto config = Config::load(options.config);
  if (!config) return fail(config.error());
  std::string factor_file = options.factors.value_or(
      config->get(kDataDirSetting, options.data_dir) + "/emission_factors.toml");
  auto factor_text = readText(factor_file);
  if (!factor_text) return fail(Error::invalid("factors", "cannot read " + factor_file));
  auto library = methodology::parseFactorLibrary(*factor_text, factor_file);
  std::vector<methodology::LintIssue> issues = library.issues;
  std::vector<methodology::VersionWindow> windows;
  for (const auto& file : options.files) {
    auto text = readText(file);
    if (!text) {
      issues.push_back({file, 0, "", "cannot read the file"});
      continue;
    }
    auto parsed = methodology::parseMethodology(*text, file);
    issues.insert(issues.end(), parsed.issues.begin(), parsed.issues.end());
    if (!parsed.definition) continue;
    auto found = methodology::lintMethodology(*parsed.definition, library.factors, file);
    issues.insert(issues.end(), found.begin(), found.end());
    const auto& d = *parsed.definition;
    windows.push_back({d.id, d.version, d.scope, d.effective_from, d.effective_until, file});
  }
  auto overlaps = methodology::lintOverlaps(windows);
  issues.insert(issues.end(), overlaps.begin(), overlaps.end());
  for (const auto& issue : issues) std::fprintf(stderr, "%s\n", issue.toString().c_str());
  if (!issues.empty()) {
    std::fprintf(stderr, "%zu problem%s in %zu file%s\n", issues.size(),
                 issues.size() == 1 ? "" : "s", options.files.size(),
                 options.files.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("%zu file%s ok\n", options.files.size(), options.files.size() == 1 ? "" : "s");
  return 0;
}

struct ImportOptions {
  CommonOptions common;
  std::optional<std::string> data_dir;
};

int runImport(const ImportOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  auto imported =
      importMethodologies(**db, clock, config->get(kDataDirSetting, options.data_dir), "cli");
  if (!imported) return fail(imported.error());
  return 0;
}

struct QuantifyOptions {
  CommonOptions common;
  std::string methodology;
  std::optional<int> version;
  std::string region = "440000";
  std::optional<std::string> at;
  std::string input;
};

int runQuantify(const QuantifyOptions& options) {
  auto config = Config::load(options.common.config);
  if (!config) return fail(config.error());
  methodology::QuantifyRequest request;
  request.methodology = options.methodology;
  request.version = options.version;
  request.region = options.region;
  if (options.at) {
    request.occurred_at = parseIso8601(*options.at);
    if (!request.occurred_at)
      return fail(Error::invalid("at", "--at must be an ISO 8601 instant with offset"));
  }
  auto inputs = nlohmann::json::parse(options.input, nullptr, false);
  if (inputs.is_discarded() || !inputs.is_object()) {
    return fail(
        Error::invalid("input", "--input must be a JSON object such as '{\"distance_km\": 12.5}'"));
  }
  for (const auto& [name, value] : inputs.items()) {
    if (!value.is_number())
      return fail(Error::invalid("input." + name, name + " must be a number"));
    request.inputs.emplace_back(name, value.get<double>());
  }
  SystemClock clock;
  auto db = openMigratedDatabase(options.common, *config, clock);
  if (!db) return fail(db.error());
  methodology::MethodologyService service(**db, clock);
  auto result = service.quantify(request);
  if (!result) return fail(result.error());
  nlohmann::json out = {{"grams", result->grams},
                        {"points", result->points},
                        {"methodology", result->methodology},
                        {"version", result->version},
                        {"explanation", result->explanation}};
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

Status importMethodologies(store::Database& db, const Clock& clock, const std::string& data_dir,
                           const std::string& actor) {
  methodology::MethodologyService service(db, clock);
  auto report = service.importDirectory(data_dir, actor);
  if (!report) return report.error();
  if (!report->issues.empty()) {
    for (const auto& issue : report->issues) std::fprintf(stderr, "%s\n", issue.toString().c_str());
    return Error::invalid("methodology",
                          std::to_string(report->issues.size()) +
                              " problems in the methodology library; nothing was imported");
  }
  std::printf("methodologies: %d versions added, %d unchanged; factors: %d added, %d updated\n",
              report->versions_added, report->versions_unchanged, report->factors_added,
              report->factors_updated);
  return {};
}

void addMethodologyCommands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("methodology", "Lint and import methodology definitions");
  group->require_subcommand(1);

  auto lint = std::make_shared<LintOptions>();
  auto* lint_cmd =
      group->add_subcommand("lint", "Report every problem in methodology files; exit 1 if any");
  lint_cmd->add_option("files", lint->files, "methodology TOML files")->required();
  lint_cmd->add_option("--factors", lint->factors,
                       "factor library (default DATA_DIR/emission_factors.toml)");
  lint_cmd->add_option("--data-dir", lint->data_dir, "data folder (default data)");
  lint_cmd->add_option("--config", lint->config, "TOML config file (also TPH_CONFIG)");
  lint_cmd->callback([lint, &exit_code] { exit_code = runLint(*lint); });

  auto import = std::make_shared<ImportOptions>();
  auto* import_cmd = group->add_subcommand(
      "import",
      "Load the factor library and every new methodology file from DATA_DIR into the database");
  addCommonOptions(*import_cmd, import->common);
  import_cmd->add_option("--data-dir", import->data_dir, "data folder (default data)");
  import_cmd->callback([import, &exit_code] { exit_code = runImport(*import); });

  auto quantify = std::make_shared<QuantifyOptions>();
  auto* q = app.add_subcommand(
      "quantify", "Quantify one behaviour and print grams with the explanation (JSON)");
  addCommonOptions(*q, quantify->common);
  q->add_option("--methodology", quantify->methodology, "methodology id, e.g. travel.metro")
      ->required();
  q->add_option("--version", quantify->version, "a specific version (default: the one in force)");
  q->add_option("--region", quantify->region, "GB/T 2260 region code (default 440000)");
  q->add_option("--at", quantify->at, "when it happened, ISO 8601 (default now)");
  q->add_option("--input", quantify->input, "inputs as a JSON object")->required();
  q->callback([quantify, &exit_code] { exit_code = runQuantify(*quantify); });
}

}  // namespace tph::cli
