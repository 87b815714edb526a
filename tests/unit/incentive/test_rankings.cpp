// Leaderboards: week, month and all time for the province, a region and a community; nicknames
// only, nobody listed without choosing to be, and opting out removes a resident at once.

#include "incentive/ranking_service.h"
#include "incentive_fixture.h"

namespace tph::incentive {
namespace {

class RankingTest : public IncentiveTest {
 protected:
  RankingTest() : rankings_(t_.db(), clock_) {
    // 2026-03-10 (a Tuesday) 10:00 Shanghai.
    auto r = t_.db().transaction([&](soci::session& sql) -> Status {
      long long now = toEpochMs(clock_.now());
      sql << "INSERT INTO providers (provider_key, name, kind, pseudonym_key, created_by, "
             "created_at_ms) VALUES ('metro', 'Metro', 'transit', 'k', 'test', :t)",
          soci::use(now);
      sql << "SELECT id FROM providers WHERE provider_key = 'metro'", soci::into(provider_);
      sql << "INSERT INTO ingest_batches (provider_id, source, received_at_ms, records, credited, "
             "duplicate, held, quarantined, digest) VALUES (:p, 'test', :t, 0, 0, 0, 0, 0, 'd')",
          soci::use(provider_), soci::use(now);
      sql << "SELECT MAX(id) FROM ingest_batches", soci::into(batch_);
      return {};
    });
    EXPECT_TRUE(r.ok());
  }

  //! A reduction of `grams` credited to the resident's person account at `when` (with `id` when
  //! given, as a transaction that took its id earlier and commits late would leave it).
  void reduce(const Principal& who, std::int64_t grams, const std::string& when,
              std::optional<long long> id = std::nullopt) {
    auto acct = accounts_.personAccount(who);
    ASSERT_TRUE(acct.ok());
    auto r = t_.db().transaction([&](soci::session& sql) -> Status {
      long long at = toEpochMs(*parseIso8601(when)), account = acct->id, g = grams, record = 0;
      std::string key = "r" + std::to_string(++records_);
      sql << "INSERT INTO ingest_records (provider_id, provider_record_id, batch_id, subject_ref, "
             "methodology_id, occurred_at_ms, region_code, inputs_json, status, account_id, "
             "received_at_ms) VALUES (:p, :k, :b, 's', 'transit.metro', :t, :r, '{}', "
             "'credited', :a, :t2) RETURNING id",
          soci::use(provider_), soci::use(key), soci::use(batch_), soci::use(at),
          soci::use(acct->region_code), soci::use(account), soci::use(at), soci::into(record);
      std::string day = shanghaiDay(fromEpochMs(at));
      long long rid = id.value_or(0);
      soci::indicator ind = id ? soci::i_ok : soci::i_null;
      if (id)
        sql << "INSERT INTO reductions (id, record_id, account_id, provider_id, methodology_id, "
               "methodology_version, domain, occurred_at_ms, day, region_code, grams, points, "
               "cap_applied, explanation) VALUES (:id, :rec, :a, :p, 'transit.metro', 1, "
               "'transport', :t, :d, :r, :g, 0, '', '')",
            soci::use(rid, ind), soci::use(record), soci::use(account), soci::use(provider_),
            soci::use(at), soci::use(day), soci::use(acct->region_code), soci::use(g);
      else
        sql << "INSERT INTO reductions (record_id, account_id, provider_id, methodology_id, "
               "methodology_version, domain, occurred_at_ms, day, region_code, grams, points, "
               "cap_applied, explanation) VALUES (:rec, :a, :p, 'transit.metro', 1, 'transport', "
               ":t, :d, :r, :g, 0, '', '')",
            soci::use(record), soci::use(account), soci::use(provider_), soci::use(at),
            soci::use(day), soci::use(acct->region_code), soci::use(g);
      return {};
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  std::vector<std::string> names(const Leaderboard& b) {
    std::vector<std::string> out;
    for (const auto& e : b.entries) out.push_back(e.nickname + ":" + std::to_string(e.rank));
    return out;
  }

  RankingService rankings_;
  long long provider_ = 0, batch_ = 0;
  int records_ = 0;
};

TEST_F(RankingTest, PeriodsStartOnShanghaiBoundaries) {
  auto week = rankingPeriod("week", *parseIso8601("2026-03-10T02:00:00Z"));
  EXPECT_EQ(formatIso8601(week->first), formatIso8601(*parseIso8601("2026-03-09T00:00:00+08:00")));
  EXPECT_EQ(formatIso8601(week->second), formatIso8601(*parseIso8601("2026-03-16T00:00:00+08:00")));
  // Sunday 23:30 in Shanghai is still the week that began on Monday the 9th.
  auto sunday = rankingPeriod("week", *parseIso8601("2026-03-15T23:30:00+08:00"));
  EXPECT_EQ(sunday->first, week->first);
  auto month = rankingPeriod("month", *parseIso8601("2026-02-28T16:30:00Z"));  // 1 March, 00:30
  EXPECT_EQ(month->first, *parseIso8601("2026-03-01T00:00:00+08:00"));
  EXPECT_EQ(rankingPeriod("year", clock_.now()).error().field, "period");
}

TEST_F(RankingTest, NicknamesOptInOptOutRegionsCommunitiesAndTies) {
  auto alice = resident("alice", 0, "440305");
  auto bob = resident("bob", 0, "440305");
  auto carol = resident("carol", 0, "440100");
  auto dave = resident("dave", 0, "440305");  // never chooses a nickname
  reduce(alice, 5000, "2026-03-10T08:00:00+08:00");
  reduce(alice, 1000, "2026-02-20T08:00:00+08:00");
  reduce(bob, 3000, "2026-03-02T08:00:00+08:00");  // last week, this month
  reduce(bob, 3000, "2026-03-09T08:00:00+08:00");
  reduce(dave, 99000, "2026-03-10T09:00:00+08:00");

  // Privacy by default: nobody is listed yet.
  auto empty = rankings_.leaderboard({}, {"week", "", std::nullopt, 50});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());

  auto nanshan = rankings_.createCommunity(sz_admin_, "440305", "粤海街道科技园社区");
  ASSERT_TRUE(nanshan.ok()) << nanshan.error().message;
  EXPECT_EQ(rankings_.createCommunity(gz_admin_, "440305", "x").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(rankings_.createCommunity(sz_admin_, "440305", "粤海街道科技园社区").error().field,
            "name");

  EXPECT_EQ(rankings_.setProfile(alice, "A", true, std::nullopt).error().field, "nickname");
  ASSERT_TRUE(rankings_.setProfile(alice, "绿色出行者", true, nanshan->id).ok());
  EXPECT_EQ(rankings_.setProfile(bob, "绿色出行者", true, std::nullopt).error().field, "nickname");
  EXPECT_EQ(rankings_.setProfile(bob, "bike-bob", true, 999).error().field, "community_id");
  ASSERT_TRUE(rankings_.setProfile(bob, "bike-bob", true, nanshan->id).ok());
  ASSERT_TRUE(rankings_.setProfile(carol, "carol_gz", true, std::nullopt).ok());

  // The province, all time: Alice and Bob tie at 6,000 g.
  auto all = rankings_.leaderboard(bob, {"all", "440000", std::nullopt, 50});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(names(*all), (std::vector<std::string>{"bike-bob:1", "绿色出行者:1"}));
  ASSERT_TRUE(all->yours.has_value());
  EXPECT_EQ(all->yours->grams, Grams(6000));
  EXPECT_EQ(all->yours->rank, 1);
  EXPECT_EQ(all->as_of, clock_.now());
  // Boards are served from the rollup, refreshed by a read once it is 60 s old: Carol's reduction
  // credited now shows a minute later.
  reduce(carol, 6000, "2026-03-10T09:30:00+08:00");
  EXPECT_EQ(rankings_.leaderboard({}, {"all", "", std::nullopt, 50})->entries.size(), 2u);
  clock_.advance(std::chrono::seconds(61));
  EXPECT_EQ(rankings_.leaderboard({}, {"all", "", std::nullopt, 50})->entries.size(), 3u);
  clock_.advance(std::chrono::hours(24));
  all = rankings_.leaderboard({}, {"all", "", std::nullopt, 2});
  // Three tie at 6,000 g; the limit keeps the first two by nickname.
  EXPECT_EQ(names(*all), (std::vector<std::string>{"bike-bob:1", "carol_gz:1"}));
  EXPECT_EQ(all->scope, "province");

  // Alice's own line below the limit.
  all = rankings_.leaderboard(alice, {"all", "", std::nullopt, 1});
  EXPECT_EQ(all->entries.size(), 1u);
  EXPECT_EQ(all->yours->rank, 1);
  EXPECT_EQ(all->yours->nickname, "绿色出行者");

  // This week (from Monday the 9th): Carol 6,000, Alice 5,000, Bob 3,000.
  auto week = rankings_.leaderboard({}, {"week", "", std::nullopt, 50});
  EXPECT_EQ(names(*week), (std::vector<std::string>{"carol_gz:1", "绿色出行者:2", "bike-bob:3"}));
  // This month, Shenzhen only: Bob 6,000, Alice 5,000.
  auto month = rankings_.leaderboard({}, {"month", "440300", std::nullopt, 50});
  EXPECT_EQ(month->scope, "region:440300");
  EXPECT_EQ(names(*month), (std::vector<std::string>{"bike-bob:1", "绿色出行者:2"}));
  auto community = rankings_.leaderboard({}, {"week", "", nanshan->id, 50});
  EXPECT_EQ(names(*community), (std::vector<std::string>{"绿色出行者:1", "bike-bob:2"}));
  EXPECT_EQ(rankings_.communities("440300")->at(0).members, 2);

  // Opting out removes Alice from every board at once.
  ASSERT_TRUE(rankings_.optOut(alice).ok());
  week = rankings_.leaderboard({}, {"week", "", std::nullopt, 50});
  EXPECT_EQ(names(*week), (std::vector<std::string>{"carol_gz:1", "bike-bob:2"}));
  EXPECT_EQ(rankings_.optOut(dave).error().code, ErrorCode::kNotFound);

  EXPECT_EQ(rankings_.leaderboard({}, {"week", "44x", std::nullopt, 50}).error().field, "region");
  EXPECT_EQ(rankings_.leaderboard({}, {"week", "", std::nullopt, 0}).error().field, "limit");
}

//! What the leaderboards would show computed from the raw reductions: grams of a user, all time.
long long rawGrams(testing::TestDatabase& t, std::int64_t user_id) {
  long long grams = 0, uid = user_id;
  t.db().read([&](soci::session& sql) {
    sql << "SELECT COALESCE(SUM(r.grams), 0) FROM reductions r JOIN account_members m ON "
           "m.account_id = r.account_id AND m.role = 'owner' WHERE m.user_id = :u",
        soci::use(uid), soci::into(grams);
    return 0;
  });
  return grams;
}

TEST_F(RankingTest, RollupFollowsRecomputedReductionsAndIdsCommittedLate) {
  auto alice = resident("alice", 0, "440305");
  ASSERT_TRUE(rankings_.setProfile(alice, "alice-gd", true, std::nullopt).ok());
  EXPECT_EQ(rankings_.refresh(sz_admin_, 10).error().code, ErrorCode::kForbidden);
  auto board = [&] {
    auto r = rankings_.refresh(province_, 10);
    EXPECT_TRUE(r.ok()) << r.error().message;
    auto b = rankings_.leaderboard(alice, {"week", "", std::nullopt, 50});
    EXPECT_TRUE(b.ok());
    return b->entries.empty() ? std::int64_t{0} : b->entries.front().grams.value();
  };
  reduce(alice, 1000, "2026-03-10T08:00:00+08:00");
  EXPECT_EQ(board(), 1000);

  // A late record redoes the day: the stored reduction is recomputed in place in the same
  // transaction as the new one is stored.
  long long first = 0;
  t_.db().read([&](soci::session& sql) {
    sql << "SELECT MAX(id) FROM reductions", soci::into(first);
    return 0;
  });
  ASSERT_TRUE(t_.db()
                  .transaction([&](soci::session& sql) -> Status {
                    sql << "UPDATE reductions SET grams = 400 WHERE id = :id", soci::use(first);
                    return {};
                  })
                  .ok());
  reduce(alice, 300, "2026-03-10T07:00:00+08:00");
  EXPECT_EQ(board(), 700);

  // Ids taken by transactions that commit late: summed when they appear, awaited until then.
  long long last = first + 1;
  reduce(alice, 500, "2026-03-10T09:00:00+08:00", last + 10);
  EXPECT_EQ(board(), 1200);
  auto r = rankings_.refresh(province_, 10);
  EXPECT_EQ(r->watermark, last + 10);
  EXPECT_EQ(r->gaps, 1);
  reduce(alice, 100, "2026-03-10T09:10:00+08:00", last + 5);
  EXPECT_EQ(board(), 1300);
  EXPECT_EQ(rankings_.refresh(province_, 10)->gaps, 2);  // before and after the late id
  EXPECT_EQ(board(), 1300);                              // summed once
  clock_.advance(std::chrono::minutes(11));              // past the grace: never coming
  EXPECT_EQ(rankings_.refresh(province_, 10)->gaps, 0);
  EXPECT_EQ(board(), rawGrams(t_, alice.user_id));
  auto all = rankings_.leaderboard(alice, {"all", "", std::nullopt, 50});
  EXPECT_EQ(all->entries.front().reductions, 4);
}

}  // namespace
}  // namespace tph::incentive
