#include "store/json_rows.h"

namespace tph::store {

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

JsonRows& JsonRows::row() {
  text_ += rows_ == 0 ? "[[" : "],[";
  ++rows_;
  first_in_row_ = true;
  return *this;
}

void JsonRows::separate() {
  if (!first_in_row_) text_.push_back(',');
  first_in_row_ = false;
}

JsonRows& JsonRows::add(std::int64_t value) {
  separate();
  text_ += std::to_string(value);
  return *this;
}

JsonRows& JsonRows::add(std::string_view value) {
  separate();
  appendJsonString(text_, value);
  return *this;
}

JsonRows& JsonRows::add(const std::optional<std::int64_t>& value) {
  return value ? add(*value) : addNull();
}

JsonRows& JsonRows::addNull() {
  separate();
  text_ += "null";
  return *this;
}

std::string JsonRows::text() const {
  return rows_ == 0 ? "[]" : text_ + "]]";
}

void JsonRows::clear() {
  text_.clear();
  rows_ = 0;
  first_in_row_ = true;
}

std::string jsonRowsSource(soci::session& sql, const std::string& name) {
  return backendOf(sql) == Backend::kSqlite ? "json_each(:" + name + ")"
                                            : "json_array_elements(CAST(:" + name + " AS json))";
}

}  // namespace tph::store
