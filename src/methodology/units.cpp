#include "methodology/units.h"

#include <cctype>
#include <cstdlib>
#include <vector>

namespace tph::methodology {

namespace {

constexpr std::string_view kBaseUnits[] = {"g",  "kg",   "t",     "km",    "m",     "kWh",
                                           "m3", "L",    "steps", "trips", "trees", "ha",
                                           "mu", "year", "day",   "h",     "count"};

void combine(Unit& into, const Unit& other, int sign) {
  for (const auto& [name, exp] : other) {
    int& e = into[name];
    e += sign * exp;
    if (e == 0) into.erase(name);
  }
}

class UnitParser {
 public:
  explicit UnitParser(std::string_view text) : text_(text) {}

  Result<Unit> parse() {
    auto unit = expression();
    if (!unit) return unit;
    skipSpace();
    if (pos_ != text_.size()) return fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return unit;
  }

 private:
  Result<Unit> expression() {
    auto left = term();
    if (!left) return left;
    Unit unit = *left;
    for (;;) {
      skipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '*' && text_[pos_] != '/')) return unit;
      int sign = text_[pos_++] == '*' ? 1 : -1;
      auto right = term();
      if (!right) return right;
      combine(unit, *right, sign);
    }
  }
  Result<Unit> term() {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      auto inner = expression();
      if (!inner) return inner;
      skipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return fail("missing ')'");
      ++pos_;
      return inner;
    }
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
      ++pos_;
    }
    std::string name(text_.substr(start, pos_ - start));
    if (name.empty()) return fail("expected a unit name");
    if (name == "1") return Unit{};
    if (!isBaseUnit(name)) return fail("unknown unit '" + name + "'");
    return Unit{{name, 1}};
  }
  void skipSpace() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  Error fail(const std::string& message) const {
    return Error::invalid("unit", "unit '" + std::string(text_) + "': " + message);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// A dimension during formula checking: a unit, or "any" for a bare number.
struct Dim {
  Unit unit;
  bool any = false;
};

class FormulaChecker {
 public:
  FormulaChecker(std::string_view formula, const std::map<std::string, Unit>& variables)
      : text_(formula), variables_(variables) {}

  Result<Unit> check() {
    auto d = ternary();
    if (!d) return d.error();
    skipSpace();
    if (pos_ != text_.size()) return fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return d->unit;
  }

 private:
  using R = Result<Dim>;

  R ternary() {
    auto cond = logical();
    if (!cond) return cond;
    skipSpace();
    if (!accept('?')) return cond;
    auto a = ternary();
    if (!a) return a;
    skipSpace();
    if (!accept(':')) return fail("missing ':' in a ? b : c");
    auto b = ternary();
    if (!b) return b;
    return same(*a, *b, "the two branches of ?:");
  }
  R logical() {
    auto left = comparison();
    if (!left) return left;
    for (;;) {
      skipSpace();
      if (!acceptText("&&") && !acceptText("||")) return left;
      auto right = comparison();
      if (!right) return right;
      left = Dim{{}, false};
    }
  }
  R comparison() {
    auto left = additive();
    if (!left) return left;
    skipSpace();
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (acceptText(op)) {
        auto right = additive();
        if (!right) return right;
        auto checked = same(*left, *right, std::string("the comparison ") + op);
        if (!checked) return checked;
        return Dim{{}, false};
      }
    }
    return left;
  }
  R additive() {
    auto left = multiplicative();
    if (!left) return left;
    for (;;) {
      skipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '+' && text_[pos_] != '-')) return left;
      char op = text_[pos_++];
      auto right = multiplicative();
      if (!right) return right;
      left = same(*left, *right, op == '+' ? "an addition" : "a subtraction");
      if (!left) return left;
    }
  }
  R multiplicative() {
    auto left = unary();
    if (!left) return left;
    for (;;) {
      skipSpace();
      if (pos_ >= text_.size() || (text_[pos_] != '*' && text_[pos_] != '/')) return left;
      int sign = text_[pos_++] == '*' ? 1 : -1;
      auto right = unary();
      if (!right) return right;
      Dim out{left->unit, left->any && right->any};
      combine(out.unit, right->unit, sign);
      left = out;
    }
  }
  R unary() {
    skipSpace();
    if (accept('-') || accept('+')) return unary();
    auto base = primary();
    if (!base) return base;
    skipSpace();
    if (accept('^')) {
      auto exponent = unary();
      if (!exponent) return exponent;
      if (!base->unit.empty()) return fail("only a unit-free value may be raised to a power");
      return Dim{{}, base->any};
    }
    return base;
  }
  R primary() {
    skipSpace();
    if (pos_ >= text_.size()) return fail("the formula ends too early");
    char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      auto inner = ternary();
      if (!inner) return inner;
      skipSpace();
      if (!accept(')')) return fail("missing ')'");
      return inner;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      char* end = nullptr;
      std::string rest(text_.substr(pos_));
      std::strtod(rest.c_str(), &end);
      pos_ += static_cast<std::size_t>(end - rest.c_str());
      return Dim{{}, true};
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      std::string name(text_.substr(start, pos_ - start));
      skipSpace();
      if (accept('(')) return call(name);
      auto it = variables_.find(name);
      if (it == variables_.end()) return fail("unknown variable '" + name + "'");
      return Dim{it->second, false};
    }
    return fail("unexpected '" + std::string(1, c) + "'");
  }
  R call(const std::string& name) {
    std::vector<Dim> args;
    skipSpace();
    if (!accept(')')) {
      for (;;) {
        auto arg = ternary();
        if (!arg) return arg;
        args.push_back(*arg);
        skipSpace();
        if (accept(')')) break;
        if (!accept(',')) return fail("expected ',' or ')' in " + name + "(...)");
      }
    }
    if (name == "min" || name == "max" || name == "sum") {
      if (args.empty()) return fail(name + "() needs arguments");
      Dim out = args[0];
      for (std::size_t i = 1; i < args.size(); ++i) {
        auto merged = same(out, args[i], "the arguments of " + name + "()");
        if (!merged) return merged;
        out = *merged;
      }
      return out;
    }
    if (name == "abs" || name == "rint") {
      if (args.size() != 1) return fail(name + "() takes one argument");
      return args[0];
    }
    if (name == "sqrt") {
      if (args.size() != 1) return fail("sqrt() takes one argument");
      Dim out{{}, args[0].any};
      for (const auto& [u, e] : args[0].unit) {
        if (e % 2 != 0) return fail("sqrt() of " + formatUnit(args[0].unit) + " has no unit");
        out.unit[u] = e / 2;
      }
      return out;
    }
    return fail("unknown function '" + name + "'");
  }

  R same(const Dim& a, const Dim& b, const std::string& what) {
    if (a.any) return b;
    if (b.any) return a;
    if (a.unit != b.unit) {
      return fail(what + " mixes " + formatUnit(a.unit) + " with " + formatUnit(b.unit));
    }
    return a;
  }
  bool accept(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool acceptText(std::string_view s) {
    if (text_.substr(pos_, s.size()) == s) {
      pos_ += s.size();
      return true;
    }
    return false;
  }
  void skipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  Error fail(const std::string& message) const {
    return Error::invalid("formula", message + " (at character " + std::to_string(pos_ + 1) + ")");
  }

  std::string_view text_;
  const std::map<std::string, Unit>& variables_;
  std::size_t pos_ = 0;
};

}  // namespace

bool isBaseUnit(std::string_view name) {
  for (auto base : kBaseUnits) {
    if (base == name) return true;
  }
  return false;
}

Result<Unit> parseUnit(std::string_view text) {
  return UnitParser(text).parse();
}

std::string formatUnit(const Unit& unit) {
  if (unit.empty()) return "a unit-free number";
  std::string num, den;
  for (const auto& [name, exp] : unit) {
    std::string& side = exp > 0 ? num : den;
    int n = std::abs(exp);
    if (!side.empty()) side += "*";
    side += name;
    if (n > 1) side += "^" + std::to_string(n);
  }
  if (num.empty()) num = "1";
  if (den.empty()) return num;
  return num + "/" + (den.find('*') != std::string::npos ? "(" + den + ")" : den);
}

Result<Unit> formulaUnit(std::string_view formula, const std::map<std::string, Unit>& variables) {
  return FormulaChecker(formula, variables).check();
}

}  // namespace tph::methodology
