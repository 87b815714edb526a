// One-way auctions (单向竞价): announcement, sealed bids, the clearing by price then time with
// pay-as-bid settlement, and cancellation. Rules: docs/market.md, "One-way auctions".

#include <algorithm>
#include <stdexcept>

#include "audit/audit_log.h"
#include "market/cash_ledger.h"
#include "market/market_internal.h"
#include "market/market_service.h"
#include "market/market_store.h"
#include "registry/registry_ledger.h"
#include "store/database.h"

namespace tph::market {

using namespace internal;

namespace {

using auth::Principal;
using auth::Role;
using nlohmann::json;

//! An announcement may open up to this long before now (a request in flight), not earlier.
constexpr auto kOpensAtSlack = std::chrono::minutes(1);

std::string auctionRef(std::int64_t id) {
  return "market_auction:" + std::to_string(id);
}

//! Cash a bid (or an announced purchase) reserves: every unit at its price, with the fee.
std::int64_t cashNeeded(std::int64_t price_fen, std::int64_t quantity, int fee_bp) {
  std::int64_t amount = checked::mul(price_fen, quantity);
  return checked::add(amount, feeOf(amount, fee_bp));
}

//! The bidder's free cash (a sale) or free units (a purchase), adding back `own_fen` / `own_units`
//! the caller's amended bid already reserves.
Status checkCovered(soci::session& sql, const detail::MemberRow& member, const Product& product,
                    bool needs_cash, std::int64_t need, std::int64_t own, const std::string& today,
                    const char* field) {
  auto reserved = detail::reserved(sql, member.id, today);
  if (needs_cash) {
    Fen free = cashBalance(sql, member.cash_account_id) - Fen(reserved.cash_fen) + Fen(own);
    if (free < Fen(need))
      return Error::conflict("free cash is " + free.toString() + ", this needs " +
                                 Fen(need).toString() + " (the price and fee of every unit)",
                             field);
    return {};
  }
  Units free = registry::heldUnits(sql, member.registry_account_id, filterOf(product)) -
               Units(reserved.units) + Units(own);
  if (free.value() < need)
    return Error::conflict("free units of " + product.code + " are " +
                               std::to_string(free.value()) + ", not " + std::to_string(need),
                           field);
  return {};
}

//! Best for the announcer first: the highest bids of a sale, the lowest offers of a purchase;
//! at one price, the earlier time.
void sortForClearing(std::vector<detail::BidRow>& bids, Side announcer_side) {
  std::stable_sort(bids.begin(), bids.end(), [&](const auto& a, const auto& b) {
    if (a.bid.price != b.bid.price)
      return announcer_side == Side::kSell ? a.bid.price > b.bid.price : a.bid.price < b.bid.price;
    return a.seq < b.seq;
  });
}

}  // namespace

std::string Auction::phaseAt(Instant now) const {
  if (state != "open") return state;
  if (now < opens_at) return "upcoming";
  if (now < closes_at) return "open";
  return "closed";
}

Fen Auction::averagePrice() const {
  if (cleared_quantity == 0) return Fen(0);
  return Fen((cleared_amount.value() + cleared_quantity / 2) / cleared_quantity);
}

Result<Auction> MarketService::announceAuction(const Principal& caller,
                                               const AnnounceAuctionRequest& request) {
  TPH_TRY(checkKey(request.idempotency_key));
  TPH_TRY(checkQuantity(request.quantity));
  if (request.reserve_price.value() < 1 || request.reserve_price.value() > kPriceMaxFen)
    return Error::invalid("reserve_price_fen", "reserve_price_fen must be 1-" +
                                                   std::to_string(kPriceMaxFen) + " fen per tonne");
  if (request.closes_at <= request.opens_at)
    return Error::invalid("closes_at", "closes_at must be after opens_at");
  if (request.closes_at - request.opens_at > std::chrono::hours(24 * kAuctionMaxWindowDays))
    return Error::invalid("closes_at", "an auction's window is at most " +
                                           std::to_string(kAuctionMaxWindowDays) + " days");
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Auction> {
    detail::lockMarket(sql);
    if (auto existing = detail::findAuctionByKey(sql, request.idempotency_key)) {
      Auction a = existing->auction;
      if (a.product != request.product || a.announcer_member_id != request.announcer_member_id ||
          a.side != request.side || a.quantity != request.quantity ||
          a.reserve_price != request.reserve_price || a.opens_at != request.opens_at ||
          a.closes_at != request.closes_at)
        return Error::conflict("idempotency key was used for a different auction",
                               "idempotency_key");
      a.phase = a.phaseAt(clock_.now());
      return a;
    }
    Instant now = clock_.now();
    if (request.closes_at <= now) return Error::invalid("closes_at", "closes_at is in the past");
    if (request.opens_at < now - kOpensAtSlack)
      return Error::invalid("opens_at", "opens_at is in the past");
    auto product = detail::findProduct(sql, request.product);
    if (!product) return Error::notFound("no product " + request.product, "product");
    TPH_TRY(checkTradable(*product, now));
    TPH_TRY_ASSIGN(announcer, memberFor(sql, caller, request.announcer_member_id, true));
    std::string today = shanghaiDay(now);
    bool buys = request.side == Side::kBuy;
    TPH_TRY(checkCovered(
        sql, announcer, *product, buys,
        buys ? cashNeeded(request.reserve_price.value(), request.quantity, product->fee_bp)
             : request.quantity,
        0, today, "quantity"));
    detail::AuctionRow row;
    row.auction.product = product->code;
    row.auction.announcer_member_id = announcer.id;
    row.auction.side = request.side;
    row.auction.quantity = request.quantity;
    row.auction.reserve_price = request.reserve_price;
    row.auction.opens_at = request.opens_at;
    row.auction.closes_at = request.closes_at;
    row.auction.state = "open";
    row.product_id = product->id;
    row.idempotency_key = request.idempotency_key;
    row.auction.id = detail::insertAuction(sql, row, caller.auditActor(), toEpochMs(now));
    row.auction.phase = row.auction.phaseAt(now);
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.auction.announce", auctionRef(row.auction.id),
         json{{"product", product->code},
              {"announcer", announcer.id},
              {"side", sideName(request.side)},
              {"quantity", request.quantity},
              {"reserve_price_fen", request.reserve_price.value()},
              {"opens_at", formatIso8601(request.opens_at)},
              {"closes_at", formatIso8601(request.closes_at)}}});
    return row.auction;
  });
}

Result<Auction> MarketService::auction(std::int64_t auction_id) {
  return db_.read([&](soci::session& sql) -> Result<Auction> {
    auto row = detail::findAuction(sql, auction_id);
    if (!row) return Error::notFound("no auction " + std::to_string(auction_id), "auction");
    row->auction.phase = row->auction.phaseAt(clock_.now());
    return row->auction;
  });
}

Result<std::vector<Auction>> MarketService::auctions(const std::string& product,
                                                     const std::string& state, int limit) {
  if (limit < 1 || limit > kListMaxLimit)
    return Error::invalid("limit", "limit must be 1-" + std::to_string(kListMaxLimit));
  if (!state.empty() && state != "open" && state != "cleared" && state != "cancelled")
    return Error::invalid("state", "state is open, cleared or cancelled");
  return db_.read([&](soci::session& sql) -> Result<std::vector<Auction>> {
    std::int64_t product_id = 0;
    if (!product.empty()) {
      auto p = detail::findProduct(sql, product);
      if (!p) return Error::notFound("no product " + product, "product");
      product_id = p->id;
    }
    std::vector<Auction> out;
    for (auto& row : detail::listAuctions(sql, product_id, state, limit)) {
      row.auction.phase = row.auction.phaseAt(clock_.now());
      out.push_back(std::move(row.auction));
    }
    return out;
  });
}

namespace {

//! The auction taking bids now, with its product, or why not.
struct BiddingContext {
  detail::AuctionRow auction;
  Product product;
};
Result<BiddingContext> biddable(soci::session& sql, std::int64_t auction_id, Instant now) {
  auto row = detail::findAuction(sql, auction_id);
  if (!row) return Error::notFound("no auction " + std::to_string(auction_id), "auction_id");
  const Auction& a = row->auction;
  if (a.state != "open")
    return Error::conflict("auction " + std::to_string(a.id) + " is " + a.state, "auction_id");
  if (now < a.opens_at)
    return Error::conflict(
        "auction " + std::to_string(a.id) + " opens at " + formatIso8601(a.opens_at), "auction_id");
  if (now >= a.closes_at)
    return Error::conflict(
        "auction " + std::to_string(a.id) + " closed at " + formatIso8601(a.closes_at),
        "auction_id");
  auto product = detail::findProductById(sql, row->product_id);
  TPH_TRY(checkTradable(*product, now));
  return BiddingContext{*row, *product};
}

//! The reserve price: a sale takes bids at or above it, a purchase offers at or below it.
Status checkReserve(const Auction& a, Fen price) {
  if (a.side == Side::kSell && price < a.reserve_price)
    return Error::invalid("price_fen",
                          "a bid must be at least the reserve price " + a.reserve_price.toString());
  if (a.side == Side::kBuy && price > a.reserve_price)
    return Error::invalid(
        "price_fen", "an offer must be at most the reserve price " + a.reserve_price.toString());
  return {};
}

Status checkBidQuantity(const Auction& a, std::int64_t quantity) {
  TPH_TRY(checkQuantity(quantity));
  if (quantity > a.quantity)
    return Error::invalid(
        "quantity", "a bid is for at most the auction's " + std::to_string(a.quantity) + " units");
  return {};
}

}  // namespace

Result<AuctionBid> MarketService::submitBid(const Principal& caller,
                                            const AuctionBidRequest& request) {
  TPH_TRY(checkKey(request.idempotency_key));
  TPH_TRY(checkPrice(request.price));
  TPH_TRY(checkQuantity(request.quantity));
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<AuctionBid> {
    detail::lockMarket(sql);
    if (auto existing = detail::findBidByKey(sql, request.idempotency_key)) {
      const AuctionBid& b = existing->bid;
      TPH_TRY(memberFor(sql, caller, b.member_id, false));
      if (b.auction_id != request.auction_id || b.member_id != request.member_id)
        return Error::conflict("idempotency key was used for a different bid", "idempotency_key");
      return b;
    }
    Instant now = clock_.now();
    TPH_TRY_ASSIGN(ctx, biddable(sql, request.auction_id, now));
    const Auction& a = ctx.auction.auction;
    TPH_TRY_ASSIGN(bidder, memberFor(sql, caller, request.member_id, false));
    if (bidder.id == a.announcer_member_id)
      return Error::invalid("member_id", "the announcer does not bid in its own auction");
    TPH_TRY(checkBidQuantity(a, request.quantity));
    TPH_TRY(checkReserve(a, request.price));
    if (detail::countSealedBids(sql, a.id) >= kAuctionMaxBids)
      return Error::conflict("auction " + std::to_string(a.id) + " holds " +
                                 std::to_string(kAuctionMaxBids) + " sealed bids, its limit",
                             "auction_id");
    bool pays = a.side == Side::kSell;  // the bidder buys what the announcer sells
    TPH_TRY(
        checkCovered(sql, bidder, ctx.product, pays,
                     pays ? cashNeeded(request.price.value(), request.quantity, ctx.product.fee_bp)
                          : request.quantity,
                     0, shanghaiDay(now), "quantity"));
    detail::BidRow row;
    row.bid = {0, a.id, bidder.id, request.price, request.quantity, 0, "sealed", std::nullopt, now};
    row.seq = detail::nextBidSeq(sql);
    row.idempotency_key = request.idempotency_key;
    row.bid.id = detail::insertBid(sql, row, caller.auditActor(), toEpochMs(now));
    // Sealed: the event names the bid, not its price or quantity; the clearing event lists them.
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "market.auction.bid", auctionRef(a.id),
                             json{{"bid", row.bid.id}, {"member", bidder.id}}});
    return row.bid;
  });
}

Result<AuctionBid> MarketService::amendBid(const Principal& caller,
                                           const AmendBidRequest& request) {
  if (!request.price && !request.quantity)
    return Error::invalid("price_fen", "an amendment changes the price, the quantity or both");
  if (request.price) TPH_TRY(checkPrice(*request.price));
  if (request.quantity) TPH_TRY(checkQuantity(*request.quantity));
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<AuctionBid> {
    detail::lockMarket(sql);
    auto row = detail::findBid(sql, request.bid_id);
    if (!row) return Error::notFound("no bid " + std::to_string(request.bid_id), "bid");
    TPH_TRY_ASSIGN(bidder, memberFor(sql, caller, row->bid.member_id, false));
    Instant now = clock_.now();
    TPH_TRY_ASSIGN(ctx, biddable(sql, row->bid.auction_id, now));
    const Auction& a = ctx.auction.auction;
    if (row->bid.state != "sealed")
      return Error::conflict("bid " + std::to_string(row->bid.id) + " is " + row->bid.state, "bid");
    Fen price = request.price.value_or(row->bid.price);
    std::int64_t quantity = request.quantity.value_or(row->bid.quantity);
    TPH_TRY(checkBidQuantity(a, quantity));
    TPH_TRY(checkReserve(a, price));
    bool pays = a.side == Side::kSell;
    int fee_bp = ctx.product.fee_bp;
    TPH_TRY(checkCovered(
        sql, bidder, ctx.product, pays,
        pays ? cashNeeded(price.value(), quantity, fee_bp) : quantity,
        pays ? cashNeeded(row->bid.price.value(), row->bid.quantity, fee_bp) : row->bid.quantity,
        shanghaiDay(now), "quantity"));
    // Less at the same price keeps the bid's time; a new price or more units is a new bid in time.
    bool keeps_time = price == row->bid.price && quantity <= row->bid.quantity;
    if (!keeps_time) {
      row->seq = detail::nextBidSeq(sql);
      row->bid.at = now;
    }
    row->bid.price = price;
    row->bid.quantity = quantity;
    detail::updateBid(sql, *row, toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "market.auction.bid.amend", auctionRef(a.id),
                             json{{"bid", row->bid.id},
                                  {"member", bidder.id},
                                  {"priority", keeps_time ? "kept" : "lost"}}});
    return row->bid;
  });
}

Result<AuctionBid> MarketService::withdrawBid(const Principal& caller, std::int64_t bid_id) {
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<AuctionBid> {
    detail::lockMarket(sql);
    auto row = detail::findBid(sql, bid_id);
    if (!row) return Error::notFound("no bid " + std::to_string(bid_id), "bid");
    TPH_TRY(memberFor(sql, caller, row->bid.member_id, false));
    Instant now = clock_.now();
    TPH_TRY(biddable(sql, row->bid.auction_id, now));
    if (row->bid.state != "sealed")
      return Error::conflict("bid " + std::to_string(bid_id) + " is " + row->bid.state, "bid");
    row->bid.state = "withdrawn";
    detail::updateBid(sql, *row, toEpochMs(now));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(), "market.auction.bid.withdraw", auctionRef(row->bid.auction_id),
         json{{"bid", bid_id}, {"member", row->bid.member_id}}});
    return row->bid;
  });
}

Result<std::vector<AuctionBid>> MarketService::auctionBids(const Principal& caller,
                                                           std::int64_t auction_id) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<AuctionBid>> {
    auto a = detail::findAuction(sql, auction_id);
    if (!a) return Error::notFound("no auction " + std::to_string(auction_id), "auction");
    bool cleared = a->auction.state == "cleared";
    bool sees_all = cleared && (caller.hasRole(Role::kProvinceAdmin) ||
                                memberFor(sql, caller, a->auction.announcer_member_id, false).ok());
    auto rows = detail::bidsOfAuction(sql, auction_id);
    if (cleared) sortForClearing(rows, a->auction.side);
    std::map<std::int64_t, bool> acts_for;
    std::vector<AuctionBid> out;
    for (const auto& row : rows) {
      std::int64_t member = row.bid.member_id;
      if (!sees_all) {
        auto known = acts_for.find(member);
        if (known == acts_for.end())
          known = acts_for.emplace(member, memberFor(sql, caller, member, false).ok()).first;
        if (!known->second) continue;
      }
      out.push_back(row.bid);
    }
    return out;
  });
}

Result<AuctionClearing> MarketService::clearAuction(soci::session& sql, const std::string& actor,
                                                    std::int64_t auction_id) {
  auto row = detail::findAuction(sql, auction_id);
  if (!row) return Error::notFound("no auction " + std::to_string(auction_id), "auction");
  Auction a = row->auction;
  if (a.state != "open")
    return Error::conflict("auction " + std::to_string(a.id) + " is " + a.state, "auction");
  Instant now = clock_.now();
  if (now < a.closes_at)
    return Error::conflict(
        "auction " + std::to_string(a.id) + " closes at " + formatIso8601(a.closes_at), "auction");
  auto product = detail::findProductById(sql, row->product_id);
  if (product->suspended)
    return Error::conflict("product " + product->code +
                               " is suspended: the auction clears when it "
                               "resumes, or is cancelled",
                           "auction");
  auto announcer = detail::findMember(sql, a.announcer_member_id);
  auto bids = detail::bidsOfAuction(sql, a.id);
  std::erase_if(bids, [](const auto& b) { return b.bid.state != "sealed"; });
  sortForClearing(bids, a.side);

  std::string today = shanghaiDay(now);
  std::int64_t now_ms = toEpochMs(now);
  SettleContext ctx{clock_, options_, actor, today};
  AuctionClearing out;
  std::int64_t left = a.quantity;
  json bid_log = json::array();
  for (auto& b : bids) {
    std::int64_t fill = std::min(left, b.bid.quantity);
    if (fill > 0) {
      auto bidder = detail::findMember(sql, b.bid.member_id);
      bool announcer_sells = a.side == Side::kSell;
      TPH_TRY_ASSIGN(
          trade,
          settle(sql, ctx, *product, "auction", announcer_sells ? *bidder : *announcer,
                 announcer_sells ? *announcer : *bidder, b.bid.price.value(), fill, std::nullopt,
                 std::nullopt, "auction:" + std::to_string(a.id) + ":" + std::to_string(b.bid.id)));
      b.bid.trade_id = trade.id;
      out.trades.push_back(std::move(trade));
      left -= fill;
      a.cleared_quantity += fill;
      a.cleared_amount = a.cleared_amount + Fen(checked::mul(b.bid.price.value(), fill));
      a.low_price = a.low_price ? std::min(*a.low_price, b.bid.price) : b.bid.price;
      a.high_price = a.high_price ? std::max(*a.high_price, b.bid.price) : b.bid.price;
    }
    b.bid.filled = fill;
    b.bid.state = fill == b.bid.quantity ? "won" : fill > 0 ? "partly_won" : "lost";
    detail::updateBid(sql, b, now_ms);
    bid_log.push_back({{"bid", b.bid.id},
                       {"member", b.bid.member_id},
                       {"price_fen", b.bid.price.value()},
                       {"quantity", b.bid.quantity},
                       {"filled", fill}});
    out.bids.push_back(b.bid);
  }
  if (left < 0 || a.cleared_quantity + left != a.quantity)
    throw std::logic_error("auction " + std::to_string(a.id) + " cleared more than it offered");
  a.bids_count = static_cast<std::int64_t>(bids.size());
  a.state = "cleared";
  a.closed_at = now;
  detail::recordClearing(sql, a, actor, now_ms);
  audit::appendAuditEvent(sql, clock_,
                          {actor, "market.auction.clear", auctionRef(a.id),
                           json{{"cleared_quantity", a.cleared_quantity},
                                {"cleared_amount_fen", a.cleared_amount.value()},
                                {"bids", bid_log}}});
  a.phase = a.state;
  out.auction = a;
  return out;
}

Result<AuctionClearing> MarketService::closeAuction(const Principal& caller,
                                                    std::int64_t auction_id) {
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<AuctionClearing> {
    detail::lockMarket(sql);
    auto row = detail::findAuction(sql, auction_id);
    if (!row) return Error::notFound("no auction " + std::to_string(auction_id), "auction");
    if (!caller.hasRole(Role::kProvinceAdmin) &&
        !memberFor(sql, caller, row->auction.announcer_member_id, false).ok())
      return Error::forbidden("only the announcer or the province closes an auction", "auction");
    return clearAuction(sql, caller.auditActor(), auction_id);
  });
}

Result<Auction> MarketService::cancelAuction(const Principal& caller, std::int64_t auction_id) {
  std::lock_guard lock(writer_);
  return db_.transaction([&](soci::session& sql) -> Result<Auction> {
    detail::lockMarket(sql);
    auto row = detail::findAuction(sql, auction_id);
    if (!row) return Error::notFound("no auction " + std::to_string(auction_id), "auction");
    bool province = caller.hasRole(Role::kProvinceAdmin);
    if (!province && !memberFor(sql, caller, row->auction.announcer_member_id, false).ok())
      return Error::forbidden("only the announcer or the province cancels an auction", "auction");
    if (row->auction.state != "open")
      return Error::conflict("auction " + std::to_string(auction_id) + " is " + row->auction.state,
                             "auction");
    Instant now = clock_.now();
    // After the close the bids are committed: only the province may still call it off (say, a
    // product suspended for good).
    if (!province && now >= row->auction.closes_at)
      return Error::conflict(
          "auction " + std::to_string(auction_id) + " closed; it can only be cleared now",
          "auction");
    std::int64_t sealed = detail::countSealedBids(sql, auction_id);
    detail::cancelAuction(sql, auction_id, caller.auditActor(), toEpochMs(now));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(), "market.auction.cancel", auctionRef(auction_id),
                             json{{"sealed_bids_released", sealed}}});
    row->auction.state = row->auction.phase = "cancelled";
    row->auction.closed_at = now;
    return row->auction;
  });
}

std::vector<MarketService::DueClearing> MarketService::closeDueAuctions(const std::string& actor) {
  auto due = db_.read(
      [&](soci::session& sql) { return detail::dueAuctions(sql, toEpochMs(clock_.now())); });
  std::vector<DueClearing> out;
  for (auto id : due) {
    std::lock_guard lock(writer_);
    auto outcome = db_.transaction([&](soci::session& sql) -> Result<AuctionClearing> {
      detail::lockMarket(sql);
      return clearAuction(sql, actor, id);
    });
    out.push_back({id, std::move(outcome)});
  }
  return out;
}

}  // namespace tph::market
