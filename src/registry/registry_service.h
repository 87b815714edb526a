#pragma once
// RegistryService: PHCER holdings as serial blocks. Accounts (operators, enterprises, exchange
// members, verified individuals, the buffer pool, the province), transfers, retirements and
// cancellations that split blocks into contiguous parts, the public explorer, and the invariant
// check behind `tanpuhui registry check`. Issuance itself is registry_ledger.h's issueUnits, which
// certification calls inside its own transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"
#include "registry/serial.h"

namespace tph::store {
class Database;
}

namespace tph::registry {

enum class AccountKind { kOperator, kEnterprise, kExchangeMember, kIndividual, kBuffer, kProvince };
const char* toString(AccountKind kind);
std::optional<AccountKind> parseAccountKind(std::string_view text);

enum class BlockStatus { kHeld, kRetired, kCancelled };
const char* toString(BlockStatus status);

//! Why units were retired.
inline constexpr const char* kRetirementReasons[] = {"voluntary", "ets_offset",
                                                     "carbon_neutral_event"};

inline constexpr std::size_t kAccountNameMaxBytes = 120;
inline constexpr std::size_t kNoteMaxBytes = 1000;
inline constexpr std::size_t kBeneficiaryMaxBytes = 200;
inline constexpr std::size_t kAccountMaxMembers = 50;
inline constexpr std::int64_t kOperationMaxUnits = 100'000'000;
inline constexpr int kListMaxLimit = 500;

struct RegistryAccount {
  std::int64_t id = 0;
  std::string account_no;  //!< public: "GD-OP-440300", "GD-ENT-440300-000007", "GD-BUFFER"
  AccountKind kind = AccountKind::kEnterprise;
  std::string name;
  std::string region_code;
  std::vector<std::int64_t> member_user_ids;
  Units held{0};
  Units retired{0};
  Units cancelled{0};
  Instant created_at;
};

struct NewAccount {
  AccountKind kind = AccountKind::kEnterprise;
  std::string name;
  std::string region_code;
  std::vector<std::int64_t> member_user_ids;
};

//! A holding: units first..last of one issuance, in one account, with one status.
struct SerialBlock {
  std::int64_t id = 0;
  SerialRange range;
  std::string account_no;
  BlockStatus status = BlockStatus::kHeld;
  std::int64_t operation_id = 0;  //!< the operation that last changed the block
  std::string serial() const { return formatSerial(range); }
};

//! Which units a movement takes: `units` of the account's held units, lowest serials first,
//! optionally only of one batch.
struct UnitSelection {
  std::string account_no;
  Units units{0};
  std::optional<std::int64_t> batch_no;
};

struct TransferRequest {
  std::string idempotency_key;
  UnitSelection from;
  std::string to_account_no;
  std::string note;
};

struct RetireRequest {
  std::string idempotency_key;
  UnitSelection from;
  std::string reason;       //!< one of kRetirementReasons
  std::string beneficiary;  //!< on whose behalf
  std::string note;
};

struct CancelRequest {
  std::string idempotency_key;
  UnitSelection from;
  std::string reason;
};

//! One movement of units and the serial ranges it moved.
struct Operation {
  std::int64_t id = 0;
  std::string kind;  //!< issue, transfer, retire, cancel
  std::string from_account_no;
  std::string to_account_no;
  Units units{0};
  std::string reason;
  std::string beneficiary;
  std::string note;
  std::string actor;
  Instant at;
  std::vector<SerialRange> ranges;
  bool duplicate = false;  //!< a retry answered with the first outcome
};

struct Issuance {
  std::int64_t batch_no = 0;
  std::string region;
  std::string methodology;
  int vintage_year = 0;
  Units units{0};
  Units buffer_units{0};
  std::string account_no;  //!< the operator's
  Instant issued_at;
  std::vector<SerialRange> ranges;  //!< as issued: the operator's block, then the buffer's
};

//! A serial looked up: the blocks holding any of its units, and for retired or cancelled ones the
//! operation that retired or cancelled them.
struct SerialLookup {
  SerialRange asked;
  struct Part {
    SerialBlock block;
    std::string account_kind;
    std::string account_name;
    std::optional<Operation> operation;  //!< set for retired and cancelled blocks
  };
  std::vector<Part> parts;
};

struct TotalsRow {
  std::string key;
  Units issued{0};
  Units held{0};
  Units retired{0};
  Units cancelled{0};
};
struct Totals {
  std::vector<TotalsRow> by_vintage;
  std::vector<TotalsRow> by_methodology;
  std::vector<TotalsRow> by_region;
  TotalsRow all;
};

struct CheckReport {
  bool ok = true;
  std::int64_t issuances = 0;
  std::int64_t blocks = 0;
  std::string problem;  //!< the first violation found
};

//! Shared between threads; holds no mutable state.
class RegistryService {
 public:
  RegistryService(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  //! A province admin opens any kind of account (one buffer pool and one province account
  //! exist); a region admin opens operator, enterprise, exchange member and individual accounts
  //! in its region.
  Result<RegistryAccount> openAccount(const auth::Principal& caller, const NewAccount& request);
  //! The accounts the caller may act for.
  Result<std::vector<RegistryAccount>> accountsOf(const auth::Principal& caller);
  Result<RegistryAccount> account(const auth::Principal& caller, const std::string& account_no);
  Result<std::vector<SerialBlock>> blocksOf(const auth::Principal& caller,
                                            const std::string& account_no);

  Result<Operation> transfer(const auth::Principal& caller, const TransferRequest& request);
  Result<Operation> retire(const auth::Principal& caller, const RetireRequest& request);
  //! The province cancels held units of any account, with a reason.
  Result<Operation> cancel(const auth::Principal& caller, const CancelRequest& request);

  // The public explorer.
  Result<std::vector<Issuance>> issuances(int limit, int offset);
  Result<Issuance> issuance(std::int64_t batch_no);
  Result<SerialLookup> lookupSerial(const std::string& serial);
  Totals totals();
  Result<std::vector<Operation>> retirements(int limit, int offset);
  //! Public: every operation (issue, transfer, retire, cancel) that moved any unit of the serial,
  //! oldest first, at most kListMaxLimit.
  Result<std::vector<Operation>> history(const std::string& serial);

  //! Blocks disjoint and inside their issuance, issued = held + retired + cancelled per batch,
  //! operations' ranges adding up to their units.
  CheckReport check();

 private:
  enum class Movement { kTransfer, kRetire, kCancel };
  Result<Operation> move(const auth::Principal& caller, Movement movement,
                         const std::string& idempotency_key, const UnitSelection& from,
                         const std::string& to_account_no, const std::string& reason,
                         const std::string& beneficiary, const std::string& note);

  store::Database& db_;
  const Clock& clock_;
};

}  // namespace tph::registry
