#pragma once
// MerchantService: the low-carbon merchant alliance. Businesses apply and region admins decide;
// approved merchants publish offers; residents redeem offers for vouchers, paying points into the
// merchant's points account in the same journal entry that issues the voucher; merchants accept
// vouchers at the counter; unused vouchers expire and give their points back; each merchant gets a
// monthly settlement statement.

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

inline constexpr std::size_t kTextMaxBytes = 200;
inline constexpr std::size_t kDescriptionMaxBytes = 4000;
inline constexpr std::int64_t kOfferMaxStock = 10'000'000;
inline constexpr std::int64_t kOfferMaxPoints = 100'000'000;
inline constexpr int kOfferMaxPerUserLimit = 1000;
inline constexpr int kVoucherMaxValidDays = 366;
inline constexpr std::size_t kOfferMaxRegions = 50;
inline constexpr int kListMaxLimit = 500;
//! Vouchers expired per sweep transaction, so one sweep never holds the write lock for long.
inline constexpr int kExpireBatchSize = 500;

struct MerchantApplication {
  std::string name;
  std::string licence_no;  //!< 统一社会信用代码: 18 characters, digits and capitals
  std::string category;
  std::string region_code;
  std::string address;
  std::string contact;
};

struct Merchant {
  std::int64_t id = 0;
  MerchantApplication application;
  std::int64_t applicant_user_id = 0;
  std::string status;  //!< pending, approved, rejected
  std::string decision_reason;
  Points points{0};  //!< received from residents
  Instant created_at;
  std::optional<Instant> decided_at;
};

struct OfferFields {
  std::string title_zh;
  std::string title_en;
  std::string description;
  std::string image_url;
  Points points_cost{0};
  std::int64_t stock = 0;
  int per_user_limit = 1;
  Instant valid_from;
  Instant valid_until;
  int voucher_valid_days = 30;
  std::vector<std::string> regions;
};

struct Offer {
  std::int64_t id = 0;
  std::int64_t merchant_id = 0;
  std::string merchant_name;
  OfferFields fields;
  std::int64_t issued = 0;
  std::string status;  //!< active, paused, ended
  Instant created_at;
  Instant updated_at;
  std::int64_t remaining() const { return fields.stock - issued; }
};

struct Voucher {
  std::int64_t id = 0;
  std::string code;
  std::int64_t offer_id = 0;
  std::int64_t merchant_id = 0;
  std::string merchant_name;
  std::int64_t user_id = 0;
  std::string title_zh;
  std::string title_en;
  Points points{0};
  std::string status;  //!< issued, used, expired, cancelled
  Instant issued_at;
  Instant expires_at;
  std::optional<Instant> used_at;
};

struct OfferQuery {
  std::string region_code;  //!< offers offered there; "" for all
  std::optional<std::int64_t> merchant_id;
  bool active_only = true;
  int limit = 50;
  int offset = 0;
};

struct SettlementLine {
  std::int64_t offer_id = 0;
  std::string title_zh;
  std::int64_t issued = 0, used = 0, expired = 0, cancelled = 0;
  Points points_received{0};  //!< for vouchers issued in the month, less those refunded
  Points points_refunded{0};
};

struct SettlementStatement {
  Merchant merchant;
  std::string month;  //!< "2026-03", Asia/Shanghai
  std::vector<SettlementLine> lines;
  SettlementLine total;
  Instant generated_at;
};

struct ExpiryReport {
  std::int64_t expired = 0;
  Points points_returned{0};
};

//! Shared between threads; holds no mutable state.
class MerchantService {
 public:
  MerchantService(store::Database& db, const Clock& clock, account::CarbonAccountService& accounts)
      : db_(db), clock_(clock), accounts_(accounts) {}

  //! Any signed-in user applies on behalf of a business.
  Result<Merchant> apply(const auth::Principal& caller, const MerchantApplication& application);
  //! A region admin of the merchant's region (or the province) approves or rejects with a reason.
  //! Approval grants the applicant the merchant role there and opens the points account.
  Result<Merchant> decide(const auth::Principal& caller, std::int64_t merchant_id, bool approve,
                          const std::string& reason);
  //! Admins see the merchants of their regions; anyone else, the ones they applied for.
  Result<std::vector<Merchant>> merchants(const auth::Principal& caller, const std::string& status);
  Result<Merchant> merchant(const auth::Principal& caller, std::int64_t merchant_id);

  Result<Offer> createOffer(const auth::Principal& caller, std::int64_t merchant_id,
                            const OfferFields& fields);
  //! Replaces the offer's fields; vouchers already issued keep theirs. Stock may not fall below
  //! what was issued.
  Result<Offer> updateOffer(const auth::Principal& caller, std::int64_t offer_id,
                            const OfferFields& fields);
  //! "pause", "resume" or "end"; an ended offer stays ended.
  Result<Offer> changeOfferStatus(const auth::Principal& caller, std::int64_t offer_id,
                                  const std::string& action);
  Result<std::vector<Offer>> offers(const OfferQuery& query);
  Result<Offer> offer(std::int64_t offer_id);

  //! A resident buys a voucher with points: one transaction takes a unit of stock, checks the
  //! per-user limit, moves the points resident → merchant and issues the voucher. A retry with the
  //! same idempotency key answers the first voucher.
  Result<Voucher> redeemOffer(const auth::Principal& caller, std::int64_t offer_id,
                              const std::string& idempotency_key);
  Result<std::vector<Voucher>> myVouchers(const auth::Principal& caller, int limit, int offset);
  //! The holder, or the merchant that issued it.
  Result<Voucher> voucher(const auth::Principal& caller, std::int64_t voucher_id);
  //! The merchant accepts a voucher at the counter by its code: once. Used, expired, cancelled
  //! and other merchants' vouchers are refused (conflict / forbidden) with the reason.
  Result<Voucher> useVoucher(const auth::Principal& caller, std::int64_t merchant_id,
                             const std::string& code);
  //! The holder cancels an unused voucher: points go back, the unit of stock returns.
  Result<Voucher> cancelVoucher(const auth::Principal& caller, std::int64_t voucher_id);
  //! Expires every voucher past its expiry, giving the points back (a ledger posting each).
  Result<ExpiryReport> expireVouchers(const std::string& actor);

  //! The merchant's (or its region admin's) statement for a Shanghai month "YYYY-MM".
  Result<SettlementStatement> settlement(const auth::Principal& caller, std::int64_t merchant_id,
                                         const std::string& month);

 private:
  //! `m` with its contact opened, as callers see it.
  Merchant opened(Merchant m) const;

  store::Database& db_;
  const Clock& clock_;
  account::CarbonAccountService& accounts_;
};

//! The statement as an XLSX workbook (bytes), via libxlsxwriter.
Result<std::string> settlementXlsx(const SettlementStatement& statement);

}  // namespace tph::incentive
