#pragma once
// Public verifiability of the audit chain: the platform's Ed25519 signing key, the signed head of
// the chain once per Asia/Shanghai day, the public export of the chain (personal payloads replaced
// by their SHA-256, which is what the chain hashes, so it still verifies) and the offline check of
// an export against the signed heads (docs/verifiability.md).

#include <soci/soci.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace tph::store {
class Database;
}

namespace tph::audit {

inline constexpr std::int64_t kExportMaxEvents = 1'000'000;
inline constexpr int kHeadsMaxLimit = 500;

//! The platform's Ed25519 key pair (libsodium crypto_sign).
class SigningKey {
 public:
  //! Reads the secret key (hex, one line) from `file`, or creates it (mode 0600) with its public
  //! key beside it in `file`.pub when there is none.
  static Result<SigningKey> loadOrCreate(const std::filesystem::path& file);
  //! A fresh key held only in memory; for tests.
  static SigningKey generate();
  const std::string& publicKeyHex() const { return public_hex_; }
  //! The detached signature of `message`, hex.
  std::string signHex(const std::string& message) const;

 private:
  std::string secret_;  //!< 64 raw bytes
  std::string public_hex_;
};

//! Whether `signature_hex` is `public_key_hex`'s Ed25519 signature of `message`.
bool verifySignature(const std::string& public_key_hex, const std::string& message,
                     const std::string& signature_hex);

struct SignedHead {
  std::string day;  //!< YYYY-MM-DD, Asia/Shanghai
  std::int64_t events = 0;
  std::string last_hash;
  Instant signed_at;
  std::string public_key;
  std::string signature;

  //! What is signed: canonical JSON {"day", "events", "last_hash", "signed_at"} (ISO 8601 UTC).
  std::string message() const;
  nlohmann::json toJson() const;
  static std::optional<SignedHead> fromJson(const nlohmann::json& j);
};

//! Signs today's head unless today's is signed already; returns today's head. One transaction.
SignedHead signTodaysHead(store::Database& db, const Clock& clock, const SigningKey& key);
//! Newest first.
std::vector<SignedHead> listSignedHeads(soci::session& sql, int limit, int offset);

//! Signs the head once a day while running: at start, then every check_every. Owns one thread.
class HeadSigner {
 public:
  HeadSigner(store::Database& db, const Clock& clock, const SigningKey& key,
             std::chrono::milliseconds check_every = std::chrono::minutes(5));
  ~HeadSigner();
  HeadSigner(const HeadSigner&) = delete;
  HeadSigner& operator=(const HeadSigner&) = delete;

 private:
  void run();
  store::Database& db_;
  const Clock& clock_;
  const SigningKey& key_;
  std::chrono::milliseconds check_every_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

//! Whether an action's payload is public in an export: the registry, certification batches and
//! issuance, methodology approvals, regions. Everything else is exported as its hash.
bool isPublicAction(const std::string& action);

//! Events from..to (inclusive, 1-based) and every signed head within that range, as the export
//! file's JSON. Fails on a range outside the chain or events that predate hashed payloads.
Result<nlohmann::json> exportPublicChain(soci::session& sql, std::int64_t from, std::int64_t to);

struct ExportReport {
  bool ok = true;
  std::int64_t events_checked = 0;
  std::int64_t heads_checked = 0;
  std::int64_t anchored_through = 0;  //!< the last event a signed head vouches for
  std::int64_t first_bad_id = 0;      //!< the event (or head's event count) that failed; 0 if ok
  std::string problem;
};

//! Checks an export offline: ids consecutive, each event linked to the one before, each hash
//! recomputed (public payloads hashed here), and every head signed by `public_key_hex` and equal
//! to the chain at its event count. At least one head must fall within the export.
ExportReport verifyExport(const nlohmann::json& exported, const std::string& public_key_hex);

}  // namespace tph::audit
