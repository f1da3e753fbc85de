//! The SQLite file: opening it, migrating it, and the one transaction that records a signup.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::Error;

/// The schema, in order. Migration N (1-based) has been applied when `PRAGMA user_version >= N`;
/// each runs in its own transaction together with the bump of `user_version`, so a crash mid-way
/// leaves the file at the previous version. Never edit a shipped file: add the next one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_signups.sql",
        include_str!("../migrations/0001_signups.sql"),
    ),
    (
        "0002_idempotency_submission.sql",
        include_str!("../migrations/0002_idempotency_submission.sql"),
    ),
];

/// The sentence for a key sent again with another address or choice (the widget never does:
/// another submission gets another key).
const KEY_REUSED: &str =
    "This form was already sent with another address or choice. Please reload the page and try again.";

/// How long an idempotency key is remembered. The widget retries within seconds; a day is ample.
const IDEMPOTENCY_RETENTION: &str = "-1 day";

/// A writer waits this long for another process holding the file's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The answer given to every accepted signup, new or repeated, so the answer never tells
/// whether an address was already registered.
pub(crate) const ACCEPTED_BODY: &str = r#"{"ok":true}"#;

/// An address that passed validation, in the form it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signup {
    pub email: String,
    pub newsletter: bool,
    pub article: String,
    pub locale: String,
}

/// What the server answers, as stored for idempotent replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
    /// Whether this is a stored answer given again (a retry's), not a new one.
    pub replayed: bool,
}

/// The database: one connection behind a mutex.
///
/// Signups are tiny single-row writes, and SQLite allows one writer at a time anyway, so a pool
/// would only add waiting on SQLite's own lock. Callers hold the mutex from a blocking thread
/// (`tokio::task::spawn_blocking`), never on an async worker.
#[derive(Debug)]
pub(crate) struct Store {
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file, switches it to WAL and applies pending migrations.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] if the file cannot be opened or configured, [`Error::Migration`] if a
    /// migration fails, [`Error::SchemaTooNew`] if the file was migrated by a newer server.
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        let database = |source| Error::Database {
            path: path.to_path_buf(),
            source,
        };
        let mut connection = Connection::open(path).map_err(database)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(database)?;
        // WAL lets readers (a backup, an export, the e2e test) read while the server writes.
        // https://www.sqlite.org/wal.html
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(database)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite refused WAL mode; continuing");
        }
        // NORMAL is durable in WAL mode except for the last commits on power loss (not on a crash).
        // https://www.sqlite.org/pragma.html#pragma_synchronous
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(database)?;
        migrate(&mut connection, path)?;
        connection
            .execute(
                "DELETE FROM idempotency WHERE created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
                [IDEMPOTENCY_RETENTION],
            )
            .map_err(database)?;
        Ok(Self {
            connection: Mutex::new(connection),
        })
    }

    /// Answers whether the database responds to a query.
    pub(crate) fn ping(&self) -> rusqlite::Result<()> {
        self.lock().query_row("SELECT 1", [], |_| Ok(()))
    }

    /// Records a signup, once per address and once per idempotency key.
    ///
    /// A key seen before returns its first answer verbatim and writes nothing; sent with another
    /// address or newsletter choice, it is refused (422) rather than answered for a submission
    /// it did not carry. An address already stored gets the same answer as a new one and keeps
    /// its row, but for a newsletter opt-in, which is recorded (a reader who registers again, on
    /// another device, and ticks the box); an opt-out is not taken from a signup form, which
    /// anyone can fill in with any address. The lookup and the writes are one transaction, so
    /// concurrent retries cannot both insert. Keys past their day are purged on the way.
    pub(crate) fn sign_up(&self, signup: &Signup, key: Option<&str>) -> rusqlite::Result<Answer> {
        let mut connection = self.lock();
        // IMMEDIATE takes the write lock up front, so a second process on the same file waits
        // (busy_timeout) instead of failing half-way with SQLITE_BUSY on upgrade.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let submission = format!("{}|{}", signup.email, u8::from(signup.newsletter));
        // Kept for a day, not for as long as the server runs.
        transaction.execute(
            "DELETE FROM idempotency WHERE created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
            [IDEMPOTENCY_RETENTION],
        )?;
        if let Some(key) = key {
            let replay = transaction
                .query_row(
                    // Only within the retention: the purge runs at start-up, and a key older
                    // than a day names no retry of ours.
                    "SELECT status, body, submission FROM idempotency WHERE key = ?1
                     AND created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2)",
                    [key, IDEMPOTENCY_RETENTION],
                    |row| {
                        Ok((
                            Answer {
                                status: row.get(0)?,
                                body: row.get(1)?,
                                replayed: true,
                            },
                            row.get::<_, Option<String>>(2)?,
                        ))
                    },
                )
                .optional()?;
            match replay {
                Some((_, Some(first))) if !first.eq_ignore_ascii_case(&submission) => {
                    return Ok(Answer {
                        status: 422,
                        body: serde_json::json!({ "error": KEY_REUSED }).to_string(),
                        replayed: false,
                    });
                }
                Some((answer, _)) => return Ok(answer),
                None => {}
            }
        }
        transaction.execute(
            "INSERT INTO signups (email, newsletter, article, locale) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (email) DO UPDATE SET newsletter = 1 WHERE excluded.newsletter = 1",
            params![
                signup.email,
                signup.newsletter,
                signup.article,
                signup.locale
            ],
        )?;
        let answer = Answer {
            status: 200,
            body: ACCEPTED_BODY.to_owned(),
            replayed: false,
        };
        if let Some(key) = key {
            transaction.execute(
                // REPLACE: a key past its day (looked up as unknown above) gives way.
                "INSERT OR REPLACE INTO idempotency (key, status, body, submission)
                 VALUES (?1, ?2, ?3, ?4)",
                params![key, answer.status, answer.body, submission],
            )?;
        }
        transaction.commit()?;
        Ok(answer)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (it rolls back on drop),
        // so the connection is still sound: keep serving rather than fail every later request.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Applies the migrations newer than the file's `user_version`, each in its own transaction.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), Error> {
    let database = |source| Error::Database {
        path: PathBuf::from(path),
        source,
    };
    // `user_version` is a signed 32-bit integer in the file header; the list is far shorter.
    let known = MIGRATIONS.len() as i64;
    let current: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(database)?;
    if current > known {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found: current,
            known,
        });
    }
    for (version, &(name, sql)) in (1_i64..).zip(MIGRATIONS).skip(current.max(0) as usize) {
        let migration = |source| Error::Migration { name, source };
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(migration)?;
        transaction.execute_batch(sql).map_err(migration)?;
        transaction
            .pragma_update(None, "user_version", version)
            .map_err(migration)?;
        transaction.commit().map_err(migration)?;
        tracing::info!(migration = name, version, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signup(email: &str) -> Signup {
        Signup {
            email: email.to_owned(),
            newsletter: false,
            article: "/articles/a.html".to_owned(),
            locale: "en".to_owned(),
        }
    }

    fn count(store: &Store) -> i64 {
        store
            .lock()
            .query_row("SELECT count(*) FROM signups", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn migrations_run_once_and_reopening_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = Store::open(&path).unwrap();
        store.sign_up(&signup("a@example.com"), None).unwrap();
        drop(store);

        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .lock()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert_eq!(count(&store), 1);
    }

    #[test]
    fn a_file_from_a_newer_server_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let error = Store::open(&path).unwrap_err();
        assert!(
            matches!(error, Error::SchemaTooNew { found: 99, .. }),
            "{error}"
        );
    }

    #[test]
    fn the_same_address_in_another_case_is_one_reader() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let first = store.sign_up(&signup("Ann@example.com"), None).unwrap();
        let second = store.sign_up(&signup("ann@example.com"), None).unwrap();
        assert_eq!(first, second);
        assert_eq!(count(&store), 1);
    }

    #[test]
    fn a_replayed_key_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        let replay = store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        assert_eq!(replay.body, ACCEPTED_BODY);
        assert_eq!(count(&store), 1);
    }

    #[test]
    fn a_key_answers_only_for_the_submission_it_came_with() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        let again = store.sign_up(&signup("A@example.com"), Some("k1")).unwrap();
        assert_eq!(again.status, 200, "the same submission: its answer again");
        let other = store.sign_up(&signup("b@example.com"), Some("k1")).unwrap();
        assert_eq!(other.status, 422);
        let mut choice = signup("a@example.com");
        choice.newsletter = true;
        assert_eq!(store.sign_up(&choice, Some("k1")).unwrap().status, 422);
        assert_eq!(count(&store), 1, "neither stored");
    }

    #[test]
    fn a_newsletter_opt_in_is_recorded_for_a_known_address_and_an_opt_out_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let newsletter = |store: &Store| -> i64 {
            store
                .lock()
                .query_row("SELECT newsletter FROM signups", [], |row| row.get(0))
                .unwrap()
        };
        store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        let mut ticked = signup("A@example.com");
        ticked.newsletter = true;
        assert_eq!(store.sign_up(&ticked, Some("k2")).unwrap().status, 200);
        assert_eq!((count(&store), newsletter(&store)), (1, 1), "opted in");
        store.sign_up(&signup("a@example.com"), Some("k3")).unwrap();
        assert_eq!(newsletter(&store), 1, "not opted out by a form");
    }

    /// Makes every idempotency key two days old.
    fn two_days_pass(store: &Store) {
        store
            .lock()
            .execute(
                "UPDATE idempotency SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')",
                [],
            )
            .unwrap();
    }

    #[test]
    fn keys_past_their_day_are_purged_while_the_server_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        two_days_pass(&store);
        store.sign_up(&signup("b@example.com"), Some("k2")).unwrap();
        let keys: Vec<String> = store
            .lock()
            .prepare("SELECT key FROM idempotency")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, ["k2"]);
    }

    #[test]
    fn a_key_older_than_a_day_names_no_retry() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store.sign_up(&signup("a@example.com"), Some("k1")).unwrap();
        // The server has run for two days since, without a restart.
        two_days_pass(&store);
        store.sign_up(&signup("b@example.com"), Some("k1")).unwrap();
        assert_eq!(count(&store), 2, "a new submission, stored");
    }
}
