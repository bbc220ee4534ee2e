#!/usr/bin/env bash
# Makes the OpenPGP test fixtures with real tools: GnuPG 2.2 (gpg) and Sequoia (sq 0.27), plus pysequoia
# (PyPI) for v6 keys, which neither of those makes. Run once; the outputs are committed beside this script.
#
#   Tests/OpenPGPTests/Fixtures/make-fixtures.sh
#
# Every key is made without a passphrase in a throw-away GnuPG home; only public certificates are kept.
set -euo pipefail
cd "$(dirname "$0")"
export GNUPGHOME=$(mktemp -d)
trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
gpg() { command gpg --batch --quiet --no-tty --pinentry-mode loopback --passphrase '' "$@"; }
fpr() { gpg --with-colons --list-keys "$1" | awk -F: '/^fpr:/ { print $10; exit }'; }

# RSA 3072 with two User IDs and an encryption subkey; certified by a third party (Carol).
gpg --quick-gen-key 'Alice Example <alice@example.org>' rsa3072 default never
alice=$(fpr alice@example.org)
gpg --quick-add-uid "$alice" 'Alice at Work <alice@work.example>'
gpg --quick-add-key "$alice" rsa3072 encr never
gpg --quick-gen-key 'Carol Certifier <carol@example.net>' ed25519 default never
gpg -u carol@example.net --quick-sign-key "$alice" 'Alice Example <alice@example.org>'
gpg --export "$alice" > rsa-two-uids-certified.pgp

# Ed25519 with a cv25519 encryption subkey and an Ed25519 signing subkey (a binding with a back-signature);
# its address is the WKD draft's example, Joe.Doe@Example.ORG.
gpg --quick-gen-key 'Joe Doe <Joe.Doe@Example.ORG>' ed25519 default never
joe=$(fpr Joe.Doe@Example.ORG)
gpg --quick-add-key "$joe" ed25519 sign never
gpg --export "$joe" > ed25519-signing-subkey.pgp
gpg --armor --export "$joe" > ed25519-signing-subkey.asc

# Made in 2020 with a 30-day expiry: expired.
gpg --faked-system-time 20200101T000000! --quick-gen-key 'Old Key <old@example.org>' ed25519 default 30d
gpg --export old@example.org > expired.pgp

# Revoked with the revocation certificate gpg writes at generation (reason: none given, so hard); it has
# an encryption subkey, and a copy has the revocation moved after the subkey (gpg 2.2 ignores it there).
gpg --quick-gen-key 'Revoked Key <revoked@example.org>' ed25519 default never
revoked=$(fpr revoked@example.org)
gpg --quick-add-key "$revoked" cv25519 encr never
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$revoked.rev" | gpg --import
gpg --export "$revoked" > revoked.pgp
python3 - revoked.pgp revocation-after-subkeys.pgp <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
packets, offset = [], 0
while offset < len(data):
    header = data[offset]
    size = {0: 1, 1: 2, 2: 4}[header & 3]
    length = int.from_bytes(data[offset + 1:offset + 1 + size], "big")
    end = offset + 1 + size + length
    packets.append(data[offset:end])
    offset = end
# gpg writes the key revocation (signature type 0x20) straight after the primary key: move it to the end.
revocation = next(p for p in packets[1:] if (p[0] >> 2) & 0x0F == 2 and p[1 + {0: 1, 1: 2, 2: 4}[p[0] & 3] + 1] == 0x20)
packets.remove(revocation)
open(sys.argv[2], "wb").write(b"".join(packets + [revocation]))
PY

# Every signing algorithm gpg 2.2 makes: DSA, ECDSA on the NIST and Brainpool curves.
for algo in dsa2048 nistp256 nistp384 nistp521 brainpoolP256r1; do
    gpg --quick-gen-key "Algo $algo <$algo@example.org>" "$algo" default never
    gpg --export "$algo@example.org" > "algo-$algo.pgp"
done

# The policy: an RSA 1024 key (too short), and SHA-1 self-signatures made in 2019 (accepted) and now
# (refused); RSA, since EdDSA signatures need a 256-bit hash whenever they were made (RFC 9580 §5.2.3.3).
gpg --quick-gen-key 'Short Key <short@example.org>' rsa1024 default never
gpg --export short@example.org > rsa1024.pgp
gpg --faked-system-time 20190101T000000! --cert-digest-algo SHA1 --quick-gen-key 'Old SHA1 <sha1-2019@example.org>' rsa2048 default never
gpg --export sha1-2019@example.org > sha1-2019.pgp
gpg --cert-digest-algo SHA1 --quick-gen-key 'New SHA1 <sha1-now@example.org>' rsa2048 default never
gpg --export sha1-now@example.org > sha1-now.pgp

# Two subkeys revoked through gpg's own dialogue: one superseded (a soft reason), one compromised (hard).
gpg --quick-gen-key 'Sub Revoked <subrev@example.org>' ed25519 default never
subrev=$(fpr subrev@example.org)
gpg --quick-add-key "$subrev" cv25519 encr never
gpg --quick-add-key "$subrev" ed25519 sign never
printf 'key 1\nrevkey\ny\n2\n\ny\nkey 1\nkey 2\nrevkey\ny\n1\n\ny\nsave\n' \
    | command gpg --batch --no-tty --quiet --pinentry-mode loopback --passphrase '' --command-fd 0 --edit-key "$subrev" >/dev/null 2>&1
gpg --export "$subrev" > revoked-subkeys.pgp

# One User ID revoked, one kept.
gpg --quick-gen-key 'Dave Current <dave@example.org>' ed25519 default never
dave=$(fpr dave@example.org)
gpg --quick-add-uid "$dave" 'Dave Former <dave@old.example>'
gpg --quick-revoke-uid "$dave" 'Dave Former <dave@old.example>'
gpg --export "$dave" > revoked-uid.pgp

# The Ed25519 certificate with its signing subkey's binding signature corrupted (last byte flipped).
python3 - ed25519-signing-subkey.pgp subkey-bad-binding.pgp <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
# Walk the packets (gpg writes legacy framing) and remember where the last signature ends.
offset, last_signature_end = 0, None
while offset < len(data):
    header = data[offset]
    tag = (header & 0x3F) if header & 0x40 else (header >> 2) & 0x0F
    if header & 0x40:
        first = data[offset + 1]
        if first < 192: length, size = first, 1
        elif first < 224: length, size = ((first - 192) << 8) + data[offset + 2] + 192, 2
        else: length, size = int.from_bytes(data[offset + 2:offset + 6], "big"), 5
    else:
        size = {0: 1, 1: 2, 2: 4}[header & 3]
        length = int.from_bytes(data[offset + 1:offset + 1 + size], "big")
    end = offset + 1 + size + length
    if tag == 2: last_signature_end = end
    offset = end
data[last_signature_end - 1] ^= 0x01
open(sys.argv[2], "wb").write(bytes(data))
PY

# Sequoia: a cv25519 certificate, and one without any User ID.
sq key generate --userid 'Bob Sequoia <bob@example.org>' --export bob.key
sq key extract-cert --binary bob.key > sq-cv25519.pgp
sq key generate --export nouid.key
sq key extract-cert --binary nouid.key > sq-no-userid.pgp
rm -f bob.key nouid.key bob.key.rev nouid.key.rev

# v6 (RFC 9580) certificates from pysequoia 0.1.35 (PyPI), in a throw-away venv: two User IDs, signing
# and encryption subkeys.
venv=$(mktemp -d)
python3 -m venv "$venv" && "$venv/bin/pip" install -q pysequoia==0.1.35
"$venv/bin/python" - <<'PY'
import warnings
from pysequoia import Cert, Profile
warnings.simplefilter("ignore")
cert = Cert.generate(user_ids=["Vera Six <vera@example.org>", "Vera Elsewhere <vera@elsewhere.example>"], profile=Profile.RFC9580)
open("v6-two-uids.asc", "w").write(str(cert))
PY
# A v6 Ed448 certificate: no tool here makes one, so make-ed448.py assembles it, signed by pyca/cryptography.
"$venv/bin/pip" install -q cryptography
"$venv/bin/python" make-ed448.py
rm -rf "$venv"

# rfc9580-a3-v6.asc is RFC 9580 Appendix A.3, the sample version 6 certificate, copied from the RFC.

# Copies of one certificate at different moments, for merging: the first export (one User ID, an
# encryption subkey); a later one with a second User ID and a signing subkey; that later state filtered
# to the second User ID alone; and a last one where the second User ID is revoked.
gpg --quick-gen-key 'Mia Merge <mia@example.org>' ed25519 default never
mia=$(fpr mia@example.org)
gpg --export "$mia" > merge-1.pgp
gpg --quick-add-uid "$mia" 'Mia at Work <mia@work.example>'
gpg --quick-add-key "$mia" ed25519 sign never
gpg --export "$mia" > merge-2.pgp
gpg --export --export-filter keep-uid='mbox = mia@work.example' "$mia" > merge-2-work-only.pgp
gpg --quick-revoke-uid "$mia" 'Mia at Work <mia@work.example>'
gpg --export "$mia" > merge-3-work-revoked.pgp

# A keyring: several certificates in one file.
cat rsa-two-uids-certified.pgp ed25519-signing-subkey.pgp revoked-uid.pgp sq-cv25519.pgp > keyring.pgp
# The time the tests validate at: a day after the fixtures were made, so keys with a few years' expiry
# (sq's default) stay valid in the tests however late they run.
echo $(( $(date +%s) + 86400 )) > validation-time
echo "fixtures written"
