#pragma once
// BenefitService: public-service benefits residents buy with points (parking hours, transit fare
// discounts, car-plate lottery entries). Region admins define policies with a points price, a
// monthly budget of units and a per-user monthly limit. Fulfilment is an entitlement code, or a
// signed webhook to the city's partner system: then the points are held while the partner is
// asked, kept when it confirms, and given back when it refuses, fails or times out.

#include <chrono>
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

inline constexpr int kBenefitMaxUnitsPerClaim = 100;
inline constexpr std::int64_t kBenefitMaxBudget = 100'000'000;

//! One call to a partner: where, what (JSON body) and its signature headers.
struct WebhookRequest {
  std::string url;  //!< http://host:port/path
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{5000};
};

//! What the partner answered. `delivered` false means no usable answer (refused connection,
//! timeout, a non-2xx status); `detail` says which.
struct WebhookReply {
  bool delivered = false;
  int status = 0;
  std::string body;
  std::string detail;
};

//! The seam to the outside: the api/cli layer provides the HTTP implementation, tests may too.
//! Shared between threads: implementations must be thread-safe.
class PartnerWebhook {
 public:
  virtual ~PartnerWebhook() = default;
  virtual WebhookReply deliver(const WebhookRequest& request) = 0;
};

struct BenefitPolicyFields {
  std::string region_code;
  std::string kind;  //!< parking, transit, plate_lottery, other
  std::string name_zh;
  std::string name_en;
  std::string description;
  Points points_price{0};  //!< per unit
  std::int64_t monthly_budget_units = 0;
  int per_user_monthly_limit = 1;
  std::string fulfilment;   //!< code or webhook
  std::string webhook_url;  //!< for webhook
};

struct BenefitPolicy {
  std::int64_t id = 0;
  BenefitPolicyFields fields;
  std::string status;  //!< active, ended
  std::int64_t units_used_this_month = 0;
  Instant created_at;
};

struct CreatedPolicy {
  BenefitPolicy policy;
  std::string webhook_secret;  //!< shown once, for the partner to check signatures
};

struct BenefitClaim {
  std::int64_t id = 0;
  std::int64_t policy_id = 0;
  std::int64_t user_id = 0;
  std::string month;
  std::int64_t units = 0;
  Points points{0};
  std::string status;  //!< pending, fulfilled, failed
  std::string entitlement_code;
  std::string partner_reference;
  std::string failure_reason;
  Instant created_at;
};

//! The HMAC the partner checks: hex HMAC-SHA256(secret, timestamp + "\n" + body).
std::string webhookSignature(const std::string& secret, const std::string& timestamp,
                             const std::string& body);

//! Shared between threads; holds no mutable state.
class BenefitService {
 public:
  BenefitService(store::Database& db, const Clock& clock, account::CarbonAccountService& accounts,
                 PartnerWebhook& webhook, std::chrono::milliseconds webhook_timeout)
      : db_(db),
        clock_(clock),
        accounts_(accounts),
        webhook_(webhook),
        webhook_timeout_(webhook_timeout) {}

  Result<CreatedPolicy> createPolicy(const auth::Principal& caller,
                                     const BenefitPolicyFields& fields);
  Result<BenefitPolicy> endPolicy(const auth::Principal& caller, std::int64_t policy_id);
  //! Active policies offered in a region (its own and its ancestors'); "" for all.
  Result<std::vector<BenefitPolicy>> policies(const std::string& region_code);

  //! A resident claims `units` of a policy. Code fulfilment: one transaction. Webhook: points
  //! held in one transaction, the partner asked outside it, then kept or given back.
  Result<BenefitClaim> claim(const auth::Principal& caller, std::int64_t policy_id,
                             std::int64_t units, const std::string& idempotency_key);
  Result<std::vector<BenefitClaim>> myClaims(const auth::Principal& caller);

 private:
  Result<BenefitClaim> settle(std::int64_t claim_id, const WebhookReply& reply,
                              const std::string& actor);

  store::Database& db_;
  const Clock& clock_;
  account::CarbonAccountService& accounts_;
  PartnerWebhook& webhook_;
  std::chrono::milliseconds webhook_timeout_;
};

}  // namespace tph::incentive
