//! `POST /api/signup` over real HTTP: each hardening rule, idempotency, duplicates and concurrency.

mod common;

use std::collections::BTreeSet;

use common::{error_of, form, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn signup_is_stored_trimmed_with_a_lower_case_domain() {
    let server = Server::start(|_| {}).await;
    let response = server.sign_up(&form("  Ann.Lee@News.EXAMPLE ")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"ok":true}"#);
    assert_eq!(server.stored_emails(), ["Ann.Lee@news.example"]);
}

#[tokio::test]
async fn origin_of_another_site_or_none_is_refused() {
    let server = Server::start(|_| {}).await;
    let foreign = server
        .client
        .post(server.url("/api/signup"))
        .header("origin", "https://evil.example")
        .json(&form("a@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(error_of(foreign).await.contains("this site's own pages"));

    let missing = server
        .client
        .post(server.url("/api/signup"))
        .json(&form("b@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn allow_listed_origin_may_sign_up_cross_origin() {
    let server = Server::start(|options| {
        options.allowed_origins = vec!["https://WWW.news.example/".to_owned()];
    })
    .await;
    // The browser's CORS preflight for a JSON POST from another origin.
    let preflight = server
        .client
        .request(reqwest::Method::OPTIONS, server.url("/api/signup"))
        .header("origin", "https://www.news.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://www.news.example"
    );

    let response = server
        .client
        .post(server.url("/api/signup"))
        .header("origin", "https://www.news.example")
        .header("sec-fetch-site", "cross-site")
        .json(&form("a@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://www.news.example"
    );
    // The widget there reads Retry-After, which CORS hides unless the answer exposes it.
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("retry-after"),
        "{:?}",
        response.headers()
    );
    assert_eq!(server.stored_emails(), ["a@example.com"]);
}

#[tokio::test]
async fn an_allow_list_entry_that_is_not_an_origin_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let error = meterwall_server::app(meterwall_server::Options {
        root: dir.path().to_path_buf(),
        db: dir.path().join("db.sqlite"),
        allowed_origins: vec!["https://news.example/articles".to_owned()],
        ..meterwall_server::Options::default()
    })
    .unwrap_err();
    assert!(error.to_string().contains("is not an origin"), "{error}");
}

#[tokio::test]
async fn sec_fetch_site_cross_site_is_refused_unless_allow_listed() {
    let server = Server::start(|_| {}).await;
    // Even with an Origin that matches Host: the browser says the page was on another site.
    let response = server
        .client
        .post(server.url("/api/signup"))
        .header("origin", &server.base)
        .header("sec-fetch-site", "cross-site")
        .json(&form("a@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(!error_of(response).await.is_empty());
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn content_type_other_than_json_is_refused() {
    let server = Server::start(|_| {}).await;
    let response = server
        .post_raw(
            &server.base,
            "text/plain",
            form("a@example.com").to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The sentences are English and say so: a prompt in another language uses its own.
    assert_eq!(response.headers()["content-language"], "en");
    assert!(!error_of(response).await.is_empty());
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn an_article_or_locale_no_widget_sends_is_dropped_not_refused() {
    let server = Server::start(|_| {}).await;
    assert_eq!(
        server.sign_up(&form("kept@example.com")).await.status(),
        StatusCode::OK
    );
    let mut body = form("dropped@example.com");
    body["article"] = Value::String("<script>\nalert(1)</script>".to_owned());
    body["locale"] = Value::String("en".repeat(40));
    assert_eq!(server.sign_up(&body).await.status(), StatusCode::OK);
    assert_eq!(server.stored("article"), ["/articles/tides.html", ""]);
    assert_eq!(server.stored("locale"), ["en-GB", ""]);
}

#[tokio::test]
async fn body_larger_than_the_limit_is_refused() {
    let server = Server::start(|options| options.max_body_bytes = 1024).await;
    let mut body = form("a@example.com");
    body["article"] = Value::String(format!("/articles/{}.html", "x".repeat(2000)));
    let response = server.sign_up(&body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!error_of(response).await.is_empty());
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server =
        Server::start(|options| options.request_timeout = std::time::Duration::from_millis(300))
            .await;
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/signup HTTP/1.1\r\nHost: {address}\r\nOrigin: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"email\":",
        server.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes: the server answers 408 and closes, rather than wait.
    let mut answer = String::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_string(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "still waiting after 5 s: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // With a sentence, as every refusal: until this test the 408 came empty.
    let lower = answer.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/json")
            && lower.contains("content-language: en")
            && answer.contains("{\"error\":\"The form took too long to arrive."),
        "{answer}"
    );
    assert!(server.stored_emails().is_empty());
}

/// Requests that the headers alone refuse (a GET, a foreign page's POST, a form posted without
/// JSON) are refused before the limiter counts them. Until this test each spent an allowance, so a
/// third-party page could lock its visitors (and everyone behind their address) out of signing up.
#[tokio::test]
async fn what_the_headers_refuse_spends_no_signup_allowance() {
    let server = Server::start(|options| options.rate_per_minute = 2).await;
    for _ in 0..3 {
        let get = server
            .client
            .get(server.url("/api/signup"))
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(get.headers()["allow"], "POST");
        assert!(error_of(get)
            .await
            .starts_with("Signups are sent with POST"));
        let foreign = server
            .post_raw(
                "https://elsewhere.example",
                "application/json",
                form("a@example.com").to_string(),
            )
            .await;
        assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
        let plain = server
            .post_raw(
                &server.base,
                "text/plain",
                form("a@example.com").to_string(),
            )
            .await;
        assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    for email in ["a@example.com", "b@example.com"] {
        assert_eq!(server.sign_up(&form(email)).await.status(), StatusCode::OK);
    }
    assert_eq!(
        server.sign_up(&form("c@example.com")).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "signups are still limited"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let server = Server::start(|options| options.rate_per_minute = 2).await;
    for email in ["a@example.com", "b@example.com"] {
        assert_eq!(server.sign_up(&form(email)).await.status(), StatusCode::OK);
    }
    let response = server.sign_up(&form("c@example.com")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    // Two a minute refill one every 30 s.
    assert!(
        (1..=31).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_eq!(response.headers()["content-language"], "en");
    assert!(error_of(response).await.contains("try again"));
    assert_eq!(server.stored_emails(), ["a@example.com", "b@example.com"]);
}

#[tokio::test]
async fn honeypot_filled_is_refused_and_stores_nothing() {
    let server = Server::start(|_| {}).await;
    let mut body = form("a@example.com");
    body["website"] = json!("https://cheap-pills.example");
    let response = server.sign_up(&body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!error_of(response).await.is_empty());
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn submit_faster_than_min_submit_ms_is_refused() {
    let server = Server::start(|options| options.min_submit_ms = 1000).await;
    let mut body = form("a@example.com");
    body["elapsedMs"] = json!(250);
    let response = server.sign_up(&body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(response).await.contains("too quickly"));
    assert!(server.stored_emails().is_empty());

    body["elapsedMs"] = json!(1000.5);
    assert_eq!(server.sign_up(&body).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_refused() {
    let server = Server::start(|_| {}).await;
    for body in [
        r#"{"email": "a@example.com""#,
        r#"{"newsletter": true}"#,
        "[]",
    ] {
        let response = server
            .post_raw(&server.base, "application/json", body)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(!error_of(response).await.is_empty());
    }
    assert!(server.stored_emails().is_empty());
}

#[tokio::test]
async fn invalid_email_gets_the_rule_s_sentence() {
    let server = Server::start(|_| {}).await;
    for address in ["not-an-email", "   ", "a@b@example.com"] {
        let response = server.sign_up(&form(address)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{address:?}");
        let expected = meterwall::email::validate(address).unwrap_err().to_string();
        assert_eq!(error_of(response).await, expected);
    }
    assert!(server.stored_emails().is_empty());
}

/// Where a test keeps the log lines the server writes.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Hears what the server logs on this thread (this test's runtime runs the server there).
    fn hear(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        tracing::subscriber::set_default(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish(),
        )
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A retry of a stored submission is logged as a replay, and a key reused for another address as
/// a refusal with its reason. Until this test both were logged as `signup accepted`, so the count
/// of those lines was not the count of signups.
#[tokio::test]
async fn replays_and_reused_keys_are_logged_as_what_they_are() {
    let logs = Logs::default();
    let _logging = logs.hear();
    let server = Server::start(|_| {}).await;
    let body = form("a@example.com");
    assert_eq!(server.sign_up(&body).await.status(), StatusCode::OK);
    assert_eq!(server.sign_up(&body).await.status(), StatusCode::OK);
    let mut reused = form("b@example.com");
    reused["idempotencyKey"] = body["idempotencyKey"].clone();
    assert_eq!(
        server.sign_up(&reused).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let logged = logs.text();
    assert_eq!(logged.matches("signup accepted").count(), 1, "{logged}");
    assert_eq!(logged.matches("signup replayed").count(), 1, "{logged}");
    assert!(
        logged.contains("idempotency key reused for another submission")
            && logged.contains("status=422")
            && logged.contains("signup refused"),
        "{logged}"
    );
}

/// A page on an origin not allowed is named in the log, with the flag that allows it; a body that
/// is not the widget's form names the field it lacks, and never a value (which may be the
/// address).
#[tokio::test]
async fn refusals_log_the_page_s_origin_and_the_missing_field() {
    let logs = Logs::default();
    let _logging = logs.hear();
    let server = Server::start(|_| {}).await;
    let response = server
        .post_raw(
            "https://elsewhere.example",
            "application/json",
            form("a@example.com").to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut lacking = form("ann@example.com");
    lacking.as_object_mut().unwrap().remove("elapsedMs");
    assert_eq!(
        server.sign_up(&lacking).await.status(),
        StatusCode::BAD_REQUEST
    );
    // A value of the wrong type, which serde's message quotes: not logged.
    let mut wrong = form("ann@example.com");
    wrong["elapsedMs"] = "ann@example.com".into();
    assert_eq!(
        server.sign_up(&wrong).await.status(),
        StatusCode::BAD_REQUEST
    );
    let logged = logs.text();
    assert!(
        logged.contains("https://elsewhere.example") && logged.contains("--allow-origin"),
        "{logged}"
    );
    assert!(logged.contains("`elapsedMs`"), "{logged}");
    assert!(
        !logged.contains("ann@"),
        "addresses are never logged: {logged}"
    );
}

#[tokio::test]
async fn a_domain_without_a_dot_is_refused_and_logged_as_such() {
    let logs = Logs::default();
    let _logging = logs.hear();
    let server = Server::start(|_| {}).await;
    // Valid by the browser's rule, and no mail from the internet reaches them.
    for address in ["ann@gmailcom", "reader@localhost"] {
        let response = server.sign_up(&form(address)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{address:?}");
        assert_eq!(
            error_of(response).await,
            "Please enter a valid email address, like name@example.com."
        );
    }
    assert!(server.stored_emails().is_empty());
    let logged = logs.text();
    assert_eq!(
        logged
            .matches("invalid email: the domain has no dot")
            .count(),
        2,
        "{logged}"
    );
    assert!(!logged.contains("gmailcom"), "addresses are never logged");
}

#[tokio::test]
async fn idempotent_retry_returns_the_first_answer_without_a_second_insert() {
    let server = Server::start(|_| {}).await;
    let body = form("a@example.com");
    let first = server.sign_up(&body).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();

    let retry = server.sign_up(&body).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.bytes().await.unwrap(), first);

    // The same key with another address: refused with a sentence, and nothing written; the key
    // answers only for the submission it came with.
    let mut reused = form("b@example.com");
    reused["idempotencyKey"] = body["idempotencyKey"].clone();
    let refused = server.sign_up(&reused).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.headers()["content-language"], "en");
    assert!(error_of(refused).await.contains("reload the page"));
    assert_eq!(server.stored_emails(), ["a@example.com"]);
}

#[tokio::test]
async fn duplicate_email_gets_the_same_answer_and_one_row() {
    let server = Server::start(|_| {}).await;
    let first = server.sign_up(&form("ann@example.com")).await;
    let again = server.sign_up(&form(" ann@EXAMPLE.com")).await;
    let other_case = server.sign_up(&form("ANN@example.com")).await;
    let mut answers = Vec::new();
    for response in [first, again, other_case] {
        answers.push((response.status(), response.text().await.unwrap()));
    }
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(answers[0], (StatusCode::OK, r#"{"ok":true}"#.to_owned()));
    assert_eq!(server.stored_emails(), ["ann@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_signups_store_each_distinct_email_once() {
    const REQUESTS: usize = 100;
    const DISTINCT: usize = 40;
    let server = std::sync::Arc::new(Server::start(|options| options.rate_per_minute = 1000).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..REQUESTS {
        let server = std::sync::Arc::clone(&server);
        // Repeats arrive with the domain in another case: the same reader.
        let domain = if i < DISTINCT {
            "example.com"
        } else {
            "Example.COM"
        };
        let email = format!("reader{}@{domain}", i % DISTINCT);
        tasks.spawn(async move {
            let response = server.sign_up(&form(&email)).await;
            (response.status(), response.text().await.unwrap())
        });
    }
    while let Some(answer) = tasks.join_next().await {
        assert_eq!(
            answer.unwrap(),
            (StatusCode::OK, r#"{"ok":true}"#.to_owned())
        );
    }
    let stored = server.stored_emails();
    let distinct: BTreeSet<_> = stored.iter().cloned().collect();
    let expected: BTreeSet<_> = (0..DISTINCT)
        .map(|i| format!("reader{i}@example.com"))
        .collect();
    assert_eq!(stored.len(), DISTINCT, "a reader was stored twice or lost");
    assert_eq!(distinct, expected);
}
