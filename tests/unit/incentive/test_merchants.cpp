// The merchant alliance: applications and decisions, offers, redemption and its refusals, vouchers
// at the counter, expiry refunds, settlement, QR codes, and concurrent redemption of the last
// units.

#include <atomic>
#include <thread>

#include "audit/audit_log.h"
#include "incentive/qr_code.h"
#include "incentive_fixture.h"

namespace tph::incentive {
namespace {

TEST_F(IncentiveTest, OnlyTheMerchantsRegionAdminDecides) {
  auto m = merchants_.apply(shop_owner_, {"低碳咖啡", "91440300MA5ABCDE1X", "food", "440305",
                                          "南山区 1 号", "0755-1234"});
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->status, "pending");
  auto wrong = merchants_.decide(gz_admin_, m->id, true, "");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kForbidden);
  auto no_reason = merchants_.decide(sz_admin_, m->id, false, "");
  ASSERT_FALSE(no_reason.ok());
  EXPECT_EQ(no_reason.error().field, "reason");
  auto ok = merchants_.decide(sz_admin_, m->id, true, "");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->status, "approved");
  auto again = merchants_.decide(province_, m->id, false, "late");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  // The applicant now holds the merchant role in the merchant's region.
  auth::AuthService auth(t_.db(), clock_);
  auto u = auth.getUser(province_, shop_owner_.user_id);
  ASSERT_TRUE(u.ok());
  EXPECT_NE(
      std::find(u->grants.begin(), u->grants.end(), auth::RoleGrant{Role::kMerchant, "440305"}),
      u->grants.end());
  // The same licence cannot apply twice; a bad licence is refused by field.
  auto dup = merchants_.apply(shop_owner_, {"x", "91440300MA5ABCDE1X", "food", "440305", "a", "b"});
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto bad = merchants_.apply(shop_owner_, {"x", "123", "food", "440305", "a", "b"});
  EXPECT_EQ(bad.error().field, "licence_no");
  auto audit = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(audit.ok) << audit.problem;
}

TEST_F(IncentiveTest, ARejectedMerchantGetsNoRoleAndMayApplyAgain) {
  auto m =
      merchants_.apply(shop_owner_, {"咖啡", "91440300MA5ABCDE1X", "food", "440305", "a", "b"});
  auto rejected = merchants_.decide(sz_admin_, m->id, false, "licence photo unreadable");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->decision_reason, "licence photo unreadable");
  EXPECT_FALSE(merchants_.createOffer(shop_owner_, m->id, offerFields(5)).ok());
  EXPECT_TRUE(
      merchants_.apply(shop_owner_, {"咖啡", "91440300MA5ABCDE1X", "food", "440305", "a", "b"})
          .ok());
}

TEST_F(IncentiveTest, RedemptionMovesPointsAndIssuesAVoucher) {
  auto merchant = approvedMerchant();
  auto offer_id = offer(merchant, offerFields(10, 150));
  auto alice = resident("alice", 500);
  auto v = merchants_.redeemOffer(alice, offer_id, "k1");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->code.size(), 32u);
  EXPECT_EQ(v->status, "issued");
  EXPECT_EQ(v->expires_at, clock_.now() + std::chrono::days(7));
  EXPECT_EQ(pointsOf(alice), Points(350));
  EXPECT_EQ(merchants_.merchant(shop_owner_, merchant)->points, Points(150));
  // A retry answers the same voucher and charges nothing.
  auto retry = merchants_.redeemOffer(alice, offer_id, "k1");
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->id, v->id);
  EXPECT_EQ(pointsOf(alice), Points(350));
  EXPECT_EQ(merchants_.offer(offer_id)->issued, 1);
  // An edit never changes the voucher already issued.
  auto f = offerFields(10, 999);
  f.title_zh = "新标题";
  ASSERT_TRUE(merchants_.updateOffer(shop_owner_, offer_id, f).ok());
  auto kept = merchants_.voucher(alice, v->id);
  EXPECT_EQ(kept->title_zh, "免费咖啡");
  EXPECT_EQ(kept->points, Points(150));
  expectLedgerBalanced();
}

TEST_F(IncentiveTest, RedemptionIsRefusedWithItsReason) {
  auto merchant = approvedMerchant();
  auto poor = resident("poor", 50);
  auto offer_id = offer(merchant, offerFields(1, 100, 1));
  auto r = merchants_.redeemOffer(poor, offer_id, "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "points");
  EXPECT_EQ(merchants_.offer(offer_id)->issued, 0);  // the unit taken was given back
  EXPECT_EQ(pointsOf(poor), Points(50));

  auto alice = resident("alice", 1000);
  ASSERT_TRUE(merchants_.redeemOffer(alice, offer_id, "a1").ok());
  auto bob = resident("bob", 1000);
  auto sold_out = merchants_.redeemOffer(bob, offer_id, "b1");
  EXPECT_EQ(sold_out.error().field, "stock");

  auto two = offer(merchant, offerFields(10, 100, 2));
  ASSERT_TRUE(merchants_.redeemOffer(alice, two, "a2").ok());
  ASSERT_TRUE(merchants_.redeemOffer(alice, two, "a3").ok());
  auto over = merchants_.redeemOffer(alice, two, "a4");
  EXPECT_EQ(over.error().field, "per_user_limit");
  EXPECT_EQ(pointsOf(alice), Points(700));

  auto gz = resident("gz_resident", 1000, "440100");
  auto elsewhere = merchants_.redeemOffer(gz, two, "g1");
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kForbidden);
  EXPECT_EQ(elsewhere.error().field, "region");

  clock_.set(*parseIso8601("2026-04-02T00:00:00Z"));
  auto late = merchants_.redeemOffer(bob, two, "b2");
  EXPECT_EQ(late.error().field, "valid_until");

  clock_.set(*parseIso8601("2026-03-12T00:00:00Z"));
  ASSERT_TRUE(merchants_.changeOfferStatus(shop_owner_, two, "pause").ok());
  EXPECT_EQ(merchants_.redeemOffer(bob, two, "b3").error().field, "offer_id");
  ASSERT_TRUE(merchants_.changeOfferStatus(shop_owner_, two, "resume").ok());
  EXPECT_TRUE(merchants_.redeemOffer(bob, two, "b4").ok());
  ASSERT_TRUE(merchants_.changeOfferStatus(sz_admin_, two, "end").ok());
  EXPECT_EQ(merchants_.changeOfferStatus(shop_owner_, two, "resume").error().code,
            ErrorCode::kConflict);
  expectLedgerBalanced();
}

TEST_F(IncentiveTest, AVoucherIsAcceptedOnceAtItsOwnMerchant) {
  auto merchant = approvedMerchant();
  auto offer_id = offer(merchant, offerFields(10, 100, 5));
  auto alice = resident("alice", 1000);
  auto v = merchants_.redeemOffer(alice, offer_id, "k1");
  ASSERT_TRUE(v.ok());

  Principal other_owner = user("tea_owner", Role::kResident, "");
  auto tea =
      merchants_.apply(other_owner, {"绿茶", "91440300MA5ABCDE2Y", "food", "440305", "a", "b"});
  ASSERT_TRUE(merchants_.decide(sz_admin_, tea->id, true, "").ok());
  other_owner.grants.push_back({Role::kMerchant, "440305"});
  auto foreign = merchants_.useVoucher(other_owner, tea->id, v->code);
  EXPECT_EQ(foreign.error().code, ErrorCode::kForbidden);

  // Typed with dashes and capitals, as read off a screen.
  std::string typed = v->code.substr(0, 16) + "-" + v->code.substr(16);
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto used = merchants_.useVoucher(shop_owner_, merchant, typed);
  ASSERT_TRUE(used.ok()) << used.error().message;
  EXPECT_EQ(used->status, "used");
  auto twice = merchants_.useVoucher(shop_owner_, merchant, v->code);
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);
  EXPECT_NE(twice.error().message.find("already used"), std::string::npos);
  EXPECT_EQ(merchants_.useVoucher(shop_owner_, merchant, "00").error().field, "code");
  EXPECT_EQ(merchants_.useVoucher(shop_owner_, merchant, std::string(32, 'a')).error().code,
            ErrorCode::kNotFound);

  auto c = merchants_.redeemOffer(alice, offer_id, "k2");
  ASSERT_TRUE(merchants_.cancelVoucher(alice, c->id).ok());
  EXPECT_NE(merchants_.useVoucher(shop_owner_, merchant, c->code).error().message.find("cancelled"),
            std::string::npos);
  EXPECT_EQ(pointsOf(alice), Points(900));
}

TEST_F(IncentiveTest, AnUnusedExpiredVoucherReturnsItsPoints) {
  auto merchant = approvedMerchant();
  auto offer_id = offer(merchant, offerFields(10, 100, 5));
  auto alice = resident("alice", 1000);
  auto used = merchants_.redeemOffer(alice, offer_id, "k1");
  auto unused = merchants_.redeemOffer(alice, offer_id, "k2");
  ASSERT_TRUE(merchants_.useVoucher(shop_owner_, merchant, used->code).ok());
  EXPECT_EQ(pointsOf(alice), Points(800));
  clock_.advance(std::chrono::days(8));
  auto refused = merchants_.useVoucher(shop_owner_, merchant, unused->code);
  EXPECT_NE(refused.error().message.find("expired"), std::string::npos);
  auto report = merchants_.expireVouchers("test");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->expired, 1);
  EXPECT_EQ(report->points_returned, Points(100));
  EXPECT_EQ(pointsOf(alice), Points(900));
  EXPECT_EQ(merchants_.voucher(alice, unused->id)->status, "expired");
  EXPECT_EQ(merchants_.expireVouchers("test")->expired, 0);  // a second sweep finds nothing
  EXPECT_EQ(merchants_.merchant(shop_owner_, merchant)->points, Points(100));

  auto s = merchants_.settlement(shop_owner_, merchant, "2026-03");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->total.issued, 2);
  EXPECT_EQ(s->total.used, 1);
  EXPECT_EQ(s->total.expired, 1);
  EXPECT_EQ(s->total.points_received, Points(200));
  EXPECT_EQ(s->total.points_refunded, Points(100));
  auto xlsx = settlementXlsx(*s);
  ASSERT_TRUE(xlsx.ok());
  EXPECT_EQ(xlsx->substr(0, 2), "PK");  // a zip container
  EXPECT_EQ(merchants_.settlement(shop_owner_, merchant, "2026-13").error().field, "month");
  EXPECT_EQ(merchants_.settlement(gz_admin_, merchant, "2026-03").error().code,
            ErrorCode::kNotFound);
  expectLedgerBalanced();
}

TEST(QrCode, RendersSvgAndPng) {
  auto svg = qrSvg("tph-voucher:0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(svg.ok());
  EXPECT_NE(svg->find("<svg"), std::string::npos);
  auto png = qrPng("tph-voucher:0123456789abcdef0123456789abcdef", 4);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png->substr(12, 4), "IHDR");
  EXPECT_FALSE(qrPng("", 4).ok());
  EXPECT_FALSE(qrPng("x", 0).ok());
}

// Many residents at once, at the last units: stock never oversold, and one resident firing many
// requests never gets more than the per-user limit.
TEST_F(IncentiveTest, ConcurrentRedemptionNeverOversellsNorExceedsTheLimit) {
  constexpr int kResidents = 12, kStock = 5;
  auto merchant = approvedMerchant();
  auto scarce = offer(merchant, offerFields(kStock, 10, 1));
  auto limited = offer(merchant, offerFields(100, 10, 2));
  std::vector<Principal> people;
  for (int i = 0; i < kResidents; ++i)
    people.push_back(resident("resident" + std::to_string(i), 100));
  std::atomic<int> won{0}, sold_out{0}, greedy_won{0}, greedy_refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kResidents; ++i) {
    threads.emplace_back([&, i] {
      auto r = merchants_.redeemOffer(people[i], scarce, "s");
      if (r.ok())
        ++won;
      else if (r.error().field == "stock")
        ++sold_out;
    });
  }
  // One resident fires many requests with different keys at a limit of 2.
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = merchants_.redeemOffer(people[0], limited, "g" + std::to_string(i));
      if (r.ok())
        ++greedy_won;
      else if (r.error().field == "per_user_limit")
        ++greedy_refused;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), kStock);
  EXPECT_EQ(sold_out.load(), kResidents - kStock);
  EXPECT_EQ(greedy_won.load(), 2);
  EXPECT_EQ(greedy_refused.load(), 6);
  EXPECT_EQ(merchants_.offer(scarce)->issued, kStock);
  EXPECT_EQ(merchants_.offer(limited)->issued, 2);
  EXPECT_EQ(merchants_.merchant(shop_owner_, merchant)->points, Points(10 * (kStock + 2)));
  expectLedgerBalanced();
}

}  // namespace
}  // namespace tph::incentive
