#pragma once
// CardService: carbon credit cards and green finance. The province registers bank partners with a
// published conversion rate; a resident links a card by the tokenized reference the bank provides
// and converts points into the card's reward points on request (a ledger posting resident →
// card-partner:ID at the rate of the moment); each day ends in a signed export file per bank, and
// the bank's signed confirmation file reconciles it: confirmed conversions keep their points,
// rejected ones give them back.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"

namespace tph::store {
class Database;
}
namespace tph::account {
class CarbonAccountService;
}

namespace tph::incentive {

inline constexpr std::int64_t kCardRateMax = 1'000'000;
inline constexpr std::int64_t kCardConversionMaxPoints = 10'000'000;
inline constexpr std::size_t kCardTokenMinBytes = 8;
inline constexpr std::size_t kCardTokenMaxBytes = 128;
inline constexpr std::size_t kCardReconciliationMaxLines = 100'000;
inline constexpr std::size_t kCardConfirmationMaxLines = 1'000;
//! A bank's signed request may be this far from the server's clock either way.
inline constexpr std::int64_t kCardSignatureMaxSkewSeconds = 300;

struct CardPartnerFields {
  std::string code;  //!< e.g. "icbc-gd": lower-case letters, digits and dashes
  std::string name;
  std::int64_t rate_points = 0;  //!< this many points ...
  std::int64_t rate_reward = 0;  //!< ... give this many card reward points
};

struct CardPartner {
  std::int64_t id = 0;
  CardPartnerFields fields;
  std::string status;  //!< active, suspended
  Points points{0};    //!< converted and not given back
  Instant created_at;
  Instant updated_at;
};

struct RegisteredPartner {
  CardPartner partner;
  std::string export_secret;  //!< shown once: signs exports and the bank's confirmations
};

struct CardLink {
  std::int64_t id = 0;
  std::int64_t partner_id = 0;
  std::string partner_name;
  std::int64_t user_id = 0;
  std::string card_token;
  std::string status;  //!< active, unlinked
  Instant created_at;
};

struct CardConversion {
  std::int64_t id = 0;
  std::int64_t link_id = 0;
  std::int64_t partner_id = 0;
  std::int64_t user_id = 0;
  std::string card_token;
  Points points{0};
  std::int64_t reward_points = 0;
  std::int64_t rate_points = 0, rate_reward = 0;
  std::string day;     //!< Shanghai day it was requested, "YYYY-MM-DD": the export it is in
  std::string status;  //!< pending, exported, confirmed, rejected
  std::string bank_reference;
  std::string bank_reason;
  Instant created_at;
};

struct CardExport {
  std::int64_t partner_id = 0;
  std::string day;
  std::string body;       //!< CSV, UTF-8
  std::string signature;  //!< hex HMAC-SHA256(export_secret, body)
  std::int64_t conversions = 0;
  Points points{0};
  std::int64_t reward_points = 0;
};

struct ReconciliationReport {
  std::int64_t partner_id = 0;
  std::string day;
  std::int64_t exported = 0;
  std::int64_t confirmed = 0;
  std::int64_t rejected = 0;
  std::int64_t unconfirmed = 0;  //!< in the export, not (yet) in a confirmation
  Points points_confirmed{0};
  Points points_refunded{0};
  std::int64_t reward_points_confirmed = 0;
  std::vector<std::string> discrepancies;  //!< lines of the bank's file that did not match
  std::optional<Instant> reconciled_at;
};

//! A bank's machine-to-machine request, signed with the partner's secret like a provider's
//! request: hex HMAC-SHA256(secret, METHOD\nTARGET\nTIMESTAMP\nNONCE\nhex(SHA-256(body))).
struct SignedPartnerRequest {
  std::int64_t partner_id = 0;
  std::string method;
  std::string target;     //!< path and query exactly as sent
  std::string timestamp;  //!< Unix seconds
  std::string nonce;      //!< 16-64 of A-Z a-z 0-9 - _, once per partner
  std::string signature;
  std::string body;
};

//! What became of one line of a bank's confirmation request.
struct ConfirmationOutcome {
  std::int64_t conversion_id = 0;
  std::string outcome;  //!< applied, unchanged (the same decision again), conflict, not_exported,
                        //!< not_found (no such conversion of this partner)
  std::string status;   //!< the conversion's status after the request ("" when not found)
  std::string message;
};

//! hex HMAC-SHA256(secret, body): the signature of an export and of a confirmation file.
std::string cardFileSignature(const std::string& secret, const std::string& body);

//! Shared between threads; holds no mutable state.
class CardService {
 public:
  CardService(store::Database& db, const Clock& clock, account::CarbonAccountService& accounts)
      : db_(db), clock_(clock), accounts_(accounts) {}

  //! A province admin registers a bank partner; the answer carries its secret, once.
  Result<RegisteredPartner> registerPartner(const auth::Principal& caller,
                                            const CardPartnerFields& fields);
  //! A province admin publishes a new rate (conversions already made keep theirs) or suspends
  //! ("suspend") / resumes ("resume") the partner.
  Result<CardPartner> setRate(const auth::Principal& caller, std::int64_t partner_id,
                              std::int64_t rate_points, std::int64_t rate_reward);
  Result<CardPartner> setPartnerStatus(const auth::Principal& caller, std::int64_t partner_id,
                                       const std::string& action);
  Result<std::vector<CardPartner>> partners();

  //! A resident links a card by the bank's token; linking the same token again answers the link.
  Result<CardLink> linkCard(const auth::Principal& caller, std::int64_t partner_id,
                            const std::string& card_token);
  Result<std::vector<CardLink>> links(const auth::Principal& caller);
  Result<CardLink> unlinkCard(const auth::Principal& caller, std::int64_t link_id);

  //! Converts `points` (a multiple of the partner's rate_points) into reward points on a linked
  //! card: one transaction posts resident → card-partner:ID and records the conversion.
  Result<CardConversion> convert(const auth::Principal& caller, std::int64_t link_id, Points points,
                                 const std::string& idempotency_key);
  Result<std::vector<CardConversion>> conversions(const auth::Principal& caller);

  //! The signed export of a Shanghai day that has ended (province admin). The first call freezes
  //! the day's conversions as exported; later calls answer the same bytes.
  Result<CardExport> exportDay(const auth::Principal& caller, std::int64_t partner_id,
                               const std::string& day);
  //! Applies the bank's confirmation file for an exported day (JSON, signed by the bank with the
  //! partner's secret): credited conversions are confirmed, rejected ones refunded, and anything
  //! that does not match the export is reported. Uploading the same file again changes nothing.
  Result<ReconciliationReport> reconcile(const auth::Principal& caller, std::int64_t partner_id,
                                         const std::string& day, const std::string& body,
                                         const std::string& signature);
  Result<ReconciliationReport> reconciliation(const auth::Principal& caller,
                                              std::int64_t partner_id, const std::string& day);

  //! The bank's system confirms (`credited`) or rejects exported conversions by id, in a request
  //! signed with the partner's secret: `{confirmations: [{conversion_id, status, reference,
  //! reason}]}`. One transaction; a rejection refunds the points as reconciliation does (the
  //! same ledger key, so a file and the API never refund twice); sending the same decision again
  //! changes nothing. A stale, replayed or wrongly signed request is unauthenticated.
  Result<std::vector<ConfirmationOutcome>> confirmSigned(const SignedPartnerRequest& request);

 private:
  store::Database& db_;
  const Clock& clock_;
  account::CarbonAccountService& accounts_;
};

}  // namespace tph::incentive
