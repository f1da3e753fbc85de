#![cfg(not(target_arch = "wasm32"))]
//! End to end: a reader's journey through the demo site, in real headless Chrome and Firefox.
//!
//! Each test starts the reference server (`meterwall_server::run`) on 127.0.0.1 with the
//! repository's `www/` and a fresh SQLite file, starts a WebDriver (chromedriver or geckodriver)
//! on a free port with a fresh browser profile, and reads like a person would: three free
//! articles, the wall on the fourth, a free article again, then a signup that opens the wall and
//! lands in the database. A second journey logs in as a subscriber from the wall's link: the demo
//! login's signed token, checked by the widget, opens that article and the next.
//!
//! Needs the built widget (`cargo xtask build`) and the browsers with their drivers
//! (`cargo xtask test` installs them). Whatever is missing fails the test, naming the fix.
//! Overrides: `CHROMEDRIVER`, `CHROME_BIN`, `GECKODRIVER`, `FIREFOX_BIN`.

mod common;

use std::time::{Duration, Instant};

use common::{
    collapse, decided_state, demo_articles, in_session, wait_for, Article, Binaries, Browser,
    Driver, Site, ONE_BROWSER_AT_A_TIME,
};
use fantoccini::{Client, Locator};

/// The whole journey; a browser that stops answering fails the test instead of hanging it.
const JOURNEY_LIMIT: Duration = Duration::from_secs(180);

/// The signup copy's heading for a registration wall.
const HEADING: &str = "Keep reading for free!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_reader_journey() {
    reader_journey(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_reader_journey() {
    reader_journey(Browser::Firefox).await;
}

async fn reader_journey(browser: Browser) {
    let _turn = ONE_BROWSER_AT_A_TIME.lock().await;
    let started = Instant::now();
    let www = common::www();
    let articles = demo_articles(&www.join("articles"));
    // Every binary is looked up before anything starts, so a missing one fails at once and alone.
    let binaries = Binaries::locate(browser);
    let site = Site::start(&www).await;
    let driver = Driver::start(browser, binaries).await;
    let client = driver.connect().await;
    let email = format!("reader.{}@Example.COM", browser.name());

    in_session(
        browser,
        &client,
        JOURNEY_LIMIT,
        "journey",
        journey(client.clone(), site.url.clone(), articles, email.clone()),
    )
    .await;
    drop(driver);
    site.stop();

    // The signup really reached the server: read its file as another process would.
    let stored =
        rusqlite::Connection::open_with_flags(&site.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|connection| {
                connection.query_row(
                    "SELECT count(*) FROM signups WHERE email = ?1",
                    [email.replace("Example.COM", "example.com")],
                    |row| row.get::<_, i64>(0),
                )
            })
            .expect("the server's SQLite file is readable");
    assert_eq!(
        stored,
        1,
        "the signup of {email} is not in {}",
        site.db.display()
    );
    eprintln!(
        "[e2e] {} reader journey passed in {:.1} s",
        browser.name(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_chrome_subscriber_logs_in_from_the_wall() {
    subscriber_journey(Browser::Chrome).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_firefox_subscriber_logs_in_from_the_wall() {
    subscriber_journey(Browser::Firefox).await;
}

async fn subscriber_journey(browser: Browser) {
    let www = common::www();
    let articles = common::first_articles(&www.join("articles"), 5);
    common::run_case_within(
        browser,
        "subscriber journey",
        &common::Settings::default(),
        &www,
        JOURNEY_LIMIT,
        |client, site| log_in_from_the_wall(client, site, articles),
    )
    .await;
}

async fn log_in_from_the_wall(client: Client, site: String, articles: Vec<Article>) {
    let url = |article: &Article| format!("{site}{}", article.path);
    for article in &articles[..3] {
        client.goto(&url(article)).await.expect("open the article");
        assert_eq!(decided_state(&client, article).await, "open");
    }
    let fourth = &articles[3];
    client.goto(&url(fourth)).await.expect("open the fourth");
    assert_eq!(decided_state(&client, fourth).await, "locked");
    // "Already a subscriber? Log in here."
    client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .expect("the prompt")
        .shadow_root()
        .await
        .expect("its shadow root")
        .find(Locator::Css("a[href$='/login.html']"))
        .await
        .expect("the login link")
        .click()
        .await
        .expect("follow the login link");
    // Waited for: the click starts the navigation, which a driver need not wait out.
    let field = |id: &'static str| client.wait().for_element(Locator::Id(id));
    field("login-email")
        .await
        .expect("the login page's email field")
        .send_keys("subscriber@example.com")
        .await
        .unwrap();
    field("login-password")
        .await
        .unwrap()
        .send_keys("a password")
        .await
        .unwrap();
    client
        .find(Locator::Css("#login-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .expect("log in");
    // Back on the article, which the token now opens.
    let back = common::until(
        &client,
        "the article again after the login",
        &format!(
            "return location.pathname === {:?} && window.meterwall && window.meterwall.why
                 && window.meterwall.why() ? window.meterwall.why() : null;",
            fourth.path
        ),
    )
    .await;
    assert_eq!(back["tier"], "subscriber", "{back}");
    assert_eq!(decided_state(&client, fourth).await, "open");
    assert!(page_text(&client).await.contains(&fourth.paragraphs[2]));
    // The next article too: the widget checks the kept token on every page.
    let fifth = &articles[4];
    client.goto(&url(fifth)).await.expect("open the fifth");
    assert_eq!(decided_state(&client, fifth).await, "open");
    assert_no_prompt(&client, fifth).await;
    let kept = common::js(&client, "return localStorage.getItem('sextant:token');").await;
    assert!(
        kept.is_string(),
        "the valid pass stays with the site: {kept}"
    );
    // An expired pass left in the site's storage is dropped by its sign-in script rather than
    // handed to the widget: a page's token comes before the one the widget keeps, so the widget
    // would refuse it on every page and wall the subscriber.
    let expired = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl";
    client
        .execute(
            "localStorage.setItem('sextant:token', arguments[0]);",
            vec![expired.into()],
        )
        .await
        .expect("keep an expired pass");
    client
        .goto(&url(fifth))
        .await
        .expect("open the fifth again");
    assert_eq!(decided_state(&client, fifth).await, "open");
    let left = common::js(&client, "return localStorage.getItem('sextant:token');").await;
    assert!(left.is_null(), "the expired pass is still there: {left}");
}

/// What the reader does and sees.
async fn journey(client: Client, site: String, articles: Vec<Article>, email: String) {
    let url = |article: &Article| format!("{site}{}", article.path);

    // Articles 1-3: free, whole, no prompt.
    for article in &articles[..3] {
        client.goto(&url(article)).await.expect("open the article");
        assert_eq!(
            decided_state(&client, article).await,
            "open",
            "{}",
            article.path
        );
        assert_no_prompt(&client, article).await;
        let page = page_text(&client).await;
        for paragraph in &article.paragraphs {
            assert!(
                page.contains(paragraph),
                "{}: an open article is missing the paragraph {paragraph:?}",
                article.path
            );
        }
    }

    // Article 4: the allowance is spent.
    let fourth = &articles[3];
    let hidden = fourth.paragraphs[2].as_str();
    client
        .goto(&url(fourth))
        .await
        .expect("open the fourth article");
    assert_eq!(
        decided_state(&client, fourth).await,
        "locked",
        "{}",
        fourth.path
    );
    let prompt = client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .unwrap_or_else(|_| panic!("{}: locked, but no prompt in the article body", fourth.path));
    let shadow = prompt
        .shadow_root()
        .await
        .expect("the prompt has an open shadow root");
    let heading = shadow
        .find(Locator::Css("h2"))
        .await
        .expect("an h2 in the prompt");
    assert_eq!(text_of(&heading).await, HEADING);
    shadow
        .find(Locator::Css("input[type=email]"))
        .await
        .expect("an email input in the prompt");
    shadow
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("a submit button in the prompt");
    let mut hrefs = Vec::new();
    for link in shadow
        .find_all(Locator::Css("a[href]"))
        .await
        .expect("the prompt's links")
    {
        hrefs.push(link.attr("href").await.unwrap().unwrap_or_default());
    }
    for page in ["/subscribe.html", "/login.html"] {
        assert!(
            hrefs.iter().any(|href| href.ends_with(page)),
            "no link to {page} in the prompt; its links: {hrefs:?}"
        );
    }
    assert!(
        !page_text(&client).await.contains(hidden),
        "{}: the wall is up but the third paragraph is still in the page",
        fourth.path
    );

    // A free article read again stays free.
    client
        .goto(&url(&articles[0]))
        .await
        .expect("reopen the first article");
    assert_eq!(decided_state(&client, &articles[0]).await, "open");
    assert_no_prompt(&client, &articles[0]).await;

    // Back to article 4, and sign up.
    client
        .goto(&url(fourth))
        .await
        .expect("reopen the fourth article");
    assert_eq!(decided_state(&client, fourth).await, "locked");
    let shadow = client
        .find(Locator::Css(".article-body [data-meterwall-prompt]"))
        .await
        .expect("the prompt again")
        .shadow_root()
        .await
        .expect("its shadow root");
    let input = shadow
        .find(Locator::Css("input[type=email]"))
        .await
        .unwrap();
    input.send_keys(&email).await.expect("type the email");
    // A person reads the prompt before sending; the server refuses faster-than-human submits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    shadow
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .expect("click submit");
    let opened = wait_for(&client, "the article to open after the signup", |state| {
        state.as_deref() == Some("open")
    })
    .await;
    assert_eq!(opened, "open");
    assert!(
        page_text(&client).await.contains(hidden),
        "{}: signed up, but the third paragraph did not come back",
        fourth.path
    );
    assert_no_prompt(&client, fourth).await;
}

async fn assert_no_prompt(client: &Client, article: &Article) {
    let prompts = client
        .find_all(Locator::Css("[data-meterwall-prompt]"))
        .await
        .expect("look for a prompt");
    assert!(
        prompts.is_empty(),
        "{}: an open article shows a prompt",
        article.path
    );
}

/// `document.body.textContent`, whitespace collapsed.
async fn page_text(client: &Client) -> String {
    let text = client
        .execute("return document.body.textContent;", vec![])
        .await
        .expect("read the page's text");
    collapse(text.as_str().unwrap_or_default())
}

/// An element's `textContent` (not its rendered text, which CSS may transform), trimmed.
async fn text_of(element: &fantoccini::elements::Element) -> String {
    collapse(
        &element
            .prop("textContent")
            .await
            .unwrap()
            .unwrap_or_default(),
    )
}
