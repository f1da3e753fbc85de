-- Readers who registered through the wall. One row per address: the UNIQUE constraint uses
-- NOCASE so "Ann@Example.com" and "ann@example.com" are one reader (the server also lower-cases
-- the domain before storing; the local part is kept as typed, RFC 5321 section 2.4).
CREATE TABLE signups (
    id         INTEGER PRIMARY KEY,
    email      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    newsletter INTEGER NOT NULL CHECK (newsletter IN (0, 1)),
    article    TEXT    NOT NULL,
    locale     TEXT    NOT NULL
) STRICT;

-- The first answer given to each Idempotency key, replayed verbatim when the widget retries.
CREATE TABLE idempotency (
    key        TEXT    PRIMARY KEY,
    status     INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_created_at ON idempotency (created_at);
