#pragma once
// SQL of the incentive module. Internal to src/incentive.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incentive/benefit_service.h"
#include "incentive/merchant_service.h"

namespace tph::incentive::detail {

// ------------------------------------------------------------------ merchants
//! `merchant.application.contact` as stored: sealed (merchants.contact, core/field_cipher.h);
//! MerchantService opens it for the callers it answers.
struct MerchantRow {
  Merchant merchant;
  std::optional<std::int64_t> ledger_account_id;
};
std::optional<MerchantRow> loadMerchant(soci::session& sql, std::int64_t id);
bool licenceTaken(soci::session& sql, const std::string& licence_no);
bool regionExists(soci::session& sql, const std::string& code);
//! `a.contact` arrives sealed.
std::int64_t insertMerchant(soci::session& sql, const MerchantApplication& a,
                            std::int64_t applicant_user_id, std::int64_t now_ms);
//! Records a decision on a pending merchant; false when it was no longer pending.
bool decideMerchant(soci::session& sql, std::int64_t id, const std::string& status,
                    const std::string& reason, const std::string& actor,
                    std::optional<std::int64_t> ledger_account_id, std::int64_t now_ms);
std::vector<MerchantRow> listMerchants(soci::session& sql, const std::string& status);

// ------------------------------------------------------------------ offers
std::int64_t insertOffer(soci::session& sql, std::int64_t merchant_id, const OfferFields& f,
                         std::int64_t now_ms);
//! Replaces the fields; false when the stock would fall below what was issued.
bool updateOffer(soci::session& sql, std::int64_t offer_id, const OfferFields& f,
                 std::int64_t now_ms);
void setOfferStatus(soci::session& sql, std::int64_t offer_id, const std::string& status,
                    std::int64_t now_ms);
std::optional<Offer> loadOffer(soci::session& sql, std::int64_t offer_id);
//! `covering_regions`: the query region and its ancestors (an offer there is offered in it).
std::vector<Offer> listOffers(soci::session& sql, const OfferQuery& q,
                              const std::vector<std::string>& covering_regions,
                              std::int64_t now_ms);
//! Takes one unit of stock from an active offer; false when none is left (or it is not active).
//! On PostgreSQL the row stays locked until commit, which serialises redemptions of one offer.
bool takeStock(soci::session& sql, std::int64_t offer_id);
void returnStock(soci::session& sql, std::int64_t offer_id);

// ------------------------------------------------------------------ vouchers
struct VoucherRow {
  Voucher voucher;
  std::int64_t ledger_account_id = 0;
};
std::int64_t countUserVouchers(soci::session& sql, std::int64_t offer_id, std::int64_t user_id);
std::int64_t insertVoucher(soci::session& sql, const Voucher& v, std::int64_t ledger_account_id,
                           const std::string& request_key, std::int64_t redeem_entry_id);
std::optional<VoucherRow> loadVoucher(soci::session& sql, std::int64_t id);
std::optional<VoucherRow> findVoucherByCode(soci::session& sql, const std::string& code);
std::optional<VoucherRow> findVoucherByRequest(soci::session& sql, std::int64_t user_id,
                                               const std::string& request_key);
std::vector<Voucher> vouchersOfUser(soci::session& sql, std::int64_t user_id, int limit,
                                    int offset);
//! Marks an issued, unexpired voucher used; false when it was not.
bool markVoucherUsed(soci::session& sql, std::int64_t id, std::int64_t now_ms);
//! Ends an issued voucher as expired or cancelled with its refund entry; false when not issued.
bool endVoucher(soci::session& sql, std::int64_t id, const std::string& status,
                std::int64_t refund_entry_id, std::int64_t now_ms);
std::vector<std::int64_t> expiredVoucherIds(soci::session& sql, std::int64_t now_ms, int limit);
//! Gives an issued voucher's points back and ends it as `status` (expired or cancelled), audited
//! as `actor`, in the caller's transaction. Defined beside the merchant service that owns it.
Result<Voucher> refundVoucher(soci::session& sql, const Clock& clock, const VoucherRow& v,
                              const std::string& status, const std::string& actor);
//! The merchant's vouchers issued, used or ended in [from, to).
std::vector<Voucher> vouchersTouching(soci::session& sql, std::int64_t merchant_id,
                                      std::int64_t from_ms, std::int64_t to_ms,
                                      std::vector<std::optional<std::int64_t>>* ended_at_ms);

// ------------------------------------------------------------------ benefits
struct PolicyRow {
  BenefitPolicy policy;
  std::string webhook_secret;
};
std::int64_t insertPolicy(soci::session& sql, const BenefitPolicyFields& f,
                          const std::string& secret, const std::string& actor, std::int64_t now_ms);
//! The policy with the units taken in `month`.
std::optional<PolicyRow> loadPolicy(soci::session& sql, std::int64_t id, const std::string& month);
std::vector<BenefitPolicy> listPolicies(soci::session& sql,
                                        const std::vector<std::string>& covering_regions,
                                        const std::string& month);
void endPolicy(soci::session& sql, std::int64_t id);
//! Takes units from the month's budget; false when they would exceed it.
bool takeBudget(soci::session& sql, std::int64_t policy_id, const std::string& month,
                std::int64_t units, std::int64_t budget);
void returnBudget(soci::session& sql, std::int64_t policy_id, const std::string& month,
                  std::int64_t units);
//! Units the user claimed of the policy in the month, failed claims left out.
std::int64_t userUnits(soci::session& sql, std::int64_t policy_id, std::int64_t user_id,
                       const std::string& month);
struct ClaimRow {
  BenefitClaim claim;
  std::int64_t ledger_account_id = 0;
};
std::int64_t insertClaim(soci::session& sql, const BenefitClaim& c, std::int64_t ledger_account_id,
                         const std::string& request_key);
std::optional<ClaimRow> loadClaim(soci::session& sql, std::int64_t id);
std::optional<ClaimRow> findClaimByRequest(soci::session& sql, std::int64_t user_id,
                                           const std::string& request_key);
std::vector<BenefitClaim> claimsOfUser(soci::session& sql, std::int64_t user_id);
//! Ends a pending claim; false when it was no longer pending.
bool finishClaim(soci::session& sql, std::int64_t id, const std::string& status,
                 const std::string& partner_reference, const std::string& failure_reason,
                 std::int64_t now_ms);

}  // namespace tph::incentive::detail
