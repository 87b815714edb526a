#pragma once
// Password hashing with Argon2id (libsodium's crypto_pwhash_str), and the password policy.

#include <string>
#include <string_view>

#include "core/result.h"

namespace tph::auth {

inline constexpr std::size_t kPasswordMinLength = 10;
inline constexpr std::size_t kPasswordMaxLength = 128;

//! How expensive a hash is. Production uses kInteractive; tests may use kMinimum to stay fast.
enum class PasswordCost { kInteractive, kMinimum };

//! Checks length and that the password is not all one character class; the error names "password".
Status checkPasswordPolicy(std::string_view password);

//! An encoded Argon2id hash carrying its own salt and parameters.
std::string hashPassword(std::string_view password, PasswordCost cost);

//! True when `password` matches `encoded_hash`. Runs in time independent of where they differ.
bool verifyPassword(std::string_view password, const std::string& encoded_hash);

}  // namespace tph::auth
