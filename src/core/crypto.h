#pragma once
// Hashing, MACs and randomness, all from libsodium.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tph {

//! Lower-case hex of SHA-256(data).
std::string sha256Hex(std::string_view data);

//! Lower-case hex of HMAC-SHA256(key, message); any key length.
std::string hmacSha256Hex(std::string_view key, std::string_view message);

//! `count` bytes from the operating system's CSPRNG.
std::string randomBytes(std::size_t count);

//! `bytes` random bytes as lower-case hex (so 2 × bytes characters).
std::string randomHex(std::size_t bytes);

std::string toHex(std::string_view bytes);
std::optional<std::string> fromHex(std::string_view hex);

//! Compares two strings in time independent of where they differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

//! Initialises libsodium once; every function here calls it, so callers need not.
void ensureSodium();

}  // namespace tph
