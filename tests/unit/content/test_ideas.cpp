// Public ideas: posting with a private contact, moderation before anything shows, one support per
// user (also when racing), adoption linked to a methodology proposal or a policy, with right and
// wrong roles, on SQLite and PostgreSQL.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "audit/audit_log.h"
#include "content/idea_service.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::content {
namespace {

using auth::Principal;
using auth::Role;

class IdeaTest : public ::testing::Test {
 protected:
  IdeaTest()
      : clock_(testing::testEpoch()),
        methodologies_(t_.db(), clock_),
        ideas_(t_.db(), clock_, methodologies_) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t_.db(), clock_).load(*regions, "test").ok());
  }

  NewIdea idea(const std::string& title, const std::string& address = "198.51.100.7") {
    return {title, "建议在地铁站设置共享雨伞，减少一次性雨衣。", "陈女士", "13800138000", address};
  }

  IdeaTopic openTopic() {
    auto t = ideas_.openTopic(admin_, "绿色出行金点子", "如何让更多人乘坐公共交通？", std::nullopt);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return *t;
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  methodology::MethodologyService methodologies_;
  IdeaService ideas_;
  Principal admin_{1, "pa", "pa", {{Role::kProvinceAdmin, "440000"}}, {}};
  Principal province_editor_{2, "ed", "ed", {{Role::kEditor, "440000"}}, {}};
  Principal city_editor_{3, "sz", "sz", {{Role::kEditor, "440300"}}, {}};
  Principal region_admin_{4, "ra", "ra", {{Role::kRegionAdmin, "440300"}}, {}};
  Principal alice_{5, "alice", "alice", {{Role::kResident, ""}}, {}};
  Principal bob_{6, "bob", "bob", {{Role::kResident, ""}}, {}};
};

TEST_F(IdeaTest, OnlyTheProvinceOpensAndClosesTopics) {
  EXPECT_EQ(ideas_.openTopic(region_admin_, "题", "说明", std::nullopt).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ideas_.openTopic(province_editor_, "题", "说明", std::nullopt).error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ideas_.openTopic(admin_, " ", "说明", std::nullopt).error().field, "title_zh");
  EXPECT_EQ(ideas_.openTopic(admin_, "题", "说明", clock_.now()).error().field, "closes_at");
  auto topic = openTopic();
  EXPECT_EQ(topic.state, "open");
  EXPECT_EQ(ideas_.closeTopic(alice_, topic.id).error().code, ErrorCode::kForbidden);
  ASSERT_TRUE(ideas_.closeTopic(admin_, topic.id).ok());
  auto late = ideas_.post(nullptr, topic.id, idea("晚到的想法"));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
}

TEST_F(IdeaTest, IdeasShowOnlyAfterModerationAndNeverWithTheirContact) {
  auto topic = openTopic();
  auto bad = idea("标题");
  bad.contact = "";
  EXPECT_EQ(ideas_.post(nullptr, topic.id, bad).error().field, "contact");
  bad = idea(std::string(kMaxIdeaTitleBytes + 1, 'x'));
  EXPECT_EQ(ideas_.post(nullptr, topic.id, bad).error().field, "title");
  EXPECT_EQ(ideas_.post(nullptr, 999, idea("无此话题")).error().code, ErrorCode::kNotFound);

  auto posted = ideas_.post(nullptr, topic.id, idea("共享雨伞"));
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->state, "pending");
  EXPECT_EQ(posted->contact, "");  // not even echoed back
  auto spam = ideas_.post(&alice_, topic.id, idea("广告"));
  ASSERT_TRUE(spam.ok());
  EXPECT_EQ(ideas_.shown(topic.id)->size(), 0u);

  // Moderation: province admins and province-wide editors, not city editors or residents.
  EXPECT_EQ(ideas_.pending(city_editor_).error().code, ErrorCode::kForbidden);
  EXPECT_EQ(ideas_.pending(alice_).error().code, ErrorCode::kForbidden);
  auto queue = ideas_.pending(province_editor_);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].contact, "13800138000");  // moderators may reach the author
  EXPECT_EQ(ideas_.moderate(city_editor_, posted->id, true, "").error().code,
            ErrorCode::kForbidden);
  EXPECT_EQ(ideas_.moderate(province_editor_, spam->id, false, "").error().field, "reason");
  ASSERT_TRUE(ideas_.moderate(province_editor_, posted->id, true, "").ok());
  ASSERT_TRUE(ideas_.moderate(admin_, spam->id, false, "广告内容").ok());
  EXPECT_EQ(ideas_.moderate(admin_, spam->id, true, "").error().code, ErrorCode::kConflict);

  auto shown = ideas_.shown(topic.id);
  ASSERT_TRUE(shown.ok());
  ASSERT_EQ(shown->size(), 1u);
  EXPECT_EQ((*shown)[0].title, "共享雨伞");
  EXPECT_EQ((*shown)[0].contact, "");

  // The audit chain holds the contact's hash, never the contact; the row holds it sealed, and the
  // poster's address only as a keyed fingerprint.
  t_.db().read([&](soci::session& sql) {
    int n = 0;
    sql << "SELECT COUNT(*) FROM content_ideas WHERE contact LIKE '%13800138000%' OR contact NOT "
           "LIKE 'sealed:1:%'",
        soci::into(n);
    EXPECT_EQ(n, 0);
    std::string address;
    long long posted_id = posted->id;
    sql << "SELECT client_address FROM content_ideas WHERE id = :id", soci::use(posted_id),
        soci::into(address);
    EXPECT_EQ(address.size(), 64u);
    sql << "SELECT COUNT(*) FROM audit_events WHERE payload LIKE '%13800138000%'", soci::into(n);
    EXPECT_EQ(n, 0);
    sql << "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'content.idea%'", soci::into(n);
    EXPECT_EQ(n, 5);  // the topic, two posts, one approval, one rejection
    EXPECT_TRUE(audit::verifyAuditChain(sql).ok);
    return 0;
  });
}

TEST_F(IdeaTest, PostsFromOneAddressAreLimitedPerHour) {
  auto topic = openTopic();
  for (int i = 0; i < kMaxIdeasPerAddressPerHour; ++i) {
    ASSERT_TRUE(ideas_.post(nullptr, topic.id, idea("想法" + std::to_string(i))).ok());
  }
  auto flood = ideas_.post(nullptr, topic.id, idea("再来一个"));
  ASSERT_FALSE(flood.ok());
  EXPECT_EQ(flood.error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(ideas_.post(nullptr, topic.id, idea("别处来的", "203.0.113.9")).ok());
  clock_.advance(std::chrono::minutes(61));
  EXPECT_TRUE(ideas_.post(nullptr, topic.id, idea("一小时后")).ok());
}

TEST_F(IdeaTest, EachUserSupportsOnceEvenWhenRacing) {
  auto topic = openTopic();
  auto posted = ideas_.post(nullptr, topic.id, idea("共享雨伞"));
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(ideas_.support(alice_, posted->id).error().code, ErrorCode::kNotFound);  // pending
  ASSERT_TRUE(ideas_.moderate(admin_, posted->id, true, "").ok());

  std::atomic<int> succeeded{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = ideas_.support(alice_, posted->id);
      if (r.ok()) {
        ++succeeded;
      } else if (r.error().code == ErrorCode::kConflict) {
        ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(succeeded.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  auto second = ideas_.support(bob_, posted->id);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->supports, 2);
}

TEST_F(IdeaTest, TheProvinceAdoptsAndLinksWhatTheIdeaLedTo) {
  auto topic = openTopic();
  auto posted = ideas_.post(nullptr, topic.id, idea("共享雨伞"));
  ASSERT_TRUE(posted.ok());
  methodology::Proposal p;
  p.title = "共享雨伞减碳方法学";
  p.domain = "consumption";
  p.description = "以共享雨伞替代一次性雨衣的减排量核算";
  p.contact = "proposer@example.org";
  auto proposal = methodologies_.propose(std::nullopt, p);
  ASSERT_TRUE(proposal.ok()) << proposal.error().message;
  std::vector<IdeaLink> links = {
      {"methodology_proposal", proposal->id, "", ""},
      {"policy", std::nullopt, "广东省碳普惠管理办法（修订）", "https://gdee.gd.gov.cn/policy/1"}};
  // Not before it shows; not by anyone but the province.
  EXPECT_EQ(ideas_.adopt(admin_, posted->id, "采纳", links).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(ideas_.moderate(admin_, posted->id, true, "").ok());
  EXPECT_EQ(ideas_.adopt(province_editor_, posted->id, "采纳", links).error().code,
            ErrorCode::kForbidden);
  auto wrong = links;
  wrong[0].proposal_id = 9999;
  EXPECT_EQ(ideas_.adopt(admin_, posted->id, "采纳", wrong).error().field, "links[0].proposal_id");
  wrong = links;
  wrong[1].url = "javascript:alert(1)";
  EXPECT_EQ(ideas_.adopt(admin_, posted->id, "采纳", wrong).error().field, "links[1].url");
  wrong = links;
  wrong[1].kind = "law";
  EXPECT_EQ(ideas_.adopt(admin_, posted->id, "采纳", wrong).error().field, "links[1].kind");
  auto adopted = ideas_.adopt(admin_, posted->id, "已纳入方法学提案", links);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message;
  EXPECT_EQ(adopted->state, "adopted");
  ASSERT_EQ(adopted->links.size(), 2u);
  EXPECT_EQ(adopted->links[0].proposal_id, proposal->id);
  EXPECT_EQ(adopted->links[1].title, "广东省碳普惠管理办法（修订）");
  EXPECT_EQ(ideas_.shown(topic.id)->at(0).state, "adopted");  // adopted ideas stay shown
  EXPECT_EQ(ideas_.adopt(admin_, posted->id, "again", links).error().code, ErrorCode::kConflict);
}

}  // namespace
}  // namespace tph::content
