#pragma once
// The points ledger: double-entry, idempotent, never negative where the account does not allow it.
// Functions take the caller's open transaction, so a posting commits or rolls back with the use
// case that made it (crediting a batch, redeeming an offer).

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::account {

using LedgerAccountId = std::int64_t;

//! One leg of an entry: a signed amount on one account (debit negative, credit positive).
struct Leg {
  LedgerAccountId account = 0;
  Points amount{0};
};

struct JournalEntry {
  std::string idempotency_key;  //!< a retried request with the same key posts nothing new
  std::string kind;             //!< "credit", "redeem", "expire", ...
  std::string memo;
  std::vector<Leg> legs;  //!< at least two; amounts sum to zero
};

struct PostResult {
  std::int64_t entry_id = 0;
  bool duplicate = false;  //!< the key was posted before, with the same legs
};

inline constexpr std::size_t kIdempotencyKeyMaxBytes = 200;

//! Opens (or finds) the ledger account with this code. Issuance accounts allow negative balances:
//! they are where points come from.
LedgerAccountId openLedgerAccount(soci::session& sql, const std::string& code,
                                  const std::string& kind, bool allow_negative, const Clock& clock);
std::optional<LedgerAccountId> findLedgerAccount(soci::session& sql, const std::string& code);

//! Posts an entry. Legs that do not sum to zero are a bug and throw std::logic_error. A key posted
//! before with the same legs answers duplicate; with other legs, a conflict. A leg that would take
//! a non-negative account below zero fails with conflict on field "points", posting nothing.
Result<PostResult> postEntry(soci::session& sql, const JournalEntry& entry, const Clock& clock);

Points balanceOf(soci::session& sql, LedgerAccountId account);

struct LedgerCheck {
  bool ok = true;
  std::int64_t entries = 0;
  std::int64_t accounts = 0;
  std::string problem;  //!< the first entry or account that does not add up
};

//! Recomputes every entry's sum and every account's balance from the postings.
LedgerCheck verifyLedger(soci::session& sql);

}  // namespace tph::account
