# Issue 14, as `verify` and `replay` show it: the table has the kind and vacuity columns and a
# summary that counts refutations by what they mean; the tightest instance is saved in
# tightest/ (byte-identical per seed), `replay` re-certifies it and re-measures its tightness
# (exit 0: the bound holds there); --json carries the per-family tightness and vacuity; a
# tightest file is pruned and a linked tightest/ refused exactly like counterexamples/.
#   -DEXE=path/to/attncert -DWORK=scratch dir
set(domain "L in [1,32], T in [0.05,5] log, logits ~ normal(0,3)")
file(REMOVE_RECURSE "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/run_attncert.cmake)

# ‖J‖₂ <= 0.501/T holds (conjecture_roundtrip.cmake); two tied logits come within 0.5/0.501.
set(args verify --expr "jacobian_norm <= 0.501/T" --over "${domain}" --seed 3 --budget 400)
run(0 ${args} --out "${WORK}/run")
if(NOT last_out MATCHES "claim +provenance +kind +verdict +certified +tightness +vacuity +bits +note")
  message(FATAL_ERROR "the verify table lacks the kind/vacuity columns:\n${last_out}")
endif()
if(NOT last_out MATCHES "\nconjecture +conjecture +inequality +survived ")
  message(FATAL_ERROR "no row with provenance and kind:\n${last_out}")
endif()
if(NOT last_out MATCHES "summary: 1 survived, 0 refuted, 0 inconclusive; refuted: 0 printed, 0 reconstructed, 0 classical; rejected readings: 0\n")
  message(FATAL_ERROR "no summary counting refutations by provenance:\n${last_out}")
endif()
if(NOT last_out MATCHES "tightest instances in [^\n]*/tightest/")
  message(FATAL_ERROR "verify does not say where the tightest instances are:\n${last_out}")
endif()
set(tightest "${WORK}/run/tightest/conjecture.json")
if(NOT EXISTS "${tightest}")
  message(FATAL_ERROR "no tightest instance file written")
endif()
file(READ "${tightest}" saved)
if(NOT saved MATCHES "\"format\": \"attncert-tightest-1\"" OR NOT saved MATCHES "\"tightness\": 0\\.9")
  message(FATAL_ERROR "the tightest file does not name its format and tightness:\n${saved}")
endif()
run(0 replay "${tightest}")
if(NOT last_out MATCHES "holds \\(certified\\), tightness 0\\.9[0-9]+\n" OR
   NOT last_out MATCHES "\ntightness 0\\.9[0-9]+ \\([^\n]*re-certified" OR
   NOT last_out MATCHES "\nresult +proved")
  message(FATAL_ERROR "replay of the tightest instance did not re-certify it and its tightness:\n${last_out}")
endif()
# A file naming a side family the claim does not have is an input error, one line, no output.
string(REGEX REPLACE "\"family\": [^,\n]*" "\"family\": \"nope\"" edited "${saved}")
file(WRITE "${WORK}/edited.json" "${edited}")
execute_process(COMMAND "${EXE}" replay "${WORK}/edited.json" RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code STREQUAL "4" OR NOT err MATCHES "edited.json: the claim has no side family 'nope'\n$" OR
   NOT out STREQUAL "")
  message(FATAL_ERROR "replay of a tightest file with a foreign family: exit ${code}\n${out}\n${err}")
endif()

# Same seed, same bytes.
run(0 ${args} --out "${WORK}/again")
file(READ "${WORK}/again/tightest/conjecture.json" again)
if(NOT saved STREQUAL again)
  message(FATAL_ERROR "tightest/conjecture.json differs between two runs with the same seed")
endif()

run(0 ${args} --json --out "${WORK}/json")
foreach(field side_tightness vacuity degenerate_instances vacuous_instances verdict_label)
  if(NOT last_out MATCHES "\"${field}\":")
    message(FATAL_ERROR "--json lacks '${field}':\n${last_out}")
  endif()
endforeach()

# A run without the conjecture removes its tightest file and keeps the user's files.
file(WRITE "${WORK}/run/tightest/my-notes.json" "{}\n")
execute_process(COMMAND "${EXE}" verify C.lipschitz --budget 50 --out "${WORK}/run" OUTPUT_QUIET
                RESULT_VARIABLE code)
if(EXISTS "${tightest}")
  message(FATAL_ERROR "a stale tightest file stays beside results of a run without its claim (exit ${code})")
endif()
if(NOT EXISTS "${WORK}/run/tightest/my-notes.json")
  message(FATAL_ERROR "tightest/my-notes.json, a file attncert did not write, was removed")
endif()

# tightest/ as a symbolic link to the user's folder: refused before any work.
file(MAKE_DIRECTORY "${WORK}/userdata" "${WORK}/linked")
file(WRITE "${WORK}/userdata/conjecture.json" "the user's\n")
file(CREATE_LINK "${WORK}/userdata" "${WORK}/linked/tightest" SYMBOLIC)
execute_process(COMMAND "${EXE}" ${args} --out "${WORK}/linked" RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code STREQUAL "4" OR NOT err MATCHES "tightest: is a symbolic link, not a directory")
  message(FATAL_ERROR "verify through a linked tightest/: exit ${code}\n${err}")
endif()
file(READ "${WORK}/userdata/conjecture.json" users)
if(NOT users STREQUAL "the user's\n" OR EXISTS "${WORK}/linked/results.jsonl")
  message(FATAL_ERROR "verify wrote or removed files through a linked tightest/")
endif()
message(STATUS "ok")
