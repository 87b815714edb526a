#pragma once
// Rules the market service's use cases share (listed trading, block agreements and auctions).
// Internal to src/market: defined in market_service.cpp.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>

#include "auth/role.h"
#include "core/result.h"
#include "market/market_service.h"
#include "market/market_store.h"
#include "registry/registry_ledger.h"

namespace tph::market::internal {

const char* sideName(Side side);
//! `amount × fee_bp / 10000`, rounded down: each side's fee.
std::int64_t feeOf(std::int64_t amount_fen, int fee_bp);
Status checkKey(const std::string& key);
Status checkQuantity(std::int64_t quantity);
Status checkPrice(Fen price);
registry::UnitFilter filterOf(const Product& p);
//! Admitted, in effect, not suspended (trading hours aside).
Status checkTradable(const Product& p, Instant now);

//! The member row when the caller may act for it: a user of its registry account holding the
//! exchange_member role, or (when `province_may`) a province admin.
Result<detail::MemberRow> memberFor(soci::session& sql, const auth::Principal& caller,
                                    std::int64_t member_id, bool province_may);

struct SettleContext {
  const Clock& clock;
  const MarketOptions& options;
  std::string actor;
  std::string today;
};

//! Delivery versus payment: units seller → buyer, cash buyer → seller and fees → the exchange, and
//! the trade row, all in the caller's transaction. An error or throw anywhere rolls back both legs.
Result<Trade> settle(soci::session& sql, const SettleContext& ctx, const Product& product,
                     const std::string& mode, const detail::MemberRow& buyer,
                     const detail::MemberRow& seller, std::int64_t price_fen, std::int64_t quantity,
                     std::optional<std::int64_t> buy_order, std::optional<std::int64_t> sell_order,
                     const std::string& key);

}  // namespace tph::market::internal
