//! Full text end to end against a local server: a feed that sends only
//! summaries, switched to full text, gets each new article's web page read
//! (the readable part, without the site around it) and its pictures cached;
//! with the server gone the article opens whole, pictures included. A page
//! that cannot be read leaves the summary and says why.

mod support;

use std::path::Path;

use support::TestServer;
use tidings::config::Config;
use tidings::model::{FeedId, ImageStatus};
use tidings::refresh::{Command, ImagePlan, Progress, Refresher};
use tidings::store::{NewSubscription, Store};

const PAGE: &str = include_str!("fixtures/pages/press-blog.html");

fn png() -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbImage::new(8, 6)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// A summary-only feed of two posts: the first has a page, the second's is gone.
fn site(dir: &Path, server: &TestServer) {
    let uploads = dir.join("wp-content/uploads/2026/01");
    std::fs::create_dir_all(&uploads).unwrap();
    for name in ["starter-jar.png", "stiff-starter.png"] {
        std::fs::write(uploads.join(name), png()).unwrap();
    }
    // The page's root-relative addresses, under the server's /files/.
    let page = PAGE.replace("\"/wp-content/", "\"/files/wp-content/");
    std::fs::write(dir.join("starter.html"), page).unwrap();
    let feed = format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Crumb &amp; Crust</title><link>{site}</link>
<item><title>Keeping a bread starter alive through the winter</title><link>{post}</link><guid>post-4182</guid>
<description>Every winter the same letters arrive: the starter that doubled happily in August now sits in its jar.</description></item>
<item><title>A post that moved</title><link>{gone}</link><guid>post-4183</guid><description>Short summary.</description></item>
</channel></rss>"#,
        site = server.url("/files/"),
        post = server.url("/files/starter.html"),
        gone = server.url("/files/moved.html"),
    );
    std::fs::write(dir.join("feed.xml"), feed).unwrap();
}

/// The site of [`site`], served, in a temporary directory: (the server,
/// the directory, the site's files in it).
fn served_site() -> (TestServer, tempfile::TempDir, std::path::PathBuf) {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("site");
    std::fs::create_dir(&files).unwrap();
    site(&files, &server);
    server.serve_dir(&files);
    (server, dir, files)
}

fn refresh(store: Store, config: &Config, images: &Path) -> Vec<Progress> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let plan = ImagePlan::new(images.to_path_buf(), &config.images);
    let mut refresher = Refresher::new(store, config.clone())
        .unwrap()
        .with_images(Some(plan));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    runtime.block_on(refresher.run(Command::Refresh(None), &tx));
    let mut out = Vec::new();
    while let Ok(p) = rx.try_recv() {
        out.push(p);
    }
    out
}

#[test]
fn a_summary_only_feed_with_full_text_on_reads_each_page_and_keeps_it_offline() {
    let (server, dir, _) = served_site();
    let db = dir.path().join("tidings.db");
    let images = dir.path().join("images");
    let mut config = Config::default();
    config.refresh.total_timeout_secs = 5;
    let feed: FeedId = {
        let mut store = Store::open(&db).unwrap();
        let (feed, _) = store
            .add_feed(&NewSubscription {
                url: server.url("/files/feed.xml"),
                ..Default::default()
            })
            .unwrap();
        store
            .update_feed_settings(feed, |s| s.full_text = Some(true))
            .unwrap();
        feed
    };
    let progress = refresh(Store::open(&db).unwrap(), &config, &images);
    let pages: Vec<&Option<String>> = progress
        .iter()
        .filter_map(|p| match p {
            Progress::PageDone { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    assert_eq!(pages.len(), 2, "{progress:?}");
    drop(server);

    // Offline now: everything comes from the cache.
    let store = Store::open(&db).unwrap();
    let articles = store.feed_articles(feed).unwrap();
    let post = articles
        .iter()
        .find(|a| a.guid.as_deref() == Some("post-4182"))
        .unwrap();
    let page = post.page_content.as_deref().expect("the page was read");
    assert!(page.contains("Feed it thicker, not more often"));
    assert!(page.contains("often the best of the year"));
    for furniture in ["Shop our flour", "Leave a Reply", "Proudly powered"] {
        assert!(!page.contains(furniture), "{furniture} kept");
    }
    // The feed's own text stays beside it.
    assert!(post.summary.as_deref().unwrap().starts_with("Every winter"));
    let pictures = store.article_images(post.id).unwrap();
    let stiff = pictures
        .iter()
        .find(|i| i.url.ends_with("stiff-starter.png"))
        .expect("the page's picture is the article's");
    assert_eq!(stiff.status, ImageStatus::Cached, "{stiff:?}");
    let file = images.join(stiff.file.as_deref().unwrap());
    assert!(file.is_file(), "{}", file.display());
    // Searchable by words only the page has.
    let found = store.search("thicker", 10).unwrap();
    assert!(found.iter().any(|a| a.article.id == post.id));

    let moved = articles
        .iter()
        .find(|a| a.guid.as_deref() == Some("post-4183"))
        .unwrap();
    assert_eq!(moved.page_content, None);
    assert!(
        moved.page_error.as_deref().unwrap().contains("404"),
        "{moved:?}"
    );
    assert_eq!(moved.summary.as_deref(), Some("Short summary."));
    // And the statistics count both.
    let totals = store.page_totals().unwrap();
    assert_eq!(totals.read, 1);
    assert_eq!(totals.failures, [("HTTP 404".to_string(), 1)]);
}

#[test]
fn feeds_without_full_text_never_have_their_pages_read() {
    let (server, dir, _) = served_site();
    let db = dir.path().join("tidings.db");
    {
        let mut store = Store::open(&db).unwrap();
        store
            .add_feed(&NewSubscription {
                url: server.url("/files/feed.xml"),
                ..Default::default()
            })
            .unwrap();
    }
    let progress = refresh(
        Store::open(&db).unwrap(),
        &Config::default(),
        &dir.path().join("i"),
    );
    assert!(
        !progress
            .iter()
            .any(|p| matches!(p, Progress::PageDone { .. }))
    );
    let asked: Vec<String> = server
        .state
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(!asked.iter().any(|p| p.ends_with(".html")), "{asked:?}");
}

/// A feed on the open internet cannot make tidings read pages of your own
/// network: its article's page on a loopback address is refused unasked.
#[test]
fn a_public_feeds_page_on_a_private_address_is_never_read() {
    let (server, dir, files) = served_site();
    let db = dir.path().join("tidings.db");
    let public = "http://93.184.216.34/feed.xml";
    let feed = {
        let mut store = Store::open(&db).unwrap();
        let (feed, _) = store
            .add_feed(&NewSubscription {
                url: public.into(),
                ..Default::default()
            })
            .unwrap();
        store
            .update_feed_settings(feed, |s| s.full_text = Some(true))
            .unwrap();
        feed
    };
    // Its answer is in hand (as `tidings add` has it): 93.184.216.34 is never asked.
    let answer = tidings::fetch::Response {
        status: Some(200),
        final_url: public.into(),
        body: std::fs::read(files.join("feed.xml")).unwrap(),
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut refresher = Refresher::new(Store::open(&db).unwrap(), Config::default()).unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let subscription = tidings::refresh::Subscription {
        feed,
        url: public.into(),
        title: String::new(),
        answer,
    };
    runtime.block_on(refresher.run(Command::Subscribe(Box::new(subscription)), &tx));
    let store = Store::open(&db).unwrap();
    let articles = store.feed_articles(feed).unwrap();
    assert_eq!(articles.len(), 2);
    for article in &articles {
        assert_eq!(article.page_content, None);
        let error = article.page_error.as_deref().unwrap_or_default();
        assert!(error.contains("private"), "{error}");
    }
    let asked = server.state.requests.lock().unwrap().len();
    assert_eq!(asked, 0, "the local server was never asked");
}
