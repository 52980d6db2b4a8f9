// Generic instance generation from a SearchSpace: plain random draws, draws biased toward the
// edge cases where bounds break (range ends, L = 1 and 2, ties, huge and tiny magnitudes,
// spikes, masked entries), and perturbations for local search. Knows nothing about claims.
#pragma once

#include <cstdint>

#include "numerics/rng.hpp"
#include "theory/search_space.hpp"
#include "theory/instance.hpp"

namespace attncert {

enum class SampleMode { Plain, Edge };

/// Draws one instance. Arrays get the shapes their scalar parameters give. A space with a source
/// (SearchSpace::source) takes a uniformly drawn row for what the rows set.
Instance sample_instance(const SearchSpace& space, Rng& rng, SampleMode mode);

/// A nearby instance: real scalars and array entries moved by a relative `step` (integers,
/// and hence shapes, are kept; what a source's row sets is kept). Stays inside every range and
/// law support.
Instance perturb_instance(const SearchSpace& space, const Instance& x, Rng& rng, double step);

/// The integer dimension an array's rows/cols refer to in this instance.
long resolve_dimension(const std::string& dim, const Instance& x);

}  // namespace attncert
