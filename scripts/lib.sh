# shellcheck shell=bash
# Shared helpers for scripts/test, scripts/demo and .ci/run. Source it; do not run it.
#
# ensure_* functions make sure a dependency is there. When something is missing
# they install it with apt-get if running as root, and otherwise print the exact
# command to run and exit 1. Postgres and Redis are only ever started locally;
# a remote DATABASE_URL / REDIS_URL that does not answer is an error.

ORGPOOL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ORGPOOL_ROOT

: "${DATABASE_URL:=postgres://postgres:postgres@127.0.0.1:5432/postgres}"
: "${REDIS_URL:=redis://127.0.0.1:6379}"
export DATABASE_URL REDIS_URL

# How long to wait for a server we started, in half-second steps (30 s).
ORGPOOL_WAIT_STEPS=${ORGPOOL_WAIT_STEPS:-60}

header() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

# A URL with its password replaced by ***, for messages.
redact_url() { sed -E 's#^([a-zA-Z0-9+.-]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# parse_url URL DEFAULT_PORT: sets URL_USER URL_PASSWORD URL_HOST URL_PORT.
parse_url() {
  local rest=${1#*://} userinfo=""
  rest=${rest%%[/?#]*}
  if [[ $rest == *@* ]]; then
    userinfo=${rest%@*}
    rest=${rest##*@}
  fi
  URL_USER=${userinfo%%:*}
  URL_PASSWORD=""
  [[ $userinfo == *:* ]] && URL_PASSWORD=${userinfo#*:}
  if [[ $rest == \[* ]]; then # [::1]:5432
    URL_HOST=${rest%%]*}
    URL_HOST=${URL_HOST#[}
    rest=${rest#*]}
    URL_PORT=${rest#:}
  elif [[ $rest == *:* ]]; then
    URL_HOST=${rest%%:*}
    URL_PORT=${rest##*:}
  else
    URL_HOST=$rest
    URL_PORT=""
  fi
  [[ -n $URL_PORT ]] || URL_PORT=$2
}

is_local_host() {
  case $1 in
    127.0.0.1 | localhost | ::1 | "") return 0 ;;
    *) return 1 ;;
  esac
}

# apt_install PACKAGE...: installs with apt-get as root; otherwise prints the
# command and exits 1.
apt_install() {
  local cmd="apt-get update && apt-get install -y $*"
  if ! is_root; then
    die "missing $*; install with:
    sudo sh -c '$cmd'
then run this script again"
  fi
  have apt-get || die "missing $*, and apt-get is not available; install $* with your package manager"
  info "installing $* (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

# wait_until DESCRIPTION COMMAND...: polls COMMAND every 0.5 s, bounded.
wait_until() {
  local what=$1 i
  shift
  for ((i = 0; i < ORGPOOL_WAIT_STEPS; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  die "$what did not become ready within $((ORGPOOL_WAIT_STEPS / 2)) s"
}

# tcp_open HOST PORT: true when something accepts TCP connections there.
tcp_open() {
  # shellcheck disable=SC2016 # $1 and $2 expand in the child shell
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

ensure_cargo() {
  have cargo && return 0
  die "cargo (the Rust toolchain) is not installed; install it with rustup:
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    . \"\$HOME/.cargo/env\"
then run this script again"
}

# A C compiler is needed to build ring and aws-lc.
ensure_cc() {
  have cc && return 0
  header "Installing a C compiler"
  apt_install gcc libc6-dev
  have cc || die "cc is still missing after installing gcc"
}

ensure_node() {
  have node && have npm && return 0
  header "Installing Node.js (for the jsforce client test)"
  apt_install nodejs npm
  if ! have node || ! have npm; then
    die "node/npm still missing after installing nodejs and npm"
  fi
}

# ---------------------------------------------------------------- Postgres

# Prometheus and promtool (the dashboard test runs a real Prometheus server). The
# Debian package's service is not wanted: the test starts its own on a free port.
ensure_prometheus() {
  have prometheus && have promtool && return 0
  header "Installing Prometheus (for the dashboard test)"
  apt_install prometheus
  if ! have prometheus || ! have promtool; then
    die "prometheus/promtool still missing after installing the prometheus package"
  fi
}

# Debian's Chromium and ChromeDriver (the console's browser test drives them over
# WebDriver); nothing is downloaded but the two packages.
ensure_chromium() {
  [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && return 0
  header "Installing Chromium and ChromeDriver (for the console's browser test)"
  apt_install chromium chromium-driver
  [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] \
    || die "chromium/chromedriver still missing after installing chromium and chromium-driver"
}

pg_answering() {
  if have pg_isready; then
    pg_isready -q -t 3 -d "$DATABASE_URL" >/dev/null 2>&1
  else
    parse_url "$DATABASE_URL" 5432
    tcp_open "${URL_HOST:-127.0.0.1}" "$URL_PORT"
  fi
}

pg_server_installed() {
  have pg_ctlcluster && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# Newest installed server version, e.g. 15.
pg_newest_version() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin/postgres; do
    [[ -e $dir ]] || continue
    dir=${dir#/usr/lib/postgresql/}
    dir=${dir%%/*}
    if [[ -z $best ]] || ((${dir%%.*} > ${best%%.*})); then best=$dir; fi
  done
  printf '%s' "$best"
}

# pg_cluster_on_port PORT: prints "VERSION NAME" of a cluster configured for PORT.
pg_cluster_on_port() {
  local conf ver name port
  for conf in /etc/postgresql/*/*/postgresql.conf; do
    [[ -e $conf ]] || continue
    name=$(basename "$(dirname "$conf")")
    ver=$(basename "$(dirname "$(dirname "$conf")")")
    port=$(sed -nE 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*([0-9]+).*/\1/p' "$conf" | tail -n1)
    if [[ ${port:-5432} == "$1" ]]; then
      printf '%s %s\n' "$ver" "$name"
      return 0
    fi
  done
  return 1
}

ensure_postgres() {
  pg_answering && return 0

  parse_url "$DATABASE_URL" 5432
  local host=$URL_HOST port=$URL_PORT
  is_local_host "$host" ||
    die "Postgres does not answer at DATABASE_URL=$(redact_url "$DATABASE_URL"), which is not a local address; start that server or point DATABASE_URL at one that runs"

  header "Starting PostgreSQL (nothing answers at $(redact_url "$DATABASE_URL"))"
  local ours=0 # set when we installed or started the server ourselves
  if ! pg_server_installed; then
    apt_install postgresql
    ours=1
    pg_server_installed || die "the postgresql package is installed but no server binary was found"
  fi
  if ! pg_answering; then # the package may have started its cluster already
    pg_start_cluster "$port" && ours=1
  fi
  wait_until "PostgreSQL at $(redact_url "$DATABASE_URL")" pg_answering

  # The Debian package authenticates TCP connections by password and leaves the
  # postgres user without one; give it the one DATABASE_URL expects.
  if ((ours)) && is_root && [[ $URL_USER == postgres && -n $URL_PASSWORD ]]; then
    local sql_password=${URL_PASSWORD//\'/\'\'}
    su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD '$sql_password'\"" >/dev/null ||
      die "could not set the password of the postgres user"
    info "set the password of the postgres user to the one in DATABASE_URL"
  fi
  pg_check_login
  info "PostgreSQL is ready"
}

# pg_start_cluster PORT: starts (creating it if needed) the local cluster for
# PORT. Returns 1 when the cluster was running already.
pg_start_cluster() {
  local port=$1 cluster ver name
  if ! cluster=$(pg_cluster_on_port "$port"); then
    ver=$(pg_newest_version)
    if compgen -G "/etc/postgresql/$ver/main" >/dev/null; then
      die "the PostgreSQL cluster $ver/main does not listen on port $port (see /etc/postgresql/$ver/main/postgresql.conf); set DATABASE_URL to its port"
    fi
    is_root || die "no PostgreSQL cluster exists; create and start one with:
    sudo pg_createcluster -p $port $ver main && sudo pg_ctlcluster --skip-systemctl-redirect $ver main start"
    info "creating cluster $ver/main on port $port"
    pg_createcluster -p "$port" "$ver" main >/dev/null || die "pg_createcluster failed"
    cluster="$ver main"
  fi
  read -r ver name <<<"$cluster"
  if pg_ctlcluster "$ver" "$name" status >/dev/null 2>&1; then
    return 1 # running already (perhaps still starting up)
  fi

  if ! is_root && [[ $(id -un) != "$(stat -c %U "/etc/postgresql/$ver/$name")" ]]; then
    die "PostgreSQL $ver/$name is not running; start it with:
    sudo pg_ctlcluster --skip-systemctl-redirect $ver $name start"
  fi
  info "starting cluster $ver/$name"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
    die "could not start PostgreSQL $ver/$name (log: /var/log/postgresql/postgresql-$ver-$name.log)"
}

# Fails with the server's message when DATABASE_URL's credentials or database are wrong.
pg_check_login() {
  have psql || return 0
  local out
  if ! out=$(PGCONNECT_TIMEOUT=5 psql -X -q -A -t -d "$DATABASE_URL" -c 'select 1' 2>&1); then
    local hint=""
    parse_url "$DATABASE_URL" 5432
    if is_local_host "$URL_HOST" && [[ $URL_USER == postgres && $out == *password* ]]; then
      hint="
if this is a fresh local install, give the postgres user the password from DATABASE_URL:
    sudo su postgres -c \"psql -p $URL_PORT -c \\\"ALTER USER postgres PASSWORD '<password>'\\\"\""
    fi
    die "Postgres answers but DATABASE_URL=$(redact_url "$DATABASE_URL") does not work: $out$hint"
  fi
}

# ------------------------------------------------------------------- Redis

redis_answering() {
  parse_url "$REDIS_URL" 6379
  if have redis-cli && [[ $REDIS_URL != rediss://* ]]; then
    local out
    out=$(timeout 5 redis-cli -u "$REDIS_URL" --no-auth-warning ping 2>&1) || true
    # NOAUTH / WRONGPASS: the server is up (the app authenticates with REDIS_URL's password;
    # redis-cli 7.0 mishandles the "redis://:password@" form).
    [[ $out == PONG || $out == *NOAUTH* || $out == *WRONGPASS* ]]
  else
    local reply
    # shellcheck disable=SC2016 # $1 and $2 expand in the child shell
    reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && head -c 7 <&3' _ \
      "${URL_HOST:-127.0.0.1}" "$URL_PORT" 2>/dev/null) || return 1
    # -NOAUTH: the server is up and wants the password that REDIS_URL carries.
    [[ $reply == +PONG* || $reply == -NOAUTH* ]]
  fi
}

ensure_redis() {
  redis_answering && return 0

  parse_url "$REDIS_URL" 6379
  local host=$URL_HOST port=$URL_PORT password=$URL_PASSWORD
  is_local_host "$host" ||
    die "Redis does not answer at REDIS_URL=$(redact_url "$REDIS_URL"), which is not a local address; start that server or point REDIS_URL at one that runs"
  [[ $REDIS_URL != rediss://* ]] ||
    die "nothing answers at REDIS_URL=$(redact_url "$REDIS_URL"); this script only starts plain (redis://) local servers"

  header "Starting Redis (nothing answers at $(redact_url "$REDIS_URL"))"
  if ! have redis-server; then
    apt_install redis-server
    have redis-server || die "redis-server is still missing after installing it"
    if redis_answering; then # the package started its own service
      info "Redis is ready"
      return 0
    fi
  fi

  local bind=127.0.0.1
  [[ $host == ::1 ]] && bind=::1
  local args=(--daemonize yes --bind "$bind" --port "$port" --save "" --appendonly no
    --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/orgpool-redis-$port.log")
  [[ -n $password ]] && args+=(--requirepass "$password")
  redis-server "${args[@]}" >/dev/null || die "could not start redis-server on port $port"
  wait_until "Redis at $(redact_url "$REDIS_URL")" redis_answering
  info "Redis is ready on $bind:$port (nothing saved to disk; log: ${TMPDIR:-/tmp}/orgpool-redis-$port.log)"
}

# ------------------------------------------------------ Node test clients

JSFORCE_DIR="$ORGPOOL_ROOT/tests/clients/jsforce"
PUBSUB_CLIENT_DIR="$ORGPOOL_ROOT/tests/clients/pubsub"

# Installs the pinned npm packages of the test client in DIR (named NAME in messages)
# into DIR/node_modules, unless the installed tree already matches package.json and
# package-lock.json; fails unless DIR/node_modules/PACKAGE is there afterwards.
ensure_npm_client() {
  local dir=$1 name=$2 package=$3
  ensure_node
  local stamp="$dir/node_modules/.orgpool-installed" want rel=${dir#"$ORGPOOL_ROOT"/}
  want=$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | cksum)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  header "Installing the $name test client ($rel)"
  local npm_args=(--prefix "$dir" --no-audit --no-fund --loglevel=error)
  if [[ -f $dir/package-lock.json ]]; then
    npm ci "${npm_args[@]}" || die "npm ci in $rel failed"
  else
    npm install "${npm_args[@]}" || die "npm install in $rel failed"
    want=$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | cksum)
  fi
  [[ -f $dir/node_modules/$package/package.json ]] \
    || die "$package is still missing from $rel/node_modules"
  printf '%s\n' "$want" >"$stamp"
}

# jsforce, for tests/jsforce_client.rs.
ensure_jsforce_client() {
  ensure_npm_client "$JSFORCE_DIR" jsforce jsforce
}

# Salesforce's Node Pub/Sub API client, for tests/pubsub_client.rs.
ensure_pubsub_client() {
  ensure_npm_client "$PUBSUB_CLIENT_DIR" Pub/Sub salesforce-pubsub-api-client
}

# ------------------------------------------------- simple-salesforce client

SIMPLE_SF_DIR="$ORGPOOL_ROOT/tests/clients/simple-salesforce"

# Python 3 with venv and pip (for the simple-salesforce client test).
ensure_python() {
  have python3 && python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && return 0
  header "Installing Python 3 (for the simple-salesforce client test)"
  apt_install python3 python3-venv python3-pip
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 \
    || die "python3 with venv/ensurepip still missing after installing python3-venv"
}

# Installs the pinned simple-salesforce into tests/clients/simple-salesforce/.venv,
# unless the venv already matches requirements.txt.
ensure_simple_salesforce() {
  ensure_python
  local venv="$SIMPLE_SF_DIR/.venv" stamp want
  stamp="$venv/.orgpool-installed"
  want=$(cksum <"$SIMPLE_SF_DIR/requirements.txt")
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $venv/bin/python ]]; then
    return 0
  fi
  header "Installing the simple-salesforce test client (tests/clients/simple-salesforce)"
  python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$SIMPLE_SF_DIR/requirements.txt" \
    || die "pip install in tests/clients/simple-salesforce failed"
  printf '%s\n' "$want" >"$stamp"
}

# ------------------------------------------------------------ deploy checkers

DEPLOY_TOOLS_DIR="$ORGPOOL_ROOT/tests/tools"

# The checkers of tests/deploy_manifests.rs and tests/deploy_app_json.rs, pinned in
# tests/tools/: kubernetes-validate and check-jsonschema in tests/tools/.venv, and
# Heroku's app.json schema taken from the npm package named in
# heroku-app-json-schema.txt. Skipped when both are already current.
ensure_deploy_tools() {
  ensure_python
  ensure_node
  local venv="$DEPLOY_TOOLS_DIR/.venv" stamp want spec member
  stamp="$venv/.orgpool-installed"
  want=$(cat "$DEPLOY_TOOLS_DIR/requirements.txt" "$DEPLOY_TOOLS_DIR/heroku-app-json-schema.txt" | cksum)
  if [[ -f $stamp && $(cat "$stamp") == "$want" && -x $venv/bin/kubernetes-validate \
    && -x $venv/bin/check-jsonschema && -f $DEPLOY_TOOLS_DIR/heroku/app-json.schema.json ]]; then
    return 0
  fi
  header "Installing the deploy checkers (tests/tools)"
  python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$DEPLOY_TOOLS_DIR/requirements.txt" \
    || die "pip install in tests/tools failed"
  read -r spec member <"$DEPLOY_TOOLS_DIR/heroku-app-json-schema.txt"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp" "$member" || die "$spec has no $member"
  mkdir -p "$DEPLOY_TOOLS_DIR/heroku"
  cp "$tmp/$member" "$DEPLOY_TOOLS_DIR/heroku/app-json.schema.json"
  rm -rf "$tmp"
  printf '%s\n' "$want" >"$stamp"
}
