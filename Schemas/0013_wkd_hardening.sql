-- Least privilege for the WKD publisher, and domain names that are safe as file names (the static
-- export writes one directory per host).

-- The publisher reads bindings and keys, never who holds which key.
REVOKE SELECT ON account_keys FROM palisade_wkd;

-- A-labels only: letters, digits, hyphens and dots (Core's DomainName writes nothing else).
ALTER TABLE domains ADD CONSTRAINT domains_name_characters CHECK (name ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$' AND name !~ '\.\.');
