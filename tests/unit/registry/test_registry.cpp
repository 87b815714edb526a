// The registry: serials, issuance into blocks, transfers and retirements that split blocks,
// cancellations, idempotency, permissions, the explorer and the invariant check, with a seeded
// property test of random movements against a model.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "region/region_service.h"
#include "registry/registry_ledger.h"
#include "registry/registry_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::registry {
namespace {

using auth::Principal;
using auth::Role;

TEST(Serial, FormatsAndParsesBlocksAndSingleUnits) {
  SerialRange r{"440300", "sink.tree_planting", 2026, 12, 1, 250};
  EXPECT_EQ(formatSerial(r), "CN-GD-PHCER-440300-sink.tree_planting-2026-000012-00000001-00000250");
  EXPECT_EQ(parseSerial(formatSerial(r)), r);
  auto one = parseSerial("CN-GD-PHCER-440300-sink.tree_planting-2026-000012-00000042");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->first, 42);
  EXPECT_EQ(one->last, 42);
  EXPECT_EQ(one->units(), 1);
  // Wider numbers than the padding still read.
  auto wide = parseSerial("CN-GD-PHCER-440000-travel.metro-2026-1234567-123456789-123456790");
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->batch_no, 1234567);
  for (const char* bad : {"", "CN-GD-PHCER-", "CN-GD-PHCER-440300-x-2026-1-5-4",
                          "CN-GD-PHCER-4403-x-2026-1-1-2", "CN-GD-PHCER-440300-x-26-1-1-2",
                          "CN-GD-PHCER-440300-X-2026-1-1-2", "CN-GD-PHCER-440300-x-2026-0-1-2",
                          "CN-GD-PHCER-440300-x-2026-1-1-2-3", "XX-GD-PHCER-440300-x-2026-1-1-2"}) {
    EXPECT_FALSE(parseSerial(bad)) << bad;
  }
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : clock_(*parseIso8601("2026-06-15T02:00:00Z")), registry_(t_.db(), clock_) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"}},
                          "test")
                    .ok());
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(t_.db(), clock_, options);
    auto make = [&](const std::string& name, Role role, const std::string& region) {
      auto u =
          auth.createUserAsSystem("test", {name, "green-travel-42", name, {{role, region}}}, false);
      EXPECT_TRUE(u.ok()) << u.error().message;
      return Principal{u->id, u->username, u->display_name, u->grants, {}};
    };
    province_ = make("gd_admin", Role::kProvinceAdmin, "440000");
    sz_admin_ = make("sz_admin", Role::kRegionAdmin, "440300");
    gz_admin_ = make("gz_admin", Role::kRegionAdmin, "440100");
    acme_user_ = make("acme", Role::kEnterprise, "440300");
    mallory_ = make("mallory", Role::kEnterprise, "440300");
    acme_ = open(sz_admin_, AccountKind::kEnterprise, "Acme 有限公司", "440300", {acme_user_});
    fund_ = open(province_, AccountKind::kExchangeMember, "Green Fund", "440100", {});
  }

  std::string open(const Principal& by, AccountKind kind, const std::string& name,
                   const std::string& region, const std::vector<Principal>& members) {
    NewAccount a{kind, name, region, {}};
    for (const auto& m : members) a.member_user_ids.push_back(m.user_id);
    auto opened = registry_.openAccount(by, a);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? opened->account_no : "";
  }

  //! A certification batch row for the issuance to belong to, and its units issued.
  Issuance issue(std::int64_t units, std::int64_t buffer, const std::string& region = "440300",
                 const std::string& methodology = "sink.tree_planting", int year = 2026) {
    return t_.db()
        .transaction([&](soci::session& sql) -> Result<Issuance> {
          auto op = ensureOperatorAccount(sql, clock_, region, "test");
          long long id = 0, account = op;
          sql << "INSERT INTO certification_batches (methodology_id, region_code, vintage_from, "
                 "vintage_until, vintage_year, carbon_sink, operator_account_id, state, opened_by, "
                 "opened_at_ms, notice_days_working, notice_until_ms, sample_seed, report_json, "
                 "records_locked, grams_locked, updated_at_ms) VALUES (:m, :r, '2026-03-01', "
                 "'2026-03-31', :y, 1, :op, 'approved', 'test', 0, 0, 0, 'seed', '{}', 0, 0, 0) "
                 "RETURNING id",
              soci::use(methodology), soci::use(region), soci::use(year), soci::use(account),
              soci::into(id);
          return issueUnits(
              sql, clock_,
              {id, region, methodology, year, Units(units), Units(buffer), op, "test"});
        })
        .value();
  }

  Units held(const std::string& account_no) {
    auto blocks = t_.db().read([&](soci::session& sql) {
      long long n = 0;
      soci::indicator ind;
      sql << "SELECT SUM(b.last_unit - b.first_unit + 1) FROM serial_blocks b "
             "JOIN registry_accounts a ON a.id = b.account_id WHERE a.account_no = :n "
             "AND b.status = 'held'",
          soci::use(account_no), soci::into(n, ind);
      return ind == soci::i_null ? 0LL : n;
    });
    return Units(blocks);
  }

  void expectConsistent() {
    auto check = registry_.check();
    EXPECT_TRUE(check.ok) << check.problem;
    auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
    EXPECT_TRUE(chain.ok) << chain.problem;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  RegistryService registry_;
  Principal province_, sz_admin_, gz_admin_, acme_user_, mallory_;
  std::string acme_, fund_;
};

TEST_F(RegistryTest, IssuancePutsTheBufferShareInTheLastSerials) {
  auto issued = issue(100, 10);
  ASSERT_EQ(issued.ranges.size(), 2u);
  EXPECT_EQ(formatSerial(issued.ranges[0]),
            "CN-GD-PHCER-440300-sink.tree_planting-2026-" + std::string("00000") +
                std::to_string(issued.batch_no) + "-00000001-00000090");
  EXPECT_EQ(issued.ranges[1].first, 91);
  EXPECT_EQ(issued.ranges[1].last, 100);
  EXPECT_EQ(issued.account_no, "GD-OP-440300");
  EXPECT_EQ(held("GD-OP-440300"), Units(90));
  EXPECT_EQ(held("GD-BUFFER"), Units(10));
  auto lookup = registry_.lookupSerial(
      formatSerial({"440300", "sink.tree_planting", 2026, issued.batch_no, 95, 95}));
  ASSERT_TRUE(lookup.ok()) << lookup.error().message;
  ASSERT_EQ(lookup->parts.size(), 1u);
  EXPECT_EQ(lookup->parts[0].block.account_no, "GD-BUFFER");
  EXPECT_EQ(lookup->parts[0].account_kind, "buffer");
  // Buffer units stay put until the province cancels them.
  auto moved = registry_.transfer(province_, {"k-buffer", {"GD-BUFFER", Units(1), {}}, acme_, ""});
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, ErrorCode::kConflict);
  expectConsistent();
}

TEST_F(RegistryTest, TransferSplitsABlockAndBothSidesAreAudited) {
  auto issued = issue(90, 0);
  auto t =
      registry_.transfer(sz_admin_, {"t-1", {"GD-OP-440300", Units(30), {}}, acme_, "first sale"});
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->ranges.size(), 1u);
  EXPECT_EQ(t->ranges[0].first, 1);
  EXPECT_EQ(t->ranges[0].last, 30);
  EXPECT_EQ(held("GD-OP-440300"), Units(60));
  EXPECT_EQ(held(acme_), Units(30));
  auto blocks = registry_.blocksOf(acme_user_, acme_);
  ASSERT_TRUE(blocks.ok());
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_EQ((*blocks)[0].serial(), "CN-GD-PHCER-440300-sink.tree_planting-2026-00000" +
                                       std::to_string(issued.batch_no) + "-00000001-00000030");
  // Acme moves 5 on to the fund: its block splits again.
  ASSERT_TRUE(registry_.transfer(acme_user_, {"t-2", {acme_, Units(5), {}}, fund_, ""}).ok());
  auto lookup = registry_.lookupSerial(
      formatSerial({"440300", "sink.tree_planting", 2026, issued.batch_no, 1, 40}));
  ASSERT_TRUE(lookup.ok());
  ASSERT_EQ(lookup->parts.size(), 3u);
  EXPECT_EQ(lookup->parts[0].block.account_no, fund_);
  EXPECT_EQ(lookup->parts[0].block.range.last, 5);
  EXPECT_EQ(lookup->parts[1].block.account_no, acme_);
  EXPECT_EQ(lookup->parts[1].block.range.first, 6);
  EXPECT_EQ(lookup->parts[2].block.account_no, "GD-OP-440300");
  auto events = t_.db().read([](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM audit_events WHERE action IN "
           "('registry.transfer.out', 'registry.transfer.in')",
        soci::into(n);
    return n;
  });
  EXPECT_EQ(events, 4);
  expectConsistent();
}

TEST_F(RegistryTest, RetirementIsFinalAndIdempotent) {
  auto issued = issue(50, 0);
  ASSERT_TRUE(
      registry_.transfer(sz_admin_, {"t", {"GD-OP-440300", Units(20), {}}, acme_, ""}).ok());
  RetireRequest retire{"r-1", {acme_, Units(8), {}}, "ets_offset", "Acme 有限公司", "2026 履约"};
  auto r = registry_.retire(acme_user_, retire);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->duplicate);
  // The same request again answers the first outcome; the same key for another request is refused.
  auto again = registry_.retire(acme_user_, retire);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, r->id);
  auto other = retire;
  other.from.units = Units(9);
  auto clash = registry_.retire(acme_user_, other);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().field, "idempotency_key");
  EXPECT_EQ(held(acme_), Units(12));
  // Retired units never move: only the 12 held units can.
  auto too_many = registry_.transfer(acme_user_, {"t-x", {acme_, Units(13), {}}, fund_, ""});
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().field, "units");
  auto retire_more =
      registry_.retire(acme_user_, {"r-2", {acme_, Units(13), {}}, "voluntary", "x", ""});
  ASSERT_FALSE(retire_more.ok());
  EXPECT_EQ(retire_more.error().code, ErrorCode::kConflict);
  auto lookup = registry_.lookupSerial(
      formatSerial({"440300", "sink.tree_planting", 2026, issued.batch_no, 3, 3}));
  ASSERT_TRUE(lookup.ok());
  ASSERT_EQ(lookup->parts.size(), 1u);
  EXPECT_EQ(lookup->parts[0].block.status, BlockStatus::kRetired);
  ASSERT_TRUE(lookup->parts[0].operation);
  EXPECT_EQ(lookup->parts[0].operation->beneficiary, "Acme 有限公司");
  EXPECT_EQ(lookup->parts[0].operation->reason, "ets_offset");
  auto listed = registry_.retirements(10, 0);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].units, Units(8));
  // Validation names the field.
  auto bad = registry_.retire(acme_user_, {"r-3", {acme_, Units(1), {}}, "because", "x", ""});
  EXPECT_EQ(bad.error().field, "reason");
  auto nobody = registry_.retire(acme_user_, {"r-4", {acme_, Units(1), {}}, "voluntary", "", ""});
  EXPECT_EQ(nobody.error().field, "beneficiary");
  expectConsistent();
}

TEST_F(RegistryTest, OnlyMembersMoveUnitsAndOnlyTheProvinceCancels) {
  issue(10, 0);
  ASSERT_TRUE(registry_.transfer(sz_admin_, {"t", {"GD-OP-440300", Units(5), {}}, acme_, ""}).ok());
  auto stolen = registry_.transfer(mallory_, {"s", {acme_, Units(1), {}}, fund_, ""});
  EXPECT_EQ(stolen.error().code, ErrorCode::kForbidden);
  auto other_region =
      registry_.transfer(gz_admin_, {"g", {"GD-OP-440300", Units(1), {}}, fund_, ""});
  EXPECT_EQ(other_region.error().code, ErrorCode::kForbidden);
  auto not_province = registry_.cancel(sz_admin_, {"c", {acme_, Units(1), {}}, "error"});
  EXPECT_EQ(not_province.error().code, ErrorCode::kForbidden);
  auto cancelled = registry_.cancel(province_, {"c", {acme_, Units(2), {}}, "issued in error"});
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  auto account = registry_.account(acme_user_, acme_);
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->held, Units(3));
  EXPECT_EQ(account->cancelled, Units(2));
  // Cancelled units are not held, so they cannot be retired.
  auto retire = registry_.retire(acme_user_, {"r", {acme_, Units(4), {}}, "voluntary", "x", ""});
  EXPECT_EQ(retire.error().code, ErrorCode::kConflict);
  auto self = registry_.transfer(acme_user_, {"x", {acme_, Units(1), {}}, acme_, ""});
  EXPECT_EQ(self.error().field, "to");
  auto to_buffer = registry_.transfer(acme_user_, {"y", {acme_, Units(1), {}}, "GD-BUFFER", ""});
  EXPECT_EQ(to_buffer.error().field, "to");
  expectConsistent();
}

TEST_F(RegistryTest, AccountsAreOpenedOnlyWhereTheCallerAdministers) {
  auto elsewhere = registry_.openAccount(gz_admin_, {AccountKind::kEnterprise, "X", "440300", {}});
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kForbidden);
  auto buffer = registry_.openAccount(sz_admin_, {AccountKind::kBuffer, "buffer", "", {}});
  EXPECT_EQ(buffer.error().code, ErrorCode::kForbidden);
  auto province = registry_.openAccount(province_, {AccountKind::kProvince, "广东省", "", {}});
  ASSERT_TRUE(province.ok());
  EXPECT_EQ(province->account_no, "GD-PROVINCE");
  auto twice = registry_.openAccount(province_, {AccountKind::kProvince, "again", "", {}});
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  auto nameless = registry_.openAccount(sz_admin_, {AccountKind::kIndividual, "", "440300", {}});
  EXPECT_EQ(nameless.error().field, "name");
  auto ghost = registry_.openAccount(sz_admin_, {AccountKind::kIndividual, "x", "440300", {9999}});
  EXPECT_EQ(ghost.error().field, "members");
  auto mine = registry_.accountsOf(acme_user_);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].account_no, acme_);
  EXPECT_EQ(registry_.account(mallory_, acme_).error().code, ErrorCode::kNotFound);
}

TEST_F(RegistryTest, TotalsAddUpByVintageMethodologyAndRegion) {
  issue(40, 4);
  issue(10, 0, "440100", "electricity.sme_saving", 2025);
  ASSERT_TRUE(
      registry_
          .retire(sz_admin_, {"r", {"GD-OP-440300", Units(6), {}}, "voluntary", "深圳市民", ""})
          .ok());
  auto t = registry_.totals();
  EXPECT_EQ(t.all.issued, Units(50));
  EXPECT_EQ(t.all.held, Units(44));
  EXPECT_EQ(t.all.retired, Units(6));
  ASSERT_EQ(t.by_vintage.size(), 2u);
  EXPECT_EQ(t.by_vintage[0].key, "2025");
  EXPECT_EQ(t.by_vintage[0].issued, Units(10));
  EXPECT_EQ(t.by_vintage[1].retired, Units(6));
  ASSERT_EQ(t.by_region.size(), 2u);
  EXPECT_EQ(t.by_region[1].key, "440300");
  EXPECT_EQ(t.by_region[1].held, Units(34));
  ASSERT_EQ(t.by_methodology.size(), 2u);
  auto issuances = registry_.issuances(10, 0);
  ASSERT_TRUE(issuances.ok());
  ASSERT_EQ(issuances->size(), 2u);
  EXPECT_EQ((*issuances)[1].units, Units(40));
  EXPECT_EQ((*issuances)[1].buffer_units, Units(4));
}

TEST_F(RegistryTest, CheckNamesTheFirstViolation) {
  auto issued = issue(20, 0);
  EXPECT_TRUE(registry_.check().ok);
  // Someone with SQL access widens a block over its neighbour's units.
  t_.exec("UPDATE serial_blocks SET last_unit = 25 WHERE batch_id = " +
          std::to_string(issued.batch_no));
  auto check = registry_.check();
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.problem.find("runs past the 20 units issued"), std::string::npos)
      << check.problem;
}

TEST_F(RegistryTest, CheckFindsOverlappingBlocks) {
  auto issued = issue(20, 0);
  ASSERT_TRUE(registry_.transfer(sz_admin_, {"t", {"GD-OP-440300", Units(5), {}}, acme_, ""}).ok());
  t_.exec("UPDATE serial_blocks SET first_unit = 4 WHERE first_unit = 6 AND batch_id = " +
          std::to_string(issued.batch_no));
  auto check = registry_.check();
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.problem.find("overlaps"), std::string::npos) << check.problem;
}

TEST_F(RegistryTest, ConcurrentTransfersNeverSpendAUnitTwice) {
  issue(10, 0);
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto t = registry_.transfer(
          sz_admin_, {"race-" + std::to_string(i), {"GD-OP-440300", Units(4), {}}, acme_, ""});
      if (t.ok()) ++succeeded;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), 2);
  EXPECT_EQ(held(acme_), Units(8));
  EXPECT_EQ(held("GD-OP-440300"), Units(2));
  expectConsistent();
}

// Random transfers, retirements and cancellations among four accounts over three batches keep
// blocks disjoint, totals exact and every account's balance equal to a simple model's.
TEST_F(RegistryTest, RandomMovementsKeepBlocksDisjointAndTotalsExact) {
  unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  issue(300, 30);
  issue(77, 0);
  issue(1000, 100, "440300", "sink.tree_planting", 2025);
  auto ind = open(sz_admin_, AccountKind::kIndividual, "李四", "440300", {acme_user_});
  std::vector<std::string> accounts = {"GD-OP-440300", acme_, fund_, ind};
  std::map<std::string, std::int64_t> held_model = {
      {"GD-OP-440300", 270 + 77 + 900}, {acme_, 0}, {fund_, 0}, {ind, 0}};
  std::int64_t retired_model = 0, cancelled_model = 0;
  Principal actor_all = province_;
  actor_all.grants.push_back({Role::kRegionAdmin, "440300"});
  // The test acts for every account: give the actor membership of each.
  t_.db()
      .transaction([&](soci::session& sql) -> Status {
        for (const auto& no : {acme_, fund_, ind}) {
          long long user = province_.user_id;
          sql << "INSERT INTO registry_account_members (account_id, user_id, added_at_ms) "
                 "SELECT id, :u, 0 FROM registry_accounts WHERE account_no = :n",
              soci::use(user), soci::use(no);
        }
        return {};
      })
      .value();
  for (int step = 0; step < 120; ++step) {
    const auto& from = accounts[rng() % accounts.size()];
    std::int64_t units = 1 + static_cast<std::int64_t>(rng() % 60);
    std::string key = "k" + std::to_string(step);
    int what = static_cast<int>(rng() % 6);
    bool enough = held_model[from] >= units;
    if (what <= 3) {
      auto to = accounts[rng() % accounts.size()];
      if (to == from) continue;
      auto t = registry_.transfer(actor_all, {key, {from, Units(units), {}}, to, ""});
      ASSERT_EQ(t.ok(), enough) << "step " << step << (t.ok() ? "" : ": " + t.error().message);
      if (enough) {
        held_model[from] -= units;
        held_model[to] += units;
      }
    } else if (what == 4) {
      auto r = registry_.retire(actor_all, {key, {from, Units(units), {}}, "voluntary", "x", ""});
      ASSERT_EQ(r.ok(), enough) << "step " << step;
      if (enough) {
        held_model[from] -= units;
        retired_model += units;
      }
    } else {
      auto c = registry_.cancel(actor_all, {key, {from, Units(units), {}}, "test"});
      ASSERT_EQ(c.ok(), enough) << "step " << step;
      if (enough) {
        held_model[from] -= units;
        cancelled_model += units;
      }
    }
    auto check = registry_.check();
    ASSERT_TRUE(check.ok) << "step " << step << ": " << check.problem;
  }
  for (const auto& [no, units] : held_model) EXPECT_EQ(held(no), Units(units)) << no;
  auto totals = registry_.totals();
  EXPECT_EQ(totals.all.issued, Units(1377));
  EXPECT_EQ(totals.all.held, Units(1377 - retired_model - cancelled_model));
  EXPECT_EQ(totals.all.retired, Units(retired_model));
  EXPECT_EQ(totals.all.cancelled, Units(cancelled_model));
  expectConsistent();
}

}  // namespace
}  // namespace tph::registry
