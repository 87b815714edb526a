#pragma once
// The market's cash ledger in fen: double-entry, idempotent, never negative where the account does
// not allow it — the points ledger's rules (account/points_ledger.h) for money. Functions take the
// caller's open transaction, so cash moves in the same commit as the trade or deposit behind it.

#include <soci/soci.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::market {

using CashAccountId = std::int64_t;

//! One leg: a signed amount on one account (debit negative, credit positive).
struct CashLeg {
  CashAccountId account = 0;
  Fen amount{0};
};

struct CashEntry {
  std::string idempotency_key;
  std::string kind;  //!< "deposit", "withdrawal", "trade"
  std::string memo;
  std::vector<CashLeg> legs;  //!< at least two; amounts sum to zero
};

struct CashPosting {
  std::int64_t entry_id = 0;
  bool duplicate = false;
};

//! Opens (or finds) the cash account with this code. The clearing bank's account may go negative:
//! it is where deposits come from.
CashAccountId openCashAccount(soci::session& sql, const std::string& code, const std::string& kind,
                              bool allow_negative, const Clock& clock);

//! Posts an entry. Legs that do not sum to zero, or name an account twice, are a bug and throw. A
//! key posted before with the same legs answers duplicate; with other legs, a conflict. A leg that
//! would take a non-negative account below zero fails with conflict on field "cash".
Result<CashPosting> postCash(soci::session& sql, const CashEntry& entry, const Clock& clock);

Fen cashBalance(soci::session& sql, CashAccountId account);

struct CashCheck {
  bool ok = true;
  std::int64_t entries = 0;
  std::int64_t accounts = 0;
  std::string problem;
};
//! Recomputes every entry's sum and every account's balance from the postings.
CashCheck verifyCashLedger(soci::session& sql);

}  // namespace tph::market
