"""Builds a v6 Ed448 certificate (RFC 9580 §5.5.5.10, §5.2.3) with pyca/cryptography's Ed448, because
none of gpg 2.2, sq 0.27 or pysequoia makes one. Hand-assembled packets, signed by a real Ed448
implementation: it checks our Ed448 verification against another implementation.

    python make-ed448.py   (needs `pip install cryptography`; called by make-fixtures.sh)

Also two User IDs whose self-signatures are invalid for reasons only a signer can produce: an unknown
critical subpacket, and a creation time in 2100.

Writes ed448-v6.pgp and ed448-v6.fingerprint (the SHA-256 v6 fingerprint, upper-case hex).
"""
import hashlib
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey

def packet(tag, body):
    """A new-format packet with a five-octet length."""
    return bytes([0xC0 | tag, 0xFF]) + struct.pack(">I", len(body)) + body

def subpacket(kind, data):
    return bytes([len(data) + 1, kind]) + data

secret = Ed448PrivateKey.generate()
public = secret.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
created = 1_700_000_000
key = bytes([6]) + struct.pack(">I", created) + bytes([28]) + struct.pack(">I", len(public)) + public
key_prefix = b"\x9b" + struct.pack(">I", len(key))
fingerprint = hashlib.sha256(key_prefix + key).digest()
user_id = b"Ed448 Test <ed448@example.org>"

def signature(kind, context, flags, extra=b"", made=created):
    hashed = subpacket(2, struct.pack(">I", made)) + subpacket(33, bytes([6]) + fingerprint) + subpacket(27, bytes([flags])) + extra
    hashed_part = bytes([6, kind, 28, 10]) + struct.pack(">I", len(hashed)) + hashed
    salt = os.urandom(32)  # SHA-512's salt size (RFC 9580 §9.5)
    digest = hashlib.sha512(salt + context + hashed_part + bytes([6, 0xFF]) + struct.pack(">I", len(hashed_part))).digest()
    value = secret.sign(digest)
    return packet(2, hashed_part + struct.pack(">I", 0) + digest[:2] + bytes([len(salt)]) + salt + value)

def certify(uid, **options):
    return packet(13, uid) + signature(0x13, key_prefix + key + b"\xb4" + struct.pack(">I", len(uid)) + uid, 0x03, **options)

direct = signature(0x1F, key_prefix + key, 0x03)
# Two more User IDs whose self-signatures must not count: one carries an unknown critical subpacket
# (type 100 with the critical bit, RFC 9580 §5.2.3.7), one is dated in 2100.
critical = certify(b"Critical <critical@example.org>", extra=bytes([2, 0x80 | 100, 0]))
future = certify(b"Future <future@example.org>", made=4_102_444_800)
with open("ed448-v6.pgp", "wb") as out:
    out.write(packet(6, key) + direct + certify(user_id) + critical + future)
with open("ed448-v6.fingerprint", "w") as out:
    out.write(fingerprint.hex().upper() + "\n")
