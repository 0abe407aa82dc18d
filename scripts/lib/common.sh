# Shared by the scripts in scripts/: paths, dependency install, build.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JOBS="${JOBS:-$(nproc)}"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# Debian packages the project builds and tests with. Installed only when missing, so
# a second run costs one dpkg query.
DEB_PACKAGES=(
  cmake g++ pkg-config make
  libpistache-dev librdkafka-dev libpqxx-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev libcrypt-dev libssl-dev
  postgresql-15
)

# install_deps [extra Debian packages...]
install_deps() {
  local missing=()
  local pkg
  for pkg in "${DEB_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  # The web app is bundled with npm; machines of this kind ship Node.js, others get Debian's.
  if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  log "installing: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build DIR BUILD_TYPE [--sanitize=address|thread] [targets...]   (no targets: everything)
# Without --sanitize the directory is configured as before (ISUCOIN_SANITIZE left as it is).
build() {
  local dir="$1" type="$2"
  shift 2
  local werror=OFF
  if [[ "${CI:-}" == "true" ]]; then werror=ON; fi
  local sanitize=()
  if [[ "${1:-}" == --sanitize=* ]]; then
    sanitize=(-DISUCOIN_SANITIZE="${1#--sanitize=}")
    shift
  fi
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DISUCOIN_WERROR="$werror" \
    "${sanitize[@]}" >/dev/null
  if (($# > 0)); then
    cmake --build "$dir" -j "$JOBS" --target "$@"
  else
    cmake --build "$dir" -j "$JOBS"
  fi
}
