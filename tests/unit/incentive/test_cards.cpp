// Carbon credit cards: partners, card links, conversion at the published rate, the daily signed
// export and the bank's reconciliation, with the ledger balanced after all of it.

#include <nlohmann/json.hpp>
#include <thread>

#include "auth/auth_service.h"
#include "core/crypto.h"
#include "incentive/card_service.h"
#include "incentive_fixture.h"

namespace tph::incentive {
namespace {

using nlohmann::json;

class CardTest : public IncentiveTest {
 protected:
  CardTest() : cards_(t_.db(), clock_, accounts_) {}

  std::int64_t bank(std::int64_t rate_points = 10, std::int64_t rate_reward = 3) {
    auto p = cards_.registerPartner(province_,
                                    {"icbc-gd", "工商银行广东分行", rate_points, rate_reward});
    EXPECT_TRUE(p.ok()) << p.error().message;
    secret_ = p->export_secret;
    return p->partner.id;
  }
  Points partnerPoints(std::int64_t id) {
    auto list = cards_.partners();
    for (const auto& p : *list)
      if (p.id == id) return p.points;
    return Points(-1);
  }

  CardService cards_;
  std::string secret_;
};

TEST_F(CardTest, OnlyTheProvinceRegistersPartnersAndFieldsAreChecked) {
  EXPECT_EQ(cards_.registerPartner(sz_admin_, {"icbc-gd", "工行", 10, 3}).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(cards_.registerPartner(province_, {"ICBC GD", "工行", 10, 3}).error().field, "code");
  EXPECT_EQ(cards_.registerPartner(province_, {"icbc-gd", "", 10, 3}).error().field, "name");
  EXPECT_EQ(cards_.registerPartner(province_, {"icbc-gd", "工行", 0, 3}).error().field,
            "rate_points");
  bank();
  EXPECT_EQ(secret_.size(), 64u);
  EXPECT_EQ(cards_.registerPartner(province_, {"icbc-gd", "again", 10, 3}).error().field, "code");
}

TEST_F(CardTest, ConversionAtThePublishedRateExportAndReconciliation) {
  auto alice = resident("alice", 1000);
  auto bob = resident("bob", 50);
  auto partner = bank(10, 3);

  // Linking: the bank's token, once per resident.
  EXPECT_EQ(cards_.linkCard(alice, partner, "short").error().field, "card_token");
  auto link = cards_.linkCard(alice, partner, "tok_6222_alice_01");
  ASSERT_TRUE(link.ok()) << link.error().message;
  EXPECT_EQ(cards_.linkCard(alice, partner, "tok_6222_alice_01")->id, link->id);
  EXPECT_EQ(cards_.linkCard(bob, partner, "tok_6222_alice_01").error().field, "card_token");
  auto bob_link = cards_.linkCard(bob, partner, "tok_6222_bob_0001");
  ASSERT_TRUE(bob_link.ok());

  // Conversion: a multiple of the rate, covered by the balance, someone else's card refused.
  EXPECT_EQ(cards_.convert(alice, link->id, Points(15), "c0").error().field, "points");
  EXPECT_EQ(cards_.convert(bob, bob_link->id, Points(100), "b0").error().field, "points");
  EXPECT_EQ(cards_.convert(bob, link->id, Points(10), "b1").error().code, ErrorCode::kNotFound);
  auto c1 = cards_.convert(alice, link->id, Points(300), "c1");
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  EXPECT_EQ(c1->reward_points, 90);
  EXPECT_EQ(c1->status, "pending");
  EXPECT_EQ(cards_.convert(alice, link->id, Points(300), "c1")->id, c1->id);  // a retry
  EXPECT_EQ(cards_.convert(alice, link->id, Points(200), "c1").error().field, "idempotency_key");
  // A new rate applies to later conversions only.
  ASSERT_TRUE(cards_.setRate(province_, partner, 20, 7).ok());
  auto c2 = cards_.convert(alice, link->id, Points(200), "c2");
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->reward_points, 70);
  auto c3 = cards_.convert(bob, bob_link->id, Points(40), "b2");
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(pointsOf(alice), Points(500));
  EXPECT_EQ(pointsOf(bob), Points(10));
  EXPECT_EQ(partnerPoints(partner), Points(540));

  // The day's export: only once the Shanghai day has ended, then the same bytes every time.
  std::string day = shanghaiDay(clock_.now());
  EXPECT_EQ(cards_.exportDay(province_, partner, day).error().field, "day");
  EXPECT_EQ(cards_.exportDay(province_, partner, "2026-02-30").error().field, "day");
  clock_.advance(std::chrono::hours(24));
  auto late = cards_.convert(alice, link->id, Points(20), "c-next-day");  // in tomorrow's file
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(cards_.exportDay(sz_admin_, partner, day).error().code, ErrorCode::kForbidden);
  auto file = cards_.exportDay(province_, partner, day);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->conversions, 3);
  EXPECT_EQ(file->points, Points(540));
  EXPECT_EQ(file->reward_points, 90 + 70 + 14);
  EXPECT_EQ(file->signature, cardFileSignature(secret_, file->body));
  EXPECT_NE(file->body.find("tok_6222_bob_0001,40,14,20:7,"), std::string::npos);
  EXPECT_EQ(file->body.find("c-next-day"), std::string::npos);
  EXPECT_EQ(cards_.exportDay(province_, partner, day)->body, file->body);
  auto mine = cards_.conversions(alice);
  for (const auto& c : *mine) EXPECT_EQ(c.status, c.id == late->id ? "pending" : "exported");

  // The bank confirms two, rejects Bob's and names a conversion it never got from us.
  json confirmation = {
      {"day", day},
      {"lines",
       {{{"conversion_id", c1->id}, {"status", "credited"}, {"reference", "ICBC-1"}},
        {{"conversion_id", c2->id}, {"status", "credited"}, {"reference", "ICBC-2"}},
        {{"conversion_id", c3->id}, {"status", "rejected"}, {"reason", "card closed"}},
        {{"conversion_id", late->id}, {"status", "credited"}}}}};
  std::string body = confirmation.dump();
  EXPECT_EQ(cards_.reconcile(province_, partner, day, body, "00").error().field, "signature");
  EXPECT_EQ(cards_.reconcile(province_, partner, day, "[]", cardFileSignature(secret_, "[]"))
                .error()
                .field,
            "lines");
  auto report = cards_.reconcile(province_, partner, day, body, cardFileSignature(secret_, body));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->exported, 3);
  EXPECT_EQ(report->confirmed, 2);
  EXPECT_EQ(report->rejected, 1);
  EXPECT_EQ(report->unconfirmed, 0);
  EXPECT_EQ(report->points_confirmed, Points(500));
  EXPECT_EQ(report->points_refunded, Points(40));
  EXPECT_EQ(report->reward_points_confirmed, 160);
  ASSERT_EQ(report->discrepancies.size(), 1u);
  EXPECT_NE(report->discrepancies[0].find(std::to_string(late->id)), std::string::npos);
  EXPECT_EQ(pointsOf(bob), Points(50));            // rejected: the points came back
  EXPECT_EQ(partnerPoints(partner), Points(520));  // 500 kept + 20 of tomorrow's

  // The same file again changes nothing; the stored report reads the same.
  auto again = cards_.reconcile(province_, partner, day, body, cardFileSignature(secret_, body));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->confirmed, 2);
  EXPECT_EQ(pointsOf(bob), Points(50));
  auto stored = cards_.reconciliation(province_, partner, day);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->rejected, 1);
  EXPECT_TRUE(stored->reconciled_at.has_value());

  // Unlinked and suspended: no more conversions.
  ASSERT_TRUE(cards_.unlinkCard(bob, bob_link->id).ok());
  EXPECT_EQ(cards_.convert(bob, bob_link->id, Points(20), "b3").error().field, "link_id");
  ASSERT_TRUE(cards_.setPartnerStatus(province_, partner, "suspend").ok());
  EXPECT_EQ(cards_.convert(alice, link->id, Points(20), "c4").error().field, "partner_id");
  expectLedgerBalanced();
}

TEST_F(CardTest, ConcurrentFirstExportsOfADayAnswerOneFile) {
  auto alice = resident("alice", 1000);
  auto partner = bank(10, 3);
  auto link = cards_.linkCard(alice, partner, "tok_6222_alice_01");
  ASSERT_TRUE(link.ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(cards_.convert(alice, link->id, Points(10), "c" + std::to_string(i)).ok());
  std::string day = shanghaiDay(clock_.now());
  clock_.advance(std::chrono::hours(24));
  std::vector<Result<CardExport>> results(6, Error::conflict("not run", "day"));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] { results[i] = cards_.exportDay(province_, partner, day); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->body, results[0]->body);
    EXPECT_EQ(r->conversions, 5);
  }
}

//! A request signed as a bank's system signs it, at the clock's time.
SignedPartnerRequest signedBy(const std::string& secret, std::int64_t partner, const json& body,
                              Instant at, const std::string& nonce) {
  SignedPartnerRequest r;
  r.partner_id = partner;
  r.method = "POST";
  r.target = "/api/v1/card-partners/" + std::to_string(partner) + "/confirmations";
  r.timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  r.nonce = nonce;
  r.body = body.dump();
  r.signature =
      hmacSha256Hex(secret, auth::signingString(r.method, r.target, r.timestamp, r.nonce, r.body));
  return r;
}

TEST_F(CardTest, BankSystemConfirmsAndRejectsBySignedRequestIdempotently) {
  auto alice = resident("alice", 1000);
  auto partner = bank(10, 3);
  auto link = cards_.linkCard(alice, partner, "tok_6222_alice_01");
  ASSERT_TRUE(link.ok());
  auto kept = cards_.convert(alice, link->id, Points(100), "k1");
  auto refused = cards_.convert(alice, link->id, Points(200), "k2");
  ASSERT_TRUE(kept.ok() && refused.ok());
  std::string day = kept->day;
  EXPECT_EQ(pointsOf(alice), Points(700));

  json body = {{"confirmations",
                {{{"conversion_id", kept->id}, {"status", "credited"}, {"reference", "B-1"}},
                 {{"conversion_id", refused->id}, {"status", "rejected"}, {"reason", "closed"}}}}};
  // Not exported yet: the bank cannot know them; nothing changes.
  auto early =
      cards_.confirmSigned(signedBy(secret_, partner, body, clock_.now(), "nonce-early-0001"));
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_EQ(early->at(0).outcome, "not_exported");

  clock_.advance(std::chrono::hours(24));
  ASSERT_TRUE(cards_.exportDay(province_, partner, day).ok());

  // Stale, wrongly signed, signed by another secret or for another partner: refused.
  auto stale = signedBy(secret_, partner, body, clock_.now() - std::chrono::seconds(301),
                        "nonce-stale-0001");
  EXPECT_EQ(cards_.confirmSigned(stale).error().code, ErrorCode::kUnauthenticated);
  auto forged = signedBy(std::string(64, 'a'), partner, body, clock_.now(), "nonce-forged-001");
  EXPECT_EQ(cards_.confirmSigned(forged).error().code, ErrorCode::kUnauthenticated);
  auto tampered = signedBy(secret_, partner, body, clock_.now(), "nonce-tamper-001");
  tampered.body[tampered.body.size() - 2] = ' ';
  EXPECT_EQ(cards_.confirmSigned(tampered).error().code, ErrorCode::kUnauthenticated);
  auto other = signedBy(secret_, partner + 1, body, clock_.now(), "nonce-other-0001");
  EXPECT_EQ(cards_.confirmSigned(other).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(pointsOf(alice), Points(700));

  auto good = signedBy(secret_, partner, body, clock_.now(), "nonce-good-00001");
  auto applied = cards_.confirmSigned(good);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_EQ(applied->size(), 2u);
  EXPECT_EQ(applied->at(0).outcome, "applied");
  EXPECT_EQ(applied->at(0).status, "confirmed");
  EXPECT_EQ(applied->at(1).status, "rejected");
  EXPECT_EQ(pointsOf(alice), Points(900));  // the rejected 200 came back
  EXPECT_EQ(partnerPoints(partner), Points(100));
  // The same request again is a replay; the same decisions signed afresh change nothing.
  EXPECT_EQ(cards_.confirmSigned(good).error().code, ErrorCode::kUnauthenticated);
  auto again =
      cards_.confirmSigned(signedBy(secret_, partner, body, clock_.now(), "nonce-again-0001"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at(0).outcome, "unchanged");
  EXPECT_EQ(again->at(1).outcome, "unchanged");
  EXPECT_EQ(pointsOf(alice), Points(900));
  // Changing a decision, or naming a conversion of nobody's, is reported per line.
  json flip = {{"confirmations",
                {{{"conversion_id", refused->id}, {"status", "credited"}},
                 {{"conversion_id", 999999}, {"status", "credited"}}}}};
  auto flipped =
      cards_.confirmSigned(signedBy(secret_, partner, flip, clock_.now(), "nonce-flip-00001"));
  ASSERT_TRUE(flipped.ok());
  EXPECT_EQ(flipped->at(0).outcome, "conflict");
  EXPECT_EQ(flipped->at(1).outcome, "not_found");
  // A bad body is a 422 naming the line.
  json bad = {{"confirmations", {{{"conversion_id", kept->id}, {"status", "maybe"}}}}};
  EXPECT_EQ(cards_.confirmSigned(signedBy(secret_, partner, bad, clock_.now(), "nonce-bad-000001"))
                .error()
                .field,
            "confirmations[0].status");

  // The reconciliation file agrees with what the API decided, and refunds nothing twice.
  json file = {{"day", day},
               {"lines",
                {{{"conversion_id", kept->id}, {"status", "credited"}},
                 {{"conversion_id", refused->id}, {"status", "rejected"}}}}};
  auto report = cards_.reconcile(province_, partner, day, file.dump(),
                                 cardFileSignature(secret_, file.dump()));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->confirmed, 1);
  EXPECT_EQ(report->rejected, 1);
  EXPECT_TRUE(report->discrepancies.empty());
  EXPECT_EQ(pointsOf(alice), Points(900));
  expectLedgerBalanced();
}

}  // namespace
}  // namespace tph::incentive
