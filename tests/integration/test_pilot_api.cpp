// Pilot regions and the province–city link over HTTP. The link test runs two servers on
// loopback — a province and a city, each with its own database; the city credits a generated week
// and syncs it through its outbox; the province server is stopped in the middle of the sync and
// started again on the same port; afterwards the province's aggregates equal the city's exactly
// and reconciliation names no day.

#include <gtest/gtest.h>

#include "api/api_server.h"
#include "api/http_client.h"
#include "api/link_http_transport.h"
#include "auth/auth_service.h"
#include "credited_reductions.h"
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

//! A node: a database with the region tree and an API server over it.
struct Node {
  explicit Node(const Clock& clock, std::optional<link::LinkKeyPair> key) : clock_(clock) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t.db(), clock).load(*regions, "test").ok());
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    options.link_key = std::move(key);
    start();
    EXPECT_TRUE(server->methodologies().importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
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

//! Stops the province server after `stop_after` messages, as a crash in the middle of a sync.
class CrashingTransport : public link::LinkTransport {
 public:
  CrashingTransport(Node& province, int stop_after) : province_(province), left_(stop_after) {}
  Result<json> post(const std::string& path, const json& body) override {
    if (left_-- == 0) province_.stop();
    if (!http_) http_ = std::make_unique<LinkHttpTransport>("127.0.0.1", port_);
    return http_->post(path, body);
  }
  void connectTo(std::uint16_t port) {
    port_ = port;
    http_.reset();
  }

 private:
  Node& province_;
  int left_;
  std::uint16_t port_ = 0;
  std::unique_ptr<LinkHttpTransport> http_;
};

TEST(LinkApi, TwoServersAgreeAfterTheProvinceRestartsMidSync) {
  ManualClock clock(*parseIso8601("2026-03-08T02:00:00Z"));
  auto province_key = link::generateKeyPair();
  auto city_key = link::generateKeyPair();
  Node province(clock, province_key);
  Node city(clock, std::nullopt);
  province.login("gd_admin", auth::Role::kProvinceAdmin, "440000");
  auto schema = province.call("GET", "/api/link/v1/schema", nullptr, "", 200);
  EXPECT_EQ(schema["protocol"], link::kProtocol);
  auto key = province.call("GET", "/api/link/v1/key", nullptr, "", 200);
  EXPECT_EQ(key["public_key"], province_key.public_key_hex);
  auto platform = province.call(
      "POST", "/api/v1/link/platforms",
      {{"name", "深圳"}, {"region", "440300"}, {"public_key", city_key.public_key_hex}}, "gd_admin",
      201);

  testing::CreditedReductions seed(city.t.db(), clock, city.server->methodologies());
  for (int d = 1; d <= 7; ++d) {
    for (int i = 0; i < d; ++i) {
      seed.trees(i % 2 ? "440305" : "440307", "2026-03-0" + std::to_string(d), 5 + i, 1);
    }
  }
  link::LinkOutbox outbox(city.t.db(), clock,
                          {platform["id"], "440300", city_key, key["public_key"]});
  for (int d = 1; d <= 7; ++d) ASSERT_TRUE(outbox.enqueueDay("2026-03-0" + std::to_string(d)).ok());

  CrashingTransport transport(province, 4);
  transport.connectTo(province.port);
  auto first = outbox.drain(transport);
  EXPECT_EQ(first.sent, 4);
  EXPECT_EQ(first.failed, 1);
  EXPECT_EQ(first.pending, 3);

  province.start();  // restarted, same database and port
  transport.connectTo(province.port);
  clock.advance(std::chrono::seconds(1));
  auto rest = outbox.drain(transport);
  EXPECT_EQ(rest.sent, 3) << rest.last_error;
  EXPECT_EQ(rest.pending, 0);

  link::LinkHub province_view(province.t.db(), clock, province_key);
  ingest::ReductionStats city_view(city.t.db());
  for (int d = 1; d <= 7; ++d) {
    std::string day = "2026-03-0" + std::to_string(d);
    EXPECT_EQ(province_view.aggregates(platform["id"], day), city_view.daily("440300", day));
  }
  auto diff = outbox.reconcile(transport, "2026-03-01", "2026-03-07");
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  EXPECT_TRUE(diff->empty());

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
