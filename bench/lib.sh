# Shared set-up of the bench/ scripts: source it after setting ROOT.
# It makes BIN (.cache/bin, git-ignored) and defines ensure.

BIN=$ROOT/.cache/bin
mkdir -p "$BIN"
[[ -f $ROOT/.cache/.gitignore ]] || echo '*' >"$ROOT/.cache/.gitignore"

# ensure CMD PACKAGE: apt-get install PACKAGE if CMD is missing and we are root.
ensure() {
  command -v "$1" >/dev/null && return
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing $2"
    apt-get install -y -qq "$2" >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
  fi
  command -v "$1" >/dev/null
}
