#pragma once
// PHCER units for tests of what comes after the registry (the market, ETS offsets, carbon-neutral
// events): an approved certification batch of a methodology, region and vintage, its units issued
// to the region's operator and transferred to an account. Header-only, so only the tests that use
// it link the registry.

#include <soci/soci.h>

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::testing {

struct UnitsToIssue {
  std::string account_no;
  std::int64_t units = 0;
  std::string methodology = "travel.metro";
  std::string region = "440300";
  int vintage_year = 2026;
};

//! Issues the units in a batch of their own and moves them to the account; answers the batch.
inline std::int64_t issueUnitsTo(store::Database& db, const Clock& clock, const UnitsToIssue& u) {
  return db
      .transaction([&](soci::session& sql) -> Result<std::int64_t> {
        auto op = registry::ensureOperatorAccount(sql, clock, u.region, "test");
        long long id = 0, account = op;
        int year = u.vintage_year;
        std::string from = std::to_string(year) + "-01-01", until = std::to_string(year) + "-01-31";
        sql << "INSERT INTO certification_batches (methodology_id, region_code, vintage_from, "
               "vintage_until, vintage_year, carbon_sink, operator_account_id, state, "
               "opened_by, opened_at_ms, notice_days_working, notice_until_ms, sample_seed, "
               "report_json, records_locked, grams_locked, updated_at_ms) VALUES (:m, :r, :f, "
               ":u, :y, 0, :op, 'approved', 'test', 0, 0, 0, 'seed', '{}', 0, 0, 0) RETURNING id",
            soci::use(u.methodology), soci::use(u.region), soci::use(from), soci::use(until),
            soci::use(year), soci::use(account), soci::into(id);
        registry::issueUnits(
            sql, clock, {id, u.region, u.methodology, year, Units(u.units), Units(0), op, "test"});
        auto to = registry::findAccountId(sql, u.account_no);
        if (!to) return Error::notFound("no account " + u.account_no);
        registry::MoveUnitsRequest move;
        move.kind = "transfer";
        move.idempotency_key = "test:seed:" + std::to_string(id);
        move.from_account_id = op;
        move.to_account_id = *to;
        move.units = Units(u.units);
        move.batch_no = id;
        move.actor = "test";
        auto moved = registry::moveUnits(sql, clock, move);
        if (!moved.ok()) return moved.error();
        return static_cast<std::int64_t>(id);
      })
      .value();
}

}  // namespace tph::testing
