// PLACEHOLDER, to be deleted at merge: sweeps::parse_grid is implemented by the sweeps-framework
// branch (issue 6). This branch only needs the symbol to link; it never calls parse_grid with
// the experiments it registers (none) or tests (empty grid text = experiment defaults).
// If the link reports a duplicate definition of parse_grid, delete this file and its line in
// reports/CMakeLists.txt.
#include <stdexcept>
#include <string>

#include "reports/sweep.hpp"

namespace attncert::sweeps {

Grid parse_grid(std::string_view text) {
  throw std::logic_error("parse_grid('" + std::string(text) +
                         "'): not available in this build (the sweeps framework provides it)");
}

}  // namespace attncert::sweeps
