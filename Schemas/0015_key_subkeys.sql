-- A signature names its issuer by fingerprint, usually a signing subkey's: the keystore finds the stored
-- key from it. Written with the certificate by the keystore and the VKS sync worker (keys stored before
-- this migration get theirs at their next VKS refresh).
ALTER TABLE keys ADD COLUMN subkey_fingerprints text[] NOT NULL DEFAULT '{}';
CREATE INDEX keys_subkey_fingerprints ON keys USING gin (subkey_fingerprints);
