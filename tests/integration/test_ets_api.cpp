// ETS offsets over HTTP and the command line: each role held to its routes, each refusal naming
// its rule at the boundary (exactly 10%, exactly 70%, the deadline day in Asia/Shanghai), the
// compliance report, and the signed export for the ETS registry, verified with the public key
// over HTTP and by `tanpuhui ets verify-export`, a tampered file refused.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api/api_server.h"
#include "api/http_client.h"
#include "audit/audit_heads.h"
#include "auth/auth_service.h"
#include "cli_runner.h"
#include "ets/offset_export.h"
#include "issued_units.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api {
namespace {

using nlohmann::json;
using testing::runCli;
constexpr const char* kPassword = "green-travel-42";

class EtsApiTest : public ::testing::Test {
 protected:
  // 1 March 2027, 10:00 Asia/Shanghai: compliance for 2026 is open.
  EtsApiTest()
      : clock_(*parseIso8601("2027-03-01T02:00:00Z")),
        key_(std::make_shared<audit::SigningKey>(audit::SigningKey::generate())) {
    region::RegionService regions(t_.db(), clock_);
    EXPECT_TRUE(regions
                    .load({{"440000", "", "province", "广东省", "Guangdong"},
                           {"440300", "440000", "city", "深圳市", "Shenzhen"},
                           {"450000", "", "province", "广西壮族自治区", "Guangxi"}},
                          "test")
                    .ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    options.audit_signing_key = key_;
    options.audit_public_key = key_->publicKeyHex();
    server_ = std::make_unique<ApiServer>(t_.db(), clock_, options);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->start());
    for (auto [name, role, region] : {std::tuple{"gd_admin", auth::Role::kProvinceAdmin, "440000"},
                                      {"cqc", auth::Role::kVerifier, ""},
                                      {"steel", auth::Role::kEtsEnterprise, ""},
                                      {"cement", auth::Role::kEtsEnterprise, ""},
                                      {"auditor", auth::Role::kAuditor, ""}}) {
      auto u = server_->auth().createUserAsSystem("test", {name, kPassword, name, {{role, region}}},
                                                  false);
      ids_[name] = u->id;
      login(name);
    }
    steel_ = open("steel", "韶关钢铁");
    cement_ = open("cement", "英德水泥");
    callJson("POST", "/api/v1/ets/scopes",
             {{"methodology", "travel.metro"}, {"effective_from", "2026-01-01"}}, "gd_admin", 201);
  }
  ~EtsApiTest() override {
    client_.reset();
    server_->stop();
  }

  //! Signs in again, as a session expires when the clock jumps months ahead.
  void login(const std::string& name) {
    auto r = call("POST", "/api/v1/auth/login",
                  json{{"username", name}, {"password", kPassword}}.dump());
    tokens_[name] = json::parse(r.body).value("token", "");
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
  std::string field(const std::string& method, const std::string& target, const json& body,
                    const std::string& who, int expected_status) {
    return callJson(method, target, body, who, expected_status)["error"].value("field", "");
  }
  std::string open(const std::string& user, const std::string& name) {
    auto a = callJson(
        "POST", "/api/v1/registry/accounts",
        {{"kind", "enterprise"}, {"name", name}, {"region", "440300"}, {"members", {ids_[user]}}},
        "gd_admin", 201);
    return a["account_no"];
  }
  std::string accountPath(const std::string& account, const std::string& rest = {}) {
    return "/api/v1/ets/accounts/" + account + "/years/2026" + rest;
  }
  json surrender(std::int64_t units, int expected, std::optional<std::int64_t> batch = {}) {
    static int n = 0;
    json body = {{"units", units}, {"idempotency_key", "k-" + std::to_string(++n)}};
    if (batch) body["batch"] = *batch;
    return callJson("POST", accountPath(steel_, "/surrenders"), body, "steel", expected);
  }

  testing::TestDatabase t_;
  ManualClock clock_;
  std::shared_ptr<audit::SigningKey> key_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::int64_t> ids_;
  std::string steel_, cement_;
};

TEST_F(EtsApiTest, EachRoleHasItsRoutesAndEachRefusalNamesItsRule) {
  auto guangdong = testing::issueUnitsTo(t_.db(), clock_, {steel_, 1000});
  auto guangxi = testing::issueUnitsTo(t_.db(), clock_, {steel_, 500, "travel.metro", "450000"});
  callJson("POST", "/api/v1/ets/scopes",
           {{"methodology", "travel.bus"}, {"effective_from", "2026-01-01"}}, "steel", 403);
  EXPECT_EQ(field("POST", "/api/v1/ets/scopes", {{"methodology", "travel.bus"}}, "gd_admin", 422),
            "effective_from");
  EXPECT_EQ(callJson("GET", "/api/v1/ets/scopes", nullptr, "", 200)["scopes"].size(), 1u);

  EXPECT_EQ(surrender(10, 409)["error"]["field"], "verified_emissions_t");
  callJson("PUT", accountPath(steel_, "/verified-emissions"), {{"verified_emissions_t", 10'000}},
           "steel", 403);
  EXPECT_EQ(field("PUT", accountPath(steel_, "/verified-emissions"),
                  {{"verified_emissions_t", "lots"}}, "cqc", 422),
            "verified_emissions_t");
  auto verified = callJson("PUT", accountPath(steel_, "/verified-emissions"),
                           {{"verified_emissions_t", 10'000}}, "cqc", 200);
  EXPECT_EQ(verified["status"], "short");
  callJson("PUT", accountPath(steel_, "/allowances-surrendered"),
           {{"allowances_surrendered_t", 9'000}}, "cqc", 403);
  callJson("PUT", accountPath(steel_, "/allowances-surrendered"),
           {{"allowances_surrendered_t", 9'000}}, "gd_admin", 200);

  // 70%: 300 from Guangxi alone is 0% from Guangdong; after 700 from Guangdong, exactly 70%.
  EXPECT_EQ(surrender(300, 409, guangxi)["error"]["field"], "min_home_province_bp");
  surrender(700, 201, guangdong);
  auto exactly_70 = surrender(300, 201, guangxi);
  EXPECT_EQ(exactly_70["account"]["phcer_home_province_t"], 700);
  // 10%: 1,000 of 10,000 t is exactly the cap; one more is refused.
  EXPECT_EQ(exactly_70["account"]["phcer_surrendered_t"], 1000);
  EXPECT_EQ(exactly_70["account"]["status"], "complied");
  EXPECT_EQ(surrender(1, 409, guangdong)["error"]["field"], "max_offset_bp");

  // Another enterprise sees neither the account nor may it surrender for it.
  callJson("GET", accountPath(steel_), nullptr, "cement", 403);
  callJson("POST", accountPath(steel_, "/surrenders"), {{"units", 1}, {"idempotency_key", "x"}},
           "cement", 403);
  EXPECT_EQ(callJson("GET", accountPath(steel_), nullptr, "steel", 200)["phcer_surrendered_t"],
            1000);

  // Rules per year: the province sets them, anyone reads them.
  EXPECT_EQ(callJson("GET", "/api/v1/ets/rules/2026", nullptr, "", 200)["deadline_day"],
            "2027-06-20");
  callJson(
      "PUT", "/api/v1/ets/rules/2026",
      {{"max_offset_bp", 2000}, {"min_home_province_bp", 7000}, {"deadline_day", "2027-06-20"}},
      "steel", 403);
  EXPECT_EQ(field("PUT", "/api/v1/ets/rules/2026",
                  {{"max_offset_bp", 20000},
                   {"min_home_province_bp", 7000},
                   {"deadline_day", "2027-06-20"}},
                  "gd_admin", 422),
            "max_offset_bp");
  callJson(
      "PUT", "/api/v1/ets/rules/2026",
      {{"max_offset_bp", 2000}, {"min_home_province_bp", 7000}, {"deadline_day", "2027-06-20"}},
      "gd_admin", 200);

  // The report, as JSON and XLSX, for the province and auditors only.
  callJson("GET", "/api/v1/ets/reports/2026", nullptr, "steel", 403);
  auto report = callJson("GET", "/api/v1/ets/reports/2026", nullptr, "auditor", 200);
  ASSERT_EQ(report["accounts"].size(), 1u);
  EXPECT_EQ(report["accounts"][0]["status"], "complied");
  EXPECT_EQ(report["accounts"][0]["offset_cap_t"], 2000);
  auto xlsx = call("GET", "/api/v1/ets/reports/2026?format=xlsx", "", "gd_admin");
  EXPECT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
}

TEST_F(EtsApiTest, SurrenderClosesAtTheEndOfTwentiethJuneInShanghai) {
  testing::issueUnitsTo(t_.db(), clock_, {steel_, 100});
  callJson("PUT", accountPath(steel_, "/verified-emissions"), {{"verified_emissions_t", 10'000}},
           "gd_admin", 200);
  clock_.set(*parseIso8601("2027-06-20T15:59:59Z"));  // 23:59:59 on 20 June in Shanghai
  login("steel");
  surrender(10, 201);
  clock_.set(*parseIso8601("2027-06-20T16:00:00Z"));  // 00:00 on 21 June
  EXPECT_EQ(surrender(10, 409)["error"]["field"], "deadline_day");
}

TEST_F(EtsApiTest, TheRegistryExportIsSignedAndATamperedFileIsRefused) {
  testing::issueUnitsTo(t_.db(), clock_, {steel_, 100});
  callJson("PUT", accountPath(steel_, "/verified-emissions"), {{"verified_emissions_t", 10'000}},
           "cqc", 200);
  auto done = surrender(40, 201);
  callJson("GET", "/api/v1/ets/exports/2026", nullptr, "steel", 403);
  auto file = call("GET", "/api/v1/ets/exports/2026", "", "auditor");
  ASSERT_EQ(file.status, 200) << file.body;
  std::string signature(file.header("x-signature-ed25519"));
  EXPECT_EQ(file.header("x-public-key-ed25519"), key_->publicKeyHex());
  auto sig = call("GET", "/api/v1/ets/exports/2026/signature", "", "gd_admin");
  EXPECT_EQ(sig.body, signature + "\n");
  EXPECT_EQ(callJson("GET", "/api/v1/audit/public-key", nullptr, "", 200)
                    .dump()
                    .find(key_->publicKeyHex()) != std::string::npos,
            true);

  auto doc = json::parse(file.body);
  EXPECT_EQ(doc["format"], ets::kOffsetExportFormat);
  ASSERT_EQ(doc["surrenders"].size(), 1u);
  EXPECT_EQ(doc["surrenders"][0]["units"], 40);
  EXPECT_EQ(doc["surrenders"][0]["account_no"], steel_);
  EXPECT_EQ(doc["surrenders"][0]["serials"], done["serials"]);
  auto check = ets::verifyOffsetExport(file.body, signature, key_->publicKeyHex());
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.units, 40);

  std::string tampered = file.body;
  tampered.replace(tampered.find("\"units\":40"), 10, "\"units\":41");
  EXPECT_FALSE(ets::verifyOffsetExport(tampered, signature, key_->publicKeyHex()).ok);
  auto other = audit::SigningKey::generate();
  EXPECT_FALSE(ets::verifyOffsetExport(file.body, signature, other.publicKeyHex()).ok);

  // The command line: the operator's export with the key file, the registry's offline check.
  auto dir = std::filesystem::temp_directory_path() /
             ("tph-ets-export-" + std::to_string(::getpid()) + "-" + std::to_string(ids_["steel"]));
  std::filesystem::create_directories(dir);
  std::string out, db = "--db '" + t_.url() + "'";
  std::string key_file = (dir / "platform.key").string(), exported = (dir / "ets.json").string();
  ASSERT_EQ(runCli("ets export --year 2026 " + db + " --audit-key '" + key_file + "' --out '" +
                       exported + "'",
                   &out),
            0)
      << out;
  std::string verify = "ets verify-export '" + exported + "' --signature '" + exported +
                       ".sig' --public-key '" + key_file + ".pub'";
  ASSERT_EQ(runCli(verify, &out), 0) << out;
  EXPECT_NE(out.find("40 units"), std::string::npos) << out;
  {
    std::ifstream in(exported, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes, file.body);  // the same state gives the same bytes
    bytes.replace(bytes.find("\"units\":40"), 10, "\"units\":41");
    std::ofstream(exported, std::ios::binary | std::ios::trunc) << bytes;
  }
  out.clear();
  EXPECT_EQ(runCli(verify, &out), 1);
  EXPECT_NE(out.find("does not verify"), std::string::npos) << out;
  EXPECT_NE(runCli("ets verify-export '" + exported + "' --signature nothex --public-key '" +
                       key_file + ".pub'",
                   &out),
            0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tph::api
