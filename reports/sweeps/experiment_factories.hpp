// Factories of the report's experiments, one per reports/sweeps/<name>.cpp.
#pragma once

#include "reports/sweep.hpp"

namespace attncert::sweeps {

#define ATTNCERT_EXPERIMENT(factory) Experiment factory();
#include "reports/sweeps/experiment_list.def"
#undef ATTNCERT_EXPERIMENT

}  // namespace attncert::sweeps
