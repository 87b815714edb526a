#pragma once
// An API server on 127.0.0.1 over a fresh database holding Guangdong's whole region tree, with
// users signed in by name: for HTTP tests whose roles act in real regions (programmes, assessment).

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api_server.h"
#include "api/http_client.h"
#include "auth/auth_service.h"
#include "region/region_service.h"
#include "store/database.h"
#include "test_database.h"

namespace tph::api::testing_support {

inline constexpr const char* kRegionsServerPassword = "green-travel-42";

struct RegionsApiServer {
  explicit RegionsApiServer(const Clock& clock) {
    auto regions = region::parseRegionsFile(TPH_SOURCE_DIR "/data/regions.toml");
    EXPECT_TRUE(region::RegionService(t.db(), clock).load(*regions, "test").ok());
    ApiServerOptions options;
    options.http.port = 0;
    options.http.workers = 2;
    options.auth.password_cost = auth::PasswordCost::kMinimum;
    server = std::make_unique<ApiServer>(t.db(), clock, options);
    client = std::make_unique<HttpClient>("127.0.0.1", server->start());
  }
  ~RegionsApiServer() {
    client.reset();
    server->stop();
  }
  //! Creates `name` with one role and signs it in; its token is then used by `who` = name.
  void login(const std::string& name, auth::Role role, const std::string& region) {
    auto u = server->auth().createUserAsSystem(
        "test", {name, kRegionsServerPassword, name, {{role, region}}}, false);
    ASSERT_TRUE(u.ok());
    auto r = client->send(
        "POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
        nlohmann::json{{"username", name}, {"password", kRegionsServerPassword}}.dump());
    tokens[name] = nlohmann::json::parse(r.body).value("token", "");
  }
  HttpResponse raw(const std::string& method, const std::string& target, const nlohmann::json& body,
                   const std::string& who) {
    HttpHeaders headers = {{"content-type", "application/json"}};
    if (!who.empty()) headers.emplace_back("authorization", "Bearer " + tokens[who]);
    return client->send(method, target, headers, body.is_null() ? "" : body.dump());
  }
  //! The answer's JSON, expecting `expected_status`.
  nlohmann::json call(const std::string& method, const std::string& target,
                      const nlohmann::json& body, const std::string& who, int expected_status) {
    auto r = raw(method, target, body, who);
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  testing::TestDatabase t;
  std::unique_ptr<ApiServer> server;
  std::unique_ptr<HttpClient> client;
  std::map<std::string, std::string> tokens;
};

}  // namespace tph::api::testing_support
