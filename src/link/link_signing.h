#pragma once
// Ed25519 keys and signatures of the province–city link. A message is signed over the canonical
// JSON of its envelope without the "signature" member, so key order and whitespace never matter.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/result.h"

namespace tph::link {

struct LinkKeyPair {
  std::string public_key_hex;  //!< 32 bytes, 64 hex digits
  std::string secret_key_hex;  //!< libsodium's 64-byte secret key, 128 hex digits
};

LinkKeyPair generateKeyPair();
//! The key pair of a secret key (its second half is the public key), or nullopt if malformed.
std::optional<LinkKeyPair> keyPairFromSecret(const std::string& secret_key_hex);
bool isPublicKeyHex(const std::string& text);

//! Returns `message` with a "signature" member: hex of Ed25519 over the canonical rest.
nlohmann::json signMessage(nlohmann::json message, const LinkKeyPair& key);
//! True when `message` carries a valid signature of `public_key_hex` over the rest of it.
bool verifyMessage(const nlohmann::json& message, const std::string& public_key_hex);

}  // namespace tph::link

namespace tph::link {

//! Reads a node's key pair from `path` (the secret key in hex), creating the file with a new key
//! (mode 0600) when it does not exist. Errors name "link_key_file".
Result<LinkKeyPair> loadOrCreateKeyFile(const std::string& path);

}  // namespace tph::link
