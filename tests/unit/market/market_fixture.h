#pragma once
// The market fixture: a province admin, a seller holding 5,000 metro units and a buyer, both
// exchange members, and the product PHCER-METRO (reference price 50.00, fee 10 bp) on Monday
// 2 March 2026 at 10:00 Asia/Shanghai.

#include <gtest/gtest.h>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "market/cash_ledger.h"
#include "market/market_service.h"
#include "region/region_service.h"
#include "registry/registry_ledger.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::market {

using auth::Principal;
using auth::Role;

// Monday 2 March 2026, 10:00 in Asia/Shanghai: the morning session.
inline Instant mondayMorning() {
  return *parseIso8601("2026-03-02T02:00:00Z");
}

class MarketTest : public ::testing::Test {
 protected:
  explicit MarketTest(MarketOptions options = {})
      : clock_(mondayMorning()),
        registry_(t_.db(), clock_),
        market_(t_.db(), clock_, std::move(options)) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    province_ = user("gd_admin", Role::kProvinceAdmin, "440000");
    seller_user_ = user("seller", Role::kExchangeMember, "");
    buyer_user_ = user("buyer", Role::kExchangeMember, "");
    seller_account_ = open("Seller Co", seller_user_);
    buyer_account_ = open("Buyer Fund", buyer_user_);
    seller_ = market_.registerMember(province_, seller_account_, "Seller Co", "enterprise")->id;
    buyer_ = market_.registerMember(province_, buyer_account_, "Buyer Fund", "institution")->id;
    Product p;
    p.code = "PHCER-METRO";
    p.name = "碳普惠 地铁出行";
    p.methodology = "travel.metro";
    p.effective_from = mondayMorning() - std::chrono::hours(24 * 30);
    p.reference_price = Fen(5000);
    p.block_min_units = 1000;
    p.fee_bp = 10;
    auto admitted = market_.admitProduct(province_, p);
    EXPECT_TRUE(admitted.ok()) << admitted.error().message;
    issueTo(seller_account_, 5000);
  }

  Principal user(const std::string& name, Role role, const std::string& region) {
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto u =
        auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
    EXPECT_TRUE(u.ok()) << u.error().message;
    return Principal{u->id, u->username, u->display_name, u->grants, {}};
  }

  std::string open(const std::string& name, const Principal& user) {
    auto a = registry_.openAccount(
        province_, {registry::AccountKind::kExchangeMember, name, "440300", {user.user_id}});
    EXPECT_TRUE(a.ok()) << a.error().message;
    return a->account_no;
  }

  //! Issues units of a metro batch to the operator and transfers them to the account.
  void issueTo(const std::string& account_no, std::int64_t units,
               const std::string& methodology = "travel.metro") {
    t_.db()
        .transaction([&](soci::session& sql) -> Result<registry::Issuance> {
          auto op = registry::ensureOperatorAccount(sql, clock_, "440300", "test");
          long long id = 0, account = op;
          sql << "INSERT INTO certification_batches (methodology_id, region_code, vintage_from, "
                 "vintage_until, vintage_year, carbon_sink, operator_account_id, state, "
                 "opened_by, opened_at_ms, notice_days_working, notice_until_ms, sample_seed, "
                 "report_json, records_locked, grams_locked, updated_at_ms) VALUES (:m, "
                 "'440300', '2026-01-01', '2026-01-31', 2026, 0, :op, 'approved', 'test', 0, 0, "
                 "0, 'seed', '{}', 0, 0, 0) RETURNING id",
              soci::use(methodology), soci::use(account), soci::into(id);
          auto issued = registry::issueUnits(
              sql, clock_, {id, "440300", methodology, 2026, Units(units), Units(0), op, "test"});
          auto to = registry::findAccountId(sql, account_no);
          registry::MoveUnitsRequest move;
          move.kind = "transfer";
          move.idempotency_key = "test:seed:" + std::to_string(id);
          move.from_account_id = op;
          move.to_account_id = *to;
          move.units = Units(units);
          move.batch_no = id;
          move.actor = "test";
          auto moved = registry::moveUnits(sql, clock_, move);
          if (!moved.ok()) return moved.error();
          return issued;
        })
        .value();
  }

  void fund(std::int64_t member, std::int64_t fen) {
    static int n = 0;
    auto d = market_.deposit(province_, member, Fen(fen), "dep-" + std::to_string(++n), "BANK");
    ASSERT_TRUE(d.ok()) << d.error().message;
  }

  Units held(const std::string& account_no) {
    return t_.db().read([&](soci::session& sql) {
      return registry::heldUnits(sql, *registry::findAccountId(sql, account_no), {});
    });
  }
  Fen cash(std::int64_t member) { return market_.member(province_, member)->cash; }

  Result<OrderOutcome> place(const Principal& who, std::int64_t member, Side side,
                             std::int64_t price, std::int64_t qty,
                             TimeInForce tif = TimeInForce::kDay) {
    static int n = 0;
    return market_.placeOrder(
        who, {"o-" + std::to_string(++n), "PHCER-METRO", member, side, Fen(price), qty, tif});
  }

  void expectConsistent() {
    auto check = registry_.check();
    EXPECT_TRUE(check.ok) << check.problem;
    auto ledger = t_.db().read([](soci::session& sql) { return verifyCashLedger(sql); });
    EXPECT_TRUE(ledger.ok) << ledger.problem;
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  registry::RegistryService registry_;
  MarketService market_;
  Principal province_, seller_user_, buyer_user_;
  std::string seller_account_, buyer_account_;
  std::int64_t seller_ = 0, buyer_ = 0;
};

}  // namespace tph::market
