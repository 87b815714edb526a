#include "core/field_cipher.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>

#include "core/crypto.h"

namespace tph {

namespace {

constexpr std::string_view kPrefix = "sealed:1:";
constexpr std::size_t kKeyIdHex = 16;

std::string keyIdFor(std::string_view key) {
  return sha256Hex(key).substr(0, kKeyIdHex);
}

std::string toBase64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool fromBase64(std::string_view text, std::string& out) {
  out.assign(text.size(), '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return false;
  }
  out.resize(len);
  return true;
}

Result<FieldCipher> parseKeyFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string hex;
  if (!in || !(in >> hex)) return Error::invalid("data_key", "cannot read " + file.string());
  auto key = fromHex(hex);
  if (!key || key->size() != FieldCipher::kKeyBytes) {
    return Error::invalid("data_key", file.string() + " holds no 32-byte data key in hex");
  }
  return FieldCipher(std::move(*key));
}

}  // namespace

FieldCipher::FieldCipher(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeyBytes) throw std::invalid_argument("a data key is 32 bytes");
  key_id_ = keyIdFor(key_);
}

FieldCipher FieldCipher::generate() {
  return FieldCipher(randomBytes(kKeyBytes));
}

Result<FieldCipher> FieldCipher::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return Error::invalid("data_key", "no data key file at " + file.string());
  }
  return parseKeyFile(file);
}

Result<FieldCipher> FieldCipher::loadOrCreate(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return parseKeyFile(file);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  // Written whole under a private name, then linked into place: link() fails if the file exists,
  // so two processes starting at once never each keep a key of their own, and neither reads a
  // half-written file.
  auto staging = file;
  staging += ".new-" + randomHex(8);
  int fd = ::open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Error::invalid("data_key", "cannot create " + file.string());
  FieldCipher cipher = generate();
  std::string text = toHex(cipher.key_) + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(staging.c_str());
    return Error::invalid("data_key", "cannot write " + file.string());
  }
  int linked = ::link(staging.c_str(), file.c_str());
  int link_errno = errno;
  ::unlink(staging.c_str());
  if (linked == 0) return cipher;
  if (link_errno == EEXIST) return parseKeyFile(file);
  return Error::invalid("data_key", "cannot create " + file.string());
}

bool FieldCipher::isSealed(std::string_view stored) {
  return stored.starts_with(kPrefix);
}

std::string FieldCipher::keyIdOf(std::string_view stored) {
  if (!isSealed(stored)) return {};
  stored.remove_prefix(kPrefix.size());
  return std::string(stored.substr(0, stored.find(':')));
}

std::string FieldCipher::seal(std::string_view plain, std::string_view column) const {
  if (plain.empty()) return {};
  ensureSodium();
  std::string box(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(column.data()), column.size(), nullptr, nonce,
      reinterpret_cast<const unsigned char*>(key_.data()));
  box.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len);
  return std::string(kPrefix) + key_id_ + ":" + toBase64(box);
}

Result<std::string> FieldCipher::open(std::string_view stored, std::string_view column) const {
  if (!isSealed(stored)) return std::string(stored);
  std::string kid = keyIdOf(stored);
  if (kid != key_id_) {
    return Error{ErrorCode::kInternal, std::string(column),
                 "sealed under data key " + kid + ", not this server's key " + key_id_};
  }
  std::string box;
  std::string_view encoded = stored.substr(kPrefix.size() + kid.size() + 1);
  constexpr std::size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (!fromBase64(encoded, box) || box.size() < kOverhead) {
    return Error{ErrorCode::kInternal, std::string(column), "a sealed value is malformed"};
  }
  ensureSodium();
  std::string plain(box.size() - kOverhead, '\0');
  unsigned long long len = 0;
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
          nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          box.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(column.data()), column.size(), nonce,
          reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return Error{ErrorCode::kInternal, std::string(column),
                 "a sealed value does not open: altered, or sealed for another column"};
  }
  plain.resize(len);
  return plain;
}

std::string FieldCipher::fingerprint(std::string_view plain, std::string_view column) const {
  std::string message(column);
  message += '\0';
  message += plain;
  return hmacSha256Hex(key_, message);
}

std::string FieldCipher::reveal(std::string_view stored, std::string_view column) const {
  auto plain = open(stored, column);
  if (!plain) throw std::runtime_error(plain.error().field + ": " + plain.error().message);
  return std::move(*plain);
}

}  // namespace tph
