// Certification and the registry over HTTP, from a batch's opening to a retired serial looked up
// in the public explorer, with the errors a client meets on the way and `tanpuhui registry check`.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "api/api_server.h"
#include "api/http_client.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "credited_reductions.h"
#include "methodology/methodology_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
constexpr const char* kPassword = "green-travel-42";

class RegistryApiTest : public ::testing::Test {
 protected:
  RegistryApiTest() : clock_(*parseIso8601("2026-06-15T02:00:00Z")) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440100", "440000", "city", "广州市", "Guangzhou"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"440305", "440300", "county", "南山区", "Nanshan"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    options.auth.session_ttl = std::chrono::hours(24 * 60);  // the clock moves past the notice
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    EXPECT_TRUE(server_->methodologies().importDirectory(TPH_SOURCE_DIR "/data", "test").ok());
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"sz_admin", auth::Role::kRegionAdmin, "440300"},
                                      {"cqc", auth::Role::kVerifier, ""},
                                      {"acme", auth::Role::kEnterprise, "440300"}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      ids_[name] = u->id;
      auto r = call("POST", "/api/v1/auth/login",
                    json{{"username", name}, {"password", kPassword}}.dump());
      tokens_[name] = json::parse(r.body).value("token", "");
    }
    testing::CreditedReductions seed(t_.db(), clock_, server_->methodologies());
    seed.trees("440305", "2026-03-05", 1000, 2);  // 12,000,000 g
    seed.trees("440300", "2026-03-09", 50, 1);    //    300,000 g
  }
  ~RegistryApiTest() override {
    client_.reset();
    server_->stop();
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& who = {}) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens_[who]);
    return client_->send(method, target, headers, body);
  }
  json callJson(const std::string& method, const std::string& target, const json& body,
                const std::string& who, int expected_status) {
    auto r = call(method, target, body.is_null() ? "" : body.dump(), who);
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    if (r.header("content-type").find("json") == std::string_view::npos) return json();
    return json::parse(r.body);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::int64_t> ids_;
};

TEST_F(RegistryApiTest, FromABatchToARetiredSerialInThePublicExplorer) {
  // A field missing or wrong is a 422 naming it.
  auto missing =
      callJson("POST", "/api/v1/certify/batches",
               {{"methodology", "sink.tree_planting"}, {"region", "440300"}}, "sz_admin", 422);
  EXPECT_EQ(missing["error"]["field"], "vintage_from");
  auto bad_days = callJson("POST", "/api/v1/certify/batches",
                           {{"methodology", "sink.tree_planting"},
                            {"region", "440300"},
                            {"vintage_from", "2026-03-01"},
                            {"vintage_until", "2026-03-31"},
                            {"notice_days_working", "seven"}},
                           "sz_admin", 422);
  EXPECT_EQ(bad_days["error"]["field"], "notice_days_working");
  callJson("POST", "/api/v1/certify/batches", {{"methodology", "x"}}, "cqc", 403);

  auto batch = callJson("POST", "/api/v1/certify/batches",
                        {{"methodology", "sink.tree_planting"},
                         {"region", "440300"},
                         {"vintage_from", "2026-03-01"},
                         {"vintage_until", "2026-03-31"}},
                        "sz_admin", 201);
  EXPECT_EQ(batch["records_locked"], 2);
  EXPECT_EQ(batch["grams_locked"], 12'300'000);
  EXPECT_EQ(batch["carbon_sink"], true);
  std::string id = std::to_string(batch["id"].get<std::int64_t>());
  std::string base = "/api/v1/certify/batches/" + id;

  // The public sees the notice and comments without signing in.
  auto listed = callJson("GET", "/api/v1/certify/batches?state=open", nullptr, "", 200);
  ASSERT_EQ(listed["batches"].size(), 1u);
  EXPECT_EQ(listed["batches"][0]["in_notice"], true);
  callJson("POST", base + "/comments", {{"author", "市民王五"}, {"body", "请公开植树地点"}}, "",
           201);
  EXPECT_EQ(
      callJson("POST", base + "/comments", {{"body", "anonymous"}}, "", 422)["error"]["field"],
      "author");
  EXPECT_EQ(callJson("GET", base + "/comments", nullptr, "", 200)["comments"].size(), 1u);
  callJson("GET", base + "/report", nullptr, "", 401);
  auto report = callJson("GET", base + "/report", nullptr, "sz_admin", 200);
  EXPECT_EQ(report["subjects"], 2);
  EXPECT_EQ(report["sample"].size(), 2u);

  // Review: the verifier is assigned, waits out the notice, approves.
  callJson("POST", base + "/verifier", {{"user_id", ids_["cqc"]}}, "sz_admin", 403);
  EXPECT_EQ(callJson("POST", base + "/verifier", {{"user_id", ids_["acme"]}}, "gd_admin",
                     422)["error"]["field"],
            "user_id");
  callJson("POST", base + "/verifier", {{"user_id", ids_["cqc"]}}, "gd_admin", 200);
  auto early = callJson("POST", base + "/approval", {{"grams", 12'300'000}}, "cqc", 409);
  EXPECT_EQ(early["error"]["field"], "notice_until");
  clock_.set(*parseIso8601(batch["notice_until"].get<std::string>()));
  callJson("POST", base + "/deductions", {{"deductions", {{{"reduction_id", "x"}}}}}, "cqc", 422);
  auto approved = callJson("POST", base + "/approval",
                           {{"grams", 12'300'000}, {"note", "现场核查无误"}}, "cqc", 200);
  EXPECT_EQ(approved["state"], "approved");

  // Issuance: 12 units, 2 of them (10 %, rounded up) to the buffer; 300,000 g carried over.
  callJson("POST", base + "/issuance", json::object(), "sz_admin", 403);
  auto issued = callJson("POST", base + "/issuance", json::object(), "gd_admin", 201);
  EXPECT_EQ(issued["units_issued"], 12);
  EXPECT_EQ(issued["buffer_units"], 2);
  EXPECT_EQ(issued["carry_out_grams"], 300'000);
  ASSERT_EQ(issued["serials"].size(), 2u);
  std::string serial_prefix =
      "CN-GD-PHCER-440300-sink.tree_planting-2026-" + std::string(6 - id.size(), '0') + id + "-";
  EXPECT_EQ(issued["serials"][0], serial_prefix + "00000001-00000010");
  EXPECT_EQ(issued["serials"][1], serial_prefix + "00000011-00000012");
  auto pdf = call("GET", base + "/certificate");
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");

  // The operator sells 6 units to Acme, which retires 4 for its ETS obligation.
  auto acme = callJson("POST", "/api/v1/registry/accounts",
                       {{"kind", "enterprise"},
                        {"name", "Acme 有限公司"},
                        {"region", "440300"},
                        {"members", {ids_["acme"]}}},
                       "sz_admin", 201);
  std::string acme_no = acme["account_no"];
  json transfer = {
      {"idempotency_key", "sale-1"}, {"from", "GD-OP-440300"}, {"to", acme_no}, {"units", 6}};
  auto sent = callJson("POST", "/api/v1/registry/transfers", transfer, "sz_admin", 201);
  EXPECT_EQ(sent["serials"][0], serial_prefix + "00000001-00000006");
  EXPECT_EQ(callJson("POST", "/api/v1/registry/transfers", transfer, "sz_admin", 200)["duplicate"],
            true);
  transfer["units"] = 7;
  EXPECT_EQ(
      callJson("POST", "/api/v1/registry/transfers", transfer, "sz_admin", 409)["error"]["field"],
      "idempotency_key");
  callJson("POST", "/api/v1/registry/transfers",
           {{"idempotency_key", "steal"}, {"from", acme_no}, {"to", "GD-OP-440300"}, {"units", 1}},
           "cqc", 403);
  json retire = {{"idempotency_key", "ets-2026"},
                 {"from", acme_no},
                 {"units", 4},
                 {"reason", "ets_offset"},
                 {"beneficiary", "Acme 有限公司"},
                 {"note", "2026 年度履约"}};
  auto retired = callJson("POST", "/api/v1/registry/retirements", retire, "acme", 201);
  EXPECT_EQ(retired["serials"][0], serial_prefix + "00000001-00000004");
  retire["idempotency_key"] = "again";
  retire["units"] = 3;
  EXPECT_EQ(callJson("POST", "/api/v1/registry/retirements", retire, "acme", 409)["error"]["field"],
            "units");
  retire.erase("beneficiary");
  EXPECT_EQ(callJson("POST", "/api/v1/registry/retirements", retire, "acme", 422)["error"]["field"],
            "beneficiary");

  // The public explorer.
  auto unit =
      callJson("GET", "/api/v1/registry/serials/" + serial_prefix + "00000003", nullptr, "", 200);
  ASSERT_EQ(unit["blocks"].size(), 1u);
  EXPECT_EQ(unit["blocks"][0]["status"], "retired");
  EXPECT_EQ(unit["blocks"][0]["retirement"]["beneficiary"], "Acme 有限公司");
  EXPECT_EQ(unit["blocks"][0]["retirement"]["reason"], "ets_offset");
  auto held =
      callJson("GET", "/api/v1/registry/serials/" + serial_prefix + "00000005", nullptr, "", 200);
  EXPECT_EQ(held["blocks"][0]["holder"]["account"], acme_no);
  callJson("GET", "/api/v1/registry/serials/CN-GD-PHCER-nonsense", nullptr, "", 422);
  callJson("GET", "/api/v1/registry/serials/" + serial_prefix + "00000099", nullptr, "", 404);
  auto issuances = callJson("GET", "/api/v1/registry/issuances", nullptr, "", 200);
  ASSERT_EQ(issuances["issuances"].size(), 1u);
  EXPECT_EQ(issuances["issuances"][0]["units"], 12);
  auto totals = callJson("GET", "/api/v1/registry/totals", nullptr, "", 200);
  EXPECT_EQ(totals["all"]["issued"], 12);
  EXPECT_EQ(totals["all"]["retired"], 4);
  EXPECT_EQ(totals["all"]["held"], 8);
  EXPECT_EQ(totals["by_vintage"][0]["key"], "2026");
  auto mine = callJson("GET", "/api/v1/registry/accounts/" + acme_no, nullptr, "acme", 200);
  EXPECT_EQ(mine["held"], 2);
  EXPECT_EQ(mine["retired"], 4);
  EXPECT_EQ(mine["blocks"].size(), 2u);
  EXPECT_EQ(callJson("GET", "/api/v1/registry/retirements", nullptr, "", 200)["retirements"].size(),
            1u);

  // The whole history verifies: the registry's invariants and the audit chain.
  std::string out;
  EXPECT_EQ(testing::runCli("registry check --db '" + t_.url() + "'", &out), 0) << out;
  EXPECT_NE(out.find("registry ok: 1 issuances"), std::string::npos) << out;
  auto chain = t_.db().read([](soci::session& sql) { return audit::verifyAuditChain(sql); });
  EXPECT_TRUE(chain.ok) << chain.problem;
  t_.exec("DELETE FROM serial_blocks WHERE status = 'retired'");
  out.clear();
  EXPECT_EQ(testing::runCli("registry check --db '" + t_.url() + "'", &out), 1) << out;
  EXPECT_NE(out.find("leaves units 1-4 in no block"), std::string::npos) << out;
}

TEST_F(RegistryApiTest, ProvenanceIsPublicAndAProofIsOnlyItsOwners) {
  // Two residents: alice's person account holds the Nanshan planting, bob's nothing.
  std::vector<std::int64_t> reductions = t_.db().read([](soci::session& sql) {
    std::vector<std::int64_t> ids;
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT id FROM reductions ORDER BY id");
    for (const auto& row : rows) ids.push_back(store::rowInt64(row, 0));
    return ids;
  });
  ASSERT_EQ(reductions.size(), 2u);
  for (const char* name : {"alice", "bob"}) {
    auto u = server_->auth().createUserAsSystem(
        "test", {name, kPassword, name, {{auth::Role::kResident, ""}}}, false);
    ASSERT_TRUE(u.ok()) << u.error().message;
    ids_[name] = u->id;
    auto r = call("POST", "/api/v1/auth/login",
                  json{{"username", name}, {"password", kPassword}}.dump());
    tokens_[name] = json::parse(r.body).value("token", "");
  }
  std::string alices = std::to_string(reductions[0]);
  t_.exec(
      "UPDATE carbon_accounts SET kind = 'person' WHERE id = (SELECT account_id FROM "
      "reductions WHERE id = " +
      alices + ")");
  t_.exec(
      "INSERT INTO account_members (account_id, user_id, role, joined_at_ms) SELECT "
      "account_id, " +
      std::to_string(ids_["alice"]) +
      ", 'owner', 0 FROM reductions WHERE "
      "id = " +
      alices);
  std::string proof_path = "/api/v1/account/reductions/" + alices + "/proof";
  // In no batch yet: the owner hears so, anyone else that there is no such reduction.
  EXPECT_EQ(callJson("GET", proof_path, nullptr, "alice", 409)["error"]["field"], "id");
  callJson("GET", proof_path, nullptr, "bob", 404);

  auto batch = callJson("POST", "/api/v1/certify/batches",
                        {{"methodology", "sink.tree_planting"},
                         {"region", "440300"},
                         {"vintage_from", "2026-03-01"},
                         {"vintage_until", "2026-03-31"}},
                        "sz_admin", 201);
  std::string base = "/api/v1/certify/batches/" + std::to_string(batch["id"].get<std::int64_t>());
  callJson("POST", base + "/verifier", {{"user_id", ids_["cqc"]}}, "gd_admin", 200);
  clock_.set(*parseIso8601(batch["notice_until"].get<std::string>()));
  callJson("POST", base + "/approval", {{"grams", 12'300'000}, {"note", "ok"}}, "cqc", 200);
  auto issued = callJson("POST", base + "/issuance", json::object(), "gd_admin", 201);
  std::string serial = issued["serials"][0];

  // The serial's provenance is public, adds up, and has the fields docs/verifiability.md shows.
  auto p = callJson("GET", "/api/v1/registry/serials/" + serial + "/provenance", nullptr, "", 200);
  EXPECT_EQ(p["serial"], serial);
  EXPECT_EQ(p["records"], 2);
  EXPECT_EQ(p["merkle_leaves"], 2);
  EXPECT_EQ(p["grams"], 12'300'000);
  EXPECT_EQ(p["batch"]["units_issued"], 12);
  EXPECT_EQ(p["history"][0]["kind"], "issue");
  ASSERT_EQ(p["merkle_root"].get<std::string>().size(), 64u);
  EXPECT_EQ(p.dump().find("subject_ref"), std::string::npos);
  std::ifstream doc_in(TPH_SOURCE_DIR "/docs/verifiability.md");
  std::stringstream doc;
  doc << doc_in.rdbuf();
  auto start = doc.str().find("```json example-provenance\n");
  ASSERT_NE(start, std::string::npos);
  start = doc.str().find('\n', start) + 1;
  auto example = json::parse(doc.str().substr(start, doc.str().find("\n```", start) - start));
  for (const auto& [key, value] : example.items())
    EXPECT_TRUE(p.contains(key)) << "the documented field " << key << " is not served";
  for (const auto& [key, value] : p.items())
    EXPECT_TRUE(example.contains(key)) << "the served field " << key << " is not documented";
  for (const auto& [key, value] : example["batch"].items()) EXPECT_TRUE(p["batch"].contains(key));
  callJson("GET", "/api/v1/registry/serials/CN-GD-PHCER-nonsense/provenance", nullptr, "", 422);

  // Alice's proof verifies under the public root, with the tool; bob's request for it is a 404.
  callJson("GET", proof_path, nullptr, "", 401);
  callJson("GET", proof_path, nullptr, "bob", 404);
  callJson("GET", "/api/v1/account/reductions/" + std::to_string(reductions[1]) + "/proof", nullptr,
           "alice", 404);
  EXPECT_EQ(callJson("GET", "/api/v1/account/reductions/abc/proof", nullptr, "alice",
                     404)["error"]["field"],
            "id");
  auto proof = callJson("GET", proof_path, nullptr, "alice", 200);
  EXPECT_EQ(proof["leaf"]["id"], reductions[0]);
  EXPECT_EQ(proof["leaf_count"], 2);
  std::string file = ::testing::TempDir() + "tph-provenance-proof.json";
  std::ofstream(file) << proof.dump();
  std::string out;
  EXPECT_EQ(testing::runCli(
                "verify-proof --proof '" + file + "' --root " + p["merkle_root"].get<std::string>(),
                &out),
            0)
      << out;
  std::remove(file.c_str());

  // Alice sees where it went; bob sees nothing of hers.
  auto mine = callJson("GET", "/api/v1/account/provenance", nullptr, "alice", 200);
  ASSERT_EQ(mine["reductions"].size(), 1u);
  EXPECT_EQ(mine["reductions"][0]["status"], "issued");
  EXPECT_EQ(mine["reductions"][0]["merkle_root"], p["merkle_root"]);
  EXPECT_EQ(mine["reductions"][0]["serials"], issued["serials"]);
  EXPECT_TRUE(
      callJson("GET", "/api/v1/account/provenance", nullptr, "bob", 200)["reductions"].empty());
}

}  // namespace
}  // namespace tph::api
