#pragma once
// The registry's in-transaction functions, for modules whose use case issues units (certify): they
// take the caller's open transaction, so units are issued in the same commit as the batch that
// earns them, or not at all.

#include <soci/soci.h>

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/quantity.h"
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

//! Issues units 1..units of a batch: the operator's block first, then the buffer's, each as an
//! audited issue operation. Issuing a batch twice is a broken invariant (the batch is the
//! primary key) and throws.
Issuance issueUnits(soci::session& sql, const Clock& clock, const IssueUnitsRequest& request);

}  // namespace tph::registry
