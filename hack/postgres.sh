#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 for tests: initdb into a temp dir as a dedicated
# non-root user, listening on 127.0.0.1 only, on a free port, trusting local connections.
#
#   eval "$(hack/postgres.sh start)"   # exports SCIM_TEST_POSTGRES_URL and SCIM_PG_DIR
#   hack/postgres.sh stop              # stops the server started above and removes its dir
#   hack/postgres.sh run -- go test ./internal/directory/...   # start, run, always stop
#
# Installs the Debian postgresql package (apt-get update first) when it is absent.
set -euo pipefail

PG_VERSION=15
PG_USER=${SCIM_PG_USER:-scimpg}
STATE_FILE=${SCIM_PG_STATE:-${TMPDIR:-/tmp}/scim-postgres.state}

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
	local dir
	for dir in "/usr/lib/postgresql/${PG_VERSION}/bin" /usr/lib/postgresql/*/bin; do
		if [[ -x "${dir}/initdb" ]]; then
			echo "${dir}"
			return 0
		fi
	done
	return 1
}

ensure_installed() {
	if pg_bin >/dev/null; then
		return 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		log "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
		exit 1
	fi
	log "installing the Debian postgresql package"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
	pg_bin >/dev/null || { log "postgresql installed but initdb not found"; exit 1; }
}

# as_pg runs a command as the PostgreSQL user (initdb refuses to run as root).
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		# From /, which the PostgreSQL user can always enter.
		(cd / && runuser -u "${PG_USER}" -- "$@")
	else
		"$@"
	fi
}

ensure_user() {
	if [[ $(id -u) -ne 0 ]]; then
		PG_USER=$(id -un)
		return 0
	fi
	if ! id -u "${PG_USER}" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "${PG_USER}"
	fi
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local i port
	for i in $(seq 1 50); do
		port=$((20000 + RANDOM % 40000))
		if port_free "${port}"; then
			echo "${port}"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

start() {
	ensure_installed
	ensure_user
	local bin dir port
	bin=$(pg_bin)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/scim-pg.XXXXXX")
	chmod 700 "${dir}"
	[[ $(id -u) -eq 0 ]] && chown "${PG_USER}" "${dir}"
	as_pg "${bin}/initdb" -D "${dir}/data" -U postgres -A trust -E UTF8 --no-locale >"${dir}/initdb.log" 2>&1 ||
		{ cat "${dir}/initdb.log" >&2; exit 1; }
	port=$(pick_port)
	as_pg "${bin}/pg_ctl" -D "${dir}/data" -l "${dir}/server.log" -w -t 60 start \
		-o "-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c max_connections=200" >&2 ||
		{ cat "${dir}/server.log" >&2; exit 1; }
	as_pg "${bin}/psql" -h 127.0.0.1 -p "${port}" -U postgres -d postgres -qc "CREATE DATABASE scim_test" >&2
	local url="postgres://postgres@127.0.0.1:${port}/scim_test?sslmode=disable"
	printf 'SCIM_PG_DIR=%s\nSCIM_TEST_POSTGRES_URL=%s\n' "${dir}" "${url}" >"${STATE_FILE}"
	log "PostgreSQL running on 127.0.0.1:${port}, data in ${dir}"
	echo "export SCIM_PG_DIR=${dir}"
	echo "export SCIM_TEST_POSTGRES_URL='${url}'"
}

stop() {
	local dir=${SCIM_PG_DIR:-}
	if [[ -z "${dir}" && -f "${STATE_FILE}" ]]; then
		dir=$(sed -n 's/^SCIM_PG_DIR=//p' "${STATE_FILE}")
	fi
	if [[ -z "${dir}" || ! -d "${dir}" ]]; then
		log "nothing to stop"
		return 0
	fi
	local bin
	bin=$(pg_bin)
	as_pg "${bin}/pg_ctl" -D "${dir}/data" -m fast -w stop >&2 || true
	rm -rf "${dir}"
	# The state file may name another server by now (a later start); leave it to that one.
	if [[ -f "${STATE_FILE}" && "$(sed -n 's/^SCIM_PG_DIR=//p' "${STATE_FILE}")" == "${dir}" ]]; then
		rm -f "${STATE_FILE}"
	fi
	log "stopped and removed ${dir}"
}

run() {
	[[ "${1:-}" == "--" ]] && shift
	if [[ $# -eq 0 ]]; then
		log "usage: $0 run -- command..."
		exit 2
	fi
	# A state file of its own, so runs at the same time never see each other's server.
	STATE_FILE=$(mktemp "${TMPDIR:-/tmp}/scim-postgres.XXXXXX")
	eval "$(start)"
	trap stop EXIT
	"$@"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
run) shift; run "$@" ;;
*)
	echo "usage: $0 start | stop | run -- command..." >&2
	exit 2
	;;
esac
