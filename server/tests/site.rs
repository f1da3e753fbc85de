//! The static site and the health check, over real HTTP.

mod common;

use common::{Server, WASM};
use reqwest::StatusCode;
use std::io::{Read as _, Write as _};
use std::time::Duration;

#[tokio::test]
async fn healthz_answers_ok_when_the_database_does() {
    let server = Server::start(|_| {}).await;
    let response = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn wasm_is_served_as_application_wasm() {
    let server = Server::start(|_| {}).await;
    let response = server
        .client
        .get(server.url("/dist/meterwall_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.bytes().await.unwrap(), WASM);
}

#[tokio::test]
async fn javascript_is_served_as_text_javascript() {
    let server = Server::start(|_| {}).await;
    let response = server
        .client
        .get(server.url("/dist/meterwall.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"].to_str().unwrap();
    assert!(kind.starts_with("text/javascript"), "{kind}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn pages_are_served_and_missing_files_are_404() {
    let server = Server::start(|_| {}).await;
    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<title>News</title>"));
    let missing = server
        .client
        .get(server.url("/articles/none.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_missing_site_directory_is_refused_at_start_up() {
    let error = meterwall_server::app(meterwall_server::Options {
        root: "no/such/dir".into(),
        ..meterwall_server::Options::default()
    })
    .unwrap_err();
    assert!(error.to_string().contains("cargo xtask build"), "{error}");
}

#[tokio::test]
async fn connections_are_served_without_nagle_s_delay() {
    use axum::serve::Listener as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut listener = meterwall_server::no_delay(listener);
    let client = tokio::net::TcpStream::connect(address).await.unwrap();
    let (served, _) = listener.accept().await;
    assert!(
        served.nodelay().unwrap(),
        "the server's side of a connection must send each write at once"
    );
    drop(client);
}

/// Sends `parts` on a fresh connection, `pause` apart, then reads what comes back until the
/// server closes the connection or five seconds pass (`None`: still open then).
async fn exchange(server: &Server, parts: &[&'static str], pause: Duration) -> Option<String> {
    let address = server.base.trim_start_matches("http://").to_owned();
    let parts = parts.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        for (n, part) in parts.iter().enumerate() {
            if n > 0 {
                std::thread::sleep(pause);
            }
            stream.write_all(part.as_bytes()).unwrap();
        }
        until_closed(stream)
    })
    .await
    .unwrap()
}

/// What `stream` receives until the server closes it, or `None` if it is still open after five
/// seconds. Blocking.
fn until_closed(mut stream: std::net::TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(String::from_utf8_lossy(&answer).into_owned()),
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            // Closed with unread data on our side or theirs: closed all the same.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&answer).into_owned())
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_client_slow_to_send_its_headers_is_cut_off() {
    let timeout = Duration::from_secs(1);
    let server = Server::start(|o| o.header_timeout = timeout).await;
    // Headers begun and never finished: the connection is closed, with nothing answered, once
    // the timeout has passed.
    let began = std::time::Instant::now();
    let cut = exchange(
        &server,
        &["GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: 1\r\n"],
        Duration::from_millis(200),
    )
    .await;
    assert_eq!(
        cut.as_deref(),
        Some(""),
        "a request whose headers never end must be closed after the header timeout"
    );
    assert!(
        began.elapsed() >= timeout - Duration::from_millis(100),
        "closed after {:?}, before the header timeout of {timeout:?}",
        began.elapsed()
    );
    // Headers in two parts within the timeout: answered, and the connection, kept alive, is
    // closed once it has sat idle for as long.
    let served = exchange(
        &server,
        &["GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", "\r\n"],
        Duration::from_millis(200),
    )
    .await
    .expect("an idle kept-alive connection must be closed after the header timeout");
    assert!(
        served.starts_with("HTTP/1.1 200") && served.contains("<title>News</title>"),
        "{served}"
    );
}

#[tokio::test]
async fn a_header_timeout_of_zero_or_over_an_hour_is_refused_at_start_up() {
    for timeout in [Duration::ZERO, Duration::from_secs(3601)] {
        let error = meterwall_server::app(meterwall_server::Options {
            header_timeout: timeout,
            ..meterwall_server::Options::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("header_timeout"), "{error}");
    }
}

/// `serve` on 127.0.0.1 with `header_timeout`, on the test site, until told to stop; returns
/// the address, the stop, the serving task and the site's directory (kept until the end).
async fn serving(
    header_timeout: Duration,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
    tempfile::TempDir,
) {
    let (dir, options) = common::site();
    let app = meterwall_server::app(options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (tell, told) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(meterwall_server::serve(
        listener,
        app,
        header_timeout,
        async {
            let _ = told.await;
        },
    ));
    // Served: the loop is accepting.
    let page = reqwest::get(format!("http://{address}/")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    (address, tell, served, dir)
}

#[tokio::test]
async fn serve_stops_when_told_and_closes_kept_alive_connections() {
    // Longer than the test waits: only the stop may close the connection.
    let (address, tell, served, _site) = serving(Duration::from_secs(60)).await;
    // A connection open and idle when the stop comes, accepted by then.
    let idle = std::net::TcpStream::connect(address).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tell.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("serve must return once told to stop")
        .unwrap();
    let closed = tokio::task::spawn_blocking(move || until_closed(idle).is_some())
        .await
        .unwrap();
    assert!(closed, "the idle connection must be closed by the stop");
}

#[tokio::test]
async fn serve_refuses_new_connections_while_it_stops() {
    let (address, tell, served, _site) = serving(Duration::from_secs(2)).await;
    // A request still arriving holds the stop until its header timeout.
    let mut slow = std::net::TcpStream::connect(address).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tell.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "a connection made while the service stops must be refused, not left waiting"
    );
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("serve must return once the slow request has timed out")
        .unwrap();
    drop(slow);
}
