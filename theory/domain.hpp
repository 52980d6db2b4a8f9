// Domain: where a user conjecture's inputs range, e.g.
//   L in [2, 64], T in [0.01, 10] log, logits ~ normal(0, 3)
// parsed into plain data the engine samples from. Same one-line "column N: ..." errors as the
// expression language (ParseError).
//
// Grammar (EBNF; whitespace may separate tokens; the empty text is the empty domain):
//
//   domain = [ item { "," item } ] ;
//   item   = name "in" "[" signed "," signed "]" [ "log" ]   (* closed range *)
//          | name "=" signed                                 (* fixed value *)
//          | name "~" law                                    (* vector input, entrywise law *)
//          | name "in" "[" signed "," signed "]" "^" shape ;  (* array input, every entry in the box *)
//   shape  = size | "(" size "," size ")" ;                  (* its length, or a matrix's rows, cols *)
//   size   = name | digits ;                                 (* a parameter (L, d) or a literal *)
//   law    = "normal" "(" signed "," signed ")"              (* mean, sigma > 0 *)
//          | "uniform" "(" signed "," signed ")"             (* lower <= upper *)
//          | "rademacher" [ "(" ")" ]                        (* +-1 with probability 1/2 *)
//          | "sphere" "(" signed ")" ;                       (* uniform on the sphere, radius > 0 *)
//   signed = [ "+" | "-" ] number ;                          (* number as in expression.hpp *)
//
// Rules: ranges and fixed values are for scalar parameters (QuantityKind::RealParameter,
// IntegerParameter), laws or boxes for vector inputs (QuantityKind::VectorInput; a box's shape
// must be the input's own: logits ^L, q ^d, K and X ^(L, d)); derived quantities
// and constants cannot be set. An integer parameter's bounds and value must be integers (so an
// integer range is empty only when lower > upper). Every bound and value must respect the
// quantity's admissible minimum (T > 0, L >= 1, ...). "log" (sample log-uniformly) needs
// lower > 0. Each name appears at most once. lower > upper is an error naming the item.
// A range's bounds (and uniform's) mean the decimals written: they are stored rounded inward to
// doubles (lower up, upper down), so a double lies in the stored range exactly when it lies in
// the written one, and a range holding no double is an error. A fixed value, and the other law
// parameters, are the doubles nearest to them (an instance holds doubles).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "theory/expression.hpp"

namespace attncert {

/// NAME in [lower, upper] — closed; integer for integer parameters; log_scale: sample
/// log-uniformly (lower > 0). Bounds rounded inward from the text (see above).
struct DomainRange {
  double lower = 0;
  double upper = 0;
  bool integer = false;
  bool log_scale = false;
  double outer_lower = 0;  // the written bounds rounded outward (what a proof must cover)
  double outer_upper = 0;
  /// The text's meaning: the outward bounds follow from the inward ones' text (not compared).
  friend bool operator==(const DomainRange& a, const DomainRange& b) {
    return a.lower == b.lower && a.upper == b.upper && a.integer == b.integer && a.log_scale == b.log_scale;
  }
};

/// NAME = value.
struct DomainFixed {
  double value = 0;
  /// The written decimal rounded down and up (equal to value when it is a double): a proof
  /// covers the decimal itself, T = 0.1 meaning one tenth. Not compared (the text's meaning).
  double outer_lower = 0;
  double outer_upper = 0;
  friend bool operator==(const DomainFixed& a, const DomainFixed& b) { return a.value == b.value; }
};

/// NAME ~ normal(mean, sigma): each entry independently; sigma > 0.
struct NormalLaw {
  double mean = 0;
  double sigma = 1;
  friend bool operator==(const NormalLaw&, const NormalLaw&) = default;
};

/// NAME ~ uniform(lower, upper): each entry independently; lower <= upper, rounded inward.
struct UniformLaw {
  double lower = 0;
  double upper = 1;
  friend bool operator==(const UniformLaw&, const UniformLaw&) = default;
};

/// NAME ~ rademacher: each entry -1 or +1 with probability 1/2.
struct RademacherLaw {
  friend bool operator==(const RademacherLaw&, const RademacherLaw&) = default;
};

/// NAME ~ sphere(radius): a vector uniform on the sphere of that radius (for a matrix input
/// such as keys: each row); radius > 0.
struct SphereLaw {
  double radius = 1;
  friend bool operator==(const SphereLaw&, const SphereLaw&) = default;
};

/// NAME in [lower, upper]^SHAPE: an array input whose every entry lies in the closed box
/// (sampled uniformly; the prover covers it). Bounds rounded inward like a range's; outer_lower
/// and outer_upper are the same decimals rounded outward (what a proof must cover).
struct ArrayBox {
  double lower = 0;
  double upper = 0;
  double outer_lower = 0;
  double outer_upper = 0;
  std::string shape;  // as written after '^' ("L", "d", "3"; a matrix: "L,d")
  friend bool operator==(const ArrayBox& a, const ArrayBox& b) {
    return a.lower == b.lower && a.upper == b.upper && a.shape == b.shape;
  }
};

struct DomainItem {
  using Spec = std::variant<DomainRange, DomainFixed, NormalLaw, UniformLaw, RademacherLaw, SphereLaw, ArrayBox>;
  std::string name;
  Spec spec;
  std::size_t column = 0;  // 1-based column of the name in the domain text (0 if built by code)
  friend bool operator==(const DomainItem& a, const DomainItem& b) {
    return a.name == b.name && a.spec == b.spec;  // the column is provenance, not content
  }
};

struct Domain {
  std::vector<DomainItem> items;  // in the order given

  /// The item for `name`, or nullptr.
  const DomainItem* find(std::string_view name) const noexcept;
  friend bool operator==(const Domain&, const Domain&) = default;
};

/// Canonical text that parse_domain reads back to an equal Domain, e.g.
/// "L in [2, 64], T in [0.01, 10] log, logits ~ normal(0, 3)". Numbers are the shortest
/// decimals that read back to the same double (bounds: under their inward rounding).
std::string to_string(const Domain& domain);
std::string to_string(const DomainItem& item);

/// Throws ParseError ("column N: ...") on malformed or inadmissible text.
Domain parse_domain(std::string_view text, const QuantityRegistry& registry = default_quantities());

}  // namespace attncert
