# The results directory of `verify` describes exactly one run, whatever -j:
#  - a counterexample file does not stay beside newer results that say its claim survived
#    (it used to: results.jsonl said "survived", counterexamples/conjecture.json said refuted);
#  - files in it that attncert did not write are left alone;
#  - -j 1 and -j 2 write byte-identical results;
#  - a second run on a directory that another run holds fails at once (two runs used to mix
#    their results.jsonl, results.csv and counterexamples/ in one directory).
#   -DEXE=path/to/attncert -DWORK=scratch dir
set(domain "L in [1,32], T in [0.05,5] log, logits ~ normal(0,3)")
file(REMOVE_RECURSE "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/run_attncert.cmake)

# ‖J‖₂ <= c/T is false for c < 1/2 and true for c >= 1/2 (conjecture_roundtrip.cmake).
run(1 verify --expr "jacobian_norm <= 0.499/T" --over "${domain}" --seed 3 --budget 400 --out "${WORK}/run")
if(NOT EXISTS "${WORK}/run/counterexamples/conjecture.json")
  message(FATAL_ERROR "the refuting run wrote no counterexample")
endif()
file(WRITE "${WORK}/run/counterexamples/my-notes.txt" "not attncert's\n")
file(WRITE "${WORK}/run/counterexamples/my-notes.json" "{}\n")  # a .json that no claim id names
run(0 verify --expr "jacobian_norm <= 0.501/T" --over "${domain}" --seed 3 --budget 400 --out "${WORK}/run")
file(READ "${WORK}/run/results.jsonl" jsonl)
if(NOT jsonl MATCHES "\"verdict\":\"survived\"")
  message(FATAL_ERROR "the second run's results do not say survived:\n${jsonl}")
endif()
if(EXISTS "${WORK}/run/counterexamples/conjecture.json")
  message(FATAL_ERROR "a stale counterexample stays beside results that say the claim survived")
endif()
foreach(f my-notes.txt my-notes.json)
  if(NOT EXISTS "${WORK}/run/counterexamples/${f}")
    message(FATAL_ERROR "counterexamples/${f}, a file attncert did not write, was removed")
  endif()
endforeach()

# counterexamples/ as a symbolic link to the user's folder: removing stale counterexamples
# through it deleted every *.json there. Refused before any work; the folder is untouched.
file(MAKE_DIRECTORY "${WORK}/userdata" "${WORK}/linked")
file(WRITE "${WORK}/userdata/A.cor3.json" "the user's\n")
file(CREATE_LINK "${WORK}/userdata" "${WORK}/linked/counterexamples" SYMBOLIC)
execute_process(COMMAND "${EXE}" verify C.lipschitz --budget 50 --out "${WORK}/linked"
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code STREQUAL "4" OR NOT err MATCHES "counterexamples: is a symbolic link, not a directory")
  message(FATAL_ERROR "verify through a linked counterexamples/: exit ${code}\n${err}")
endif()
if(NOT EXISTS "${WORK}/userdata/A.cor3.json" OR EXISTS "${WORK}/linked/results.jsonl")
  message(FATAL_ERROR "verify wrote or removed files through a linked counterexamples/")
endif()

# A FIFO where a results file goes is refused before any work, and nothing is written beside
# it (results.jsonl used to be written after the whole run, then results.csv failed).
file(MAKE_DIRECTORY "${WORK}/fifo")
execute_process(COMMAND mkfifo "${WORK}/fifo/results.csv" RESULT_VARIABLE code)
if(NOT code STREQUAL "0")
  message(FATAL_ERROR "mkfifo failed")
endif()
execute_process(COMMAND "${EXE}" verify C.lipschitz --budget 50 --out "${WORK}/fifo"
                RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code STREQUAL "4" OR NOT err MATCHES "results.csv: is a FIFO, not a regular file")
  message(FATAL_ERROR "verify with a FIFO at results.csv: exit ${code}\n${err}")
endif()
if(EXISTS "${WORK}/fifo/results.jsonl")
  message(FATAL_ERROR "verify wrote results.jsonl beside a refused results.csv")
endif()

# The same claims with one and with two workers: the same bytes.
run(1 verify A.cor1 A.cor3 C.lipschitz --seed 5 --budget 300 -j 1 --out "${WORK}/j1")
run(1 verify A.cor1 A.cor3 C.lipschitz --seed 5 --budget 300 -j 2 --out "${WORK}/j2")
foreach(f results.jsonl results.csv counterexamples/A.cor3.json)
  file(READ "${WORK}/j1/${f}" one)
  file(READ "${WORK}/j2/${f}" two)
  if(NOT one STREQUAL two)
    message(FATAL_ERROR "${f} differs between -j 1 and -j 2")
  endif()
endforeach()
# util-linux's flock(1) holds the directory's lock while attncert runs on it, as a concurrent
# verify would: attncert must refuse at once, before any work, and leave the directory alone.
find_program(FLOCK flock REQUIRED)
file(MAKE_DIRECTORY "${WORK}/held")
file(WRITE "${WORK}/held/results.jsonl" "the other run's\n")
execute_process(COMMAND "${FLOCK}" "${WORK}/held" "${EXE}" verify A.cor1 --budget 50 --out "${WORK}/held"
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code STREQUAL "4" OR NOT err MATCHES "held: is in use by another attncert run\n$")
  message(FATAL_ERROR "verify on a locked directory: exit ${code}, expected 4 and one line\n${out}\n${err}")
endif()
file(READ "${WORK}/held/results.jsonl" held)
if(NOT held STREQUAL "the other run's\n")
  message(FATAL_ERROR "verify wrote into a directory another run holds")
endif()
message(STATUS "ok")
