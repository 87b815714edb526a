#include "content/search_snippet.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "content/markdown.h"

namespace tph::content {

namespace {

bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

std::string asciiLower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

//! Moves `pos` back by `chars` code points (not before 0).
std::size_t backChars(std::string_view text, std::size_t pos, std::size_t chars) {
  while (pos > 0 && chars > 0) {
    --pos;
    while (pos > 0 && isContinuation(text[pos])) --pos;
    --chars;
  }
  return pos;
}

//! Moves `pos` forward by `chars` code points (not past the end).
std::size_t forwardChars(std::string_view text, std::size_t pos, std::size_t chars) {
  while (pos < text.size() && chars > 0) {
    ++pos;
    while (pos < text.size() && isContinuation(text[pos])) ++pos;
    --chars;
  }
  return pos;
}

std::string flatten(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return out;
}

}  // namespace

std::size_t utf8Length(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !isContinuation(c); }));
}

std::string highlightSnippet(std::string_view text, const std::vector<std::string>& terms) {
  std::string lower = asciiLower(text);
  std::vector<std::pair<std::size_t, std::size_t>> hits;  // [start, end) in bytes
  for (const auto& term : terms) {
    if (term.empty()) continue;
    std::string needle = asciiLower(term);
    for (auto at = lower.find(needle); at != std::string::npos;
         at = lower.find(needle, at + needle.size())) {
      hits.emplace_back(at, at + needle.size());
    }
  }
  std::sort(hits.begin(), hits.end());
  // Overlapping hits of different terms merge into one mark.
  std::vector<std::pair<std::size_t, std::size_t>> merged;
  for (const auto& h : hits) {
    if (!merged.empty() && h.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, h.second);
    } else {
      merged.push_back(h);
    }
  }
  std::size_t first = merged.empty() ? 0 : merged.front().first;
  std::size_t begin = backChars(text, first, kSnippetBeforeChars);
  std::size_t end = forwardChars(text, begin, kSnippetChars);
  std::string out = begin > 0 ? "…" : "";
  std::size_t pos = begin;
  for (const auto& [start, stop] : merged) {
    if (stop <= begin) continue;
    if (start >= end) break;
    auto s = std::max(start, begin);
    auto e = std::min(stop, end);
    out += escapeHtml(flatten(text.substr(pos, s - pos)));
    out += "<mark>" + escapeHtml(flatten(text.substr(s, e - s))) + "</mark>";
    pos = e;
  }
  out += escapeHtml(flatten(text.substr(pos, end - pos)));
  if (end < text.size()) out += "…";
  return out;
}

}  // namespace tph::content
