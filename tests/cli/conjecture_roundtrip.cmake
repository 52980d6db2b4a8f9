# A false conjecture: verify refutes it (exit 1) and saves a counterexample; replay
# re-certifies it (exit 1); a second run with the same seed writes byte-identical results;
# the true conjecture with a slightly larger constant survives (exit 0).
#   -DEXE=path/to/attncert -DWORK=scratch dir
set(domain "L in [1,32], T in [0.05,5] log, logits ~ normal(0,3)")
file(REMOVE_RECURSE "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/run_attncert.cmake)

# ‖J‖₂ <= c/T: false for c < 1/2 (two tied logits reach 1/(2T)), true for c >= 1/2.
run(1 verify --expr "jacobian_norm <= 0.499/T" --over "${domain}" --seed 3 --out "${WORK}/a")
if(NOT EXISTS "${WORK}/a/counterexamples/conjecture.json")
  message(FATAL_ERROR "no counterexample file written:\n${last_out}")
endif()
run(1 replay "${WORK}/a/counterexamples/conjecture.json")
if(NOT last_out MATCHES "VIOLATED \\(certified\\)")
  message(FATAL_ERROR "replay did not re-certify the violation:\n${last_out}")
endif()
run(1 verify --expr "jacobian_norm <= 0.499/T" --over "${domain}" --seed 3 --out "${WORK}/b")
foreach(f results.jsonl results.csv counterexamples/conjecture.json)
  file(READ "${WORK}/a/${f}" first)
  file(READ "${WORK}/b/${f}" second)
  if(NOT first STREQUAL second)
    message(FATAL_ERROR "${f} differs between two runs with the same seed")
  endif()
endforeach()
run(0 verify --expr "jacobian_norm <= 0.501/T" --over "${domain}" --seed 3 --out "${WORK}/c")
if(NOT last_out MATCHES "survived")
  message(FATAL_ERROR "the true conjecture did not survive:\n${last_out}")
endif()
# Lower bounds too: alpha_max >= c/L is true for c <= 1 and false above (α_max >= 1/L always).
run(0 verify --expr "alpha_max >= 0.999/L" --over "${domain}" --out "${WORK}/d")
run(1 verify --expr "alpha_max >= 1.001/L" --over "${domain}" --out "${WORK}/e")
# Bad input leaves no result file under a final name.
run(4 verify --expr "alpha_max <= (1/L" --over "${domain}" --out "${WORK}/f")
file(GLOB leftovers "${WORK}/f/*")
if(leftovers)
  message(FATAL_ERROR "a failed run left files behind: ${leftovers}")
endif()
message(STATUS "ok")
