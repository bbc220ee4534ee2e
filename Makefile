# Palisade's two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

LOCAL      := .local
RUN_PORT   ?= 55432
PG         := Deploy/local/pg.sh
SWIFT      ?= swift
# Debian packages the build and the tests need; `make deps` installs the missing ones (as root). zlib1g-dev: gzip of TLS reports;
# systemd: systemd-analyze for the unit tests; publicsuffix: the Public Suffix List for DMARC; postfix: postmap and the test world's MX (STARTTLS, milter); swaks: mail into it; opendmarc: the peer the milter's verdicts are compared with.
# The test world (Deploy/local/world.sh) needs nsd, ldnsutils, unbound, nginx with njs, openssl, dig, curl and ss;
# the OpenPGP tests compare with gpg, gpg-wks-client and sq; the Postfix map tests run postmap.
DEB_PACKAGES := libpq-dev libssl-dev libunbound-dev libcurl4-openssl-dev zlib1g-dev postgresql postgresql-contrib python3-venv \
                dns-root-data nsd ldnsutils unbound nginx libnginx-mod-http-js openssl bind9-dnsutils curl iproute2 gnupg gpg-wks-client sq postfix postfix-pgsql \
                publicsuffix swaks opendmarc systemd
WORLD      := Deploy/local/world.sh

.PHONY: run stop test deps build release install config-reference bench bench-network bench-openpgp bench-postfix bench-aliases bench-keystore bench-wkd bench-vks bench-transport bench-tlsrpt bench-milter fuzz clean
.SILENT:

deps:
	missing=()
	for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$$p"); done
	if [ $${#missing[@]} -gt 0 ]; then
		echo "installing: $${missing[*]}"
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}" >/dev/null; fi
	fi

build: deps
	$(SWIFT) build --product platformctl
	$(SWIFT) build --product palisade-aliases
	$(SWIFT) build --product palisade-keystore
	$(SWIFT) build --product palisade-wkd
	$(SWIFT) build --product palisade-vks-sync
	$(SWIFT) build --product palisade-transport

# Start a throw-away PostgreSQL under .local/, migrate it, start the test world (DNS with its own signed zones,
# HTTPS, and as root Postfix) for the demo's MTA-STS and DANE domains, start every service, load the demo
# (Deploy/local/demo.sh, once), print what to try. Each service runs in the background as its own database
# role; logs and pid files are under .local/.
run: build
	mkdir -p $(LOCAL)
	admin_url=$$($(PG) start $(LOCAL)/pg $(RUN_PORT))
	psql "$$admin_url" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'palisade'" | grep -q 1 || psql "$$admin_url" -qc "CREATE DATABASE palisade"
	db_url() { echo "postgresql://$$1@127.0.0.1:$(RUN_PORT)/palisade"; }
	PALISADE_DATABASE_URL="$$(db_url palisade)" .build/debug/platformctl db migrate --config Deploy/palisade.example.yaml
	# Services of an earlier make run would keep the previous world's ports and CA: they start again below.
	for service in transport vks-sync wkd keystore aliases; do Deploy/local/service.sh stop $$service $(LOCAL) >/dev/null; done
	$(WORLD) stop $(LOCAL)/world
	$(WORLD) start $(LOCAL)/world >/dev/null
	set -a; . $(LOCAL)/world/world.env; set +a
	# Every part sees the world's zones (with their trust anchor beside the root's) and trusts its CA beside
	# the system's; the transport daemon fetches MTA-STS policies from the world's HTTPS port.
	cat /etc/ssl/certs/ca-certificates.crt $(LOCAL)/world/https/ca.pem > $(LOCAL)/ca-bundle.pem
	export PALISADE_DNS_STUB_ZONES="$$PALISADE_TEST_DNS_STUBS" PALISADE_DNS_TRUST_ANCHOR_FILES="/usr/share/dns/root.key,$$PALISADE_TEST_DNS_ANCHOR" \
		PALISADE_HTTP_CA_FILE="$$PWD/$(LOCAL)/ca-bundle.pem" PALISADE_TRANSPORT_MTA_STS_PORT="$$PALISADE_TEST_HTTPS_PORT" \
		PALISADE_TRANSPORT_MTA_STS_ALLOW_PRIVATE_ADDRESSES=true
	# platformctl doctor against the world's doctor-good domain: its MX is the world's Postfix (root only).
	export PALISADE_DOCTOR_CAA_ISSUERS=ca.palisade.example PALISADE_DOCTOR_HTTPS_PORT="$$PALISADE_TEST_HTTPS_PORT" \
		PALISADE_DOCTOR_SMTP_PORT="$${PALISADE_TEST_SMTP_PORT:-25}" PALISADE_DOCTOR_ALLOW_PRIVATE_ADDRESSES=true \
		PALISADE_TRANSPORT_OWN_POLICY_DOMAINS=doctor-good.secure.palisade.example \
		PALISADE_TRANSPORT_OWN_POLICY_MX=mx.doctor-good.secure.palisade.example PALISADE_TRANSPORT_OWN_POLICY_MAX_AGE=7d
	# Each service's API token for this machine only, kept in .local/<service>-token.
	local_token() { [ -s $(LOCAL)/$$1-token ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(LOCAL)/$$1-token); cat $(LOCAL)/$$1-token; }
	token=$$(local_token aliases)
	PALISADE_DATABASE_URL="$$(db_url palisade_aliases)" PALISADE_ALIASES_API_TOKENS="local:$$token" \
		Deploy/local/service.sh start aliases $(LOCAL) http://127.0.0.1:8463/healthz \
		.build/debug/palisade-aliases --config Deploy/palisade.example.yaml
	keystore_token=$$(local_token keystore)
	PALISADE_DATABASE_URL="$$(db_url palisade_keystore)" PALISADE_KEYSTORE_API_TOKENS="local:$$keystore_token" \
		Deploy/local/service.sh start keystore $(LOCAL) http://127.0.0.1:8462/healthz \
		.build/debug/palisade-keystore --config Deploy/palisade.example.yaml
	PALISADE_DATABASE_URL="$$(db_url palisade_wkd)" \
		Deploy/local/service.sh start wkd $(LOCAL) http://127.0.0.1:8464/healthz \
		.build/debug/palisade-wkd --config Deploy/palisade.example.yaml
	PALISADE_DATABASE_URL="$$(db_url palisade_vks)" \
		Deploy/local/service.sh start vks-sync $(LOCAL) http://127.0.0.1:8466/healthz \
		.build/debug/palisade-vks-sync --config Deploy/palisade.example.yaml
	PALISADE_DATABASE_URL="$$(db_url palisade_transport)" \
		Deploy/local/service.sh start transport $(LOCAL) http://127.0.0.1:8467/healthz \
		.build/debug/palisade-transport --config Deploy/palisade.example.yaml
	PALISADE_DATABASE_URL="$$(db_url palisade_admin)" Deploy/local/demo.sh $(LOCAL) .build/debug/platformctl Deploy/palisade.example.yaml
	# What platformctl needs in the shell of whoever tries the commands below.
	{ echo "export PALISADE_CONFIG=Deploy/palisade.example.yaml PALISADE_DATABASE_URL='$$(db_url palisade_admin)'"
	  env | grep -E '^PALISADE_(DNS|HTTP|TRANSPORT|DOCTOR)_' | sed "s/^\([^=]*\)=\(.*\)/export \1='\2'/"; } > $(LOCAL)/env.sh
	ctl=.build/debug/platformctl
	echo
	echo "Palisade is running (logs under $(LOCAL)/), with a demo: mail.example (alice@, bob@, the alias hello@), bob's shop.example"
	echo "(sales@, WKD as a service), gpg keys for alice@, bob@ and sales@ (GNUPGHOME=$(LOCAL)/demo/gnupg), and the test world's"
	echo "DNS and HTTPS ($(LOCAL)/world) for the MTA-STS and DANE domains *.secure.palisade.example."
	echo "  PostgreSQL      127.0.0.1:$(RUN_PORT)  database palisade, one role per service: psql '$$(db_url palisade)'"
	echo "  platformctl     export PALISADE_DATABASE_URL='$$(db_url palisade_admin)'"
	echo "  palisade-aliases http://127.0.0.1:8463, palisade-keystore http://127.0.0.1:8462, palisade-wkd http://127.0.0.1:8464,"
	echo "  palisade-vks-sync http://127.0.0.1:8466/metrics, palisade-transport socketmap 127.0.0.1:8461 and http://127.0.0.1:8467"
	echo
	echo "Try (first: . $(LOCAL)/env.sh, the settings platformctl needs to see the demo):"
	echo "  # WKD with GnuPG and Sequoia (root: an HTTPS proxy on 127.0.0.2:443, the clients in a mount namespace of their own):"
	echo "  sudo Deploy/local/wkd-clients.sh $(LOCAL)/demo/wkd $(LOCAL)/world/https/ca.pem $(LOCAL)/world/https/ca.key --upstream 127.0.0.1:8464 advanced alice@mail.example sales@shop.example"
	echo "  gpg --show-keys $(LOCAL)/demo/wkd/gpg-alice@mail.example.pgp"
	echo "  curl -H 'Host: openpgpkey.mail.example' http://127.0.0.1:8464/.well-known/openpgpkey/mail.example/policy"
	echo "  # Postfix's TLS policy for MTA-STS and DANE domains:"
	echo "  postmap -q sts-enforce.secure.palisade.example socketmap:inet:127.0.0.1:8461:postfix"
	echo "  postmap -q sts-dane.secure.palisade.example socketmap:inet:127.0.0.1:8461:postfix"
	echo "  postmap -q expired.palisade.example socketmap:inet:127.0.0.1:8461:postfix        # bogus DNSSEC: TEMP, never plain text"
	echo "  $$ctl transport check sts-dane.secure.palisade.example"
	echo "  # A platform-domain alias is never deleted (refused, exit 5):"
	echo "  $$ctl aliases delete --account 1 hello@mail.example"
	echo "  curl -X DELETE -H \"Authorization: Bearer $$token\" http://127.0.0.1:8463/v1/accounts/1/aliases/hello@mail.example"
	echo "  # Our domains as senders and CAs see them (doctor-good's MX is the world's Postfix, which runs only as root):"
	echo "  $$ctl doctor --domain doctor-good.secure.palisade.example"
	echo "  $$ctl keys list --account 1"
	echo "Stop everything with: make stop"

stop:
	Deploy/local/service.sh stop transport $(LOCAL)
	Deploy/local/service.sh stop vks-sync $(LOCAL)
	Deploy/local/service.sh stop wkd $(LOCAL)
	Deploy/local/service.sh stop keystore $(LOCAL)
	Deploy/local/service.sh stop aliases $(LOCAL)
	$(WORLD) stop $(LOCAL)/world
	$(PG) stop $(LOCAL)/pg
	echo "stopped"

# Install for systemd (as root): release executables in /usr/bin, the units in /etc/systemd/system, the system
# users (systemd-sysusers), the migrations in /usr/share/palisade/schemas (platformctl's default), the Postfix
# snippets in /usr/share/palisade/postfix, the README and the example configuration in /usr/share/doc/palisade,
# and /etc/palisade/palisade.yaml from the example unless it exists (root:palisade 0640, in 0750). DESTDIR=DIR
# stages it all under DIR instead, touching nothing of the system (for packaging, and the install test).
# The paths are the units' own: the executables must be in /usr/bin.
SERVICES := palisade-aliases palisade-keystore palisade-wkd palisade-vks-sync palisade-transport
# The release executables `make install` installs, with the Swift runtime and Foundation linked in (the server needs
# no Swift toolchain). Build them as yourself; `sudo make install` then only copies (sudo's PATH rarely has swift).
release:
	log=$$(mktemp)
	for product in platformctl $(SERVICES); do
		$(SWIFT) build -c release --static-swift-stdlib --product "$$product" >"$$log" 2>&1 || { grep -E "error" "$$log" | head -20 >&2; rm -f "$$log"; exit 1; }
	done
	rm -f "$$log"
	echo "release executables in $$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)"

install:
	if command -v $(SWIFT) >/dev/null; then $(MAKE) --no-print-directory release; fi
	bin=.build/release
	for product in platformctl $(SERVICES); do
		[ -x "$$bin/$$product" ] || { echo "install: $$bin/$$product is not built: run make release as yourself first" >&2; exit 1; }
		# Another target's release build links the runtime dynamically: that executable would not run on a server.
		if ldd "$$bin/$$product" | grep -q libswiftCore; then echo "install: $$bin/$$product needs the Swift runtime: run make release first" >&2; exit 1; fi
	done
	install -d "$(DESTDIR)/usr/bin" "$(DESTDIR)/etc/systemd/system" "$(DESTDIR)/usr/lib/sysusers.d" \
		"$(DESTDIR)/usr/share/palisade/schemas" "$(DESTDIR)/usr/share/palisade/postfix" "$(DESTDIR)/usr/share/doc/palisade"
	for product in platformctl $(SERVICES); do install -s -m 0755 "$$bin/$$product" "$(DESTDIR)/usr/bin/$$product"; done
	install -m 0644 Deploy/systemd/*.service "$(DESTDIR)/etc/systemd/system/"
	install -m 0644 Deploy/systemd/palisade.sysusers.conf "$(DESTDIR)/usr/lib/sysusers.d/palisade.conf"
	install -m 0644 Schemas/*.sql "$(DESTDIR)/usr/share/palisade/schemas/"
	install -m 0644 Deploy/postfix/* "$(DESTDIR)/usr/share/palisade/postfix/"
	install -m 0644 README.md Deploy/palisade.example.yaml "$(DESTDIR)/usr/share/doc/palisade/"
	install -d -m 0750 "$(DESTDIR)/etc/palisade"
	[ -e "$(DESTDIR)/etc/palisade/palisade.yaml" ] || install -m 0640 Deploy/palisade.example.yaml "$(DESTDIR)/etc/palisade/palisade.yaml"
	if [ -z "$(DESTDIR)" ]; then
		systemd-sysusers /usr/lib/sysusers.d/palisade.conf
		chgrp palisade /etc/palisade /etc/palisade/palisade.yaml
		systemctl daemon-reload 2>/dev/null || echo "install: systemd is not running here; run systemctl daemon-reload where it is"
	fi
	echo "installed$(if $(DESTDIR), under $(DESTDIR)): platformctl $(SERVICES) in /usr/bin, their units in /etc/systemd/system"
	echo "next: edit /etc/palisade/palisade.yaml (database URLs per role in /etc/palisade/<service>.env), platformctl db migrate, systemctl enable --now $(SERVICES)"

# Deploy/CONFIGURATION.md, every configuration key, from the settings the code reads (a test keeps it current).
config-reference:
	$(SWIFT) build --product platformctl 2>&1 | grep -E "error|Compiling|Build" | tail -3
	.build/debug/platformctl config check --keys --markdown > Deploy/CONFIGURATION.md
	echo "wrote Deploy/CONFIGURATION.md"

# The whole suite against a PostgreSQL cluster and a DNS/HTTPS test world of its own, both stopped
# again whatever the outcome.
test: deps
	$(SWIFT) build --build-tests
	cluster=$$(mktemp -d /tmp/palisade-test-pg.XXXXXX)
	world=$$(mktemp -d /tmp/palisade-test-world.XXXXXX)
	trap '$(PG) destroy "$$cluster"; $(WORLD) destroy "$$world"' EXIT
	port=$$(( 56000 + RANDOM % 900 ))
	export PALISADE_TEST_DATABASE_URL=$$($(PG) start "$$cluster" "$$port")
	$(WORLD) start "$$world" >/dev/null
	export PALISADE_TEST_WORLD=$$world
	# From PyPI: sys4's tlsrpt-reporter, a real TLS report generator for the TLSRPT intake tests; dkimpy's
	# dkimsign (with PyNaCl for Ed25519), a real DKIM signer for the DKIM tests.
	venv=.build/test-venv
	[ -x $$venv/bin/tlsrpt-reportd ] || { python3 -m venv $$venv && $$venv/bin/pip install -q tlsrpt-reporter==0.6.0; }
	[ -x $$venv/bin/dkimsign ] || $$venv/bin/pip install -q dkimpy==1.1.8 pynacl==1.6.2 dnspython==2.9.2
	export PALISADE_TEST_TLSRPT_REPORTER=$$PWD/$$venv PALISADE_TEST_DKIMPY=$$PWD/$$venv
	$(SWIFT) test --skip-build

# Job-queue benchmark (release build) against the batched SKIP LOCKED limit and pgqueuer.
bench: deps
	Benchmarks/run-jobqueue.sh

# DNS look-ups and HTTPS fetches per second against the test world, beside dig (via unbound) and curl.
bench-network: deps
	Benchmarks/run-network.sh

# OpenPGP: parse, canonicalise and write a 10,000-certificate keyring, beside sq doing the same.
bench-openpgp: deps
	Benchmarks/run-openpgp.sh

# Postfix alias look-ups: postmap -q (a process each, and from stdin) beside direct queries.
bench-postfix: deps
	Benchmarks/run-postfix-maps.sh

# Certificate imports into the keystore (10,000 certificates, 1 and 4 callers) beside gpg --import; key look-ups
# (WKD, then cached at 1 and 32 callers, in-process and through the service with wrk) beside pgbench of the cache's SELECT.
bench-keystore: deps
	dpkg-query -W -f='$${Status}' wrk 2>/dev/null | grep -q 'ok installed' || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
	Benchmarks/run-keystore.sh

# WKD serving: 10,000 published addresses, hot entries at 64 connections with wrk, beside nginx serving our export.
bench-wkd: deps
	dpkg-query -W -f='$${Status}' wrk 2>/dev/null | grep -q 'ok installed' || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
	Benchmarks/run-wkd.sh

# Alias creations: in-process, through the HTTP API with wrk, and the same SQL from pgbench (the floor).
bench-aliases: deps
	dpkg-query -W -f='$${Status}' wrk 2>/dev/null | grep -q 'ok installed' || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk >/dev/null; }
	Benchmarks/run-aliases.sh

# VKS refreshes: 10,000 keys due at once against a VKS with 20 ms of latency, then under the rate limit.
bench-vks: deps
	Benchmarks/run-vks.sh

# Socketmap look-ups of cached answers (1,000 domains; 1 and 16 connections) beside postfix-mta-sts-resolver (PyPI, in a venv).
bench-transport: deps
	Benchmarks/run-transport.sh

# TLS reports: 10,000 distinct gzipped reports taken in (8 callers), then aggregated by tlsrpt.process jobs (8 workers).
bench-tlsrpt: deps
	Benchmarks/run-tlsrpt.sh

# The DMARC milter: 10,000 messages through the milter protocol, SPF/DKIM/DMARC with warm DNS.
bench-milter: deps
	Benchmarks/run-milter.sh

# libFuzzer with the address sanitizer: FUZZ_SECONDS per target (default 60).
fuzz:
	Fuzz/run.sh openpgp $${FUZZ_SECONDS:-60}
	Fuzz/run.sh wkd-request $${FUZZ_SECONDS:-60}
	Fuzz/run.sh mail-policy $${FUZZ_SECONDS:-60}
	Fuzz/run.sh tlsrpt $${FUZZ_SECONDS:-60}

clean:
	$(PG) destroy $(LOCAL)/pg || true
	rm -rf .build
