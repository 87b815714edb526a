#pragma once
// ProvenanceService: from a PHCER serial back to the reductions it is made of, and from a
// resident's reduction forward to the units it became. Public views never name a person: a batch
// is described by totals and its Merkle root; only a reduction's owner gets its leaf and the
// inclusion proof that it is under the root (docs/provenance.md).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "certify/certify_service.h"
#include "certify/merkle.h"
#include "core/clock.h"
#include "core/result.h"
#include "registry/registry_service.h"

namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}

namespace tph::certify {

inline constexpr int kProvenanceMaxLimit = 500;
inline constexpr int kLeftOutMax = 200;

struct GroupTotal {
  std::string key;  //!< YYYY-MM, or a region code
  std::int64_t records = 0;
  Grams grams{0};
};

//! A methodology version as applied, with its factors and their sources.
struct AppliedMethodology {
  std::string id;
  int version = 0;
  std::string name_zh, name_en;
  std::string formula;
  struct Factor {
    std::string name, ref, unit, source, region;
    double value = 0;
    int year = 0;
  };
  std::vector<Factor> factors;
};

//! What a serial is made of and what became of it.
struct SerialProvenance {
  registry::SerialRange serial;
  Batch batch;
  std::string merkle_root;         //!< over the reductions issued
  std::string merkle_root_opened;  //!< the commitment made at opening
  std::int64_t merkle_leaves = 0;
  std::vector<AppliedMethodology> methodologies;
  std::vector<GroupTotal> by_month, by_region;
  std::int64_t records = 0, subjects = 0;
  Grams grams{0};
  std::string verifier_name;
  std::string decision;                      //!< approved / rejected / pending, and the note
  std::vector<registry::Operation> history;  //!< every movement of these units, oldest first
};

//! One of a resident's reductions and where it went.
struct ReductionFate {
  std::int64_t reduction_id = 0;
  std::string methodology;
  int methodology_version = 0;
  std::string day;
  Grams grams{0};
  //! uncertified (in no batch yet), locked (in an open batch), issued, or released (deducted or
  //! rejected, with the reason; free for a later batch).
  std::string status;
  std::optional<std::int64_t> batch_no;
  std::string batch_state;
  std::string merkle_root;
  std::vector<std::string> serials;  //!< the serial blocks the batch became
  //! What became of those units since issuance: transfers, retirements (with beneficiary and
  //! reason), cancellations, oldest first.
  std::vector<registry::Operation> since_issuance;
  std::string released_reason;
  std::optional<std::int64_t> released_from_batch;
};

//! A record that earned nothing, with why.
struct LeftOutRecord {
  std::string provider_record_id, methodology, status, reason;
  Instant occurred_at;
};

struct ResidentProvenance {
  std::vector<ReductionFate> reductions;
  std::vector<LeftOutRecord> left_out;
};

//! Shared between threads; holds no mutable state.
class ProvenanceService {
 public:
  ProvenanceService(store::Database& db, const Clock& clock,
                    methodology::MethodologyService& methodologies, CertifyService& certify);

  //! Public.
  Result<SerialProvenance> serial(const std::string& serial);
  //! The caller's own reductions (their person account), newest first, and records left out.
  Result<ResidentProvenance> resident(const auth::Principal& caller, int limit, int offset);
  //! The inclusion proof of one of the caller's reductions in its batch's current root.
  Result<InclusionProof> proof(const auth::Principal& caller, std::int64_t reduction_id);

 private:
  store::Database& db_;
  const Clock& clock_;
  methodology::MethodologyService& methodologies_;
  CertifyService& certify_;
};

}  // namespace tph::certify
