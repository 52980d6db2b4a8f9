# verify --prove end to end, on statements of known truth:
#  - a true conjecture over a bounded domain is PROVED (exit 0), its certificate is written to
#    OUT/proofs/ and check-proof accepts it; with coqc, --emit-coq writes a .v that coqc accepts;
#  - a false one is REFUTED (exit 1) with a counterexample, and no certificate and no .v appear;
#  - a statement proved only with a slack says so and is not a plain PROVED.
#   -DEXE=path/to/attncert -DWORK=scratch dir -DCOQC=path to coqc or empty
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
include(${CMAKE_CURRENT_LIST_DIR}/run_attncert.cmake)

# ‖J‖ of softmax at L = 2 is 2·p1·p2/T <= 1/(2T): 0.51/T holds with 2% to spare.
set(domain "L = 2, logits in [-20, 20]^L, T = 1")
run(0 verify --expr "jacobian_norm <= 0.51/T" --over "${domain}" --prove --budget 200
    --out "${WORK}/true")
if(NOT last_out MATCHES "conjecture +conjecture +inequality +PROVED .*proved over the whole domain")
  message(FATAL_ERROR "not PROVED:\n${last_out}")
endif()
if(NOT EXISTS "${WORK}/true/proofs/conjecture.json")
  message(FATAL_ERROR "no certificate written")
endif()
run(0 check-proof "${WORK}/true/proofs/conjecture.json")
if(NOT last_out MATCHES "^valid: ")
  message(FATAL_ERROR "check-proof: ${last_out}")
endif()

# A box budget is a count, not a clock: the same proof needs 2,115 boxes, so 20 are too few —
# survived, "box budget of 20 exhausted", no certificate — whatever the machine's speed.
run(0 verify --expr "jacobian_norm <= 0.51/T" --over "${domain}" --prove --budget 200
    --prove-seconds 0 --prove-boxes 20 --out "${WORK}/few-boxes")
if(NOT last_out MATCHES "conjecture +conjecture +inequality +survived .*box budget of 20 exhausted")
  message(FATAL_ERROR "a proof past its box budget was not reported as such:\n${last_out}")
endif()
if(EXISTS "${WORK}/few-boxes/proofs/conjecture.json")
  message(FATAL_ERROR "an unfinished proof left a certificate")
endif()
run(4 verify --expr "jacobian_norm <= 0.51/T" --over "${domain}" --prove --prove-boxes 0 --out "${WORK}/no-boxes")

# 0.49/T is false at ties (‖J‖ = 0.5/T): refuted, nothing proved, no certificate.
run(1 verify --expr "jacobian_norm <= 0.49/T" --over "${domain}" --prove --budget 200
    --out "${WORK}/false")
if(NOT last_out MATCHES "REFUTED")
  message(FATAL_ERROR "not refuted:\n${last_out}")
endif()
if(EXISTS "${WORK}/false/proofs/conjecture.json")
  message(FATAL_ERROR "a false conjecture left a certificate")
endif()

# Coq: for two logits in [-1, 1] the larger weight is at most 1/(1 + e^-2) = 0.8808…: 0.9 is
# proved and coqc accepts the emitted file (attncert keeps only a file coqc accepts); 0.85 is
# refuted and no .v appears. (Small on purpose: coqc replays ~0.4 s per lemma.)
if(COQC)
  set(small "L = 2, logits in [-1, 1]^L, T = 1")
  run(0 verify --expr "alpha_max <= 0.9" --over "${small}" --prove --budget 200
      --out "${WORK}/coq_true" --emit-coq "${WORK}/v_true")
  if(NOT EXISTS "${WORK}/v_true/conjecture.v")
    message(FATAL_ERROR "--emit-coq wrote no .v for a proved conjecture")
  endif()
  run(1 verify --expr "alpha_max <= 0.85" --over "${small}" --prove --budget 200
      --out "${WORK}/coq_false" --emit-coq "${WORK}/v_false")
  if(EXISTS "${WORK}/v_false/conjecture.v")
    message(FATAL_ERROR "a false conjecture produced a Coq file")
  endif()
endif()

# 0.5/T is attained at every tie: at most PROVED with slack, never a plain PROVED.
run(0 verify --expr "jacobian_norm <= 0.5/T" --over "${domain}" --prove --budget 200
    --prove-seconds 10 --out "${WORK}/attained")
if(last_out MATCHES "conjecture +conjecture +inequality +PROVED ")
  message(FATAL_ERROR "an attained bound was reported PROVED without slack:\n${last_out}")
endif()
if(NOT last_out MATCHES "PROVED with slack 1e-[0-9]+ \\(the bound \\+ 1e-[0-9]+\\)")
  message(FATAL_ERROR "an attained bound was not proved with a slack:\n${last_out}")
endif()
run(0 check-proof "${WORK}/attained/proofs/conjecture.json")
if(NOT last_out MATCHES "^valid with slack")
  message(FATAL_ERROR "check-proof on the slack certificate: ${last_out}")
endif()
