#pragma once
// SQL of the certify module. Internal to src/certify. It reads ingest's reductions and records,
// which certification exists to lock, and writes only its own tables.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certify/certify_service.h"

namespace tph::certify::detail {

struct BatchRow {
  std::int64_t id = 0;
  std::string methodology, region, vintage_from, vintage_until;
  int vintage_year = 0;
  bool carbon_sink = false;
  std::int64_t operator_account_id = 0;
  std::string state, opened_by;
  std::optional<std::int64_t> opened_by_user_id;
  std::int64_t opened_at_ms = 0;
  int notice_days_working = 0;
  std::int64_t notice_until_ms = 0;
  std::string sample_seed, report_json;
  std::int64_t records_locked = 0, grams_locked = 0;
  std::optional<std::int64_t> verifier_user_id;
  std::string verifier_name;
  std::optional<std::int64_t> grams_approved;
  std::string decision_note;
  std::optional<std::int64_t> carry_in, carry_out, units_issued, buffer_units, issued_at_ms;
};

//! The batch, locked against concurrent changes on PostgreSQL when `for_update`.
std::optional<BatchRow> findBatch(soci::session& sql, std::int64_t id, bool for_update);
std::vector<BatchRow> listBatches(soci::session& sql, const std::string& state, int limit,
                                  int offset);
std::int64_t insertBatch(soci::session& sql, const BatchRow& row, std::int64_t now_ms);

bool regionExists(soci::session& sql, const std::string& code);

//! Linked batches: their reductions live on a linked platform, not in batch_reductions.
bool isLinkedBatch(soci::session& sql, std::int64_t batch_id);
bool linkedSourceTaken(soci::session& sql, const std::string& source, const std::string& ref);
void insertLinkedBatch(soci::session& sql, std::int64_t batch_id, const std::string& source,
                       const std::string& ref, const std::string& records_digest);

//! Locks every uncertified credited reduction of the scope into the batch; returns how many.
std::int64_t lockReductions(soci::session& sql, std::int64_t batch_id,
                            const std::string& methodology, const std::string& region,
                            const std::string& from_day, const std::string& until_day);
struct Locked {
  std::int64_t records = 0, grams = 0;
};
Locked lockedTotals(soci::session& sql, std::int64_t batch_id);
std::int64_t releasedGrams(soci::session& sql, std::int64_t batch_id);
std::vector<std::string> lockedDomains(soci::session& sql, std::int64_t batch_id);
std::vector<std::int64_t> lockedIds(soci::session& sql, std::int64_t batch_id);
std::vector<MonitoringReport::MonthTotal> monthTotals(soci::session& sql, std::int64_t batch_id);
std::int64_t subjects(soci::session& sql, std::int64_t batch_id);
std::int64_t reoffered(soci::session& sql, std::int64_t batch_id);
//! Records received for the scope in [from_ms, until_ms), by status.
std::vector<std::pair<std::string, std::int64_t>> recordStatuses(soci::session& sql,
                                                                 const std::string& methodology,
                                                                 const std::string& region,
                                                                 std::int64_t from_ms,
                                                                 std::int64_t until_ms);
std::vector<MonitoringReport::SampleRecord> sampleRecords(soci::session& sql,
                                                          const std::vector<std::int64_t>& ids);
void setReport(soci::session& sql, std::int64_t batch_id, const std::string& report_json,
               std::int64_t records, std::int64_t grams, bool carbon_sink);

//! Moves a batch from one of `from` states to `to`; false when it was in none of them.
bool setState(soci::session& sql, std::int64_t id, const std::vector<std::string>& from,
              const std::string& to, std::int64_t now_ms);
void setVerifier(soci::session& sql, std::int64_t id, std::int64_t user_id, const std::string& name,
                 std::int64_t now_ms);
void setDecision(soci::session& sql, std::int64_t id, std::optional<std::int64_t> grams,
                 const std::string& note, std::int64_t now_ms);
void setIssued(soci::session& sql, std::int64_t id, std::int64_t carry_in, std::int64_t carry_out,
               std::int64_t units, std::int64_t buffer_units, std::int64_t now_ms);
void refreshLockedTotals(soci::session& sql, std::int64_t id, std::int64_t now_ms);

//! The grams of a locked reduction of this batch, or nullopt when it is not locked here.
std::optional<std::int64_t> lockedGrams(soci::session& sql, std::int64_t batch_id,
                                        std::int64_t reduction_id);
void releaseOne(soci::session& sql, std::int64_t batch_id, std::int64_t reduction_id,
                std::int64_t grams, const std::string& reason, const std::string& actor,
                std::int64_t now_ms);
//! Releases every reduction still locked in the batch (a rejection); returns how many.
std::int64_t releaseAll(soci::session& sql, std::int64_t batch_id, const std::string& reason,
                        const std::string& actor, std::int64_t now_ms);

std::int64_t insertComment(soci::session& sql, std::int64_t batch_id, const std::string& author,
                           std::optional<std::int64_t> user_id, const std::string& body,
                           std::int64_t now_ms);
std::int64_t commentCount(soci::session& sql, std::int64_t batch_id);
std::vector<Comment> listComments(soci::session& sql, std::int64_t batch_id);
void insertReview(soci::session& sql, std::int64_t batch_id, const std::string& actor,
                  const std::string& action, const std::string& note, std::int64_t now_ms);
std::vector<ReviewEntry> listReviews(soci::session& sql, std::int64_t batch_id);

std::int64_t carryOver(soci::session& sql, const std::string& region,
                       const std::string& methodology);
//! Replaces the carry-over `before` with `after`; false when another issuance changed it first.
bool replaceCarryOver(soci::session& sql, const std::string& region, const std::string& methodology,
                      std::int64_t before, std::int64_t after, std::int64_t now_ms);

}  // namespace tph::certify::detail
