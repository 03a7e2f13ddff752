//! Image caching end to end against a local HTTP server: the seed blog's
//! images downloaded with every refresh and recorded per image, nothing
//! downloaded twice, everything readable with the server gone; hostile images
//! (too large, a decompression bomb, not an image, a redirect loop, a hang)
//! refused or failed without harm; a public feed's image on a private address
//! never asked for; eviction that keeps starred articles' images.

mod support;

use std::path::{Path, PathBuf};

use support::TestServer;
use tidings::config::Config;
use tidings::fetch::Response;
use tidings::model::{FeedId, ImageStatus};
use tidings::refresh::{Command, ImagePlan, Progress, Refresher, Subscription};
use tidings::store::{NewSubscription, Store};

struct Harness {
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    config: Config,
}

impl Harness {
    fn new() -> Harness {
        let mut config = Config::default();
        config.refresh.connect_timeout_secs = 1;
        config.refresh.read_timeout_secs = 1;
        config.refresh.total_timeout_secs = 2;
        config.images.max_bytes = 1 << 20;
        Harness {
            dir: tempfile::tempdir().unwrap(),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            config,
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("tidings.db")).unwrap()
    }

    fn image_dir(&self) -> PathBuf {
        self.dir.path().join("images")
    }

    fn subscribe(&self, url: &str) -> FeedId {
        let sub = NewSubscription {
            url: url.into(),
            ..Default::default()
        };
        self.store().add_feed(&sub).unwrap().0
    }

    fn refresher(&self) -> Refresher {
        let plan = ImagePlan::new(self.image_dir(), &self.config.images);
        Refresher::new(self.store(), self.config.clone())
            .unwrap()
            .with_images(Some(plan))
    }

    fn collect(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Progress>) -> Vec<Progress> {
        let mut out = Vec::new();
        while let Ok(p) = rx.try_recv() {
            out.push(p);
        }
        out
    }

    fn refresh_all(&self) -> Vec<Progress> {
        let mut refresher = self.refresher();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        self.runtime
            .block_on(refresher.run(Command::Refresh(None), &tx));
        Self::collect(&mut rx)
    }

    /// Stores `answer` as the feed's fetch (as `add` does) and caches its images.
    fn ingest(&self, feed: FeedId, answer: Response) -> Vec<Progress> {
        let mut refresher = self.refresher();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let subscription = Subscription {
            feed,
            url: answer.final_url.clone(),
            title: String::new(),
            answer,
        };
        let command = Command::Subscribe(Box::new(subscription));
        self.runtime.block_on(refresher.run(command, &tx));
        Self::collect(&mut rx)
    }

    /// The article of a feed with this title.
    fn article_titled(&self, feed: FeedId, title: &str) -> tidings::model::Article {
        self.store()
            .feed_articles(feed)
            .unwrap()
            .into_iter()
            .find(|a| a.title.as_deref() == Some(title))
            .unwrap()
    }

    /// Every image of every article of a feed, in order.
    fn images_of(&self, feed: FeedId) -> Vec<tidings::model::ArticleImage> {
        let store = self.store();
        store
            .feed_articles(feed)
            .unwrap()
            .iter()
            .flat_map(|a| store.article_images(a.id).unwrap())
            .collect()
    }
}

fn image_requests(server: &TestServer) -> usize {
    server
        .state
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.path.contains("/img/"))
        .count()
}

#[test]
fn the_seed_blogs_images_are_cached_recorded_and_readable_offline() {
    let server = TestServer::start();
    let test = "the_seed_blogs_images_are_cached_recorded_and_readable_offline";
    let Some(site) = support::seed_blog(&server.url("/files"), test) else {
        return;
    };
    server.serve_dir(site.path());
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/files/aws-opensource.xml"));

    let progress = h.refresh_all();
    let images = h.images_of(feed);
    assert_eq!(images.len(), 29, "29 images in 6 articles");
    let cached: Vec<_> = images
        .iter()
        .filter(|i| i.status == ImageStatus::Cached)
        .collect();
    let failed: Vec<_> = images
        .iter()
        .filter(|i| i.status == ImageStatus::Failed)
        .collect();
    assert_eq!((cached.len(), failed.len()), (28, 1), "{images:#?}");
    assert_eq!(failed[0].http_status, Some(404));
    assert!(failed[0].url.ends_with(".gif"));

    // The recorded sizes are the served images' own (make_feed.py writes each
    // at the original's width and height, as articles.json lists them).
    let seed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::shared_dir()
                .unwrap()
                .join("fixtures/seed/articles.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let listed = seed["images"].as_object().unwrap();
    for image in &cached {
        let stem = image
            .url
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".png");
        let (_, dims) = listed
            .iter()
            .find(|(src, _)| {
                src.rsplit('/')
                    .next()
                    .unwrap()
                    .starts_with(&format!("{stem}."))
            })
            .unwrap_or_else(|| panic!("{stem} is one of the seed's images"));
        let listed_size = (
            dims["width"].as_u64().unwrap() as u32,
            dims["height"].as_u64().unwrap() as u32,
        );
        assert_eq!(
            (image.width, image.height),
            (Some(listed_size.0), Some(listed_size.1)),
            "{stem}"
        );
        // What is on disk is that image, scaled to 1600 px wide when wider.
        let file = h.image_dir().join(image.file.as_deref().unwrap());
        let (w, _) = image_dimensions(&file);
        assert_eq!(w, listed_size.0.min(1600), "{stem}");
    }

    // The fetch record counts them, and the run reported them.
    let record = h.store().fetch_history(feed, 1).unwrap().remove(0);
    assert_eq!(
        (
            record.images.found,
            record.images.cached,
            record.images.failed
        ),
        (29, 28, 1)
    );
    assert!(record.images.bytes_stored > 0);
    assert!(
        progress
            .iter()
            .any(|p| matches!(p, Progress::ImagesDone { stats, .. } if stats.cached == 28))
    );

    // A second refresh downloads nothing new (the failed one waits for its retry).
    let before = image_requests(&server);
    h.refresh_all();
    assert_eq!(image_requests(&server), before);

    // With the server gone, every cached image is still there and decodes.
    drop(server);
    for image in h
        .images_of(feed)
        .iter()
        .filter(|i| i.status == ImageStatus::Cached)
    {
        let file = h.image_dir().join(image.file.as_deref().unwrap());
        let (w, _) = image_dimensions(&file);
        assert!(w > 0);
    }
}

/// Width and height read from a stored PNG/JPEG file's header.
fn image_dimensions(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    match tidings::images::check(&bytes, &tidings::images::ImageLimits::default()) {
        Ok(checked) => (checked.width, checked.height),
        Err(e) => panic!("{} does not read as an image: {e}", path.display()),
    }
}

/// A one-item RSS feed whose body shows these image URLs.
fn feed_showing(images: &[String]) -> String {
    let imgs: String = images
        .iter()
        .map(|u| format!("&lt;img src=\"{u}\" alt=\"x\"&gt;"))
        .collect();
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Pictures</title><link>http://pictures.test/</link>
<item><title>Look</title><guid>look-1</guid><description>&lt;p&gt;Hello&lt;/p&gt;{imgs}</description></item>
</channel></rss>"#
    )
}

#[test]
fn hostile_images_are_refused_or_failed_and_nothing_bad_is_stored() {
    let server = TestServer::start();
    let site = tempfile::tempdir().unwrap();
    let urls: Vec<String> = ["huge", "bomb", "fake", "loop", "hang"]
        .iter()
        .map(|n| server.url(&format!("/img/{n}.png")))
        .collect();
    std::fs::write(site.path().join("pictures.xml"), feed_showing(&urls)).unwrap();
    server.serve_dir(site.path());
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/files/pictures.xml"));
    let started = std::time::Instant::now();
    h.refresh_all();
    let images = h.images_of(feed);
    let status_of = |name: &str| {
        let image = images.iter().find(|i| i.url.contains(name)).unwrap();
        (image.status, image.error.clone().unwrap_or_default())
    };
    let (huge, why) = status_of("huge");
    assert_eq!(huge, ImageStatus::Refused, "{why}");
    assert!(why.contains("larger than"), "{why}");
    // Stopped at the cap: a client that read on would have hit its 2 s timeout
    // long before a gigabyte, and said so instead.
    let streamed = server
        .state
        .streamed_bytes
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(streamed < 256 << 20, "{streamed} bytes streamed");
    let (bomb, why) = status_of("bomb");
    assert_eq!(bomb, ImageStatus::Refused, "{why}");
    assert!(why.contains("100000"), "{why}");
    assert_eq!(status_of("fake").0, ImageStatus::Refused);
    let (looped, why) = status_of("loop");
    assert_eq!(looped, ImageStatus::Failed);
    assert!(why.contains("redirect"), "{why}");
    let (hang, why) = status_of("hang");
    assert_eq!(hang, ImageStatus::Failed);
    assert!(why.contains("timed out") || why.contains("time"), "{why}");
    assert!(
        started.elapsed().as_secs() < 20,
        "a hang costs its timeout, not more"
    );
    // Nothing was written for any of them.
    assert_eq!(support::files_under(&h.image_dir()), Vec::<PathBuf>::new());
    let record = h.store().fetch_history(feed, 1).unwrap().remove(0);
    assert_eq!((record.images.refused, record.images.failed), (3, 2));
}

/// With `[images] cache = false` a refresh downloads and records no image,
/// yet every article keeps its cover image (shown in its header, exported):
/// the first image of its body that is not a tracking pixel.
/// A site with `pictures.xml`: one article showing a tracking pixel and two
/// images, one without; the images' addresses.
fn pictures_site(server: &TestServer) -> (tempfile::TempDir, [String; 3]) {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("img")).unwrap();
    let [pixel, first, second] = ["pixel.png", "first.png", "second.png"].map(|name| {
        let mut png = Vec::new();
        image::RgbImage::new(4, 4)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        std::fs::write(site.path().join("img").join(name), png).unwrap();
        server.url(&format!("/files/img/{name}"))
    });
    let feed_xml = format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Pictures</title><link>http://pictures.test/</link>
<item><title>Look</title><guid>look-1</guid><description>&lt;img src="{pixel}" width="1" height="1"&gt;&lt;p&gt;Hi&lt;/p&gt;&lt;img src="{first}"&gt;&lt;img src="{second}"&gt;</description></item>
<item><title>Plain</title><guid>plain-1</guid><description>no picture here</description></item>
</channel></rss>"#
    );
    std::fs::write(site.path().join("pictures.xml"), feed_xml).unwrap();
    server.serve_dir(site.path());
    (site, [pixel, first, second])
}

#[test]
fn without_the_image_cache_nothing_is_downloaded_and_articles_keep_their_cover() {
    let server = TestServer::start();
    let (_site, [_, first, second]) = pictures_site(&server);
    let mut h = Harness::new();
    h.config.images.cache = false;
    let feed = h.subscribe(&server.url("/files/pictures.xml"));
    let mut refresher = Refresher::new(h.store(), h.config.clone()).unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    h.runtime
        .block_on(refresher.run(Command::Refresh(None), &tx));
    let covers: Vec<(Option<String>, Option<String>)> = h
        .store()
        .feed_articles(feed)
        .unwrap()
        .into_iter()
        .map(|a| (a.title, a.image))
        .collect();
    assert!(
        covers.contains(&(Some("Look".into()), Some(first.clone()))),
        "{covers:?}"
    );
    assert!(covers.contains(&(Some("Plain".into()), None)), "{covers:?}");
    assert_eq!(image_requests(&server), 0);
    assert!(h.images_of(feed).is_empty());

    // Turned on later: opening the article asks for its images, found again
    // from the stored body, and caches them.
    h.config.images.cache = true;
    let look = h.article_titled(feed, "Look");
    let mut refresher = h.refresher();
    h.runtime
        .block_on(refresher.run(Command::CacheImages(look.id), &tx));
    let images = h.images_of(feed);
    let urls: Vec<&str> = images.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(urls, [first.as_str(), second.as_str()]);
    assert!(
        images.iter().all(|i| i.status == ImageStatus::Cached),
        "{images:?}"
    );
    assert_eq!(image_requests(&server), 2);
}

/// A feed's own images setting wins over `[images] cache`, both ways.
#[test]
fn a_feed_turns_its_images_off_or_on_whatever_the_config_says() {
    let server = TestServer::start();
    let (site, [_, first, second]) = pictures_site(&server);
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/files/pictures.xml"));
    let mut settings = h.store().feed_settings(feed).unwrap().unwrap();
    settings.images = Some(false);
    h.store().set_feed_settings(feed, &settings).unwrap();
    h.refresh_all();
    assert_eq!(
        image_requests(&server),
        0,
        "the config caches, the feed does not"
    );
    assert!(h.images_of(feed).is_empty());
    let look = h.article_titled(feed, "Look");
    assert_eq!(
        look.image.as_deref(),
        Some(first.as_str()),
        "the cover stays"
    );
    // Opening the article does not fetch them either.
    let mut refresher = h.refresher();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    h.runtime
        .block_on(refresher.run(Command::CacheImages(look.id), &tx));
    assert_eq!(image_requests(&server), 0);

    // The config off, the feed on: a new article's image comes with the
    // refresh, and an older article's when it is opened.
    let mut h = h;
    h.config.images.cache = false;
    settings.images = Some(true);
    h.store().set_feed_settings(feed, &settings).unwrap();
    std::fs::copy(
        site.path().join("img/first.png"),
        site.path().join("img/third.png"),
    )
    .unwrap();
    let third = server.url("/files/img/third.png");
    let xml = std::fs::read_to_string(site.path().join("pictures.xml")).unwrap();
    let newer = format!(
        "<item><title>Newer</title><guid>newer-1</guid><description>&lt;img src=\"{third}\"&gt;</description></item></channel>"
    );
    std::fs::write(
        site.path().join("pictures.xml"),
        xml.replace("</channel>", &newer),
    )
    .unwrap();
    let refresher = || {
        Refresher::new(h.store(), h.config.clone())
            .unwrap()
            .with_images(ImagePlan::from_config(
                &tidings::config::Paths::in_dir(h.dir.path()),
                &h.config,
            ))
    };
    h.runtime
        .block_on(refresher().run(Command::RefreshForced(None), &tx));
    let urls = |h: &Harness| -> Vec<String> {
        let images = h.images_of(feed);
        assert!(
            images.iter().all(|i| i.status == ImageStatus::Cached),
            "{images:?}"
        );
        images.into_iter().map(|i| i.url).collect()
    };
    assert_eq!(urls(&h), std::slice::from_ref(&third));
    h.runtime
        .block_on(refresher().run(Command::CacheImages(look.id), &tx));
    let mut all = urls(&h);
    all.sort();
    let mut expected = vec![first, second, third];
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn a_public_feed_cannot_make_tidings_fetch_from_a_private_address() {
    let server = TestServer::start();
    let h = Harness::new();
    // A feed on a public address (never contacted: its answer is in hand)
    // that shows an image on this machine.
    let feed = h.subscribe("http://93.184.216.34/feed.xml");
    let body = feed_showing(&[server.url("/img/fake.png")]);
    let answer = Response {
        status: Some(200),
        final_url: "http://93.184.216.34/feed.xml".into(),
        body: body.into_bytes(),
        ..Response::default()
    };
    h.ingest(feed, answer);
    let images = h.images_of(feed);
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].status, ImageStatus::Refused);
    assert!(
        images[0]
            .error
            .as_deref()
            .unwrap()
            .contains("private address")
    );
    assert_eq!(
        image_requests(&server),
        0,
        "the local server was never asked"
    );
}

#[test]
fn eviction_frees_the_least_recently_shown_and_keeps_starred_articles_images() {
    let server = TestServer::start();
    let test = "eviction_frees_the_least_recently_shown_and_keeps_starred_articles_images";
    let Some(site) = support::seed_blog(&server.url("/files"), test) else {
        return;
    };
    server.serve_dir(site.path());
    let h = Harness::new();
    let feed = h.subscribe(&server.url("/files/aws-opensource.xml"));
    h.refresh_all();
    let mut store = h.store();
    let articles = store.feed_articles(feed).unwrap();
    let starred = articles
        .iter()
        .find(|a| !store.article_images(a.id).unwrap().is_empty())
        .unwrap();
    store.set_starred(starred.id, true).unwrap();
    let kept: Vec<String> = store
        .article_images(starred.id)
        .unwrap()
        .into_iter()
        .filter_map(|i| i.file)
        .collect();
    assert!(!kept.is_empty());

    let (removed, bytes) = tidings::refresh::evict(&mut store, &h.image_dir(), 0).unwrap();
    assert!(removed > 0 && bytes > 0);
    for file in &kept {
        assert!(
            h.image_dir().join(file).exists(),
            "a starred article's image stays"
        );
    }
    let totals = store.image_totals().unwrap();
    let evicted = totals
        .by_status
        .iter()
        .find(|(s, _)| *s == ImageStatus::Evicted)
        .unwrap()
        .1;
    assert_eq!(evicted as usize, removed);
    let on_disk = support::files_under(&h.image_dir()).len();
    assert_eq!(on_disk, kept.len());
    // Directories left empty by the eviction go with it.
    let directories = std::fs::read_dir(h.image_dir()).unwrap().count();
    assert!(
        directories <= kept.len(),
        "{directories} directories for {on_disk} files"
    );

    // Opening an article whose images were evicted asks for them again.
    let other = articles
        .iter()
        .find(|a| a.id != starred.id && !store.article_images(a.id).unwrap().is_empty())
        .unwrap();
    let mut refresher = h.refresher();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    h.runtime
        .block_on(refresher.run(Command::CacheImages(other.id), &tx));
    let reported = Harness::collect(&mut rx);
    assert!(
        matches!(reported.as_slice(), [Progress::ImagesDone { stats, .. }] if stats.cached > 0),
        "{reported:?}"
    );
    for image in store.article_images(other.id).unwrap() {
        if image.status == ImageStatus::Cached {
            assert!(h.image_dir().join(image.file.unwrap()).exists());
        }
    }
}

/// A host that never answers as asked, for the dead-host tests: it accepts
/// and stays silent, never accepts (its backlog is full), trickles a byte a
/// second, or refuses connections. `connections` counts those it accepted.
struct DeadHost {
    base: String,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Keeps a listener that never accepts (and its one queued connection) open.
    _held: Option<(tokio::net::TcpListener, std::net::TcpStream)>,
}

#[derive(Clone, Copy)]
enum Silence {
    Hangs,
    FullBacklog,
    Trickles,
    Refuses,
}

impl DeadHost {
    fn start(kind: Silence, runtime: &tokio::runtime::Runtime) -> DeadHost {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let connections = std::sync::Arc::new(AtomicUsize::new(0));
        let accepting = |serve: fn(std::net::TcpStream)| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let count = connections.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    count.fetch_add(1, Ordering::SeqCst);
                    std::thread::spawn(move || serve(stream));
                }
            });
            addr
        };
        let (addr, held) = match kind {
            Silence::Hangs => (
                accepting(|stream| {
                    std::thread::sleep(std::time::Duration::from_secs(120));
                    drop(stream);
                }),
                None,
            ),
            Silence::Trickles => (
                accepting(|mut stream| {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request);
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n";
                    if stream.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    for _ in 0..120 {
                        if stream.write_all(b"x").is_err() {
                            return;
                        }
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                }),
                None,
            ),
            Silence::FullBacklog => {
                let listener = runtime.block_on(async {
                    let socket = tokio::net::TcpSocket::new_v4().unwrap();
                    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
                    socket.listen(0).unwrap()
                });
                let addr = listener.local_addr().unwrap();
                // The one connection a zero backlog queues: every later one hangs.
                let queued = std::net::TcpStream::connect(addr).unwrap();
                (addr, Some((listener, queued)))
            }
            Silence::Refuses => {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                (listener.local_addr().unwrap(), None)
            }
        };
        DeadHost {
            base: format!("http://{addr}"),
            connections,
            _held: held,
        }
    }

    fn accepted(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn hosts_that_do_not_answer_cost_two_timeouts_and_the_rest_is_deferred() {
    let mut h = Harness::new();
    h.config.refresh.connect_timeout_secs = 1;
    h.config.refresh.read_timeout_secs = 2;
    h.config.refresh.total_timeout_secs = 3;
    let server = TestServer::start();
    let kinds = [
        Silence::Hangs,
        Silence::FullBacklog,
        Silence::Trickles,
        Silence::Refuses,
    ];
    let dead: Vec<DeadHost> = kinds
        .iter()
        .map(|kind| DeadHost::start(*kind, &h.runtime))
        .collect();

    // 125 articles, each showing one image on every dead host (500 in all),
    // the first 20 also one from a host that answers.
    let site = tempfile::tempdir().unwrap();
    let mut png = Vec::new();
    image::RgbImage::new(4, 4)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut items = String::new();
    for n in 0..125 {
        let mut body: String = dead
            .iter()
            .map(|host| format!("<img src=\"{}/img/{n}.png\">", host.base))
            .collect();
        if n < 20 {
            std::fs::write(site.path().join(format!("good{n}.png")), &png).unwrap();
            body.push_str(&format!(
                "<img src=\"{}\">",
                server.url(&format!("/files/good{n}.png"))
            ));
        }
        items.push_str(&format!(
            "<item><title>Story {n}</title><link>http://example.org/{n}</link>\
             <guid>story-{n}</guid><description>{}</description></item>",
            body.replace('<', "&lt;").replace('>', "&gt;")
        ));
    }
    let feed_xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Pictures</title>\
         <link>http://example.org/</link>{items}</channel></rss>"
    );
    std::fs::write(site.path().join("feed.xml"), feed_xml).unwrap();
    server.serve_dir(site.path());
    let feed = h.subscribe(&server.url("/files/feed.xml"));
    // Five feeds on the host that hangs: two time out, three are deferred,
    // and then none of its 125 images is asked for.
    let hung_feeds: Vec<FeedId> = (0..5)
        .map(|n| h.subscribe(&format!("{}/feed{n}.xml", dead[0].base)))
        .collect();

    let progress = h.refresh_all();

    assert_eq!(h.store().feed_articles(feed).unwrap().len(), 125);
    let images = h.images_of(feed);
    assert_eq!(images.len(), 520);
    let good: Vec<_> = images
        .iter()
        .filter(|i| i.url.starts_with(&server.base))
        .collect();
    assert!(
        good.iter().all(|i| i.status == ImageStatus::Cached),
        "a host that answers is not held up: {good:#?}"
    );
    let deferred = |i: &&tidings::model::ArticleImage| {
        i.error
            .as_deref()
            .is_some_and(|e| e.starts_with("deferred: host unreachable"))
    };
    for (host, kind) in dead
        .iter()
        .zip(["hangs", "full backlog", "trickles", "refuses"])
    {
        let on_host: Vec<_> = images
            .iter()
            .filter(|i| i.url.starts_with(&host.base))
            .collect();
        assert_eq!(on_host.len(), 125);
        assert!(on_host.iter().all(|i| i.status == ImageStatus::Failed));
        let tried = on_host.iter().filter(|i| !deferred(i)).count();
        // Two misses in a row take the host down (after a miss, a host gets
        // one request at a time, so none starts in between).
        assert!(tried <= 2, "{kind}: {tried} images asked for");
        assert!(
            host.accepted() <= 2,
            "{kind}: {} connections",
            host.accepted()
        );
    }
    let hung: Vec<_> = hung_feeds
        .iter()
        .map(|f| h.store().fetch_history(*f, 1).unwrap().remove(0))
        .collect();
    let kinds: Vec<_> = hung
        .iter()
        .map(|r| r.error_kind.unwrap().as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "deferred").count(),
        3,
        "{kinds:?}"
    );
    assert!(
        hung.iter()
            .filter(|r| r.error_kind.unwrap().as_str() == "deferred")
            .all(|r| {
                r.error_message
                    .as_deref()
                    .unwrap()
                    .starts_with("deferred: host unreachable")
            })
    );
    assert_eq!(
        dead[0].accepted(),
        2,
        "only the two feeds that timed out reached the host that hangs"
    );

    // The run said which hosts it left alone, and counted the images.
    let down: Vec<&str> = progress
        .iter()
        .filter_map(|p| match p {
            Progress::HostDown { host } => Some(host.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(down.len(), 4, "{down:?}");
    let last_count = progress.iter().rev().find_map(|p| match p {
        Progress::Images {
            done,
            total,
            deferred,
        } => Some((*done, *total, *deferred)),
        _ => None,
    });
    let (done, total, deferred_images) = last_count.expect("image progress");
    assert_eq!((done, total), (520, 520));
    assert!(deferred_images >= 500 - 3 * 2, "{deferred_images}");

    // Deferred images count as their own reason, and wait for a later run.
    let reasons = h.store().image_failures().unwrap();
    let deferred_reason = reasons
        .iter()
        .find(|(reason, _)| reason == "deferred: host unreachable")
        .map(|(_, n)| *n);
    assert_eq!(deferred_reason, Some(deferred_images as u64), "{reasons:?}");
    let before: Vec<usize> = dead.iter().map(DeadHost::accepted).collect();
    h.refresh_all();
    let after: Vec<usize> = dead.iter().map(DeadHost::accepted).collect();
    assert_eq!(
        before[1..],
        after[1..],
        "the images' retry waits for its backoff: the next run asks none of them"
    );
}
