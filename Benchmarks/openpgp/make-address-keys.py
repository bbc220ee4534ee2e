"""Makes one certificate per address for the look-up benchmark: bench0@DOMAIN … bench{N-1}@DOMAIN, each a
Sequoia (pysequoia) v4 certificate with one User ID, written binary to OUTPUT/benchI.pgp.

    python make-address-keys.py N DOMAIN OUTPUT
"""
import base64
import os
import sys
import warnings

from pysequoia import Cert, Profile

warnings.simplefilter("ignore")
count, domain, output = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.makedirs(output, exist_ok=True)
for index in range(count):
    cert = Cert.generate(user_ids=[f"Bench {index} <bench{index}@{domain}>"], profile=Profile.RFC4880)
    armored = str(cert)
    body = "".join(line for line in armored.splitlines()[1:] if line and ":" not in line and not line.startswith(("=", "-")))
    with open(os.path.join(output, f"bench{index}.pgp"), "wb") as file:
        file.write(base64.b64decode(body))
