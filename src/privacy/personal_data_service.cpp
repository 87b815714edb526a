#include "privacy/personal_data_service.h"

#include "account/personal_data.h"
#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "auth/personal_data.h"
#include "content/personal_data.h"
#include "incentive/personal_data.h"
#include "ingest/personal_data.h"
#include "methodology/personal_data.h"
#include "neutral/personal_data.h"
#include "programme/personal_data.h"
#include "store/data_key.h"
#include "store/database.h"

namespace tph::privacy {

namespace {

using auth::Role;

//! Roles a person may delete along with their account. Any other role is an office or a business
//! relationship (merchant, provider, verifier, trading) that an administrator winds up first.
bool selfDeletable(const auth::RoleGrant& grant) {
  return grant.role == Role::kResident || grant.role == Role::kHouseholdAdmin;
}

}  // namespace

std::int64_t sealPlainPersonalData(store::Database& db) {
  return db
      .transaction([&](soci::session& sql) -> Result<std::int64_t> {
        const FieldCipher& cipher = store::dataCipher();
        return methodology::sealPlainContacts(sql, cipher) +
               incentive::sealPlainContacts(sql, cipher) + content::sealPlainContacts(sql, cipher) +
               programme::sealPlainContacts(sql, cipher);
      })
      .value();
}

Result<nlohmann::json> PersonalDataService::exportData(const auth::Principal& caller) {
  if (caller.user_id == 0) return Error::unauthenticated("sign in to export your data");
  return db_.read([&](soci::session& sql) -> Result<nlohmann::json> {
    const std::int64_t id = caller.user_id;
    nlohmann::json out = {{"format", kExportFormat},
                          {"exported_at", formatIso8601(clock_.now())},
                          {"user", auth::exportUserData(sql, id)}};
    out.update(account::exportAccountData(sql, id));
    out.update(ingest::exportSubjectData(sql, id));
    out.update(incentive::exportIncentiveData(sql, id));
    const FieldCipher& cipher = store::dataCipher();
    out["methodology_proposals"] = methodology::exportProposals(sql, cipher, id);
    out.update(content::exportIdeas(sql, cipher, id));
    out["programme_applications"] = programme::exportApplications(sql, cipher, id);
    out["carbon_neutral"] = neutral::exportNeutralEvents(sql, id);
    return out;
  });
}

Result<DeletionReceipt> PersonalDataService::deleteAccount(const auth::Principal& caller,
                                                           const std::string& password) {
  if (caller.user_id == 0 || !caller.api_key_id.empty()) {
    return Error::unauthenticated("sign in with your password to delete your account");
  }
  for (const auto& grant : caller.grants) {
    if (!selfDeletable(grant)) {
      return Error::conflict("this user holds the role " + std::string(auth::roleName(grant.role)) +
                                 "; an administrator removes it before the account is deleted",
                             "roles");
    }
  }
  TPH_TRY(auth_.confirmPassword(caller, password));
  auto receipt = db_.transaction([&](soci::session& sql) -> Result<DeletionReceipt> {
    const std::int64_t id = caller.user_id;
    TPH_TRY(account::checkAccountErasable(sql, id));
    TPH_TRY(incentive::checkIncentiveErasable(sql, id));
    DeletionReceipt r;
    r.user_id = id;
    r.deleted_at = clock_.now();
    const std::string actor = caller.auditActor();
    auto vouchers = incentive::eraseIncentiveData(sql, clock_, id, actor);
    if (!vouchers) return vouchers.error();
    r.vouchers_cancelled = *vouchers;
    auto accounts = account::eraseAccountData(sql, clock_, id);
    if (!accounts) return accounts.error();
    r.points_forfeited = accounts->points_forfeited;
    r.households_left = accounts->households_left;
    r.bindings_ended = ingest::endBindingsOf(sql, clock_, accounts->closed_accounts);
    methodology::eraseProposalContacts(sql, id);
    content::eraseIdeaAuthorship(sql, id);
    programme::eraseApplicationContacts(sql, id);
    neutral::erasePersonalFootprintNames(sql, id);
    auth::eraseUserData(sql, clock_, id);
    audit::appendAuditEvent(sql, clock_,
                            {actor,
                             "user.delete",
                             "user:" + std::to_string(id),
                             {{"points_forfeited", r.points_forfeited},
                              {"vouchers_cancelled", r.vouchers_cancelled},
                              {"bindings_ended", r.bindings_ended},
                              {"households_left", r.households_left}}});
    return r;
  });
  if (receipt) auth_.forgetUser(caller.user_id);
  return receipt;
}

}  // namespace tph::privacy
