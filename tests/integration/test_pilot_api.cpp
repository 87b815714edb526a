// Pilot regions and the province–city link over HTTP. The link test runs two servers on
// loopback — a province and a city node (serve --node city), each with its own database; the city
// holds a generated week and its own sync thread sends it; the province server is stopped in the
// middle of the sync and started again on the same port; afterwards the province's aggregates
// equal the city's exactly and reconciliation names no day. A second test runs submissions, a
// spot check and the province's feed between two servers.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "api/api_server.h"
#include "api/http_client.h"
#include "api/link_http_transport.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
#include "link/link_city.h"
#include "link/link_hub.h"
#include "link/link_outbox.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

//! A node: a database with the region tree and an API server over it. With `start_now` false
//! the database is ready (regions, methodologies) and the server waits for start().
struct Node {
  explicit Node(const Clock& clock, std::optional<link::LinkKeyPair> key, bool start_now = true)
      : clock_(clock) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t.db(), clock).load(*regions, "test").ok());
    EXPECT_TRUE(methodology::MethodologyService(t.db(), clock)
                    .importDirectory(TPH_SOURCE_DIR "/data", "test")
                    .ok());
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    options.link_key = std::move(key);
    if (start_now) start();
  }
  ~Node() { stop(); }
  void start() {
    server = std::make_unique<ApiServer>(t.db(), clock_, options);
    port = server->start();
    options.http.port = port;  // a restart comes back where the clients expect it
    client = std::make_unique<HttpClient>("127.0.0.1", port);
  }
  void stop() {
    client.reset();
    if (server) server->stop();
    server.reset();
  }
  std::string login(const std::string& name, auth::Role role, const std::string& region) {
    auto u =
        server->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}}, false);
    EXPECT_TRUE(u.ok());
    ids[name] = u->id;
    auto r = client->send("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                          json{{"username", name}, {"password", kPassword}}.dump());
    return tokens[name] = json::parse(r.body).value("token", "");
  }
  json call(const std::string& method, const std::string& target, const json& body,
            const std::string& who, int expected_status) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens[who]);
    auto r = client->send(method, target, headers, body.is_null() ? "" : body.dump());
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  testing::TestDatabase t;
  const Clock& clock_;
  ApiServerOptions options;
  std::unique_ptr<ApiServer> server;
  std::unique_ptr<HttpClient> client;
  std::uint16_t port = 0;
  std::map<std::string, std::string> tokens;
  std::map<std::string, std::int64_t> ids;
};

TEST(PilotApi, FromApplicationToPilotWithTheErrorsOnTheWay) {
  ManualClock clock(*parseIso8601("2026-06-01T02:00:00Z"));
  Node node(clock, std::nullopt);
  node.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  node.login("boluo", auth::Role::kRegionAdmin, "441322");
  node.login("huidong", auth::Role::kRegionAdmin, "441323");
  node.login("expert", auth::Role::kVerifier, "");
  json rubric = json::array(
      {{{"key", "goals"}, {"name", "目标"}, {"max_score", 10}, {"weight_percent", 60}},
       {{"key", "tasks"}, {"name", "任务"}, {"max_score", 10}, {"weight_percent", 40}}});
  node.call("POST", "/api/v1/pilot/rounds",
            {{"name", "2026"}, {"deadline", "2026-07-31T23:59:59+08:00"}, {"rubric", rubric}},
            "boluo", 403);
  auto bad =
      node.call("POST", "/api/v1/pilot/rounds",
                {{"name", "2026"}, {"deadline", "soon"}, {"rubric", rubric}}, "gd_admin", 422);
  EXPECT_EQ(bad["error"]["field"], "deadline");
  auto round =
      node.call("POST", "/api/v1/pilot/rounds",
                {{"name", "2026"}, {"deadline", "2026-07-31T23:59:59+08:00"}, {"rubric", rubric}},
                "gd_admin", 201);
  json plan = {{"approach", "绿色出行"},
               {"goals",
                {{{"year", 2026},
                  {"participants", 1000},
                  {"tonnes", 50},
                  {"merchants", 5},
                  {"methodologies", 1}}}},
               {"tasks", {"low_carbon_travel"}},
               {"safeguards", "专人负责"},
               {"schedule", {{{"date", "2026-10-01"}, {"title", "上线"}}}}};
  std::string apps =
      "/api/v1/pilot/rounds/" + std::to_string(round["id"].get<int>()) + "/applications";
  auto refused = node.call("POST", apps, {{"region", "441322"}, {"plan", plan}}, "huidong", 403);
  EXPECT_EQ(refused["error"]["code"], "forbidden");
  auto invalid_plan = plan;
  invalid_plan["tasks"] = {"mining"};
  EXPECT_EQ(node.call("POST", apps, {{"region", "441322"}, {"plan", invalid_plan}}, "boluo",
                      422)["error"]["field"],
            "plan.tasks[0]");
  auto app = node.call("POST", apps, {{"region", "441322"}, {"plan", plan}}, "boluo", 201);
  std::string base = "/api/v1/pilot/applications/" + std::to_string(app["id"].get<int>());
  node.call("GET", base, nullptr, "huidong", 404);
  node.call("POST", base + "/submit", nullptr, "boluo", 200);
  node.call("POST", base + "/reviewers", {{"reviewers", {node.ids["expert"]}}}, "gd_admin", 200);
  auto scored = node.call("POST", base + "/scores", {{"scores", {{"goals", 9}, {"tasks", 5}}}},
                          "expert", 200);
  EXPECT_EQ(scored["mean_total_milli"], 74'000);  // 9/10×60 + 5/10×40
  node.call("POST", base + "/decision", {{"approve", true}, {"pilot_from", "2026-07-01"}},
            "gd_admin", 200);
  auto pilots = node.call("GET", "/api/v1/pilots", nullptr, "", 200);
  ASSERT_EQ(pilots["pilots"].size(), 1u);
  EXPECT_EQ(pilots["pilots"][0]["region"], "441322");

  // The pilot applies for special funds; the province grants and pays part of it.
  json project = {{"region", "441322"},
                  {"title", "博罗低碳景区"},
                  {"summary", "景区电动接驳车"},
                  {"task", "low_carbon_travel"},
                  {"year", 2026},
                  {"requested_fen", 80'000'000}};
  node.call("POST", "/api/v1/funds/projects", project, "huidong", 403);
  json wrong = project;
  wrong["requested_fen"] = "lots";
  EXPECT_EQ(node.call("POST", "/api/v1/funds/projects", wrong, "boluo", 422)["error"]["field"],
            "requested_fen");
  auto applied = node.call("POST", "/api/v1/funds/projects", project, "boluo", 201);
  std::string fund = "/api/v1/funds/projects/" + std::to_string(applied["id"].get<int>());
  node.call("POST", fund + "/decision", {{"grant", true}, {"granted_fen", 60'000'000}}, "boluo",
            403);
  node.call("POST", fund + "/decision", {{"grant", true}, {"granted_fen", 60'000'000}}, "gd_admin",
            200);
  node.call("POST", fund + "/disbursements",
            {{"amount_fen", 60'000'001}, {"paid_on", "2026-05-31"}, {"reference", "x"}}, "gd_admin",
            409);
  auto paid =
      node.call("POST", fund + "/disbursements",
                {{"amount_fen", 20'000'000}, {"paid_on", "2026-05-31"}, {"reference", "A1"}},
                "gd_admin", 201);
  EXPECT_EQ(paid["disbursed_fen"], 20'000'000);
  auto totals = node.call("GET", "/api/v1/funds/totals?year=2026", nullptr, "", 200);
  ASSERT_EQ(totals["totals"].size(), 1u);
  EXPECT_EQ(totals["totals"][0]["granted_fen"], 60'000'000);
  EXPECT_EQ(totals["totals"][0]["disbursed_fen"], 20'000'000);
  EXPECT_EQ(
      node.call("GET", "/api/v1/funds/projects?region=441300", nullptr, "", 200)["projects"].size(),
      1u);
}

//! Stops the province server when the city sends its `stop_after`+1-th stream message, as a
//! crash in the middle of a sync. Used by the city node's own sync thread only.
class CrashingTransport : public link::LinkTransport {
 public:
  CrashingTransport(Node& province, int stop_after) : province_(province), left_(stop_after) {}
  Result<json> post(const std::string& path, const json& body) override {
    if (path == "/api/link/v1/messages" && left_-- == 0) {
      province_.stop();
      crashed = true;
    }
    if (!http_)
      http_ = std::make_unique<LinkHttpTransport>("127.0.0.1", province_.options.http.port);
    return http_->post(path, body);
  }
  std::atomic<bool> crashed = false;

 private:
  Node& province_;
  int left_;
  std::unique_ptr<LinkHttpTransport> http_;
};

//! Waits up to 60 s for `done`, polling every 20 ms.
bool waitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::int64_t inboxCount(store::Database& db) {
  return db.read([](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM link_inbox", soci::into(n);
    return static_cast<std::int64_t>(n);
  });
}

link::CityNodeOptions shenzhenNode(const Node& province) {
  return {"440300", "http://127.0.0.1:" + std::to_string(province.port), "",
          std::chrono::milliseconds(100)};
}

TEST(LinkApi, TwoServersAgreeAfterTheProvinceRestartsMidSync) {
  ManualClock clock(*parseIso8601("2026-03-08T02:00:00Z"));
  auto province_key = link::generateKeyPair();
  auto city_key = link::generateKeyPair();
  Node province(clock, province_key);
  province.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  auto schema = province.call("GET", "/api/link/v1/schema", nullptr, "", 200);
  EXPECT_EQ(schema["protocol"], link::kProtocol);
  auto key = province.call("GET", "/api/link/v1/key", nullptr, "", 200);
  EXPECT_EQ(key["public_key"], province_key.public_key_hex);
  auto platform = province.call(
      "POST", "/api/v1/link/platforms",
      {{"name", "深圳"}, {"region", "440300"}, {"public_key", city_key.public_key_hex}}, "gd_admin",
      201);

  // The city node's database holds a generated week before its server starts; then its own sync
  // thread sends the week, and the province goes down after the fourth day.
  Node city(clock, city_key, false);
  {
    methodology::MethodologyService methodologies(city.t.db(), clock);
    testing::CreditedReductions seed(city.t.db(), clock, methodologies);
    for (int d = 1; d <= 7; ++d) {
      for (int i = 0; i < d; ++i) {
        seed.trees(i % 2 ? "440305" : "440307", "2026-03-0" + std::to_string(d), 5 + i, 1);
      }
    }
  }
  city.options.city_node = shenzhenNode(province);
  CrashingTransport* crashing = nullptr;
  city.options.city_transport = [&province, &crashing] {
    auto t = std::make_unique<CrashingTransport>(province, 4);
    crashing = t.get();
    return t;
  };
  city.start();
  link::LinkOutbox outbox(city.t.db(), clock, {platform["id"], "440300", city_key, ""});
  ASSERT_TRUE(waitFor([&] { return crashing->crashed.load(); }));
  EXPECT_EQ(inboxCount(province.t.db()), 4);
  // While the province is down the node waits out its back-off (the clock stands still), and
  // nothing behind the failed message overtakes it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(outbox.pendingCount(), 3);

  province.start();  // restarted, same database and port
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(waitFor([&] { return outbox.pendingCount() == 0; }));
  EXPECT_EQ(inboxCount(province.t.db()), 7);

  link::LinkHub province_view(province.t.db(), clock, province_key);
  ingest::ReductionStats city_view(city.t.db());
  for (int d = 1; d <= 7; ++d) {
    std::string day = "2026-03-0" + std::to_string(d);
    EXPECT_EQ(province_view.aggregates(platform["id"], day), city_view.daily("440300", day));
  }
  LinkHttpTransport http("127.0.0.1", province.port);
  link::LinkOutbox reconciling(city.t.db(), clock,
                               {platform["id"], "440300", city_key, province_key.public_key_hex});
  auto diff = reconciling.reconcile(http, "2026-03-01", "2026-03-07");
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  EXPECT_TRUE(diff->empty());
  city.call("GET", "/api/v1/link/outbox", nullptr, "", 401);

  // A tampered message over HTTP: 401, nothing stored.
  link::Envelope e{
      platform["id"],
      "forged-1",
      link::kAggregatesStream,
      8,
      link::kDailyAggregates,
      "2026-03-08T10:00:00+08:00",
      {{"day", "2026-03-08"}, {"rows", json::array()}, {"day_digest", link::dayDigest({})}}};
  auto message = link::signMessage(link::envelopeToJson(e), city_key);
  message["seq"] = 9;
  auto refused = province.call("POST", "/api/link/v1/messages", message, "", 401);
  EXPECT_EQ(refused["error"]["code"], "unauthenticated");
  message.erase("signature");
  province.call("POST", "/api/link/v1/messages", message, "", 401);
  EXPECT_EQ(inboxCount(province.t.db()), 7);
}

TEST(LinkApi, ACityNodeSubmitsAnswersSpotChecksAndReceivesTheProvincesFeed) {
  ManualClock clock(*parseIso8601("2026-03-08T02:00:00Z"));
  auto province_key = link::generateKeyPair();
  auto city_key = link::generateKeyPair();
  Node province(clock, province_key, false);
  province.options.certify.notice_days_working = 0;
  province.options.auth.session_ttl = std::chrono::hours(24 * 7);  // outlives the review below
  province.start();
  province.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  province.login("cqc", auth::Role::kVerifier, "");
  auto platform = province.call(
      "POST", "/api/v1/link/platforms",
      {{"name", "深圳"}, {"region", "440300"}, {"public_key", city_key.public_key_hex}}, "gd_admin",
      201);
  std::string platform_path = "/api/v1/link/platforms/" + std::to_string(platform["id"].get<int>());

  Node city(clock, city_key, false);
  {
    methodology::MethodologyService methodologies(city.t.db(), clock);
    testing::CreditedReductions seed(city.t.db(), clock, methodologies);
    for (int d = 1; d <= 7; ++d) seed.trees("440305", "2026-03-0" + std::to_string(d), 100 + d, 1);
  }
  city.options.city_node = shenzhenNode(province);
  city.options.auth.session_ttl = std::chrono::hours(24 * 7);
  city.start();
  city.login("sz_node", auth::Role::kProvinceAdmin, "440000");
  city.login("resident", auth::Role::kResident, "");
  ASSERT_TRUE(waitFor([&] {
    return inboxCount(province.t.db()) == 7 &&
           !city.call("GET", "/api/v1/link/province/catalogue", nullptr, "", 200)["items"].empty();
  }));
  auto catalogue = city.call("GET", "/api/v1/link/province/catalogue", nullptr, "", 200);
  EXPECT_EQ(catalogue["stream"], "catalogue");
  city.call("GET", "/api/v1/link/province/elsewhere", nullptr, "", 422);

  // A spot check over HTTP: requested by the province, answered by the node's own thread.
  province.call("POST", platform_path + "/spot-checks",
                {{"day", "2026-03-03"}, {"region", "440305"}}, "gd_admin", 422);
  json check = {{"day", "2026-03-03"},
                {"region", "440305"},
                {"methodology_id", "sink.tree_planting"},
                {"methodology_version", 1}};
  province.call("POST", platform_path + "/spot-checks", check, "", 401);
  auto requested = province.call("POST", platform_path + "/spot-checks", check, "gd_admin", 201);
  EXPECT_EQ(requested["state"], "requested");
  EXPECT_EQ(requested["records"], 1);
  ASSERT_TRUE(waitFor([&] {
    return province.call("GET", platform_path + "/spot-checks", nullptr, "gd_admin",
                         200)["spot_checks"][0]["state"] == "matched";
  }));

  // A locally approved methodology version goes to the province's review flow.
  auto toml = city.server->methodologies().versionsOf(std::nullopt, "travel.metro");
  ASSERT_TRUE(toml.ok());
  std::string text = (*toml)[0].definition_toml;
  text.replace(text.find("\nversion = 1\n"), 13, "\nversion = 2\n");
  text.replace(text.find("\nscope = \"440000\""), 17, "\nscope = \"440300\"");
  auto draft =
      city.call("POST", "/api/v1/methodology-drafts", {{"definition", text}}, "sz_node", 201);
  std::string version_path =
      "/api/v1/methodology-versions/" + std::to_string(draft["row_id"].get<int>());
  city.call("POST", version_path + "/submit", nullptr, "sz_node", 200);
  city.call("POST", version_path + "/review", nullptr, "sz_node", 200);
  city.call("POST", "/api/v1/link/outbox/methodologies", {{"version_id", draft["row_id"]}},
            "sz_node", 409);  // not approved yet
  city.call("POST", version_path + "/approve", {{"reason", "ok"}}, "sz_node", 200);
  city.call("POST", "/api/v1/link/outbox/methodologies", {{"version_id", draft["row_id"]}}, "",
            401);
  city.call("POST", "/api/v1/link/outbox/methodologies", {{"version_id", draft["row_id"]}},
            "resident", 403);
  EXPECT_EQ(city.call("POST", "/api/v1/link/outbox/methodologies", json::object(), "sz_node",
                      422)["error"]["field"],
            "version_id");
  auto queued = city.call("POST", "/api/v1/link/outbox/methodologies",
                          {{"version_id", draft["row_id"]}}, "sz_node", 202);
  EXPECT_EQ(queued["state"], "pending");
  json submissions;
  ASSERT_TRUE(waitFor([&] {
    submissions = province.call("GET", platform_path + "/submissions", nullptr, "gd_admin", 200);
    return submissions["submissions"].size() == 1;
  }));
  EXPECT_EQ(submissions["submissions"][0]["outcome"], "submitted");
  std::string province_version =
      "/api/v1/methodology-versions/" +
      std::to_string(submissions["submissions"][0]["province_id"].get<int>());
  province.call("POST", province_version + "/review", nullptr, "gd_admin", 200);
  province.call("POST", province_version + "/approve", {{"reason", "sound"}}, "gd_admin", 200);
  province.call("POST", province_version + "/activate", {{"effective_from", "2026-03-09"}},
                "gd_admin", 200);
  json items;
  ASSERT_TRUE(waitFor([&] {
    items = city.call("GET", "/api/v1/link/province/catalogue", nullptr, "", 200)["items"];
    for (const auto& item : items) {
      if (item["key"] == "travel.metro@2" && item["state"] == "active") return true;
    }
    return false;
  })) << items.dump().substr(0, 3000)
      << city.call("GET", "/api/v1/link/outbox", nullptr, "sz_node", 200).dump();

  // A city batch issued by the province; the registry status comes back to the node.
  auto batch = city.call("POST", "/api/v1/certify/batches",
                         {{"methodology", "sink.tree_planting"},
                          {"region", "440300"},
                          {"vintage_from", "2026-03-01"},
                          {"vintage_until", "2026-03-07"}},
                         "sz_node", 201);
  city.call("POST", "/api/v1/link/outbox/batches", {{"batch_id", batch["id"]}}, "sz_node", 202);
  ASSERT_TRUE(waitFor([&] {
    submissions = province.call("GET", platform_path + "/submissions", nullptr, "gd_admin", 200);
    return submissions["submissions"].size() == 2;
  }));
  json batch_submission;
  for (const auto& s : submissions["submissions"]) {
    if (s["kind"] == "certification_batch") batch_submission = s;
  }
  ASSERT_EQ(batch_submission["outcome"], "submitted") << batch_submission.dump();
  std::string batch_path =
      "/api/v1/certify/batches/" + std::to_string(batch_submission["province_id"].get<int>());
  auto at_province = province.call("GET", batch_path, nullptr, "", 200);
  EXPECT_EQ(at_province["records_locked"], batch["records_locked"]);
  province.call("POST", batch_path + "/verifier", {{"user_id", province.ids["cqc"]}}, "gd_admin",
                200);
  clock.advance(std::chrono::hours(72));
  province.call("POST", batch_path + "/approval", {{"grams", at_province["grams_locked"]}}, "cqc",
                200);
  auto issued = province.call("POST", batch_path + "/issuance", json::object(), "gd_admin", 201);
  json status;
  ASSERT_TRUE(waitFor([&] {
    auto items = city.call("GET", "/api/v1/link/province/registry", nullptr, "", 200)["items"];
    if (items.empty() || items[0]["state"] != "issued") return false;
    status = items[0];
    return true;
  }));
  EXPECT_EQ(status["batch_id"], batch["id"]);
  EXPECT_GT(status["units_issued"].get<int>(), 0);
  EXPECT_EQ(
      status["held"].get<int>() + status["retired"].get<int>() + status["cancelled"].get<int>(),
      status["units_issued"].get<int>());

  auto outbox = city.call("GET", "/api/v1/link/outbox", nullptr, "sz_node", 200);
  EXPECT_EQ(outbox["platform_id"], platform["id"]);
  EXPECT_EQ(outbox["province_public_key"], province_key.public_key_hex);
  EXPECT_EQ(outbox["pending"], 0);
  city.call("GET", "/api/v1/link/outbox", nullptr, "resident", 403);

  // The node refuses province messages it cannot verify.
  link::Envelope forged{platform["id"],
                        "forged",
                        link::kOffersStream,
                        99,
                        link::kMerchantOffers,
                        "",
                        {{"full", true}, {"items", json::array()}, {"removed", json::array()}}};
  auto forged_message = link::signMessage(link::envelopeToJson(forged), city_key);
  city.call("POST", "/api/link/v1/inbound", forged_message, "", 401);
  forged_message.erase("signature");
  city.call("POST", "/api/link/v1/inbound", forged_message, "", 401);
}

TEST(CampaignApi, DefineListCancelAndReadFigures) {
  ManualClock clock(*parseIso8601("2026-06-01T02:00:00Z"));
  Node node(clock, std::nullopt);
  node.login("sz_admin", auth::Role::kRegionAdmin, "440300");
  node.login("nanshan", auth::Role::kRegionAdmin, "440305");
  node.login("resident", auth::Role::kResident, "");
  json day = {{"region", "440300"},
              {"name_zh", "全国低碳日"},
              {"announcement_zh", "地铁积分翻倍"},
              {"starts_at", "2026-06-15"},
              {"ends_at", "2026-06-15"},
              {"methodologies", {"travel.metro"}},
              {"multiplier", 2}};
  node.call("POST", "/api/v1/campaigns", day, "", 401);
  node.call("POST", "/api/v1/campaigns", day, "resident", 403);
  node.call("POST", "/api/v1/campaigns", day, "nanshan", 403);
  json bad = day;
  bad["multiplier"] = 1.2345;
  EXPECT_EQ(node.call("POST", "/api/v1/campaigns", bad, "sz_admin", 422)["error"]["field"],
            "multiplier");
  bad = day;
  bad["starts_at"] = "mid-June";
  EXPECT_EQ(node.call("POST", "/api/v1/campaigns", bad, "sz_admin", 422)["error"]["field"],
            "starts_at");
  auto made = node.call("POST", "/api/v1/campaigns", day, "sz_admin", 201);
  // A date as the end means the whole day: the window is one Shanghai day.
  EXPECT_EQ(made["starts_at"], "2026-06-14T16:00:00.000Z");
  EXPECT_EQ(made["ends_at"], "2026-06-15T16:00:00.000Z");
  EXPECT_EQ(made["multiplier_permille"], 2000);
  EXPECT_EQ(made["status"], "scheduled");
  std::string id = std::to_string(made["id"].get<std::int64_t>());

  auto listed = node.call("GET", "/api/v1/campaigns?region=440305", nullptr, "", 200);
  ASSERT_EQ(listed["campaigns"].size(), 1u);
  EXPECT_EQ(listed["campaigns"][0]["name_zh"], "全国低碳日");
  EXPECT_EQ(
      node.call("GET", "/api/v1/campaigns?region=440100", nullptr, "", 200)["campaigns"].size(),
      0u);
  EXPECT_EQ(node.call("GET", "/api/v1/campaigns?status=over", nullptr, "", 422)["error"]["field"],
            "status");
  auto figures = node.call("GET", "/api/v1/campaigns/" + id + "/stats", nullptr, "", 200);
  EXPECT_EQ(figures["figures"]["records"], 0);
  node.call("GET", "/api/v1/campaigns/999/stats", nullptr, "", 404);

  node.call("POST", "/api/v1/campaigns/" + id + "/cancel", {{"reason", "改期"}}, "nanshan", 403);
  auto cancelled = node.call("POST", "/api/v1/campaigns/" + id + "/cancel", {{"reason", "改期"}},
                             "sz_admin", 200);
  EXPECT_EQ(cancelled["status"], "cancelled");
  node.call("POST", "/api/v1/campaigns/" + id + "/cancel", {{"reason", "again"}}, "sz_admin", 409);
}

}  // namespace
}  // namespace tph::api
