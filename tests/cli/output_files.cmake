# Output files are never damaged or lost (issue 16), in a private scratch directory (CI may run
# this as root, so it never names a system device):
# - check-kernel --out refuses a FIFO, a symbolic link and a directory (exit 4, one line) and
#   leaves them as they were; the old code replaced them with a regular file;
# - sweep --out / is refused (as root the old code wrote /NAME.csv), so is a symbolic link as
#   NAME.csv; a stale NAME.csv.tmp-<dead pid>-* beside the CSV goes with the next run;
# - report --out on a directory with a fake one-line run.json is refused and the user's file
#   survives (the old code took it for a report and deleted it);
# - report --out on a report with the user's file in data/, figures/ or counterexamples/ is
#   refused naming that file, which survives (the old code looked at the top level only and
#   deleted it); a report as attncert wrote it is still replaced.
#   -DEXE=path/to/attncert -DWORK=scratch dir
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(expect_refused code pattern)
  execute_process(COMMAND "${EXE}" ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " shown "${ARGN}")
  string(STRIP "${err}" stripped)
  string(FIND "${stripped}" "\n" newline)
  if(NOT rc STREQUAL "${code}" OR NOT err MATCHES "${pattern}" OR NOT newline EQUAL -1)
    message(FATAL_ERROR "attncert ${shown}: exit ${rc} (expected ${code}), stderr should be one line "
                        "matching '${pattern}':\n${out}\n${err}")
  endif()
endfunction()

function(expect_file_type path type)  # type as `stat -c %F` prints it
  execute_process(COMMAND stat -c %F "${path}" OUTPUT_VARIABLE got OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT got STREQUAL "${type}")
    message(FATAL_ERROR "${path} is now a '${got}', expected '${type}'")
  endif()
endfunction()

# check-kernel --out: FIFO, symbolic link, directory.
execute_process(COMMAND mkfifo "${WORK}/fifo" RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "mkfifo failed")
endif()
file(WRITE "${WORK}/victim.csv" "precious")
file(CREATE_LINK "${WORK}/victim.csv" "${WORK}/link.csv" SYMBOLIC)
set(ck check-kernel jacobian-norm --seqlen-k 1 --dtype fp32)
expect_refused(4 "--out .*/fifo: is a FIFO, not a regular file" ${ck} --out "${WORK}/fifo")
expect_refused(4 "--out .*/link.csv: is a symbolic link, not a regular file" ${ck} --out "${WORK}/link.csv")
expect_refused(4 "--out .*: is a directory, not a regular file" ${ck} --out "${WORK}")
expect_file_type("${WORK}/fifo" "fifo")
expect_file_type("${WORK}/link.csv" "symbolic link")
file(READ "${WORK}/victim.csv" victim)
if(NOT victim STREQUAL "precious")
  message(FATAL_ERROR "the symbolic link's target was overwritten: ${victim}")
endif()

# sweep --out: the root directory, a symbolic link as NAME.csv; a stale temporary goes.
set(sw sweep vanishing-attention --quick --grid "L=4, Delta_over_T=0, trials=2")
expect_refused(4 "--out /: is the root directory" ${sw} --out /)
file(MAKE_DIRECTORY "${WORK}/sweep")
file(CREATE_LINK "${WORK}/victim.csv" "${WORK}/sweep/vanishing-attention.csv" SYMBOLIC)
expect_refused(4 "vanishing-attention.csv: is a symbolic link" ${sw} --out "${WORK}/sweep")
file(REMOVE "${WORK}/sweep/vanishing-attention.csv")
execute_process(COMMAND sh -c "echo $$" OUTPUT_VARIABLE dead OUTPUT_STRIP_TRAILING_WHITESPACE)  # exited: dead
set(stale "${WORK}/sweep/vanishing-attention.csv.tmp-${dead}-0123456789abcdef")
file(WRITE "${stale}" "half a csv")
execute_process(COMMAND "${EXE}" ${sw} --out "${WORK}/sweep" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL "0" OR NOT EXISTS "${WORK}/sweep/vanishing-attention.csv")
  message(FATAL_ERROR "sweep into ${WORK}/sweep: exit ${rc}\n${out}\n${err}")
endif()
if(EXISTS "${stale}")
  message(FATAL_ERROR "the stale temporary of dead process ${dead} is still there")
endif()

# report --out: a fake one-line run.json does not make a directory a report.
file(MAKE_DIRECTORY "${WORK}/mine")
file(WRITE "${WORK}/mine/run.json" "{\"generator\": \"attncert report\"}\n")
file(WRITE "${WORK}/mine/thesis.tex" "my work")
expect_refused(4 "--out .*/mine: exists and is not a report written by attncert \\(it holds 'thesis.tex', which a report does not\\)"
               report --quick --no-pdf --no-verify --out "${WORK}/mine")
file(READ "${WORK}/mine/thesis.tex" thesis)
if(NOT thesis STREQUAL "my work")
  message(FATAL_ERROR "the user's file in the fake report directory is gone or changed")
endif()

# report --out: a report the user added files to below its top level is not replaced.
set(rep report --quick --no-pdf --no-verify --out "${WORK}/rep")
foreach(pass first second)  # the second run replaces the report the first one wrote
  execute_process(COMMAND "${EXE}" ${rep} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "0" OR NOT EXISTS "${WORK}/rep/report.tex")
    message(FATAL_ERROR "report --out ${WORK}/rep (${pass} run): exit ${rc}\n${out}\n${err}")
  endif()
endforeach()
foreach(added data/my-analysis.csv figures/my-notes.tex counterexamples/my-edited-A.cor3.json)
  file(WRITE "${WORK}/rep/${added}" "my work")
  string(REPLACE "." "\\." pattern "${added}")
  expect_refused(4 "--out .*/rep: exists and is not a report written by attncert \\(it holds '${pattern}', which a report does not\\)"
                 ${rep})
  file(READ "${WORK}/rep/${added}" mine)
  if(NOT mine STREQUAL "my work")
    message(FATAL_ERROR "the user's ${added} in the report directory is gone or changed")
  endif()
  file(REMOVE "${WORK}/rep/${added}")
endforeach()
message(STATUS "ok: output targets refused, stale temporary removed, user files kept")
