//! A real server on 127.0.0.1 with its own SQLite file and static site, for the HTTP tests.
// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use meterwall_server::Options;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// A running server; dropping it stops it and deletes its files.
pub struct Server {
    /// `http://127.0.0.1:<port>`, also what a page of this site sends as `Origin`.
    pub base: String,
    pub db: PathBuf,
    pub client: reqwest::Client,
    task: JoinHandle<()>,
    _dir: TempDir,
}

/// The static site the server is given: one page, the loader script and a wasm module.
pub const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// The static site and the database in a fresh directory (deleted when it is dropped), and the
/// default options pointing at them.
pub fn site() -> (TempDir, Options) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("www");
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>News</title>",
    )
    .unwrap();
    std::fs::write(root.join("dist/meterwall.js"), "export default 1;\n").unwrap();
    std::fs::write(root.join("dist/meterwall_bg.wasm"), WASM).unwrap();
    let options = Options {
        root,
        db: dir.path().join("meterwall.sqlite"),
        ..Options::default()
    };
    (dir, options)
}

impl Server {
    /// Starts a server with the default options, changed by `configure`.
    pub async fn start(configure: impl FnOnce(&mut Options)) -> Self {
        let (dir, mut options) = site();
        configure(&mut options);
        let db = options.db.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            meterwall_server::run(listener, options)
                .await
                .expect("server stopped")
        });
        Self {
            base,
            db,
            client: reqwest::Client::new(),
            task,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A signup as this site's own page posts it.
    pub async fn sign_up(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/signup"))
            .header("origin", &self.base)
            .header("sec-fetch-site", "same-origin")
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A POST to the signup route from page `origin`, of `body` as `content_type`.
    pub async fn post_raw(
        &self,
        origin: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/signup"))
            .header("origin", origin)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// Rows in `signups`, read from the file as another process would.
    pub fn stored_emails(&self) -> Vec<String> {
        self.stored("email")
    }

    /// One text column of every row in `signups`, in order.
    pub fn stored(&self, column: &str) -> Vec<String> {
        let connection = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut query = connection
            .prepare(&format!("SELECT {column} FROM signups ORDER BY id"))
            .unwrap();
        let rows = query.query_map([], |row| row.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The body the widget posts, for `email`, with a fresh idempotency key.
pub fn form(email: &str) -> Value {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    json!({
        "email": email,
        "newsletter": true,
        "article": "/articles/tides.html",
        "locale": "en-GB",
        "idempotencyKey": format!("key-{}-{n}", std::process::id()),
        "website": "",
        "elapsedMs": 5000,
    })
}

/// The `{"error": …}` sentence of a refused request.
pub async fn error_of(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON answer");
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error sentence in {body}"))
        .to_owned()
}
