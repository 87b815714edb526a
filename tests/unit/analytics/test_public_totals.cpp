// The portal's province-wide totals beside the reductions: participants (accounts ever credited)
// and points redeemed (spent on vouchers, benefits and card conversions, net of refunds).

#include <gtest/gtest.h>

#include "../incentive/incentive_fixture.h"
#include "analytics/analytics_service.h"
#include "credited_reductions.h"
#include "incentive/benefit_service.h"
#include "incentive/card_service.h"
#include "methodology/methodology_service.h"

namespace tph::analytics {
namespace {

using incentive::IncentiveTest;

//! A partner that never answers: every webhook claim fails and gives its points back.
class SilentPartner : public incentive::PartnerWebhook {
 public:
  incentive::WebhookReply deliver(const incentive::WebhookRequest&) override {
    return {false, 0, "", "connection refused"};
  }
};

class PublicTotalsTest : public IncentiveTest {
 protected:
  PublicTotalsTest()
      : methodologies_(t_.db(), clock_),
        benefits_(t_.db(), clock_, accounts_, partner_, std::chrono::milliseconds(100)),
        cards_(t_.db(), clock_, accounts_),
        analytics_(t_.db()) {
    auto imported = methodologies_.importDirectory(TPH_SOURCE_DIR "/data", "test");
    EXPECT_TRUE(imported.ok() && imported->issues.empty());
  }

  StatsFilter window(const std::string& from, const std::string& to,
                     const std::string& region = "") {
    StatsFilter f;
    f.from_day = from;
    f.to_day = to;
    f.region = region;
    return f;
  }
  std::int64_t participants(const StatsFilter& f) {
    auto n = analytics_.participants(std::nullopt, f);
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n.ok() ? *n : -1;
  }
  std::int64_t redeemed(const StatsFilter& f) {
    auto n = analytics_.pointsRedeemed(std::nullopt, f);
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n.ok() ? *n : -1;
  }
  std::int64_t benefitPolicy(const std::string& fulfilment, std::int64_t price) {
    incentive::BenefitPolicyFields f;
    f.region_code = "440300";
    f.kind = "parking";
    f.name_zh = "停车优惠";
    f.name_en = "Parking";
    f.description = "一小时";
    f.points_price = Points(price);
    f.monthly_budget_units = 100;
    f.per_user_monthly_limit = 5;
    f.fulfilment = fulfilment;
    if (fulfilment == "webhook") f.webhook_url = "http://127.0.0.1:9/claims";
    auto p = benefits_.createPolicy(sz_admin_, f);
    EXPECT_TRUE(p.ok()) << p.error().message;
    return p.ok() ? p->policy.id : 0;
  }

  methodology::MethodologyService methodologies_;
  SilentPartner partner_;
  incentive::BenefitService benefits_;
  incentive::CardService cards_;
  AnalyticsService analytics_;
};

TEST_F(PublicTotalsTest, ParticipantsAreAccountsEverCreditedUpToTheLastDay) {
  testing::CreditedReductions seed(t_.db(), clock_, methodologies_);
  seed.trees("440305", "2026-03-02", 1, 1);  // Shenzhen (Nanshan)
  seed.trees("440305", "2026-03-05", 1, 1);
  seed.trees("440100", "2026-03-05", 1, 1);  // Guangzhou
  seed.trees("440100", "2026-03-08", 1, 1);

  // Ever, up to `to`: the start of the span does not matter.
  EXPECT_EQ(participants(window("2026-03-01", "2026-03-01")), 0);
  EXPECT_EQ(participants(window("2026-03-01", "2026-03-02")), 1);
  EXPECT_EQ(participants(window("2026-03-05", "2026-03-05")), 3);
  EXPECT_EQ(participants(window("2026-03-09", "2026-03-09")), 4);
  // Cities and counties by the accounts' home region; they add up to the province.
  EXPECT_EQ(participants(window("2026-03-01", "2026-03-09", "440300")), 2);
  EXPECT_EQ(participants(window("2026-03-01", "2026-03-09", "440100")), 2);
  EXPECT_EQ(participants(window("2026-03-01", "2026-03-05", "440100")), 1);
  auto admin = analytics_.participants(sz_admin_, window("2026-03-01", "2026-03-09", "440305"));
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_EQ(*admin, 2);

  // The public sees no county; the filter is checked as for the other figures.
  auto county = analytics_.participants(std::nullopt, window("2026-03-01", "2026-03-09", "440305"));
  ASSERT_FALSE(county.ok());
  EXPECT_EQ(county.error().code, ErrorCode::kForbidden);
  auto bad = analytics_.participants(std::nullopt, window("2026-03-09", "2026-03-01"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "to");
}

TEST_F(PublicTotalsTest, PointsRedeemedAreSpentPointsNetOfRefunds) {
  auto alice = resident("alice", 5000);        // Shenzhen (Nanshan)
  auto bob = resident("bob", 5000, "440100");  // Guangzhou
  auto merchant = approvedMerchant();
  auto coffee = offer(merchant, offerFields(10, 100, 3));
  // The clock stands at 2026-03-10 10:00 Shanghai time.
  const auto today = window("2026-03-10", "2026-03-10");
  const auto yesterday = window("2026-03-09", "2026-03-09");

  // Vouchers: two redeemed (200), one cancelled (-100).
  auto v1 = merchants_.redeemOffer(alice, coffee, "v1");
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  auto v2 = merchants_.redeemOffer(alice, coffee, "v2");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  ASSERT_TRUE(merchants_.cancelVoucher(alice, v2->id).ok());
  EXPECT_EQ(redeemed(today), 100);

  // Benefits: a code claim kept (2 x 30), a webhook claim the partner never confirmed (refunded).
  auto kept = benefitPolicy("code", 30);
  ASSERT_TRUE(benefits_.claim(alice, kept, 2, "b1").ok());
  auto held = benefitPolicy("webhook", 40);
  auto failed = benefits_.claim(alice, held, 1, "b2");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->status, "failed");
  EXPECT_EQ(redeemed(today), 160);

  // Card conversions: Bob's 300 in Guangzhou.
  auto partner = cards_.registerPartner(province_, {"icbc-gd", "工商银行广东分行", 10, 3});
  ASSERT_TRUE(partner.ok()) << partner.error().message;
  auto link = cards_.linkCard(bob, partner->partner.id, "tok_6222_bob_0001");
  ASSERT_TRUE(link.ok()) << link.error().message;
  ASSERT_TRUE(cards_.convert(bob, link->id, Points(300), "c1").ok());
  EXPECT_EQ(redeemed(today), 460);
  EXPECT_EQ(pointsOf(alice), Points(5000 - 160));
  EXPECT_EQ(pointsOf(bob), Points(5000 - 300));

  // By the spender's home region; nothing yesterday.
  EXPECT_EQ(redeemed(window("2026-03-10", "2026-03-10", "440300")), 160);
  EXPECT_EQ(redeemed(window("2026-03-10", "2026-03-10", "440100")), 300);
  EXPECT_EQ(redeemed(window("2026-03-10", "2026-03-10", "440200")), 0);
  EXPECT_EQ(redeemed(yesterday), 0);

  // A refund counts on the day it is given back: the redemption stays on its own day.
  clock_.advance(std::chrono::hours(24));
  ASSERT_TRUE(merchants_.cancelVoucher(alice, v1->id).ok());
  EXPECT_EQ(redeemed(today), 460);
  EXPECT_EQ(redeemed(window("2026-03-11", "2026-03-11")), -100);
  EXPECT_EQ(redeemed(window("2026-03-10", "2026-03-11")), 360);
  expectLedgerBalanced();
}

}  // namespace
}  // namespace tph::analytics
