# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # it sets variables for the suites
#
# squid.sh: Debian's squid as a company's proxy, for --upstream-proxy (e2e/upstream_proxy.t).
# Each instance is the suite's own: its configuration, pid file, logs and (empty) cache all in
# $TMPDIR_T/squid-NAME, no cache at all, listening on a free port of 127.0.0.1, names resolved
# through the suite's hosts file ($UP/hosts, tests/lib/proxy.sh) as boundary resolves them, and
# stopped by pid at exit. It allows CONNECT to any port (squid's stock configuration allows 443
# only), WebSocket upgrades, and reaching loopback (the origins live there). Source after
# proxy.sh.
#
#   squid_up NAME [USER PASS]  starts instance NAME, with Basic authentication (basic_ncsa_auth,
#                              an htpasswd file made with openssl passwd -apr1) when USER and
#                              PASS are given; sets SQ_PORT (its port) and SQ_LOG (its access
#                              log: one line per request, "... CODE/STATUS ... METHOD URL USER
#                              ..."); returns 1 when squid is not installed or does not start
#                              SQ_TLS=CERT:KEY: its port speaks TLS (https_port) with that
#                              certificate
#   squid_seen LOG TEXT        whether a line of LOG contains TEXT (fixed string)

squid_up() {
	local name=$1 user=${2:-} pass=${3:-} d conf i
	SQ_PORT=""
	SQ_LOG=""
	command -v squid >/dev/null || return 1
	d=$TMPDIR_T/squid-$name
	mkdir -p "$d"
	# squid drops to nobody: its logs and pid file must be nobody's to write.
	chmod 711 "$TMPDIR_T"
	chown nobody "$d"
	SQ_PORT=$(free_ports 1)
	SQ_LOG=$d/access.log
	conf=$d/squid.conf
	if [ -n "${SQ_TLS:-}" ]; then
		cp "${SQ_TLS%%:*}" "$d/cert.pem" && cp "${SQ_TLS#*:}" "$d/key.pem" || return 1
		chmod 644 "$d/cert.pem" "$d/key.pem"
		echo "https_port 127.0.0.1:$SQ_PORT tls-cert=$d/cert.pem tls-key=$d/key.pem" >"$conf"
	else
		echo "http_port 127.0.0.1:$SQ_PORT" >"$conf"
	fi
	cat >>"$conf" <<EOF
pid_filename $d/squid.pid
access_log stdio:$SQ_LOG squid
cache_log $d/cache.log
cache_store_log none
cache deny all
cache_mem 1 MB
coredump_dir $d
netdb_filename none
logfile_rotate 0
shutdown_lifetime 0 seconds
cache_effective_user nobody
hosts_file $UP/hosts
dns_nameservers 127.0.0.1
dns_timeout 2 seconds
forward_timeout 10 seconds
connect_timeout 5 seconds
acl CONNECT method CONNECT
# WebSocket through absolute-form requests: squid removes Upgrade offers it is not told of.
http_upgrade_request_protocols OTHER allow all
EOF
	if [ -n "$user" ]; then
		printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$pass")" >"$d/htpasswd"
		chmod 644 "$d/htpasswd"
		cat >>"$conf" <<EOF
auth_param basic program /usr/lib/squid/basic_ncsa_auth $d/htpasswd
auth_param basic realm boundary-test
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
EOF
	else
		echo "http_access allow all" >>"$conf"
	fi
	: >"$SQ_LOG"
	chown nobody "$SQ_LOG"
	squid -N -f "$conf" >"$d/out" 2>&1 &
	local pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	for i in $(seq 200); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
			"$SQ_PORT" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	diag "squid $name did not start:" "$(tail -5 "$d/out" "$d/cache.log" 2>/dev/null)"
	return 1
}

squid_seen() { grep -qF -- "$2" "$1"; }
