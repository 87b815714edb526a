#pragma once
// JournalApplier: the writer-behind of the market journal. It applies the sequencer's durable
// events to the database in sequence order, a batch per transaction: orders (market_orders), each
// trade settled delivery versus payment through registry::moveUnits and the cash ledger with its
// fees (internal::settle), cancels, amendments, expiries, deposits and withdrawals, with their
// audit events — and the last applied sequence number in the same transaction, so that after a
// crash it starts where the database says and applies every record exactly once. Rules:
// docs/market.md, "Matching and the journal".

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "market/market_service.h"
#include "market/sequencer.h"

namespace tph::store {
class Database;
}

namespace tph::market {

inline constexpr std::size_t kApplierBatchMax = 1000;  //!< events per transaction

struct JournalApplierOptions {
  std::string journal = "market";  //!< the name its progress is stored under
  std::string actor = "system:market-journal";
  MarketOptions market;  //!< between_legs: for tests of DvP on apply
};

//! Not thread-safe: one applier per journal (the database row of its progress is its lock).
class JournalApplier {
 public:
  JournalApplier(store::Database& db, const Clock& clock, JournalApplierOptions options = {});

  //! Applies every durable event after the last applied one, at most `batch_max` per
  //! transaction. Answers the last applied sequence number. A failing batch rolls back whole (no
  //! trade is half settled) and the error is answered; the next call starts again from it. Reads
  //! the whole backlog into memory first: call it often.
  Result<std::uint64_t> catchUp(const Sequencer& sequencer,
                                std::size_t batch_max = kApplierBatchMax);
  std::uint64_t appliedSeq();

 private:
  store::Database& db_;
  const Clock& clock_;
  JournalApplierOptions options_;
};

}  // namespace tph::market
