#pragma once
// Highlighted snippets for search results: a window of the article's text around the first hit,
// HTML-escaped, with every hit of every term wrapped in <mark>. Works on UTF-8 code points, so a
// Chinese character is never cut in half.

#include <string>
#include <string_view>
#include <vector>

namespace tph::content {

inline constexpr std::size_t kSnippetBeforeChars = 30;
inline constexpr std::size_t kSnippetChars = 120;

//! Code points in a UTF-8 string.
std::size_t utf8Length(std::string_view text);

//! The snippet for `terms` (matched ignoring ASCII case) in `text`; the text's start when no
//! term occurs.
std::string highlightSnippet(std::string_view text, const std::vector<std::string>& terms);

}  // namespace tph::content
