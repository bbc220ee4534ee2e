-- Which User IDs each account has seen of a key: keys are stored once, merged from every copy, and an
-- account that imported a key found for one address must not learn the owner's other addresses from
-- another account's fuller copy. Keys held before this migration keep NULL (every User ID shown, as
-- before); every import from now on records what it carried, and the default shows nothing.
ALTER TABLE account_keys ADD COLUMN user_ids jsonb CHECK (user_ids IS NULL OR jsonb_typeof(user_ids) = 'array');
ALTER TABLE account_keys ALTER COLUMN user_ids SET DEFAULT '[]';

-- What the sources said is quoted in key_lookups.attempts: bounded like everything from outside.
ALTER TABLE key_lookups ADD CONSTRAINT key_lookups_attempts_size CHECK (length(attempts::text) <= 65536);
