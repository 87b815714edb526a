#include "audit/audit_heads.h"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <stdexcept>

#include "audit/audit_log.h"
#include "core/canonical_json.h"
#include "core/crypto.h"
#include "store/database.h"

namespace tph::audit {

using nlohmann::json;

// ------------------------------------------------------------------------------- signing key

SigningKey SigningKey::generate() {
  ensureSodium();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  SigningKey key;
  key.secret_.assign(reinterpret_cast<const char*>(sk), sizeof sk);
  key.public_hex_ = toHex(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  sodium_memzero(sk, sizeof sk);
  return key;
}

Result<SigningKey> SigningKey::loadOrCreate(const std::filesystem::path& file) {
  ensureSodium();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    SigningKey key = generate();
    {
      std::ofstream out(file, std::ios::trunc);
      if (!out) return Error::invalid("audit_key", "cannot create " + file.string());
      out << toHex(key.secret_) << "\n";
      if (!out) return Error::invalid("audit_key", "cannot write " + file.string());
    }
    ::chmod(file.c_str(), 0600);
    std::ofstream pub(file.string() + ".pub", std::ios::trunc);
    pub << key.public_hex_ << "\n";
    return key;
  }
  std::ifstream in(file);
  std::string hex;
  if (!in || !(in >> hex)) return Error::invalid("audit_key", "cannot read " + file.string());
  auto secret = fromHex(hex);
  if (!secret || secret->size() != crypto_sign_SECRETKEYBYTES)
    return Error::invalid("audit_key", file.string() + " holds no Ed25519 secret key");
  SigningKey key;
  key.secret_ = *secret;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(key.secret_.data()));
  key.public_hex_ = toHex(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  return key;
}

std::string SigningKey::signHex(const std::string& message) const {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_.data()));
  return toHex(std::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
}

bool verifySignature(const std::string& public_key_hex, const std::string& message,
                     const std::string& signature_hex) {
  ensureSodium();
  auto pk = fromHex(public_key_hex);
  auto sig = fromHex(signature_hex);
  if (!pk || pk->size() != crypto_sign_PUBLICKEYBYTES || !sig || sig->size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(pk->data())) == 0;
}

// ------------------------------------------------------------------------------ signed heads

std::string SignedHead::message() const {
  return canonicalJson(json{{"day", day},
                            {"events", events},
                            {"last_hash", last_hash},
                            {"signed_at", formatIso8601(signed_at)}});
}

json SignedHead::toJson() const {
  return {{"day", day},
          {"events", events},
          {"last_hash", last_hash},
          {"signed_at", formatIso8601(signed_at)},
          {"public_key", public_key},
          {"signature", signature},
          {"message", message()}};
}

std::optional<SignedHead> SignedHead::fromJson(const json& j) {
  try {
    SignedHead h;
    h.day = j.at("day").get<std::string>();
    h.events = j.at("events").get<std::int64_t>();
    h.last_hash = j.at("last_hash").get<std::string>();
    auto at = parseIso8601(j.at("signed_at").get<std::string>());
    if (!at) return std::nullopt;
    h.signed_at = *at;
    h.public_key = j.at("public_key").get<std::string>();
    h.signature = j.at("signature").get<std::string>();
    return h;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

namespace {

std::vector<SignedHead> headsWhere(soci::session& sql, const std::string& where, long long a,
                                   long long b) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT day, events, last_hash, signed_at_ms, public_key, signature FROM "
                      "audit_signed_heads " +
                          where,
       soci::use(a), soci::use(b));
  std::vector<SignedHead> out;
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), store::rowInt64(row, 1), row.get<std::string>(2),
                   fromEpochMs(store::rowInt64(row, 3)), row.get<std::string>(4),
                   row.get<std::string>(5)});
  }
  return out;
}

}  // namespace

SignedHead signTodaysHead(store::Database& db, const Clock& clock, const SigningKey& key) {
  auto sign = [&](soci::session& sql) -> Result<SignedHead> {
    Instant now = clock.now();
    std::string day = shanghaiDay(now);
    soci::rowset<soci::row> existing =
        (sql.prepare << "SELECT day, events, last_hash, signed_at_ms, public_key, signature FROM "
                        "audit_signed_heads WHERE day = :d",
         soci::use(day));
    for (const auto& row : existing) {
      return SignedHead{row.get<std::string>(0), store::rowInt64(row, 1),
                        row.get<std::string>(2), fromEpochMs(store::rowInt64(row, 3)),
                        row.get<std::string>(4), row.get<std::string>(5)};
    }
    long long last_id = 0;
    std::string last_hash;
    sql << "SELECT last_id, last_hash FROM audit_head WHERE singleton = 1", soci::into(last_id),
        soci::into(last_hash);
    SignedHead head{day, last_id, last_hash, now, key.publicKeyHex(), ""};
    head.signature = key.signHex(head.message());
    long long events = head.events, at = toEpochMs(now);
    sql << "INSERT INTO audit_signed_heads (day, events, last_hash, signed_at_ms, public_key, "
           "signature) VALUES (:d, :e, :h, :at, :pk, :sig)",
        soci::use(head.day), soci::use(events), soci::use(head.last_hash), soci::use(at),
        soci::use(head.public_key), soci::use(head.signature);
    return head;
  };
  try {
    return *db.transaction(sign);
  } catch (const std::exception& e) {
    // Two signers on the same day: the primary key let one win; answer with its head.
    if (!store::isUniqueViolation(e)) throw;
    return *db.transaction(sign);
  }
}

std::vector<SignedHead> listSignedHeads(soci::session& sql, int limit, int offset) {
  return headsWhere(sql, "ORDER BY day DESC LIMIT :l OFFSET :o", limit, offset);
}

HeadSigner::HeadSigner(store::Database& db, const Clock& clock, const SigningKey& key,
                       std::chrono::milliseconds check_every)
    : db_(db), clock_(clock), key_(key), check_every_(check_every) {
  thread_ = std::thread([this] { run(); });
}

HeadSigner::~HeadSigner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HeadSigner::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      signTodaysHead(db_, clock_, key_);
    } catch (const std::exception&) {
      // The database may be briefly unavailable; the next check signs.
    }
    lock.lock();
    wake_.wait_for(lock, check_every_, [this] { return stopping_; });
  }
}

// ----------------------------------------------------------------------------------- export

bool isPublicAction(const std::string& action) {
  static const char* kPublicPrefixes[] = {"registry.", "certify.batch.", "region."};
  static const char* kPublicActions[] = {"methodology.propose", "methodology.activate",
                                         "methodology.retire", "methodology.import"};
  for (const char* p : kPublicPrefixes)
    if (action.rfind(p, 0) == 0) return true;
  for (const char* a : kPublicActions)
    if (action == a) return true;
  return false;
}

Result<json> exportPublicChain(soci::session& sql, std::int64_t from, std::int64_t to) {
  long long last_id = 0;
  sql << "SELECT last_id FROM audit_head WHERE singleton = 1", soci::into(last_id);
  if (from < 1) return Error::invalid("from", "from is an event id, 1 or more");
  if (to < from) return Error::invalid("to", "to is before from");
  if (to > last_id)
    return Error::invalid("to", "the chain has " + std::to_string(last_id) + " events");
  if (to - from + 1 > kExportMaxEvents)
    return Error::invalid(
        "to", "an export holds at most " + std::to_string(kExportMaxEvents) + " events");
  long long f = from, t = to;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, at_ms, actor, action, subject, payload, prev_hash, hash, "
                      "hash_version FROM audit_events WHERE id >= :f AND id <= :t ORDER BY id",
       soci::use(f), soci::use(t));
  json events = json::array();
  for (const auto& row : rows) {
    std::int64_t id = store::rowInt64(row, 0);
    if (store::rowInt64(row, 8) != 2) {
      return Error::invalid("from", "event " + std::to_string(id) +
                                        " predates hashed payloads (migration 0009) and cannot be "
                                        "exported without its payload; export later events");
    }
    std::string action = row.get<std::string>(3);
    std::string payload = row.get<std::string>(5);
    json e = {{"id", id},
              {"at", store::rowInt64(row, 1)},
              {"actor", row.get<std::string>(2)},
              {"action", action},
              {"subject", row.get<std::string>(4)},
              {"payload_sha256", sha256Hex(payload)},
              {"prev_hash", row.get<std::string>(6)},
              {"hash", row.get<std::string>(7)}};
    if (isPublicAction(action)) e["payload"] = json::parse(payload);
    events.push_back(std::move(e));
  }
  json heads = json::array();
  for (const auto& h : headsWhere(sql, "WHERE events >= :f AND events <= :t ORDER BY day", f, t))
    heads.push_back(h.toJson());
  return json{{"format", "tanpuhui-audit-export/1"},
              {"from", from},
              {"to", to},
              {"events", events},
              {"heads", heads}};
}

ExportReport verifyExport(const json& exported, const std::string& public_key_hex) {
  ExportReport report;
  auto fail = [&](std::int64_t id, std::string problem) {
    report.ok = false;
    report.first_bad_id = id;
    report.problem = std::move(problem);
    return report;
  };
  if (!exported.is_object() || exported.value("format", "") != "tanpuhui-audit-export/1")
    return fail(0, "not a tanpuhui audit export (format tanpuhui-audit-export/1)");
  std::map<std::int64_t, std::string> hash_at;
  try {
    std::int64_t from = exported.at("from").get<std::int64_t>();
    std::int64_t expected_id = from;
    std::string prev;
    for (const auto& e : exported.at("events")) {
      std::int64_t id = e.at("id").get<std::int64_t>();
      std::string where = "event " + std::to_string(expected_id);
      if (id != expected_id) {
        return fail(expected_id, where + " is missing or out of order (found event " +
                                     std::to_string(id) + " in its place)");
      }
      std::string prev_hash = e.at("prev_hash").get<std::string>();
      if (id > from && prev_hash != prev)
        return fail(id, where + " does not link to the event before it");
      std::string payload_sha256 = e.at("payload_sha256").get<std::string>();
      if (e.contains("payload") && sha256Hex(canonicalJson(e.at("payload"))) != payload_sha256)
        return fail(id, where + " has a payload that does not match its payload_sha256");
      std::string hash = chainHashOfPayloadHash(
          prev_hash, id, e.at("at").get<std::int64_t>(), e.at("actor").get<std::string>(),
          e.at("action").get<std::string>(), e.at("subject").get<std::string>(), payload_sha256);
      if (hash != e.at("hash").get<std::string>())
        return fail(id, where + " does not match its hash");
      hash_at[id] = hash;
      prev = hash;
      ++expected_id;
      ++report.events_checked;
    }
    if (expected_id - 1 != exported.at("to").get<std::int64_t>())
      return fail(expected_id, "the export ends before event " + std::to_string(expected_id - 1));
    for (const auto& j : exported.at("heads")) {
      auto head = SignedHead::fromJson(j);
      if (!head) return fail(0, "a signed head is malformed");
      if (head->public_key != public_key_hex ||
          !verifySignature(public_key_hex, head->message(), head->signature)) {
        return fail(head->events,
                    "the head of " + head->day + " is not signed by the given public key");
      }
      auto it = hash_at.find(head->events);
      if (it == hash_at.end()) continue;  // outside the export: vouches for nothing here
      if (it->second != head->last_hash) {
        return fail(head->events, "the head of " + head->day + " signed event " +
                                      std::to_string(head->events) +
                                      " with another hash than the export's");
      }
      ++report.heads_checked;
      report.anchored_through = std::max(report.anchored_through, head->events);
    }
  } catch (const json::exception& e) {
    return fail(0, std::string("the export is malformed: ") + e.what());
  }
  if (report.heads_checked == 0)
    return fail(0, "no signed head falls within the export, so nothing vouches for it");
  return report;
}

}  // namespace tph::audit
