#pragma once
// Credited reductions for tests of what comes after ingest (certification, the registry): real
// records through the real ingest path — a forestry provider reporting tree planting (a carbon
// sink, 6,000 g per tree-year) and a power utility reporting SME electricity saving (404.2 g per
// kWh) — each record from its own enterprise account. Header-only, so only the tests that use it
// link ingest.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "account/carbon_accounts.h"
#include "auth/auth_service.h"
#include "ingest/binding_service.h"
#include "ingest/ingest_service.h"
#include "ingest/provider_service.h"
#include "methodology/methodology_service.h"

namespace tph::testing {

class CreditedReductions {
 public:
  CreditedReductions(store::Database& db, const Clock& clock,
                     methodology::MethodologyService& methodologies)
      : db_(db),
        clock_(clock),
        providers_(db, clock),
        ingest_(db, clock, methodologies),
        bindings_(db, clock, ingest_),
        accounts_(db, clock) {
    forest_ = *providers_.ensureProvider("test", {"gd-forest",
                                                  "广东林业",
                                                  "forestry",
                                                  std::nullopt,
                                                  {"440100", "440300"},
                                                  {"sink.tree_planting"},
                                                  ""});
    power_ = *providers_.ensureProvider("test", {"gd-power",
                                                 "广东电网",
                                                 "power_utility",
                                                 std::nullopt,
                                                 {"440100", "440300"},
                                                 {"electricity.sme_saving"},
                                                 ""});
  }

  //! Credits trees × years × 6,000 g of tree planting on `day` (YYYY-MM-DD) in `region` to a new
  //! enterprise account; returns the grams credited.
  std::int64_t trees(const std::string& region, const std::string& day, int trees, double years) {
    return send(forest_, "sink.tree_planting", region, day, {{"trees", trees}, {"years", years}});
  }
  //! Credits (baseline − actual) × 404.2 g of SME electricity saving, like trees().
  std::int64_t saving(const std::string& region, const std::string& day, double baseline_kwh,
                      double actual_kwh) {
    return send(power_, "electricity.sme_saving", region, day,
                {{"baseline_kwh", baseline_kwh}, {"actual_kwh", actual_kwh}});
  }

  //! The account the last record was credited to.
  std::int64_t lastAccount() const { return last_account_; }

 private:
  std::int64_t send(const ingest::Provider& provider, const std::string& methodology,
                    const std::string& region, const std::string& day, nlohmann::json inputs) {
    int n = ++count_;
    auth::AuthOptions options;
    options.password_cost = auth::PasswordCost::kMinimum;
    auth::AuthService auth(db_, clock_, options);
    std::string name = "sme" + std::to_string(n);
    auto user = auth.createUserAsSystem(
        "test", {name, "green-travel-42", name, {{auth::Role::kEnterprise, region}}}, false);
    EXPECT_TRUE(user.ok()) << user.error().message;
    auth::Principal owner{user->id, user->username, user->display_name, user->grants, {}};
    auto account = accounts_.createEnterprise(owner, "企业" + std::to_string(n), region);
    EXPECT_TRUE(account.ok()) << account.error().message;
    last_account_ = account->id;
    std::string ref = "ref-" + std::to_string(n);
    auto bound = bindings_.bindDirect("test", provider.id, ref, account->id);
    EXPECT_TRUE(bound.ok()) << bound.error().message;
    nlohmann::json record = {{"provider_record_id", "r" + std::to_string(n)},
                             {"subject_ref", ref},
                             {"methodology", methodology},
                             {"occurred_at", day + "T10:00:00+08:00"},
                             {"region", region},
                             {"inputs", std::move(inputs)}};
    auto report = ingest_.ingestBatch(provider, {{record, ""}}, "test");
    EXPECT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(report->credited, 1) << record.dump();
    return report->grams;
  }

  store::Database& db_;
  const Clock& clock_;
  ingest::ProviderService providers_;
  ingest::IngestService ingest_;
  ingest::BindingService bindings_;
  account::CarbonAccountService accounts_;
  ingest::Provider forest_, power_;
  int count_ = 0;
  std::int64_t last_account_ = 0;
};

}  // namespace tph::testing
