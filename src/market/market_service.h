#pragma once
// MarketService: PHCER trading on the provincial exchange. Products admitted by the province,
// exchange members with a registry account for units and a cash account in fen, listed trading
// (挂牌点选: a continuous book with price-time priority, takers pick one of the best five levels),
// block agreements (大宗协议) and delivery versus payment: every trade moves units and cash in one
// transaction. Rules: docs/market.md.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/role.h"
#include "core/clock.h"
#include "core/quantity.h"
#include "core/result.h"
#include "market/order_book.h"

namespace soci {
class session;
}
namespace tph::store {
class Database;
}

namespace tph::market {

inline constexpr std::int64_t kOrderMaxUnits = 100'000'000;
inline constexpr std::int64_t kPriceMaxFen = 100'000'000;  //!< 1,000,000 yuan per tonne
inline constexpr std::int64_t kCashMaxFen = 1'000'000'000'000'000;
inline constexpr int kListMaxLimit = 500;
inline constexpr int kBandListedPercent = 10;
inline constexpr int kBandBlockPercent = 30;
inline constexpr std::int64_t kDefaultBlockMinUnits = 100'000;
inline constexpr const char* kDefaultSessions = "09:30-11:30,13:30-15:30";

struct MarketOptions {
  //! Days off besides weekends (YYYY-MM-DD, Asia/Shanghai): no trading.
  std::set<std::string> holidays;
  //! Weekend days the exchange trades nonetheless (YYYY-MM-DD, Asia/Shanghai): make-up trading
  //! days the province announces.
  std::set<std::string> extra_trading_days;
  //! For tests of delivery versus payment: called after the units leg of a settlement and before
  //! the cash leg. A throw there must leave neither leg.
  std::function<void()> between_legs;
};

//! A trading session in minutes after midnight, Asia/Shanghai, half-open [open, close).
struct TradingSession {
  int open_minute = 0;
  int close_minute = 0;
};
//! "09:30-11:30,13:30-15:30": sorted, non-overlapping sessions, or nothing.
std::optional<std::vector<TradingSession>> parseSessions(std::string_view text);

struct Product {
  std::int64_t id = 0;
  std::string code;  //!< "PHCER-TRAVEL-METRO"
  std::string name;
  std::string methodology;
  std::string region;  //!< "" for any
  int vintage_from = 0, vintage_to = 0;
  Instant effective_from;
  bool suspended = false;
  Fen reference_price{0};  //!< the close before the first trade
  std::string sessions = kDefaultSessions;
  std::int64_t block_min_units = kDefaultBlockMinUnits;
  int fee_bp = 0;  //!< charged to each side, in basis points of the amount, rounded down
};

struct Member {
  std::int64_t id = 0;
  std::string account_no;  //!< its registry account
  std::string name;
  std::string kind;  //!< enterprise, institution, individual
  Fen cash{0};
  Fen cash_reserved{0};
  Fen cash_free{0};
  Units units_reserved{0};
};

enum class TimeInForce { kDay, kGoodTillCancelled };

struct Order {
  std::int64_t id = 0;
  std::string product;
  std::int64_t member_id = 0;
  Side side = Side::kBuy;
  Fen price{0};
  std::int64_t quantity = 0;
  std::int64_t remaining = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
  std::string state;  //!< open, filled, cancelled, expired
  std::string trading_day;
  Instant created_at;
};

struct Trade {
  std::int64_t id = 0;
  std::string product;
  std::string mode;  //!< listed, block, auction
  std::int64_t buyer_member_id = 0, seller_member_id = 0;
  Fen price{0};
  std::int64_t quantity = 0;
  Fen amount{0}, buyer_fee{0}, seller_fee{0};
  std::vector<std::string> serials;
  std::string trading_day;
  Instant at;
};

struct PlaceOrderRequest {
  std::string idempotency_key;
  std::string product;
  std::int64_t member_id = 0;
  Side side = Side::kBuy;
  Fen price{0};
  std::int64_t quantity = 0;
  TimeInForce time_in_force = TimeInForce::kDay;
};

//! A taker picks one of the best five levels on the other side: side is what the taker does.
struct PickRequest {
  std::string idempotency_key;
  std::string product;
  std::int64_t member_id = 0;
  Side side = Side::kBuy;
  int level = 1;
  std::int64_t quantity = 0;
};

struct AmendRequest {
  std::int64_t order_id = 0;
  std::optional<Fen> price;
  std::optional<std::int64_t> quantity;  //!< the new remaining quantity
};

struct OrderOutcome {
  Order order;  //!< for a pick, no order: id 0
  std::vector<Trade> trades;
  bool self_trade_stopped = false;
  bool duplicate = false;
};

struct PriceBand {
  Fen previous_close{0};
  Fen low{0}, high{0};
};

struct BookView {
  std::string product;
  std::vector<PriceLevel> bids, asks;  //!< best five each
  PriceBand band;
  bool open_now = false;
};

struct DailyBar {
  std::string day;
  Fen open{0}, high{0}, low{0}, close{0};  //!< close: the day's volume-weighted average price
  std::int64_t volume = 0;
  Fen amount{0};
};

struct BlockAgreement {
  std::int64_t id = 0;
  std::string product;
  std::int64_t seller_member_id = 0, buyer_member_id = 0;
  Fen price{0};
  std::int64_t quantity = 0;
  std::string state;  //!< proposed, confirmed, declined, withdrawn, expired
  std::string trading_day;
  std::optional<Trade> trade;
};

struct ProposeBlockRequest {
  std::string idempotency_key;
  std::string product;
  std::int64_t seller_member_id = 0;
  std::int64_t buyer_member_id = 0;
  Fen price{0};
  std::int64_t quantity = 0;
};

inline constexpr int kAuctionMaxBids =
    10'000;  //!< sealed bids of one auction, all clearing in one commit
inline constexpr int kAuctionMaxWindowDays = 31;

//! A one-way auction (单向竞价): the announcer sells (side kSell) or buys (kBuy) a quantity; the
//! other members' sealed bids clear at the close by price, best for the announcer first, then time,
//! pay-as-bid. The result fields are set at the clearing.
struct Auction {
  std::int64_t id = 0;
  std::string product;
  std::int64_t announcer_member_id = 0;
  Side side = Side::kSell;  //!< what the announcer does
  std::int64_t quantity = 0;
  Fen reserve_price{0};  //!< the lowest bid a sale accepts, the highest offer a purchase accepts
  Instant opens_at, closes_at;
  std::string state;  //!< open, cleared, cancelled
  std::int64_t cleared_quantity = 0;
  Fen cleared_amount{0};
  std::optional<Fen> low_price, high_price;  //!< of the accepted bids
  std::int64_t bids_count = 0;               //!< sealed bids at the close
  std::optional<Instant> closed_at;
  //! As the service last saw it: upcoming, open (taking bids), closed (the window is over, the
  //! clearing not yet run), cleared or cancelled.
  std::string phase;

  std::string phaseAt(Instant now) const;
  //! The volume-weighted average accepted price, rounded half up (0 with no fill).
  Fen averagePrice() const;
};

struct AuctionBid {
  std::int64_t id = 0;
  std::int64_t auction_id = 0;
  std::int64_t member_id = 0;
  Fen price{0};
  std::int64_t quantity = 0;
  std::int64_t filled = 0;
  std::string state;  //!< sealed, withdrawn, won, partly_won, lost, cancelled
  std::optional<std::int64_t> trade_id;
  Instant at;  //!< its time priority: when placed, or last given a new price or more units
};

struct AnnounceAuctionRequest {
  std::string idempotency_key;
  std::string product;
  std::int64_t announcer_member_id = 0;
  Side side = Side::kSell;
  std::int64_t quantity = 0;
  Fen reserve_price{0};
  Instant opens_at, closes_at;
};

struct AuctionBidRequest {
  std::string idempotency_key;
  std::int64_t auction_id = 0;
  std::int64_t member_id = 0;
  Fen price{0};
  std::int64_t quantity = 0;
};

struct AmendBidRequest {
  std::int64_t bid_id = 0;
  std::optional<Fen> price;
  std::optional<std::int64_t> quantity;
};

struct AuctionClearing {
  Auction auction;
  std::vector<AuctionBid> bids;  //!< every bid, best first
  std::vector<Trade> trades;
};

//! Shared between threads. One writer at a time changes books, reservations and balances
//! (writer_); readers of the database need no lock.
class MarketService {
 public:
  MarketService(store::Database& db, const Clock& clock, MarketOptions options = {});

  // Products: the province admits, suspends and resumes.
  Result<Product> admitProduct(const auth::Principal& caller, const Product& request);
  Result<Product> setSuspended(const auth::Principal& caller, const std::string& code,
                               bool suspended);
  std::vector<Product> products();
  Result<Product> product(const std::string& code);

  // Members and their cash: the province records deposits and withdrawals.
  Result<Member> registerMember(const auth::Principal& caller, const std::string& account_no,
                                const std::string& name, const std::string& kind);
  Result<Member> member(const auth::Principal& caller, std::int64_t member_id);
  Result<std::vector<Member>> membersOf(const auth::Principal& caller);
  Result<Member> deposit(const auth::Principal& caller, std::int64_t member_id, Fen amount,
                         const std::string& idempotency_key, const std::string& bank_reference);
  Result<Member> withdraw(const auth::Principal& caller, std::int64_t member_id, Fen amount,
                          const std::string& idempotency_key, const std::string& bank_reference);
  //! The member's free units of a product: held units the product admits minus what open sell
  //! orders and proposed block agreements reserve.
  Result<Units> freeUnits(const auth::Principal& caller, std::int64_t member_id,
                          const std::string& product);

  // Listed trading.
  Result<OrderOutcome> placeOrder(const auth::Principal& caller, const PlaceOrderRequest& request);
  Result<OrderOutcome> pick(const auth::Principal& caller, const PickRequest& request);
  Result<Order> cancelOrder(const auth::Principal& caller, std::int64_t order_id);
  Result<OrderOutcome> amendOrder(const auth::Principal& caller, const AmendRequest& request);
  Result<std::vector<Order>> ordersOf(const auth::Principal& caller, std::int64_t member_id,
                                      bool open_only);
  //! Expires day orders of past trading days in every product; answers how many.
  std::int64_t expireDayOrders();

  // Block agreements.
  Result<BlockAgreement> proposeBlock(const auth::Principal& caller,
                                      const ProposeBlockRequest& request);
  Result<BlockAgreement> confirmBlock(const auth::Principal& caller, std::int64_t agreement_id);
  //! The buyer declines a proposed agreement.
  Result<BlockAgreement> declineBlock(const auth::Principal& caller, std::int64_t agreement_id);
  //! The seller withdraws a proposed agreement.
  Result<BlockAgreement> withdrawBlock(const auth::Principal& caller, std::int64_t agreement_id);
  //! The member's agreements as seller or buyer, newest first.
  Result<std::vector<BlockAgreement>> blocksOf(const auth::Principal& caller,
                                               std::int64_t member_id);

  // One-way auctions (单向竞价).
  //! The announcer's users (or the province, for any member) announce; it reserves the units sold
  //! or the cash the purchase may cost at the reserve price.
  Result<Auction> announceAuction(const auth::Principal& caller,
                                  const AnnounceAuctionRequest& request);
  Result<Auction> auction(std::int64_t auction_id);
  //! Newest first; product and state ("" for any) filter.
  Result<std::vector<Auction>> auctions(const std::string& product, const std::string& state,
                                        int limit);
  //! A sealed bid inside the window, reserving the bidder's cash (or units, in a buy auction).
  Result<AuctionBid> submitBid(const auth::Principal& caller, const AuctionBidRequest& request);
  //! A lower quantity keeps the bid's time; a new price or more units takes the time of now.
  Result<AuctionBid> amendBid(const auth::Principal& caller, const AmendBidRequest& request);
  Result<AuctionBid> withdrawBid(const auth::Principal& caller, std::int64_t bid_id);
  //! The bids the caller may see: its members' own bids; after the clearing, every bid to the
  //! announcer's users and the province.
  Result<std::vector<AuctionBid>> auctionBids(const auth::Principal& caller,
                                              std::int64_t auction_id);
  //! Clears an auction whose window is over: the announcer's users or the province.
  Result<AuctionClearing> closeAuction(const auth::Principal& caller, std::int64_t auction_id);
  //! The announcer (or the province) calls an auction off before its close; bids are released.
  Result<Auction> cancelAuction(const auth::Principal& caller, std::int64_t auction_id);
  struct DueClearing {
    std::int64_t auction_id = 0;
    Result<AuctionClearing> outcome;
  };
  //! Clears every auction whose window is over, each in its own transaction (the periodic job).
  std::vector<DueClearing> closeDueAuctions(const std::string& actor);

  // Market data.
  Result<BookView> book(const std::string& product);
  Result<std::vector<Trade>> trades(const std::string& product, int limit);
  Result<std::vector<DailyBar>> daily(const std::string& product, int limit);

  //! The account where fees collect.
  static constexpr const char* kFeeAccountCode = "exchange:fees";
  static constexpr const char* kBankAccountCode = "exchange:clearing_bank";

 private:
  OrderBook& bookOf(soci::session& sql, const Product& product);
  void dropBook(std::int64_t product_id);
  Result<AuctionClearing> clearAuction(soci::session& sql, const std::string& actor,
                                       std::int64_t auction_id);
  Result<BlockAgreement> endBlock(const auth::Principal& caller, std::int64_t agreement_id,
                                  bool as_seller);

  store::Database& db_;
  const Clock& clock_;
  MarketOptions options_;
  std::mutex writer_;
  std::map<std::int64_t, OrderBook> books_;  // guarded by writer_
};

}  // namespace tph::market
