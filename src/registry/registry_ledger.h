#pragma once
// The registry's in-transaction functions, for modules whose use case issues units (certify): they
// take the caller's open transaction, so units are issued in the same commit as the batch that
// earns them, or not at all.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"
#include "registry/registry_service.h"

namespace tph::registry {

//! The operator account of a region, opened on first use.
std::int64_t ensureOperatorAccount(soci::session& sql, const Clock& clock,
                                   const std::string& region_code, const std::string& actor);
//! The buffer pool (kind buffer, region 440000), opened on first use.
std::int64_t ensureBufferAccount(soci::session& sql, const Clock& clock, const std::string& actor);
//! The public number of an account.
std::string accountNumber(soci::session& sql, std::int64_t account_id);
//! True when the user is a member of the account.
bool isAccountMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id);

struct IssueUnitsRequest {
  std::int64_t batch_no = 0;
  std::string region;
  std::string methodology;  //!< serial-safe (isSerialSafeMethodology)
  int vintage_year = 0;
  Units units{0};         //!< all units of the batch, the buffer's included; at least 1
  Units buffer_units{0};  //!< the last buffer_units serials go to the buffer pool
  std::int64_t operator_account_id = 0;
  std::string actor;
};

//! Which issuances a movement may take units from: a product of the market, an ETS-eligible
//! scope. Empty fields match anything; vintage years are inclusive.
struct UnitFilter {
  std::string methodology;
  std::string region;
  int vintage_from = 0;
  int vintage_to = 0;
  bool matches(const std::string& issuance_methodology, const std::string& issuance_region,
               int vintage_year) const {
    return (methodology.empty() || methodology == issuance_methodology) &&
           (region.empty() || region == issuance_region) &&
           (vintage_from == 0 || vintage_year >= vintage_from) &&
           (vintage_to == 0 || vintage_year <= vintage_to);
  }
};

//! The account's held units that the filter admits (and of one batch, when given).
Units heldUnits(soci::session& sql, std::int64_t account_id, const UnitFilter& filter,
                std::optional<std::int64_t> batch_no = std::nullopt);

//! The id of an account by its number.
std::optional<std::int64_t> findAccountId(soci::session& sql, const std::string& account_no);

//! A recorded operation with its serial ranges (an ETS surrender's, an event's retirement). An
//! id that names no operation is a broken invariant and throws.
Operation operation(soci::session& sql, std::int64_t operation_id);

//! A transfer or retirement run inside the caller's transaction (a trade's delivery, an ETS
//! surrender, an event's neutralisation). The caller has checked who may move the units; this
//! checks the units, splits blocks lowest serial first, records the operation and audits it.
struct MoveUnitsRequest {
  std::string kind;  //!< "transfer" or "retire"
  std::string idempotency_key;
  std::int64_t from_account_id = 0;
  std::int64_t to_account_id = 0;  //!< for a transfer
  Units units{0};
  UnitFilter filter;
  std::optional<std::int64_t> batch_no;
  std::string reason;       //!< for a retirement: one of kRetirementReasons
  std::string beneficiary;  //!< for a retirement
  std::string note;
  std::string actor;
};
Result<Operation> moveUnits(soci::session& sql, const Clock& clock,
                            const MoveUnitsRequest& request);

//! Issues units 1..units of a batch: the operator's block first, then the buffer's, each as an
//! audited issue operation. Issuing a batch twice is a broken invariant (the batch is the
//! primary key) and throws.
Issuance issueUnits(soci::session& sql, const Clock& clock, const IssueUnitsRequest& request);

}  // namespace tph::registry
