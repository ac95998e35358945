# What the tests need besides Rust, installed if missing. Sourced by scripts/test.

# Debian packages, by command they provide.
need_command() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    echo "installing $pkg (for $cmd)"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    if [ -z "${APT_UPDATED:-}" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null
}

# Python tools (reference implementations for cross-checks) in a private virtualenv, first on
# PATH, so the system Python stays untouched.
python_tools() {
    local venv="${SWITCHYARD_VENV:-$HOME/.cache/switchyard-venv}"
    need_command python3 python3
    if [ ! -x "$venv/bin/python3" ]; then
        python3 -m venv "$venv" 2>/dev/null || { need_command_pkg_venv; python3 -m venv "$venv"; }
    fi
    local stamp="$venv/.requirements"
    if ! cmp -s tests/python-requirements.txt "$stamp" 2>/dev/null; then
        "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r tests/python-requirements.txt
        cp tests/python-requirements.txt "$stamp"
    fi
    export PATH="$venv/bin:$PATH"
}

need_command_pkg_venv() {
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
}

# The local MQTT broker the gateway tests use (127.0.0.1:1883), started if nothing listens there.
mosquitto_running() {
    need_command mosquitto mosquitto
    (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && return 0
    echo "starting mosquitto on 127.0.0.1:1883"
    if [ -f /etc/mosquitto/mosquitto.conf ]; then
        mosquitto -d -c /etc/mosquitto/mosquitto.conf
    else
        mosquitto -d -p 1883
    fi
    local i
    for i in $(seq 1 50); do
        (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "mosquitto did not start listening on 127.0.0.1:1883" >&2
    return 1
}

# The web console's build and browser test: Node.js 18+ (Debian 12's own; Vite 6, Vitest 3 and
# playwright-core 1.55 all run on it), Chromium with its driver, and an MQTT broker with clients
# for the simulated device.
console_tools() {
    need_command node nodejs
    need_command npm npm
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt 18 ]; then
        echo "Node.js $(node --version) is too old for the web console (needs 18 or newer)" >&2
        return 1
    fi
    need_command chromium chromium
    need_command chromedriver chromium-driver
    need_command mosquitto mosquitto
    need_command mosquitto_pub mosquitto-clients
}

# PostgreSQL on 127.0.0.1:5432 with trust auth and a database `test`: installed and started
# on a fresh machine; left alone where one answers already.
postgres_running() {
    if command -v psql >/dev/null 2>&1 && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
        return 0
    fi
    need_command pg_ctlcluster postgresql
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h 2>/dev/null | grep -q "^$version main"; then
        pg_createcluster "$version" main >/dev/null
    fi
    local conf="/etc/postgresql/$version/main"
    grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf" ||
        sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
    pg_ctlcluster "$version" main restart 2>/dev/null || pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do
        psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 && break
        sleep 1
    done
    psql -h 127.0.0.1 -U postgres -d postgres -tc "select 1 from pg_database where datname = 'test'" |
        grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
}

# A MongoDB wire-protocol server on 127.0.0.1:27017 for the mongodb storage tests: nx-27017 from
# the Python tools (MongoDB is not in Debian), each database in memory. Left alone when something
# listens there already (a real MongoDB runs the same tests; or set MONGODB_URL).
mongodb_running() {
    (exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null && return 0
    echo "starting nx-27017 on 127.0.0.1:27017"
    local run="${TMPDIR:-/tmp}/switchyard-nx-27017"
    mkdir -p "$run"
    nx-27017 --daemon --host 127.0.0.1 --port 27017 --data-dir memory \
        --log-file "$run/log" --pid-file "$run/pid"
    local i
    for i in $(seq 1 100); do
        (exec 3<>/dev/tcp/127.0.0.1/27017) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nx-27017 did not start listening on 127.0.0.1:27017 (see $run/log)" >&2
    return 1
}

install_test_deps() {
    # NATS with JetStream: the NATS bus tests start their own servers on loopback.
    need_command nats-server nats-server
    if [ -s tests/python-requirements.txt ]; then python_tools; fi
    # Gateway tests: pty pairs for serial ports, and an MQTT broker.
    need_command socat socat
    # Storage and metric backends: PostgreSQL (the tests use database `test`), InfluxDB 1.x and
    # VictoriaMetrics (the tests start their own on free loopback ports).
    postgres_running
    mongodb_running
    need_command influxd influxdb
    need_command victoria-metrics victoria-metrics
    mosquitto_running
    console_tools
}
