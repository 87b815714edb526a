#include "link/link_signing.h"

#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "core/canonical_json.h"
#include "core/crypto.h"

namespace tph::link {

namespace {

std::string signingInput(nlohmann::json message) {
  message.erase("signature");
  return canonicalJson(message);
}

const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

LinkKeyPair generateKeyPair() {
  ensureSodium();
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0'), sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                      reinterpret_cast<unsigned char*>(sk.data()));
  return {toHex(pk), toHex(sk)};
}

std::optional<LinkKeyPair> keyPairFromSecret(const std::string& secret_key_hex) {
  auto sk = fromHex(secret_key_hex);
  if (!sk || sk->size() != crypto_sign_SECRETKEYBYTES) return std::nullopt;
  ensureSodium();
  std::string pk(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(pk.data()), bytes(*sk));
  return LinkKeyPair{toHex(pk), secret_key_hex};
}

bool isPublicKeyHex(const std::string& text) {
  auto raw = fromHex(text);
  return raw && raw->size() == crypto_sign_PUBLICKEYBYTES;
}

nlohmann::json signMessage(nlohmann::json message, const LinkKeyPair& key) {
  ensureSodium();
  auto sk = fromHex(key.secret_key_hex);
  if (!sk || sk->size() != crypto_sign_SECRETKEYBYTES) {
    throw std::logic_error("link signing key is not a 64-byte Ed25519 secret key");
  }
  std::string input = signingInput(message);
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, bytes(input),
                       input.size(), bytes(*sk));
  message["signature"] = toHex(sig);
  return message;
}

bool verifyMessage(const nlohmann::json& message, const std::string& public_key_hex) {
  if (!message.is_object()) return false;
  auto it = message.find("signature");
  if (it == message.end() || !it->is_string()) return false;
  auto sig = fromHex(it->get<std::string>());
  auto pk = fromHex(public_key_hex);
  if (!sig || sig->size() != crypto_sign_BYTES || !pk || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return false;
  }
  ensureSodium();
  std::string input = signingInput(message);
  return crypto_sign_verify_detached(bytes(*sig), bytes(input), input.size(), bytes(*pk)) == 0;
}

}  // namespace tph::link

namespace tph::link {

Result<LinkKeyPair> loadOrCreateKeyFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    auto key = generateKeyPair();
    std::ofstream out(path, std::ios::trunc);
    if (!out) return Error::invalid("link_key_file", "cannot create " + path);
    out << key.secret_key_hex << "\n";
    out.close();
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
    return key;
  }
  std::ifstream in(path);
  std::string secret;
  if (!(in >> secret)) return Error::invalid("link_key_file", "cannot read " + path);
  auto key = keyPairFromSecret(secret);
  if (!key) return Error::invalid("link_key_file", path + " holds no Ed25519 secret key in hex");
  return *key;
}

}  // namespace tph::link
