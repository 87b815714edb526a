#pragma once
// SQL of the methodology module. Internal to src/methodology.

#include <soci/soci.h>

#include <optional>
#include <string>
#include <vector>

#include "core/field_cipher.h"
#include "methodology/methodology_service.h"

namespace tph::methodology::detail {

struct StoredVersion {
  VersionSummary summary;
  std::string definition_toml;
  std::string factors_json;  //!< "" until frozen
};

FactorLibrary loadFactorLibrary(soci::session& sql);
//! 0 unchanged, 1 added, 2 updated.
int upsertFactor(soci::session& sql, const EmissionFactor& factor, std::int64_t now_ms);

std::optional<StoredVersion> findVersion(soci::session& sql, std::int64_t row_id);
std::optional<StoredVersion> findVersion(soci::session& sql, const std::string& id, int version);
std::vector<StoredVersion> listVersions(soci::session& sql, const std::string& where_state_in,
                                        const std::string& methodology_id);
std::int64_t insertVersion(soci::session& sql, const MethodologyDefinition& def,
                           const std::string& state, const std::string& toml,
                           const std::string& factors_json, const std::string& created_by,
                           std::optional<std::int64_t> proposal_id, std::int64_t now_ms);
void updateVersionDefinition(soci::session& sql, std::int64_t row_id,
                             const MethodologyDefinition& def, const std::string& toml,
                             std::int64_t now_ms);
void setVersionState(soci::session& sql, std::int64_t row_id, const std::string& state,
                     const std::string& reason, std::int64_t now_ms);
void setVersionWindow(soci::session& sql, std::int64_t row_id, const std::string& from,
                      const std::string& until, std::int64_t now_ms);
void setVersionFactors(soci::session& sql, std::int64_t row_id, const std::string& factors_json);
std::string versionsFingerprint(soci::session& sql);

void insertComment(soci::session& sql, std::int64_t row_id, const std::string& author,
                   const std::string& kind, const std::string& body, std::int64_t now_ms);
std::vector<VersionComment> loadComments(soci::session& sql, std::int64_t row_id);

//! The contact is sealed with `cipher` (methodology_proposals.contact) and opened on reading.
std::int64_t insertProposal(soci::session& sql, const FieldCipher& cipher, const Proposal& proposal,
                            std::int64_t now_ms);
std::vector<Proposal> listProposals(soci::session& sql, const FieldCipher& cipher);
std::optional<Proposal> findProposal(soci::session& sql, const FieldCipher& cipher,
                                     std::int64_t id);
void setProposalStatus(soci::session& sql, std::int64_t id, const std::string& status);

}  // namespace tph::methodology::detail
