#include "theory/catalog.hpp"

namespace attncert {

const std::vector<std::unique_ptr<Claim>>& catalog() {
  static const std::vector<std::unique_ptr<Claim>> claims = [] {
    std::vector<std::unique_ptr<Claim>> v;
#define ATTNCERT_CLAIM(factory) v.push_back(factory());
#include "theory/claims/claim_list.def"
#undef ATTNCERT_CLAIM
    return v;
  }();
  return claims;
}

const Claim* find_claim(std::string_view id) {
  for (const auto& c : catalog()) {
    if (c->info().id == id) return c.get();
  }
  return nullptr;
}

}  // namespace attncert
