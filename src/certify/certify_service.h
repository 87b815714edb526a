#pragma once
// CertifyService: certification batches from opening to issuance. A batch locks every uncertified
// credited reduction of one methodology, region and vintage period (a reduction is in at most one
// batch: the database's primary key says so), publishes a monitoring report and a public notice,
// is reviewed by an independent verifier (corrections, deductions, approval or rejection), and is
// issued as PHCER by the province with carry-over of part-tonnes and a buffer share for sinks.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"
#include "registry/registry_service.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}
namespace tph::auth {
class AuthService;
}
namespace tph::methodology {
class MethodologyService;
}

namespace tph::certify {

struct CertifyOptions {
  int notice_days_working = 7;  //!< public notice before review, in working days
  //! Days off besides weekends (YYYY-MM-DD, Asia/Shanghai): public holidays.
  std::set<std::string> holidays;
  int sample_size = 20;         //!< records in the monitoring report's random sample
  int buffer_share_bp = 1'000;  //!< carbon-sink units put in the buffer pool, basis points
};

inline constexpr int kNoticeMaxWorkingDays = 60;
inline constexpr int kSampleMaxSize = 500;
inline constexpr int kBufferShareMaxBp = 5'000;
inline constexpr std::size_t kCommentMaxBytes = 2'000;
inline constexpr std::size_t kAuthorMaxBytes = 100;
inline constexpr std::size_t kNoteMaxBytes = 2'000;
inline constexpr std::size_t kDeductionsMax = 10'000;
inline constexpr std::int64_t kBatchMaxRecords = 5'000'000;
inline constexpr std::int64_t kCommentsMaxPerBatch = 10'000;

enum class BatchState { kOpen, kCorrectionsRequested, kApproved, kRejected, kIssued };
const char* toString(BatchState state);

struct OpenBatchRequest {
  std::string methodology;
  std::string region;         //!< a city, or 440000 for the province
  std::string vintage_from;   //!< YYYY-MM-DD, Asia/Shanghai, inclusive
  std::string vintage_until;  //!< inclusive, same calendar year, before today
  std::optional<int> notice_days_working;
};

struct Batch {
  std::int64_t id = 0;  //!< also the batch number in serials
  std::string methodology;
  std::string region;
  std::string vintage_from, vintage_until;
  int vintage_year = 0;
  bool carbon_sink = false;
  std::string operator_account_no;
  BatchState state = BatchState::kOpen;
  std::string opened_by;
  Instant opened_at;
  int notice_days_working = 0;
  Instant notice_until;
  bool in_notice = false;  //!< the notice period has not ended yet
  std::optional<std::int64_t> verifier_user_id;
  std::int64_t records_locked = 0;  //!< now, after deductions
  Grams grams_locked{0};
  Grams grams_released{0};  //!< deducted or released by rejection
  std::optional<Grams> grams_approved;
  std::string decision_note;
  std::optional<Grams> carry_in, carry_out;
  std::optional<Units> units_issued, buffer_units;
  std::optional<Instant> issued_at;
  //! The Merkle root over the reductions locked now (docs/provenance.md).
  std::string merkle_root;
};

//! The monitoring report written when a batch opens.
struct MonitoringReport {
  struct MonthTotal {
    int methodology_version = 0;
    std::string month;  //!< YYYY-MM
    std::int64_t records = 0;
    Grams grams{0};
  };
  struct SampleRecord {
    std::int64_t reduction_id = 0;
    std::string provider_record_id;
    std::int64_t account_id = 0;
    int methodology_version = 0;
    std::string day;
    Grams grams{0};
    nlohmann::json inputs;       //!< as the provider sent them
    nlohmann::json explanation;  //!< as stored; report() expands it with formula and factors
  };
  std::vector<MonthTotal> totals;
  std::int64_t records = 0;
  std::int64_t subjects = 0;  //!< distinct carbon accounts
  Grams grams{0};
  //! All records received in the scope and period, and how many of them were held or quarantined.
  std::int64_t period_records = 0;
  std::int64_t held = 0;
  std::int64_t quarantined = 0;
  std::int64_t held_or_quarantined_share_bp = 0;
  std::int64_t reoffered = 0;  //!< records released by an earlier batch
  std::string sample_seed;
  std::vector<SampleRecord> sample;

  nlohmann::json toJson() const;
  static MonitoringReport fromJson(const nlohmann::json& j);
};

struct Comment {
  std::int64_t id = 0;
  std::string author;
  std::string body;
  Instant at;
};

struct ReviewEntry {
  std::string actor;
  std::string action;  //!< assign, corrections, response, deduct, approve, reject, issue
  std::string note;
  Instant at;
};

struct Deduction {
  std::int64_t reduction_id = 0;
  std::string reason;
};

//! What an issuance produced, for the caller and the certificate.
struct IssuanceResult {
  Batch batch;
  registry::Issuance issuance;
};

//! A batch whose reductions live on a linked platform (a pilot city's node): the province gives it
//! the public notice, verifier review and issuance of any batch; its records stay with the
//! platform, which proves them by `records_digest` (docs/link.md).
struct LinkedBatchRequest {
  std::string source;            //!< who opens it in the audit chain: "link_platform:3"
  std::string source_batch_ref;  //!< the platform's own batch id, once per source
  std::string methodology;
  std::string region;  //!< a city
  std::string vintage_from, vintage_until;
  bool carbon_sink = false;
  std::string records_digest;  //!< SHA-256 hex
  MonitoringReport report;     //!< records, subjects and grams come from it
};

//! The end of a notice period that starts at `opened`: midnight (Asia/Shanghai) after the
//! `working_days`-th working day following the opening day. Weekends and `holidays` do not count.
Instant noticeEnd(Instant opened, int working_days, const std::set<std::string>& holidays);

//! The reproducible sample: the `size` ids with the smallest SHA-256(seed ":" id) in hex, in that
//! order. Anyone with the seed and the batch's reduction ids can redo it.
std::vector<std::int64_t> sampleIds(const std::vector<std::int64_t>& ids, const std::string& seed,
                                    std::size_t size);

//! Issuance arithmetic: whole units from the carry-in plus the approved grams, the rest carried
//! over, and the buffer's share of a carbon-sink batch rounded up.
struct IssueArithmetic {
  Units units{0};
  Units buffer_units{0};
  Grams carry_out{0};
};
IssueArithmetic issueArithmetic(Grams carry_in, Grams approved, bool carbon_sink,
                                int buffer_share_bp);

//! Shared between threads; holds no mutable state.
class CertifyService {
 public:
  CertifyService(store::Database& db, const Clock& clock, auth::AuthService& auth,
                 methodology::MethodologyService& methodologies, CertifyOptions options = {});

  //! A province admin opens a batch for any city or the province; a region admin for its region.
  Result<Batch> open(const auth::Principal& caller, const OpenBatchRequest& request);
  //! Opens a linked platform's batch inside the caller's transaction `sql`. A source batch
  //! submitted before is a conflict.
  Result<Batch> openLinked(soci::session& sql, const LinkedBatchRequest& request);
  //! Public: batches newest first, optionally only those in one state.
  Result<std::vector<Batch>> list(const std::string& state, int limit, int offset);
  Result<Batch> get(std::int64_t id);
  //! Admins of the region, the assigned verifier and auditors.
  Result<MonitoringReport> report(const auth::Principal& caller, std::int64_t id);
  Result<std::vector<ReviewEntry>> reviews(std::int64_t id);

  //! Anyone, signed in or not, while the batch is open or awaiting corrections.
  Result<Comment> comment(const std::optional<auth::Principal>& caller, std::int64_t id,
                          const std::string& author, const std::string& body);
  Result<std::vector<Comment>> comments(std::int64_t id);

  //! The province assigns an accredited verifier who does not belong to the operator.
  Result<Batch> assignVerifier(const auth::Principal& caller, std::int64_t id,
                               std::int64_t verifier_user_id);
  // The assigned verifier, once the notice period is over:
  Result<Batch> requestCorrections(const auth::Principal& caller, std::int64_t id,
                                   const std::string& note);
  Result<Batch> deduct(const auth::Principal& caller, std::int64_t id,
                       const std::vector<Deduction>& deductions);
  Result<Batch> approve(const auth::Principal& caller, std::int64_t id, Grams grams,
                        const std::string& note);
  Result<Batch> reject(const auth::Principal& caller, std::int64_t id, const std::string& reason);
  //! The operator's admins answer a request for corrections; review resumes.
  Result<Batch> respondToCorrections(const auth::Principal& caller, std::int64_t id,
                                     const std::string& note);

  //! The province issues an approved batch. A buffer share overrides the configured one.
  Result<IssuanceResult> issue(const auth::Principal& caller, std::int64_t id,
                               std::optional<int> buffer_share_bp);
  //! The issuance certificate of an issued batch, as PDF bytes.
  Result<std::string> certificate(std::int64_t id);

  const CertifyOptions& options() const { return options_; }

 private:
  store::Database& db_;
  const Clock& clock_;
  auth::AuthService& auth_;
  methodology::MethodologyService& methodologies_;
  CertifyOptions options_;
};

}  // namespace tph::certify
