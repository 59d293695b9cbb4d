# What the benchmark scripts share (sourced): gnuplot for their plots.
# need_gnuplot: installs gnuplot-nox unless gnuplot is there; exits when it cannot.
need_gnuplot() {
  command -v gnuplot >/dev/null && return 0
  echo "[bench] installing gnuplot-nox"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gnuplot-nox \
    || { echo "[bench] cannot install gnuplot-nox" >&2; exit 1; }
}
