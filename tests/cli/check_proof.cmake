# check-proof on a real certificate and on copies of it: valid → 0 with the summary; a lowered
# bound, a moved split point, a deleted leaf, a truncated file, a wrong format, another claim
# → 4 with one line naming what is wrong.
#   -DEXE=path/to/attncert -DWRITER=path/to/write_proof_certificate -DWORK=scratch dir
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/run_attncert.cmake)

# Expects `attncert check-proof FILE ARGS…` to exit 4 with one stderr line matching `pattern`.
function(expect_rejected file pattern)
  execute_process(COMMAND "${EXE}" check-proof "${file}" ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(STRIP "${err}" err)
  if(NOT code STREQUAL "4" OR NOT err MATCHES "${pattern}" OR err MATCHES "\n")
    message(FATAL_ERROR "check-proof ${file} ${ARGN}: exit ${code}, expected 4 and one line matching '${pattern}'\n${out}\n${err}")
  endif()
  message(STATUS "ok: rejected ${file}: ${err}")
endfunction()

# H(p) <= 0.7 for two logits (the maximum is log 2 = 0.6931…, at a tie): true with little room,
# so the prover's tree splits and mixes naive and mean-value leaves.
set(statement "entropy <= 0.7")
set(domain "L in [2, 2], T in [1, 1], logits in [-1, 1]^L")
set(good "${WORK}/good.json")
execute_process(COMMAND "${WRITER}" "${statement}" "${domain}" "${good}" RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code STREQUAL "0")
  message(FATAL_ERROR "the prover did not prove '${statement}' over '${domain}': ${err}")
endif()
run(0 check-proof "${good}")
if(NOT last_out MATCHES "^valid: claim conjecture, 1 goal, [0-9]+ leaves re-checked with MPFI; scope L in \\{2\\}")
  message(FATAL_ERROR "unexpected summary:\n${last_out}")
endif()
run(0 check-proof "${good}" --claim conjecture)
expect_rejected("${good}" "is a certificate for claim 'conjecture', not 'A.cor1'" --claim A.cor1)

file(READ "${good}" text)
string(JSON tree GET "${text}" goals 0 tree)
string(JSON root_at ERROR_VARIABLE no_split GET "${tree}" split at)
if(no_split)
  message(FATAL_ERROR "the prover's tree has no split at its root: ${tree}")
endif()

# The bound lowered below log 2 in the program alone: no longer the claim's goal.
string(REPLACE "\"0.7\"" "\"0.69\"" lowered "${text}")
file(WRITE "${WORK}/lowered_program.json" "${lowered}")
expect_rejected("${WORK}/lowered_program.json" "INVALID: not a proof of claim 'conjecture': goal 1 \\('L = 2'\\): its program differs from the claim's goal 'L = 2'")
# The scope, domain and statement check-proof prints are the claim's own: a certificate that
# claims a wider scope than its goals cover is refused.
string(JSON forged SET "${text}" scope "\"L in {2}, T in [1, 1], logits in [-1000, 1000]^L\"")
file(WRITE "${WORK}/forged_scope.json" "${forged}")
expect_rejected("${WORK}/forged_scope.json" "INVALID: not a proof of claim 'conjecture': its scope 'L in \\{2\\}, T in \\[1, 1\\], logits in \\[-1000, 1000\\]\\^L' is not the claim's")
# … and in the statement too: the goals match a (false) conjecture, and a leaf fails.
string(JSON lowered SET "${lowered}" statement "\"entropy <= 0.69\"")
file(WRITE "${WORK}/lowered.json" "${lowered}")
expect_rejected("${WORK}/lowered.json" "INVALID: goal 'L = 2': leaf at tree[.a-z]* \\([a-z_]+, [0-9]+ bits\\) on box .*not shown")

# The root split point moved off the tie logits_1 = logits_2 … the children's leaves no longer hold.
string(JSON moved SET "${text}" goals 0 tree split at "\"0.75\"")
file(WRITE "${WORK}/moved.json" "${moved}")
expect_rejected("${WORK}/moved.json" "INVALID: goal 'L = 2': (leaf|node) at tree\\.split")
# … to a point that is not a double.
string(JSON moved SET "${text}" goals 0 tree split at "\"0.1\"")
file(WRITE "${WORK}/not_a_double.json" "${moved}")
expect_rejected("${WORK}/not_a_double.json" "goals\\[0\\]\\.tree\\.split\\.at: '0\\.1' is not exactly a double")

# A leaf deleted.
string(JSON deleted REMOVE "${text}" goals 0 tree split below)
file(WRITE "${WORK}/deleted.json" "${deleted}")
expect_rejected("${WORK}/deleted.json" "goals\\[0\\]\\.tree\\.split: missing field 'below'")

# Truncated, another format.
string(LENGTH "${text}" n)
math(EXPR half "${n} / 2")
string(SUBSTRING "${text}" 0 ${half} truncated)
file(WRITE "${WORK}/truncated.json" "${truncated}")
expect_rejected("${WORK}/truncated.json" "not valid JSON")
string(JSON other SET "${text}" format "\"attncert-counterexample\"")
file(WRITE "${WORK}/other_format.json" "${other}")
expect_rejected("${WORK}/other_format.json" "format: expected 'attncert-proof'")
string(JSON other SET "${text}" claim "\"X.nope\"")
file(WRITE "${WORK}/unknown_claim.json" "${other}")
expect_rejected("${WORK}/unknown_claim.json" "unknown claim id 'X.nope'")

# A catalog claim: C.taylor2's plan (the Taylor-2 remainder over logits in [-10, 10]) is attained
# at 0, so the prover proves it only with a slack, and check-proof says so.
set(catalog "${WORK}/taylor2.json")
execute_process(COMMAND "${WRITER}" C.taylor2 "${catalog}" RESULT_VARIABLE code ERROR_VARIABLE err)
if(NOT code STREQUAL "0")
  message(FATAL_ERROR "the prover did not prove C.taylor2's plan: ${err}")
endif()
run(0 check-proof "${catalog}" --claim C.taylor2)
if(NOT last_out MATCHES "^valid( with slack)?: claim C\\.taylor2, [0-9]+ goals?, [0-9]+ leaves re-checked with MPFI")
  message(FATAL_ERROR "unexpected summary for C.taylor2:\n${last_out}")
endif()
# The same file presented as another claim's proof: its goals are not that claim's.
file(READ "${catalog}" text)
string(JSON other SET "${text}" claim "\"C.jacobian-softmax\"")
file(WRITE "${WORK}/taylor2_as_jacobian.json" "${other}")
expect_rejected("${WORK}/taylor2_as_jacobian.json" "INVALID: not a proof of claim 'C\\.jacobian-softmax'")
