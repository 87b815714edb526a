#pragma once
// SQL of the ingest module. Internal to src/ingest.

#include <soci/soci.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "analytics/rollup_deltas.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "store/bulk_insert.h"
#include "store/json_rows.h"

namespace tph::ingest::detail {

std::optional<Provider> findProvider(soci::session& sql, std::int64_t id);
std::optional<Provider> findProviderByKey(soci::session& sql, const std::string& key);
std::optional<Provider> findProviderByUser(soci::session& sql, std::int64_t user_id);
std::vector<Provider> listProviders(soci::session& sql);
Status checkProviderReferences(soci::session& sql, const NewProvider& provider);
std::int64_t insertProvider(soci::session& sql, const NewProvider& provider,
                            const std::string& created_by, std::int64_t now_ms);
void replaceProviderMethodologies(soci::session& sql, std::int64_t id,
                                  const std::vector<std::string>& methodologies);

std::optional<Binding> findBinding(soci::session& sql, std::int64_t id);
std::optional<Binding> activeBinding(soci::session& sql, std::int64_t provider_id,
                                     const std::string& subject_ref);
std::vector<Binding> bindingsOfAccounts(soci::session& sql,
                                        const std::vector<std::int64_t>& account_ids);
std::vector<Binding> pendingBindings(soci::session& sql, std::int64_t provider_id);
std::int64_t insertBinding(soci::session& sql, const Binding& binding, std::int64_t now_ms);
void setBindingState(soci::session& sql, std::int64_t id, const std::string& status,
                     std::int64_t now_ms);
void setBindingCode(soci::session& sql, std::int64_t id, const std::string& code_hash,
                    std::int64_t expires_ms);
void countBindingAttempt(soci::session& sql, std::int64_t id);

//! The active bindings of these references, with their account's id and kind.
struct BoundAccount {
  std::int64_t account_id = 0;
  std::string kind;
  std::int64_t ledger_account = 0;
};
std::map<std::string, BoundAccount> boundAccounts(soci::session& sql, std::int64_t provider_id,
                                                  const std::vector<std::string>& refs);

//! Outcomes already stored for these record ids of a provider.
struct StoredOutcome {
  std::int64_t id = 0;
  std::string status;
  std::string reason;
};
std::map<std::string, StoredOutcome> storedOutcomes(soci::session& sql, std::int64_t provider_id,
                                                    const std::vector<std::string>& record_ids);

}  // namespace tph::ingest::detail

namespace tph::ingest::detail {

struct RecordRow {
  std::int64_t provider_id = 0;
  std::int64_t batch_id = 0;
  std::string rid, ref, methodology, region, inputs_json, status, reason;
  std::int64_t at_ms = 0;
  std::optional<std::int64_t> account_id;
};
void updateRecordOutcome(soci::session& sql, std::int64_t id, const std::string& status,
                         const std::string& reason, std::optional<std::int64_t> account_id,
                         std::int64_t now_ms);
void deleteRecord(soci::session& sql, std::int64_t id);

struct ReductionRow {
  std::int64_t record_id = 0, account_id = 0, provider_id = 0;
  std::string methodology;
  int version = 0;
  std::string domain;
  std::int64_t at_ms = 0;
  std::string day, region;
  std::int64_t grams = 0, points = 0;
  std::string cap, explanation;
  std::optional<std::int64_t> campaign_id;  //!< the campaign that raised the points
  std::int64_t campaign_bonus_points = 0;   //!< included in points
};
void updateReduction(soci::session& sql, std::int64_t record_id, std::int64_t grams,
                     std::int64_t points, std::int64_t campaign_bonus_points,
                     const std::string& cap, const std::string& explanation);

struct CapRows {
  std::int64_t day_grams = 0, month_grams = 0, year_grams = 0;
  std::string input_totals = "[]";
  std::string last_key;
};

struct DayRecord {
  std::int64_t record_id = 0;
  std::int64_t at_ms = 0;
  std::string rid, inputs_json, region;
  int version = 0;
  std::int64_t grams = 0, points = 0;
};
//! True when a reduction of this account, methodology and Shanghai day is locked in a
//! certification batch (batch_reductions, migration 0005).
bool dayHasLockedReductions(soci::session& sql, std::int64_t account_id,
                            const std::string& methodology, const std::string& day);
std::vector<DayRecord> creditedDayRecords(soci::session& sql, std::int64_t account_id,
                                          const std::string& methodology, const std::string& day);

struct RecentTrip {
  std::int64_t at_ms = 0;
  std::int64_t provider_id = 0;
  std::string methodology;
};

std::int64_t insertBatch(soci::session& sql, std::int64_t provider_id, const std::string& source,
                         std::int64_t now_ms);
void finishBatch(soci::session& sql, std::int64_t batch_id, const BatchReport& report,
                 const std::string& digest);

std::vector<StoredRecord> recordsWhere(soci::session& sql, const std::string& where,
                                       const std::vector<std::string>& binds, int limit,
                                       int offset);

AccountSummary accountSummary(soci::session& sql, std::int64_t account_id,
                              const std::string& from_day, const std::string& to_day);
std::vector<ReductionEntry> accountHistory(soci::session& sql, std::int64_t account_id, int limit,
                                           int offset);

//! The writes and lookups of one batch, set-based: records and reductions are queued and written
//! by flush() in a few statements for all of them (one round trip each on PostgreSQL), cap rows
//! and recent trips are loaded for all the batch's accounts at once, and the statements that run
//! once per record are prepared once per transaction.
class BatchStatements {
 public:
  explicit BatchStatements(soci::session& sql);

  //! Queues a record for the next flush and answers the id it will have.
  std::int64_t queueRecord(const RecordRow& row, std::int64_t now_ms);
  void queueReduction(const ReductionRow& row);
  //! A stored reduction recomputed (a late record changed its day): its change, for the rollups.
  void queueReductionChange(const std::string& day, const std::string& region,
                            const std::string& domain, const std::string& methodology,
                            std::int64_t account_id, std::int64_t grams_delta,
                            std::int64_t points_delta);
  //! Writes the queued records and reductions, the analytics rollups they change, then the cap
  //! rows crediting changed (as deltas).
  void flush();

  std::vector<RecentTrip> recentTravel(std::int64_t account_id, std::int64_t from_ms,
                                       std::int64_t to_ms);
  CapRows loadCapRows(std::int64_t account_id, const std::string& methodology,
                      const std::string& day);
  void saveCapRows(std::int64_t account_id, const std::string& methodology, const std::string& day,
                   const CapRows& before, const CapRows& after);

  //! Loads, in a few queries, the cap rows and recent trips the batch's records will need, so
  //! crediting asks the database once per batch rather than once per record.
  //! On PostgreSQL the cap rows are locked, so concurrent batches for one subject take turns.
  void preload(const std::vector<std::int64_t>& account_ids,
               const std::vector<std::string>& periods, std::int64_t trips_from_ms,
               std::int64_t trips_to_ms);

 private:
  std::int64_t nextRecordId();
  void flushCaps();

  soci::session& sql_;
  store::BulkInsert records_, reductions_;
  analytics::RollupDeltas rollups_;
  std::vector<std::int64_t> free_ids_;  //!< PostgreSQL: ids taken from the sequence, not yet used
  std::int64_t next_id_ = 0;            //!< SQLite: the next id (the transaction holds the lock)

  // Bound buffers come before the statements that bind them.
  long long trip_account_ = 0, trip_from_ = 0, trip_to_ = 0, trip_at_ = 0, trip_provider_ = 0;
  std::string trip_methodology_;
  long long cap_account_ = 0, cap_grams_ = 0;
  std::string cap_methodology_, cap_day_, cap_month_, cap_year_, cap_period_, cap_totals_, cap_key_;
  std::optional<soci::statement> recent_travel_, load_caps_;

  struct CapRow {
    std::int64_t grams = 0;
    std::int64_t delta = 0;  //!< added by this batch, written back as a delta
    std::string totals = "[]";
    std::string key;
  };
  using CapKey =
      std::tuple<std::int64_t, std::string, std::string>;  //!< account, methodology, period
  std::map<CapKey, CapRow> caps_;
  std::set<CapKey> dirty_;
  std::set<std::int64_t> caps_loaded_for_;  //!< accounts whose rows for cap_periods_ are in caps_
  std::set<std::string> cap_periods_;
  std::map<std::int64_t, std::vector<RecentTrip>> trips_;
  std::set<std::int64_t> trips_loaded_for_;
  std::int64_t trips_from_ = 0, trips_to_ = 0;
};

}  // namespace tph::ingest::detail
