#pragma once
// SQL of the registry module. Internal to src/registry.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/registry_ledger.h"
#include "registry/registry_service.h"

namespace tph::registry::detail {

struct AccountRow {
  std::int64_t id = 0;
  std::string account_no;
  std::string kind;
  std::string name;
  std::string region_code;
  std::int64_t created_at_ms = 0;
};

std::optional<AccountRow> findAccountByNo(soci::session& sql, const std::string& account_no);
std::optional<AccountRow> findAccountById(soci::session& sql, std::int64_t id);
std::optional<AccountRow> findAccountOfKind(soci::session& sql, const std::string& kind,
                                            const std::string& region_code);
//! Inserts an account and names it: "GD-" + prefix + id, e.g. GD-ENT-440300-000007.
AccountRow insertAccount(soci::session& sql, const std::string& kind, const std::string& name,
                         const std::string& region_code, const std::string& account_no,
                         const std::string& actor, std::int64_t now_ms);
void setAccountNo(soci::session& sql, std::int64_t id, const std::string& account_no);
void addMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id,
               std::int64_t now_ms);
std::vector<std::int64_t> members(soci::session& sql, std::int64_t account_id);
bool isMember(soci::session& sql, std::int64_t account_id, std::int64_t user_id);
bool userExists(soci::session& sql, std::int64_t user_id);
bool regionExists(soci::session& sql, const std::string& code);
//! Accounts the user is a member of, and every operator, buffer and province account.
std::vector<AccountRow> candidateAccounts(soci::session& sql, std::int64_t user_id);

struct Balances {
  std::int64_t held = 0, retired = 0, cancelled = 0;
};
Balances balances(soci::session& sql, std::int64_t account_id);

struct BlockRow {
  std::int64_t id = 0;
  std::int64_t batch_id = 0;
  std::int64_t first = 0, last = 0;
};
//! The account's held blocks in serial order, locked against concurrent movers on PostgreSQL.
std::vector<BlockRow> heldBlocksForUpdate(soci::session& sql, std::int64_t account_id,
                                          std::optional<std::int64_t> batch_id,
                                          const UnitFilter* filter = nullptr);
//! Gives a whole block to an account with a status. Throws if the block changed under us.
void reassignBlock(soci::session& sql, const BlockRow& block, std::int64_t from_account,
                   std::int64_t to_account, const std::string& status, std::int64_t operation_id);
//! Cuts the first `units` off a held block into a new block; the old row keeps the rest.
void splitBlock(soci::session& sql, const BlockRow& block, std::int64_t from_account,
                std::int64_t units, std::int64_t to_account, const std::string& status,
                std::int64_t operation_id);
void insertBlock(soci::session& sql, std::int64_t batch_id, std::int64_t first, std::int64_t last,
                 std::int64_t account_id, const std::string& status, std::int64_t operation_id);
std::vector<SerialBlock> blocksOfAccount(soci::session& sql, std::int64_t account_id);
//! Blocks of a batch that overlap first..last.
std::vector<SerialBlock> blocksOverlapping(soci::session& sql, std::int64_t batch_id,
                                           std::int64_t first, std::int64_t last);

struct OperationRow {
  std::string kind;
  std::optional<std::int64_t> from_account, to_account;
  std::int64_t units = 0;
  std::string reason, beneficiary, note, digest, actor, key;
};
struct ExistingOperation {
  std::int64_t id = 0;
  std::string digest;
};
std::optional<ExistingOperation> findOperation(soci::session& sql, const std::string& key);
std::int64_t insertOperation(soci::session& sql, const OperationRow& row, std::int64_t now_ms);
void insertOperationRange(soci::session& sql, std::int64_t operation_id, std::int64_t batch_id,
                          std::int64_t first, std::int64_t last);
Operation loadOperation(soci::session& sql, std::int64_t id);
std::vector<std::int64_t> operationIds(soci::session& sql, const std::string& kind, int limit,
                                       int offset);
//! The operations that moved any of units first..last of a batch, oldest first.
std::vector<std::int64_t> operationIdsTouching(soci::session& sql, std::int64_t batch_id,
                                               std::int64_t first, std::int64_t last, int limit);

struct IssuanceRow {
  std::int64_t batch_id = 0;
  std::string region, methodology;
  int vintage_year = 0;
  std::int64_t units = 0, buffer_units = 0, account_id = 0, issued_at_ms = 0;
};
void insertIssuance(soci::session& sql, const IssuanceRow& row);
std::optional<IssuanceRow> findIssuance(soci::session& sql, std::int64_t batch_id);
std::vector<IssuanceRow> listIssuances(soci::session& sql, int limit, int offset);
//! The ranges of a batch's issue operations, in serial order.
std::vector<SerialRange> issuedRanges(soci::session& sql, const IssuanceRow& issuance);

//! Units by group ("vintage", "methodology", "region") and status, from issuances and blocks.
std::vector<TotalsRow> totalsBy(soci::session& sql, const std::string& group);

CheckReport checkInvariants(soci::session& sql);

}  // namespace tph::registry::detail
