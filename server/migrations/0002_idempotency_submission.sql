-- What each idempotency key was first sent with (the address as stored, then "|" and the
-- newsletter choice), so that the key cannot answer for another submission. NULL for keys kept
-- before this column existed.
ALTER TABLE idempotency ADD COLUMN submission TEXT;
