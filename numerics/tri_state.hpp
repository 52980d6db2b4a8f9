// Tri: the outcome of comparing enclosures — True (proved for every point), False (disproved
// for every point) or Unknown (the enclosures overlap). Ball comparisons return Tri.
//
// Tri never converts implicitly. In a boolean context (if, &&, ||, !) it reads as "proved",
// Arb's own convention for arb_lt & co.; ! and Kleene && / || between two Tri stay
// three-valued, so !(a < b) in an if means "a >= b is proved", never "a < b is not proved".
// Code that must distinguish False from Unknown compares with Tri::False / Tri::Unknown.
#pragma once

#include <string_view>

namespace attncert {

class Tri {
 public:
  enum Value : unsigned char { False, True, Unknown };
  constexpr Tri(Value v) noexcept : v_(v) {}  // NOLINT(google-explicit-constructor)
  static constexpr Tri from_bool(bool b) noexcept { return b ? True : False; }

  constexpr Value value() const noexcept { return v_; }
  /// Proved. The only conversion to bool, and an explicit one.
  constexpr explicit operator bool() const noexcept { return v_ == True; }

  friend constexpr bool operator==(Tri a, Tri b) noexcept { return a.v_ == b.v_; }
  friend constexpr Tri operator!(Tri t) noexcept {
    return t.v_ == True ? False : t.v_ == False ? True : Unknown;
  }
  /// Kleene conjunction and disjunction (both operands are always evaluated).
  friend constexpr Tri operator&&(Tri a, Tri b) noexcept {
    if (a.v_ == False || b.v_ == False) return False;
    if (a.v_ == True && b.v_ == True) return True;
    return Unknown;
  }
  friend constexpr Tri operator||(Tri a, Tri b) noexcept {
    if (a.v_ == True || b.v_ == True) return True;
    if (a.v_ == False && b.v_ == False) return False;
    return Unknown;
  }

 private:
  Value v_;
};

/// Proved.
constexpr bool certainly(Tri t) noexcept { return t == Tri::True; }
/// Not disproved.
constexpr bool possibly(Tri t) noexcept { return !(t == Tri::False); }
constexpr bool undecided(Tri t) noexcept { return t == Tri::Unknown; }

constexpr std::string_view to_string(Tri t) noexcept {
  return t == Tri::True ? "true" : t == Tri::False ? "false" : "unknown";
}

}  // namespace attncert
