# replay re-checks that a counterexample lies in its claim's domain: an edited file outside it
# (range, sign, shape, mask, law support, decimal bound, hypothesis, foreign expression, 1e999) is
# an input error (exit 4, one line naming the field), never "refuted (certified)"; the same
# files inside the domain still replay as before.
#   -DEXE=path/to/attncert -DWORK=private scratch dir
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# Writes ${json} to WORK/${name}.json, replays it, and checks the exit code and that stdout
# (exit 0/1) or the single stderr line (exit 4) matches ${pattern}.
function(replay name expected pattern json)
  file(WRITE "${WORK}/${name}.json" "${json}")
  execute_process(COMMAND "${EXE}" replay "${WORK}/${name}.json"
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code STREQUAL "${expected}")
    message(FATAL_ERROR "${name}: exit ${code}, expected ${expected}\n${out}\n${err}")
  endif()
  if(expected STREQUAL "4")
    string(STRIP "${err}" line)
    if(line MATCHES "\n" OR NOT line MATCHES "${pattern}")
      message(FATAL_ERROR "${name}: stderr should be one line matching '${pattern}':\n${err}")
    endif()
  elseif(NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "${name}: stdout should match '${pattern}':\n${out}")
  endif()
endfunction()

# A.cor3 as printed (‖J‖ <= 1/(4T)) is false: two tied logits reach 1/(2T). L in [1, 64],
# T in [0.01, 10], logits ~ normal with -inf masks.
replay(cor3_in_domain 1 "VIOLATED \\(certified\\)"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": 1}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(cor3_T_above_range 4 "T = 20 is outside its domain \\[0.01"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": 20}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(cor3_T_negative 4 "T = -1 is outside"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": -1}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(cor3_L_not_integer 4 "L = 2.5 is not an integer"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2.5, "T": 1}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(cor3_shape_mismatch 4 "array 'logits' is 1.+2, but its shape 1.+L is 1.+3"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 3, "T": 1}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(cor3_all_masked 4 "logits row 0 is masked entirely"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": 1}, "arrays": {"logits": [["-inf", "-inf"]]}}}]=])
replay(cor3_foreign_array 4 "array 'q' is not an input of this domain"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": 1}, "arrays": {"logits": [[0, 0]], "q": [[1]]}}}]=])
replay(cor3_overflow 4 "cor3_overflow.json: a number is out of the range of a double \\(number overflow parsing '1e999'\\)"
  [=[{"claim": "A.cor3", "instance": {"scalars": {"L": 2, "T": 1e999}, "arrays": {"logits": [[0, 0]]}}}]=])
# A catalog id with an expression pairs the catalog statement with a foreign inequality.
replay(cor3_with_expression 4 "claim 'A.cor3' comes with an 'expression'"
  [=[{"claim": "A.cor3", "expression": "jacobian_norm <= 0.1/T", "domain": "L in [1, 4], T in [0.5, 2], logits ~ normal(0, 1)",
      "instance": {"scalars": {"L": 2, "T": 1}, "arrays": {"logits": [[0, 0]]}}}]=])
replay(expression_without_domain 4 "needs 'expression' and 'domain'"
  [=[{"claim": "conjecture", "expression": "jacobian_norm <= 0.1/T",
      "instance": {"scalars": {"L": 2, "T": 1}, "arrays": {"logits": [[0, 0]]}}}]=])

# B.degree: s_1 := B lies outside the law of the other scores ([1e-3, 10]) by design; an edited
# s_1 != B is outside the domain (the claim's repair would move it).
set(degree_scalars [=["n": 3, "r": 0.5, "R": 2, "B": 50, "beta": 4, "eps": 0.1]=])
replay(degree_in_domain 0 "result +proved"
  "{\"claim\": \"B.degree\", \"instance\": {\"scalars\": {${degree_scalars}}, \"arrays\": {\"s\": [[50, 1, 2]]}}}")
replay(degree_spike_moved 4 "s\\[0, 0\\] = 40 is outside the support"
  "{\"claim\": \"B.degree\", \"instance\": {\"scalars\": {${degree_scalars}}, \"arrays\": {\"s\": [[40, 1, 2]]}}}")
# s_3 = 5 is in the law's support but not in [r, R] = [0.5, 2]: the claim's repair moves it.
replay(degree_score_outside_r_R 4 "s\\[0, 2\\] = 5 is outside the domain of B.degree"
  "{\"claim\": \"B.degree\", \"instance\": {\"scalars\": {${degree_scalars}}, \"arrays\": {\"s\": [[50, 1, 5]]}}}")
replay(degree_score_outside_law 4 "s\\[0, 2\\] = 20 is outside the support"
  "{\"claim\": \"B.degree\", \"instance\": {\"scalars\": {${degree_scalars}}, \"arrays\": {\"s\": [[50, 1, 20]]}}}")

# A conjecture over logits ~ uniform(-1, 1) with L = 2: alpha_max <= e^2/(e^2 + 1) < 0.89 there,
# so "alpha_max <= 0.9" is true; logits (5, -5) break it only outside the support.
set(uniform [=["claim": "conjecture", "expression": "alpha_max <= 0.9", "domain": "L in [2, 4], logits ~ uniform(-1, 1)"]=])
replay(uniform_in_domain 0 "proved"
  "{${uniform}, \"instance\": {\"scalars\": {\"L\": 2}, \"arrays\": {\"logits\": [[1, -1]]}}}")
replay(uniform_outside_support 4 "logits\\[0, 0\\] = 5 is outside the support \\[-1, 1\\]"
  "{${uniform}, \"instance\": {\"scalars\": {\"L\": 2}, \"arrays\": {\"logits\": [[5, -5]]}}}")
replay(conjecture_foreign_id 4 "claim 'A.cor3' comes with an 'expression', which only a conjecture"
  [=[{"claim": "A.cor3", "expression": "alpha_max <= 0.9", "domain": "L in [2, 4], logits ~ uniform(-1, 1)",
      "instance": {"scalars": {"L": 2}, "arrays": {"logits": [[5, -5]]}}}]=])
# T in [0.3, 1] is the decimal range: the double nearest 0.3 is below 0.3, so outside.
replay(decimal_bound 4 "T = 0.29999999999999999 is outside its domain \\[0.30000000000000004, 1\\]"
  [=[{"claim": "conjecture", "expression": "jacobian_norm <= 0.5/T", "domain": "L in [1, 4], T in [0.3, 1], logits ~ normal(0, 1)",
      "instance": {"scalars": {"L": 2, "T": 0.29999999999999999}, "arrays": {"logits": [[0, 0]]}}}]=])
message(STATUS "ok")
