#!/usr/bin/env bash
# The small demo `make run` loads once into its database (skipped when mail.example is there already):
#   - the platform domain mail.example with accounts alice@ and bob@, and the alias hello@mail.example;
#   - bob's custom domain shop.example with the alias sales@shop.example, served by WKD as a service;
#   - OpenPGP keys made by gpg (in LOCAL/demo/gnupg) for alice@mail.example, bob@mail.example and
#     sales@shop.example, imported into the keystore and bound to those addresses (so the WKD publisher serves them);
#   - doctor-good.secure.palisade.example (the test world's domain that publishes everything right) as a
#     platform domain, for `platformctl doctor`.
#
#   demo.sh LOCAL PLATFORMCTL CONFIG     PALISADE_DATABASE_URL: palisade_admin's
set -euo pipefail
local=${1:?usage: demo.sh LOCAL PLATFORMCTL CONFIG} ctl=${2:?} config=${3:?}
demo=$local/demo

pctl() { "$ctl" "$@" --config "$config"; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
loaded() { pctl domains list --json | python3 -c 'import json, sys; sys.exit(0 if any(d["name"] == "mail.example" for d in json.load(sys.stdin)) else 1)'; }
loaded && exit 0
# A run that stopped half way left a partial demo in a database of its own: make clean starts again.
rm -rf "$demo"
mkdir -p "$demo"

pctl domains add mail.example --platform >/dev/null
pctl domains add doctor-good.secure.palisade.example --platform >/dev/null
alice=$(pctl accounts create alice@mail.example --json | field id)
bob=$(pctl accounts create bob@mail.example --json | field id)
pctl aliases create --account "$alice" hello@mail.example >/dev/null
pctl domains add shop.example --account "$bob" >/dev/null
pctl aliases create --account "$bob" sales@shop.example >/dev/null
pctl wkd enable shop.example >/dev/null

export GNUPGHOME=$demo/gnupg
mkdir -p -m 0700 "$GNUPGHOME"
key() {  # key ACCOUNT "Name" ADDRESS: a new Ed25519/X25519 key, imported and bound
    local account=$1 name=$2 address=$3 fingerprint
    gpg --batch --quiet --passphrase '' --quick-gen-key "$name <$address>" ed25519 sign never 2>/dev/null
    fingerprint=$(gpg --batch --with-colons --list-keys "<$address>" | awk -F: '$1 == "fpr" { print $10; exit }')
    gpg --batch --quiet --passphrase '' --quick-add-key "$fingerprint" cv25519 encr never 2>/dev/null
    gpg --batch --export "$fingerprint" > "$demo/$address.pgp"
    pctl keys import --account "$account" "$demo/$address.pgp" >/dev/null
    pctl keys bind --account "$account" "$address" "$fingerprint" >/dev/null
}
key "$alice" Alice alice@mail.example
key "$bob" Bob bob@mail.example
key "$bob" Sales sales@shop.example
gpgconf --kill all 2>/dev/null || true
