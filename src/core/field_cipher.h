#pragma once
// Sealing of personal data at rest (DESIGN.md §4 Privacy: phone numbers are never stored in clear).
// Columns that must be read back — the contact a reviewer calls, a moderator's e-mail address — are
// sealed with XChaCha20-Poly1305 under the deployment's data key, with the column's name as
// associated data so a value copied into another column does not open. A sealed value reads
//   sealed:1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>
// and the key id (the first 8 bytes of SHA-256 of the key, in hex) names the key that opens it.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tph {

class FieldCipher {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  //! `key` is kKeyBytes raw bytes; anything else is a bug (std::invalid_argument).
  explicit FieldCipher(std::string key);
  //! A fresh random key, for tests and throwaway databases.
  static FieldCipher generate();
  //! Reads the key file (hex), or creates it (mode 0600, parent directories too) when absent.
  static Result<FieldCipher> loadOrCreate(const std::filesystem::path& file);
  //! Reads the key file; an error naming the file when it is missing or holds no key.
  static Result<FieldCipher> load(const std::filesystem::path& file);

  const std::string& keyId() const { return key_id_; }

  //! The sealed form of `plain` for `column` ("table.column"); "" stays "" so erased values stay
  //! visibly empty.
  std::string seal(std::string_view plain, std::string_view column) const;
  //! The plain text of a value read from `column`. A value stored before sealing began (not
  //! starting with "sealed:") is returned as it is; one sealed under another key, for another
  //! column or altered fails with an error naming the column.
  Result<std::string> open(std::string_view stored, std::string_view column) const;

  //! A keyed hash of `plain` for `column` (HMAC-SHA256 under the data key, hex): for values that
  //! are only ever compared for equality, such as a client's address counted for a rate limit.
  std::string fingerprint(std::string_view plain, std::string_view column) const;

  //! open() for a value read from the database, which must open: failing is a broken invariant
  //! (the wrong key attached, or the row altered), thrown as std::runtime_error.
  std::string reveal(std::string_view stored, std::string_view column) const;

  static bool isSealed(std::string_view stored);
  //! The key id a sealed value names ("" when it is not sealed).
  static std::string keyIdOf(std::string_view stored);

 private:
  std::string key_;
  std::string key_id_;
};

}  // namespace tph
