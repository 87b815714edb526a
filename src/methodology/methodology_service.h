#pragma once
// MethodologyService: the methodology library as stored data — import of the shipped files, the
// lifecycle from proposal to retirement with its permissions and audit, the catalogue of versions
// in force, and quantification for calculators and apps.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"
#include "methodology/catalog.h"
#include "methodology/definition.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}

namespace tph::methodology {

//! A stored methodology version as lists and consoles show it.
struct VersionSummary {
  std::int64_t row_id = 0;
  std::string methodology_id;
  int version = 0;
  std::string state;
  std::string scope;
  std::string domain;
  std::string name_zh, name_en;
  std::string effective_from;
  std::string effective_until;
  std::string created_by;
  Instant created_at;
  Instant updated_at;
  std::string decision_reason;
  std::optional<std::int64_t> proposal_id;
};

struct VersionComment {
  std::int64_t id = 0;
  std::string author;
  std::string kind;  //!< comment, submit, review, approve, reject, activate, retire
  std::string body;
  Instant at;
};

struct VersionDetail {
  VersionSummary summary;
  std::string definition_toml;
  std::optional<MethodologyDefinition> definition;
  nlohmann::json factors;  //!< frozen factor values and sources once active; else the library's
  std::vector<VersionComment> comments;
  std::vector<LintIssue> lint;
};

struct VersionFilter {
  std::string domain;
  std::string region;  //!< versions whose scope covers this region
  std::string state;   //!< "" = what the caller may see
};

struct Proposal {
  std::int64_t id = 0;
  std::string title;
  std::string domain;
  std::string description;
  std::string contact;
  std::optional<std::int64_t> proposer_user_id;
  std::string region_code;
  std::string status;
  Instant created_at;
};

struct QuantifyRequest {
  std::string methodology;
  std::optional<int> version;
  std::string region = "440000";
  std::optional<Instant> occurred_at;  //!< default: now
  std::vector<std::pair<std::string, double>> inputs;
};

struct QuantifyResult {
  std::int64_t grams = 0;
  std::int64_t points = 0;
  std::string methodology;
  int version = 0;
  nlohmann::json explanation;
};

struct ImportReport {
  int factors_added = 0;
  int factors_updated = 0;
  int versions_added = 0;
  int versions_unchanged = 0;
  std::vector<LintIssue> issues;  //!< nothing was imported when not empty
};

//! Whole points for a number of grams at a rate, rounded down: points are never over-issued.
std::int64_t pointsFor(std::int64_t grams, std::int64_t points_per_kg);

//! Shared between threads. The catalogue is an immutable snapshot, swapped under catalog_mu_.
class MethodologyService {
 public:
  MethodologyService(store::Database& db, const Clock& clock);

  //! Imports the factor library and every methodology file in `dir`; lint issues abort the whole
  //! import. Versions already stored with the same text are left alone.
  Result<ImportReport> importDirectory(const std::filesystem::path& data_dir,
                                       const std::string& actor);
  //! True when no methodology version is stored yet (a fresh database).
  bool empty();

  //! The versions in force now; rebuilt when stored versions change.
  std::shared_ptr<const Catalog> catalog();

  Result<QuantifyResult> quantify(const QuantifyRequest& request);

  std::vector<VersionSummary> list(const std::optional<auth::Principal>& caller,
                                   const VersionFilter& filter);
  Result<std::vector<VersionDetail>> versionsOf(const std::optional<auth::Principal>& caller,
                                                const std::string& id);
  Result<VersionDetail> version(const std::optional<auth::Principal>& caller, std::int64_t row_id);
  std::vector<EmissionFactor> factors();

  //! Lints a draft's text against the current factor library.
  std::vector<LintIssue> lint(const std::string& toml_text);

  Result<Proposal> propose(const std::optional<auth::Principal>& caller, Proposal proposal);
  Result<std::vector<Proposal>> proposals(const auth::Principal& caller);

  Result<VersionDetail> createDraft(const auth::Principal& caller, const std::string& toml_text,
                                    std::optional<std::int64_t> proposal_id);
  Result<VersionDetail> updateDraft(const auth::Principal& caller, std::int64_t row_id,
                                    const std::string& toml_text);
  Result<VersionDetail> submit(const auth::Principal& caller, std::int64_t row_id);
  //! A linked platform's locally approved version enters the review flow as a submitted draft
  //! attributed to `actor` ("link_platform:3"), inside the caller's transaction `sql`. Its scope
  //! must lie within `region`, below the province. Returns the version's row id.
  Result<std::int64_t> submitLinked(soci::session& sql, const std::string& actor,
                                    const std::string& region, const std::string& toml_text);
  Result<VersionDetail> startReview(const auth::Principal& caller, std::int64_t row_id);
  Result<VersionDetail> comment(const auth::Principal& caller, std::int64_t row_id,
                                const std::string& body);
  Result<VersionDetail> approve(const auth::Principal& caller, std::int64_t row_id,
                                const std::string& reason);
  Result<VersionDetail> reject(const auth::Principal& caller, std::int64_t row_id,
                               const std::string& reason);
  Result<VersionDetail> activate(const auth::Principal& caller, std::int64_t row_id,
                                 const std::string& effective_from);
  Result<VersionDetail> retire(const auth::Principal& caller, std::int64_t row_id,
                               const std::string& effective_until);

 private:
  Result<VersionDetail> transition(const auth::Principal& caller, std::int64_t row_id,
                                   const std::string& from, const std::string& to,
                                   const std::string& action, const std::string& note);
  void invalidateCatalog();

  store::Database& db_;
  const Clock& clock_;
  std::mutex catalog_mu_;
  std::shared_ptr<const Catalog> catalog_;  // guarded by catalog_mu_
  std::string catalog_fingerprint_;         // guarded by catalog_mu_
  Instant catalog_checked_at_{};            // guarded by catalog_mu_
};

}  // namespace tph::methodology
