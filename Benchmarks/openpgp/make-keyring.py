"""Makes the OpenPGP benchmark's keyring: N v4 certificates from Sequoia (pysequoia), each with an
Ed25519 primary key, signing, authentication and encryption subkeys and one or two User IDs.

    python make-keyring.py N OUTPUT
"""
import base64
import sys
import warnings

from pysequoia import Cert, Profile

warnings.simplefilter("ignore")
count, output = int(sys.argv[1]), sys.argv[2]
with open(output, "wb") as keyring:
    for index in range(count):
        user_ids = [f"Bench User {index} <user{index}@example.org>"]
        if index % 2:
            user_ids.append(f"Bench Work {index} <user{index}@work.example.org>")
        cert = Cert.generate(user_ids=user_ids, profile=Profile.RFC4880)
        # str() is the public certificate, armored; store it binary so both readers get the same bytes.
        armored = str(cert)
        body = "".join(line for line in armored.splitlines()[1:] if line and ":" not in line and not line.startswith(("=", "-")))
        keyring.write(base64.b64decode(body))
