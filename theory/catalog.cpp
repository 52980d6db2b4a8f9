#include "theory/catalog.hpp"

#include <stdexcept>
#include <string>

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

const Claim& catalog_claim(std::string_view id) {
  const Claim* c = find_claim(id);
  if (c == nullptr) throw std::invalid_argument("claim not in catalog: " + std::string(id));
  return *c;
}

}  // namespace attncert
