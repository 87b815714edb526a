#include "auth/password.h"

#include <sodium.h>

#include <cctype>
#include <stdexcept>

#include "core/crypto.h"

namespace tph::auth {

Status checkPasswordPolicy(std::string_view password) {
  if (password.size() < kPasswordMinLength) {
    return Error::invalid("password", "password must be at least " +
                                          std::to_string(kPasswordMinLength) + " characters");
  }
  if (password.size() > kPasswordMaxLength) {
    return Error::invalid("password", "password must be at most " +
                                          std::to_string(kPasswordMaxLength) + " characters");
  }
  bool letter = false, other = false;
  for (unsigned char c : password) {
    if (std::isalpha(c)) {
      letter = true;
    } else {
      other = true;
    }
  }
  if (!letter || !other) {
    return Error::invalid("password", "password must mix letters with digits or symbols");
  }
  return {};
}

std::string hashPassword(std::string_view password, PasswordCost cost) {
  ensureSodium();
  char out[crypto_pwhash_STRBYTES];
  unsigned long long ops = cost == PasswordCost::kInteractive ? crypto_pwhash_OPSLIMIT_INTERACTIVE
                                                              : crypto_pwhash_OPSLIMIT_MIN;
  std::size_t mem = cost == PasswordCost::kInteractive ? crypto_pwhash_MEMLIMIT_INTERACTIVE
                                                       : crypto_pwhash_MEMLIMIT_MIN;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("out of memory while hashing a password");
  }
  return out;
}

bool verifyPassword(std::string_view password, const std::string& encoded_hash) {
  ensureSodium();
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace tph::auth
