#pragma once
// IngestService: from a provider's records to credited carbon accounts. Each record is validated
// (bad ones quarantined with a reason, never dropped), deduplicated on (provider, record id),
// matched to the account its reference is bound to (unbound ones held), screened for fraud (held
// for review), quantified by the methodology in force with caps applied deterministically, stored
// as a reduction, and rewarded with points — one transaction and one ledger entry per batch.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/result.h"
#include "ingest/provider_service.h"

namespace tph::store {
class Database;
}
namespace tph::methodology {
class MethodologyService;
}

namespace tph::ingest {

inline constexpr std::size_t kBatchMaxRecords = 50'000;

struct IngestOptions {
  std::chrono::hours retention{400 * 24};    //!< older records are refused
  std::chrono::hours hold_unbound{90 * 24};  //!< unbound records wait this long for a binding
  std::chrono::minutes future_tolerance{5};  //!< clocks differ; a little future is not fraud
  std::chrono::minutes overlap_window{
      10};                            //!< two trips of one subject this close, from two providers
  double max_speed_km_per_min = 3.0;  //!< 180 km/h between consecutive trips
  int velocity_max_per_hour = 12;     //!< records of one subject and methodology in an hour
};

//! One record as received; fields are validated by ingest, not by whoever parsed the text.
struct IncomingRecord {
  nlohmann::json fields;    //!< the record object
  std::string parse_error;  //!< set when the line could not be read as a JSON object
};

struct QuarantinedOutcome {
  std::size_t index = 0;  //!< position in the batch
  std::string provider_record_id;
  std::string reason;  //!< code: malformed, unknown_methodology, ...
  std::string message;
};

struct BatchReport {
  std::int64_t batch_id = 0;
  std::int64_t records = 0;
  std::int64_t credited = 0;
  std::int64_t duplicate = 0;
  std::int64_t held = 0;
  std::int64_t quarantined = 0;
  std::int64_t grams = 0;
  std::int64_t points = 0;
  std::vector<QuarantinedOutcome> quarantined_records;
  struct Duplicate {
    std::string provider_record_id;
    std::string first_outcome;
  };
  std::vector<Duplicate> duplicates;
};

struct StoredRecord {
  std::int64_t id = 0;
  std::int64_t provider_id = 0;
  std::string provider_key;
  std::string provider_record_id;
  std::string subject_ref;
  std::string methodology;
  Instant occurred_at;
  std::string region;
  nlohmann::json inputs;
  std::string status;
  std::string reason;
  Instant received_at;
  std::optional<std::int64_t> account_id;
};

//! What an account has been credited: totals, by domain, by day.
struct AccountSummary {
  std::int64_t grams = 0;
  std::int64_t points_earned = 0;
  std::int64_t records = 0;
  std::map<std::string, std::int64_t> grams_by_domain;
  std::vector<std::pair<std::string, std::int64_t>>
      grams_by_day;  //!< oldest first, days with credits
};

//! One credited reduction in an account's history.
struct ReductionEntry {
  std::int64_t record_id = 0;
  std::string provider_key;
  std::string provider_record_id;
  std::string methodology;
  int version = 0;
  std::string domain;
  Instant occurred_at;
  std::string region;
  std::int64_t grams = 0;
  std::int64_t points = 0;
  std::string cap_applied;
  nlohmann::json inputs;  //!< as the provider sent them
  //! The methodology's explanation, and under "campaign" the campaign that raised the points.
  nlohmann::json explanation;
  std::optional<std::int64_t> campaign_id;
  std::int64_t campaign_bonus_points = 0;  //!< included in points
};

class IngestService {
 public:
  IngestService(store::Database& db, const Clock& clock,
                methodology::MethodologyService& methodologies, IngestOptions options = {});

  //! Ingests up to kBatchMaxRecords records of one provider in one transaction.
  Result<BatchReport> ingestBatch(const Provider& provider,
                                  const std::vector<IncomingRecord>& records,
                                  const std::string& source);

  //! A provider's records with a status (quarantined by default), newest first.
  Result<std::vector<StoredRecord>> records(const Provider& provider, const std::string& status,
                                            int limit, int offset);

  //! Credits the records held for an unbound reference that is now bound (within the hold window).
  Result<std::int64_t> creditHeldUnbound(std::int64_t provider_id, const std::string& subject_ref);
  //! Expires unbound records held longer than the window; returns how many.
  Result<std::int64_t> expireHeld();

  //! Records quarantined in the caller's regions (any region for the province), newest first;
  //! `reason` ("" for any) narrows to one reason code. The provider corrects and re-sends them.
  Result<std::vector<StoredRecord>> quarantinedInRegion(const auth::Principal& caller,
                                                        const std::string& reason, int limit,
                                                        int offset);
  //! Records held by anti-fraud rules in the caller's region.
  Result<std::vector<StoredRecord>> heldForReview(const auth::Principal& caller, int limit,
                                                  int offset);
  //! A region admin credits a held record after all, or rejects it with a reason.
  Result<StoredRecord> approveHeld(const auth::Principal& caller, std::int64_t record_id);
  //! Totals of an account (the caller's access is checked by the caller of this function).
  AccountSummary summary(std::int64_t account_id, const std::string& from_day,
                         const std::string& to_day);
  //! An account's reductions, newest first, each with its explanation.
  std::vector<ReductionEntry> history(std::int64_t account_id, int limit, int offset);

  Result<StoredRecord> rejectHeld(const auth::Principal& caller, std::int64_t record_id,
                                  const std::string& reason);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tph::ingest
