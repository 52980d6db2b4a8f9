// An experiment's grid points as units of distributed_map (proofs_checks/distributed_map.hpp):
// each point's rows are computed by a thread, an MPI rank or read back from a checkpoint, and
// concatenated in point order, so the table is the same whoever computed which point. A point's
// rows must depend on the point alone (its own Rng substream, no state carried between points).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/sweep.hpp"

namespace attncert::sweeps {

/// point_rows(0) … point_rows(n − 1), concatenated in that order. `jobs`: threads of this
/// process (0: all hardware threads). Progress counts points.
std::vector<SweepRow> rows_over_points(std::size_t n, int jobs,
                                       const std::function<std::vector<SweepRow>(std::size_t)>& point_rows,
                                       const ProgressCallback& progress);

/// A point's rows as bytes, every field exactly (doubles by bit pattern, absent optionals kept).
std::string encode_sweep_rows(const std::vector<SweepRow>& rows);
/// Throws std::invalid_argument naming the field for truncated or malformed bytes.
std::vector<SweepRow> decode_sweep_rows(std::string_view bytes);

}  // namespace attncert::sweeps
