#pragma once
// SQL of carbon credit cards. Internal to src/incentive.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "incentive/card_service.h"

namespace tph::incentive::detail {

struct PartnerRow {
  CardPartner partner;
  std::string export_secret;
  std::int64_t ledger_account_id = 0;
};
bool partnerCodeTaken(soci::session& sql, const std::string& code);
std::int64_t insertPartner(soci::session& sql, const CardPartnerFields& f,
                           const std::string& secret, std::int64_t ledger_account_id,
                           const std::string& actor, std::int64_t now_ms);
std::optional<PartnerRow> loadPartner(soci::session& sql, std::int64_t id);
//! Takes the partner row's write lock until commit (PostgreSQL; SQLite's BEGIN IMMEDIATE already
//! serialises writers), so one partner's exports and reconciliations run one at a time.
void lockPartner(soci::session& sql, std::int64_t id);
std::vector<CardPartner> listPartners(soci::session& sql);
void updatePartnerRate(soci::session& sql, std::int64_t id, std::int64_t rate_points,
                       std::int64_t rate_reward, std::int64_t now_ms);
void updatePartnerStatus(soci::session& sql, std::int64_t id, const std::string& status,
                         std::int64_t now_ms);

std::optional<CardLink> findActiveLink(soci::session& sql, std::int64_t partner_id,
                                       const std::string& card_token);
std::int64_t insertLink(soci::session& sql, std::int64_t partner_id, std::int64_t user_id,
                        const std::string& card_token, std::int64_t now_ms);
std::optional<CardLink> loadLink(soci::session& sql, std::int64_t id);
std::vector<CardLink> linksOfUser(soci::session& sql, std::int64_t user_id);
void unlink(soci::session& sql, std::int64_t id, std::int64_t now_ms);

struct ConversionRow {
  CardConversion conversion;
  std::int64_t ledger_account_id = 0;
};
std::int64_t insertConversion(soci::session& sql, const CardConversion& c,
                              std::int64_t ledger_account_id, const std::string& request_key,
                              std::int64_t entry_id);
std::optional<ConversionRow> loadConversion(soci::session& sql, std::int64_t id);
std::optional<ConversionRow> findConversionByRequest(soci::session& sql, std::int64_t user_id,
                                                     const std::string& request_key);
std::vector<CardConversion> conversionsOfUser(soci::session& sql, std::int64_t user_id);
//! The partner's conversions requested on a Shanghai day, in id order.
std::vector<ConversionRow> conversionsOfDay(soci::session& sql, std::int64_t partner_id,
                                            const std::string& day);
void markDayExported(soci::session& sql, std::int64_t partner_id, const std::string& day);
//! Confirms or rejects an exported conversion; false when it was not exported (any more).
//! `via` is "file" or "api".
bool decideConversion(soci::session& sql, std::int64_t id, const std::string& status,
                      const std::string& reference, const std::string& reason,
                      std::optional<std::int64_t> refund_entry_id, const std::string& via,
                      std::int64_t now_ms);
//! Records a signed request's nonce (and forgets those seen before `prune_before_ms`); false when
//! the partner has used it already.
bool recordPartnerNonce(soci::session& sql, std::int64_t partner_id, const std::string& nonce,
                        std::int64_t now_ms, std::int64_t prune_before_ms);

struct ExportRow {
  CardExport file;
  std::optional<std::int64_t> reconciled_at_ms;
  std::string discrepancies_json;
};
std::optional<ExportRow> loadExport(soci::session& sql, std::int64_t partner_id,
                                    const std::string& day);
void insertExport(soci::session& sql, const CardExport& e, const std::string& actor,
                  std::int64_t now_ms);
void recordReconciliation(soci::session& sql, std::int64_t partner_id, const std::string& day,
                          const std::string& discrepancies_json, std::int64_t now_ms);

}  // namespace tph::incentive::detail
