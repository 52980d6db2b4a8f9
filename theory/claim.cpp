#include "theory/claim.hpp"

namespace attncert {

std::string_view to_string(Provenance p) {
  switch (p) {
    case Provenance::Printed: return "printed";
    case Provenance::Reconstructed: return "reconstructed";
    case Provenance::Classical: return "classical";
    case Provenance::Conjecture: return "conjecture";
    case Provenance::Experiment: return "experiment";
  }
  return "?";
}

std::string_view to_string(Relation r) {
  switch (r) {
    case Relation::LessEqual: return "<=";
    case Relation::Less: return "<";
    case Relation::GreaterEqual: return ">=";
    case Relation::Greater: return ">";
    case Relation::Equal: return "==";
  }
  return "?";
}

std::string_view to_string(ClaimKind k) {
  switch (k) {
    case ClaimKind::Inequality: return "inequality";
    case ClaimKind::Statistical: return "statistical";
    case ClaimKind::Trend: return "trend";
  }
  return "?";
}

}  // namespace attncert
