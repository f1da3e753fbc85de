//! The static site and the health check, over real HTTP.

mod common;

use common::{Server, WASM};
use reqwest::StatusCode;

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
