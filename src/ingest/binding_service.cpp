#include "ingest/binding_service.h"

#include <algorithm>

#include "account/carbon_accounts.h"
#include "audit/audit_log.h"
#include "core/crypto.h"
#include "ingest/ingest_service.h"
#include "ingest/ingest_store.h"
#include "store/database.h"

namespace tph::ingest {

namespace {

using auth::Principal;

//! The accounts a caller may bind references to: its own, and households it administers.
std::vector<std::int64_t> accountsOf(soci::session& sql, const Principal& caller) {
  std::vector<std::int64_t> ids;
  long long user = caller.user_id, id = 0;
  std::string role;
  soci::statement st =
      (sql.prepare << "SELECT account_id, role FROM account_members WHERE user_id = :u",
       soci::use(user), soci::into(id), soci::into(role));
  st.execute();
  while (st.fetch()) {
    if (role != "member") ids.push_back(id);
  }
  return ids;
}

std::string codeHash(std::int64_t binding_id, const std::string& code) {
  return sha256Hex("binding:" + std::to_string(binding_id) + ":" + code);
}

}  // namespace

Result<Binding> BindingService::request(const Principal& caller, const std::string& provider_key,
                                        const std::string& identifier,
                                        std::optional<std::int64_t> account_id) {
  if (identifier.empty() || identifier.size() > 200) {
    return Error::invalid("reference", "give the card or account number, 1-200 characters");
  }
  std::int64_t target = 0;
  if (account_id) {
    target = *account_id;
  } else {
    account::CarbonAccountService accounts(db_, clock_);
    auto person = accounts.personAccount(caller);
    if (!person) return person.error();
    target = person->id;
  }
  return db_.transaction([&](soci::session& sql) -> Result<Binding> {
    auto provider = detail::findProviderByKey(sql, provider_key);
    if (!provider) return Error::invalid("provider", "unknown provider " + provider_key);
    auto mine = accountsOf(sql, caller);
    if (std::find(mine.begin(), mine.end(), target) == mine.end()) {
      return Error::forbidden(
          "you may bind references only to your own accounts or households you administer",
          "account_id");
    }
    // The raw identifier goes no further than this line.
    Binding b;
    b.provider_id = provider->id;
    b.subject_ref = pseudonymise(provider->pseudonym_key, identifier);
    b.account_id = target;
    b.status = "pending";
    b.requested_by = caller.user_id;
    if (auto active = detail::activeBinding(sql, provider->id, b.subject_ref)) {
      if (active->account_id == target)
        return Error::conflict("this reference is already bound here", "reference");
      return Error::conflict("this reference is bound to another account; unbind it there first",
                             "reference");
    }
    b.id = detail::insertBinding(sql, b, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {caller.auditActor(),
         "binding.request",
         "binding:" + std::to_string(b.id),
         {{"provider", provider->key}, {"subject_ref", b.subject_ref}, {"account_id", target}}});
    return *detail::findBinding(sql, b.id);
  });
}

Result<std::vector<Binding>> BindingService::pending(const Principal& provider_caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Binding>> {
    auto provider = detail::findProviderByUser(sql, provider_caller.user_id);
    if (!provider) return Error::forbidden("this key's user is not registered as a data provider");
    return detail::pendingBindings(sql, provider->id);
  });
}

Status BindingService::issueCode(const Principal& provider_caller, std::int64_t binding_id,
                                 const std::string& code) {
  if (code.size() < 6 || code.size() > 32)
    return Error::invalid("code", "a confirmation code is 6-32 characters");
  return db_.transaction([&](soci::session& sql) -> Status {
    auto provider = detail::findProviderByUser(sql, provider_caller.user_id);
    auto binding = detail::findBinding(sql, binding_id);
    if (!provider || !binding || binding->provider_id != provider->id) {
      return Error::notFound("no such binding request", "id");
    }
    if (binding->status != "pending")
      return Error::conflict("the binding is " + binding->status, "id");
    detail::setBindingCode(sql, binding_id, codeHash(binding_id, code),
                           toEpochMs(clock_.now() + kBindingCodeLifetime));
    audit::appendAuditEvent(sql, clock_,
                            {provider_caller.auditActor(),
                             "binding.code",
                             "binding:" + std::to_string(binding_id),
                             {}});
    return {};
  });
}

Result<Binding> BindingService::confirm(const Principal& caller, std::int64_t binding_id,
                                        const std::string& code) {
  auto confirmed = db_.transaction([&](soci::session& sql) -> Result<Binding> {
    auto binding = detail::findBinding(sql, binding_id);
    if (!binding || binding->requested_by != caller.user_id)
      return Error::notFound("no such binding", "id");
    if (binding->status != "pending")
      return Error::conflict("the binding is " + binding->status, "id");
    long long id = binding_id, expires = 0;
    int attempts = 0;
    std::string hash;
    soci::indicator hash_ind, expires_ind;
    sql << "SELECT code_hash, code_expires_at_ms, attempts FROM bindings WHERE id = :id",
        soci::use(id), soci::into(hash, hash_ind), soci::into(expires, expires_ind),
        soci::into(attempts);
    if (hash_ind == soci::i_null)
      return Error::conflict("the provider has not issued a code yet", "code");
    if (attempts >= kBindingMaxAttempts) {
      detail::setBindingState(sql, binding_id, "cancelled", toEpochMs(clock_.now()));
      return Error::rateLimited("too many wrong codes; request the binding again");
    }
    if (toEpochMs(clock_.now()) > expires)
      return Error::invalid("code", "the code has expired; ask for a new one");
    if (!constantTimeEquals(hash, codeHash(binding_id, code))) {
      detail::countBindingAttempt(sql, binding_id);
      // The failed attempt must be counted, so this transaction commits and the caller gets the
      // error.
      return Binding{};
    }
    if (auto active = detail::activeBinding(sql, binding->provider_id, binding->subject_ref)) {
      return Error::conflict("this reference was bound to another account meanwhile", "id");
    }
    detail::setBindingState(sql, binding_id, "active", toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "binding.confirm",
                             "binding:" + std::to_string(binding_id),
                             {{"account_id", binding->account_id}}});
    return *detail::findBinding(sql, binding_id);
  });
  if (!confirmed) return confirmed.error();
  if (confirmed->id == 0) return Error::invalid("code", "wrong code");
  auto credited = ingest_.creditHeldUnbound(confirmed->provider_id, confirmed->subject_ref);
  if (!credited) return credited.error();
  return confirmed;
}

Result<Binding> BindingService::unbind(const Principal& caller, std::int64_t binding_id) {
  return db_.transaction([&](soci::session& sql) -> Result<Binding> {
    auto binding = detail::findBinding(sql, binding_id);
    auto mine = accountsOf(sql, caller);
    if (!binding || std::find(mine.begin(), mine.end(), binding->account_id) == mine.end()) {
      return Error::notFound("no such binding", "id");
    }
    if (binding->status != "active" && binding->status != "pending") {
      return Error::conflict("the binding is already " + binding->status, "id");
    }
    detail::setBindingState(sql, binding_id, binding->status == "active" ? "unbound" : "cancelled",
                            toEpochMs(clock_.now()));
    audit::appendAuditEvent(sql, clock_,
                            {caller.auditActor(),
                             "binding.unbind",
                             "binding:" + std::to_string(binding_id),
                             {{"account_id", binding->account_id}}});
    return *detail::findBinding(sql, binding_id);
  });
}

Result<std::vector<Binding>> BindingService::mine(const Principal& caller) {
  return db_.read([&](soci::session& sql) -> Result<std::vector<Binding>> {
    return detail::bindingsOfAccounts(sql, accountsOf(sql, caller));
  });
}

Result<Binding> BindingService::bindDirect(const std::string& actor, std::int64_t provider_id,
                                           const std::string& subject_ref,
                                           std::int64_t account_id) {
  auto bound = db_.transaction([&](soci::session& sql) -> Result<Binding> {
    if (auto active = detail::activeBinding(sql, provider_id, subject_ref)) {
      if (active->account_id == account_id) return *active;
      return Error::conflict("the reference is bound to another account", "subject_ref");
    }
    Binding b;
    b.provider_id = provider_id;
    b.subject_ref = subject_ref;
    b.account_id = account_id;
    b.status = "active";
    b.id = detail::insertBinding(sql, b, toEpochMs(clock_.now()));
    audit::appendAuditEvent(
        sql, clock_,
        {actor,
         "binding.direct",
         "binding:" + std::to_string(b.id),
         {{"provider_id", provider_id}, {"subject_ref", subject_ref}, {"account_id", account_id}}});
    return *detail::findBinding(sql, b.id);
  });
  if (!bound) return bound;
  auto credited = ingest_.creditHeldUnbound(provider_id, subject_ref);
  if (!credited) return credited.error();
  return bound;
}

}  // namespace tph::ingest
