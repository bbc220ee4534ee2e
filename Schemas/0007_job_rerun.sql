-- A unique key enqueued again while its job is running must not be lost: the change behind the second
-- enqueue may have come after the running handler read its data (a wkd.refresh that read the old
-- binding). The enqueue marks the running job instead, and completing it puts it back as ready, so it
-- runs once more, never twice at once.
ALTER TABLE jobs ADD COLUMN rerun boolean NOT NULL DEFAULT false;
