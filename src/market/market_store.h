#pragma once
// SQL of the market module. Internal to src/market.

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "market/market_service.h"

namespace tph::market::detail {

//! Takes the market's write lock for the transaction on PostgreSQL (SQLite's BEGIN IMMEDIATE
//! already has one writer), so another server process cannot interleave with this one.
void lockMarket(soci::session& sql);

std::optional<Product> findProduct(soci::session& sql, const std::string& code);
std::optional<Product> findProductById(soci::session& sql, std::int64_t id);
std::vector<Product> listProducts(soci::session& sql);
std::int64_t insertProduct(soci::session& sql, const Product& p, const std::string& actor,
                           std::int64_t now_ms);
void setProductSuspended(soci::session& sql, std::int64_t id, bool suspended, std::int64_t now_ms);

struct MemberRow {
  std::int64_t id = 0;
  std::int64_t registry_account_id = 0;
  std::int64_t cash_account_id = 0;
  std::string account_no, name, kind;
};
std::optional<MemberRow> findMember(soci::session& sql, std::int64_t id);
std::optional<MemberRow> findMemberByAccount(soci::session& sql, std::int64_t registry_account_id);
std::vector<MemberRow> membersOfUser(soci::session& sql, std::int64_t user_id);
std::int64_t insertMember(soci::session& sql, std::int64_t registry_account_id,
                          std::int64_t cash_account_id, const std::string& name,
                          const std::string& kind, const std::string& actor, std::int64_t now_ms);

//! What open orders, proposed block agreements and open auctions reserve: cash of buy orders and
//! bids (amount and fee) and of announced purchases (at the reserve price), units of sell orders,
//! offers and announced sales. Day orders of days before `today` are past and reserve nothing.
struct Reserved {
  std::int64_t cash_fen = 0;
  std::int64_t units = 0;
};
Reserved reserved(soci::session& sql, std::int64_t member_id, const std::string& today);

struct OrderRow {
  Order order;
  std::int64_t product_id = 0;
  std::int64_t seq = 0;
  std::string idempotency_key;
};
std::optional<OrderRow> findOrder(soci::session& sql, std::int64_t id);
std::optional<OrderRow> findOrderByKey(soci::session& sql, const std::string& key);
std::int64_t nextSeq(soci::session& sql);
std::int64_t insertOrder(soci::session& sql, const OrderRow& row, const std::string& actor,
                         std::int64_t now_ms);
void updateOrder(soci::session& sql, std::int64_t id, std::int64_t remaining,
                 const std::string& state, std::optional<std::int64_t> price_fen,
                 std::optional<std::int64_t> seq, std::int64_t now_ms);
//! Open orders of a product in time order: what the book is rebuilt from.
std::vector<OrderRow> openOrders(soci::session& sql, std::int64_t product_id);
std::vector<OrderRow> ordersOfMember(soci::session& sql, std::int64_t member_id, bool open_only);
//! Marks day orders of days before `today` expired; answers their ids.
std::vector<std::int64_t> expireDayOrders(soci::session& sql,
                                          std::optional<std::int64_t> product_id,
                                          const std::string& today, std::int64_t now_ms);

struct TradeRow {
  std::int64_t product_id = 0;
  std::string mode;
  std::int64_t buyer = 0, seller = 0;
  std::optional<std::int64_t> buy_order, sell_order;
  std::int64_t price_fen = 0, quantity = 0, buyer_fee = 0, seller_fee = 0;
  std::int64_t operation_id = 0, cash_entry_id = 0;
  std::string trading_day;
};
std::int64_t insertTrade(soci::session& sql, const TradeRow& row, std::int64_t now_ms);
std::vector<Trade> tradesOf(soci::session& sql, std::int64_t product_id, int limit);
std::optional<Trade> tradeById(soci::session& sql, std::int64_t id);
std::vector<DailyBar> dailyBars(soci::session& sql, std::int64_t product_id, int limit);
//! The previous close: the volume-weighted average of listed trades on the last day before `day`
//! that had any, rounded half up; none when no listed trade happened before.
std::optional<std::int64_t> previousClose(soci::session& sql, std::int64_t product_id,
                                          const std::string& day);

struct BlockRow {
  BlockAgreement agreement;
  std::int64_t product_id = 0;
  std::optional<std::int64_t> trade_id;
  std::string idempotency_key;
};
std::optional<BlockRow> findBlock(soci::session& sql, std::int64_t id);
std::optional<BlockRow> findBlockByKey(soci::session& sql, const std::string& key);
//! The member's agreements as seller or buyer, newest first (at most kListMaxLimit).
std::vector<BlockRow> blocksOfMember(soci::session& sql, std::int64_t member_id);
std::int64_t insertBlock(soci::session& sql, const BlockRow& row, std::int64_t now_ms);
void updateBlock(soci::session& sql, std::int64_t id, const std::string& state,
                 std::optional<std::int64_t> trade_id, std::int64_t now_ms);

struct AuctionRow {
  Auction auction;
  std::int64_t product_id = 0;
  std::string idempotency_key;
};
std::optional<AuctionRow> findAuction(soci::session& sql, std::int64_t id);
std::optional<AuctionRow> findAuctionByKey(soci::session& sql, const std::string& key);
//! Newest first; product_id 0 and state "" for any.
std::vector<AuctionRow> listAuctions(soci::session& sql, std::int64_t product_id,
                                     const std::string& state, int limit);
//! Open auctions whose window closed at or before `now_ms`, oldest close first.
std::vector<std::int64_t> dueAuctions(soci::session& sql, std::int64_t now_ms);
std::int64_t insertAuction(soci::session& sql, const AuctionRow& row, const std::string& actor,
                           std::int64_t now_ms);
void cancelAuction(soci::session& sql, std::int64_t id, const std::string& actor,
                   std::int64_t now_ms);
//! Writes the published result and marks the auction cleared.
void recordClearing(soci::session& sql, const Auction& auction, const std::string& actor,
                    std::int64_t now_ms);

struct BidRow {
  AuctionBid bid;
  std::int64_t seq = 0;
  std::string idempotency_key;
};
std::optional<BidRow> findBid(soci::session& sql, std::int64_t id);
std::optional<BidRow> findBidByKey(soci::session& sql, const std::string& key);
//! Every bid of the auction in the order they were placed.
std::vector<BidRow> bidsOfAuction(soci::session& sql, std::int64_t auction_id);
std::int64_t countSealedBids(soci::session& sql, std::int64_t auction_id);
std::int64_t nextBidSeq(soci::session& sql);
std::int64_t insertBid(soci::session& sql, const BidRow& row, const std::string& actor,
                       std::int64_t now_ms);
//! Writes price, quantity, seq, filled, state and trade of the bid.
void updateBid(soci::session& sql, const BidRow& row, std::int64_t now_ms);

//! The journal's writer-behind: the last record it applied (0 before the first), which order a
//! journalled order became.
std::uint64_t journalApplied(soci::session& sql, const std::string& journal);
void setJournalApplied(soci::session& sql, const std::string& journal, std::uint64_t seq,
                       std::int64_t now_ms);
void mapJournalOrder(soci::session& sql, const std::string& journal, std::int64_t journal_order,
                     std::int64_t order_id);
std::optional<std::int64_t> journalOrder(soci::session& sql, const std::string& journal,
                                         std::int64_t journal_order);

}  // namespace tph::market::detail
