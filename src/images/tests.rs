//! What a reader of tidings would notice of the image cache's pure half: the
//! images found in real and hostile article bodies, the bytes accepted,
//! downscaled or refused, and the files written.

use std::path::Path;

use super::*;

const BASE: &str = "https://blog.example/posts/hello/";

fn urls(found: &[FoundImage]) -> Vec<&str> {
    found.iter().map(|f| f.url.as_str()).collect()
}

// ---- find_in_html ----

#[test]
fn an_img_is_found_with_its_alt_text() {
    let found = find_in_html(
        r#"<p>Look: <img src="https://cdn.example/a.png" alt="A diagram"></p>"#,
        BASE,
    );
    assert_eq!(
        found,
        [FoundImage {
            url: "https://cdn.example/a.png".into(),
            alt: "A diagram".into()
        }]
    );
}

#[test]
fn relative_urls_resolve_against_the_article() {
    let found = find_in_html(
        r#"<img src="../img/a.png"><img src="/b.png"><img src="//cdn.example/c.png">"#,
        BASE,
    );
    assert_eq!(
        urls(&found),
        [
            "https://blog.example/posts/img/a.png",
            "https://blog.example/b.png",
            "https://cdn.example/c.png"
        ]
    );
}

#[test]
fn srcset_width_descriptors_pick_the_largest_up_to_1600() {
    let html = r#"
        <img src="fallback.jpg" srcset="s.jpg 400w, m.jpg 1200w, l.jpg 2400w">
        <img src="fallback2.jpg" srcset="huge.jpg 3000w, big.jpg 1800w">
        <img srcset="https://cdn.example/w_400,h_300/p.jpg 400w, https://cdn.example/w_800,h_600/p.jpg 800w">"#;
    assert_eq!(
        urls(&find_in_html(html, BASE)),
        [
            "https://blog.example/posts/hello/m.jpg",
            "https://blog.example/posts/hello/big.jpg",
            "https://cdn.example/w_800,h_600/p.jpg"
        ]
    );
}

#[test]
fn srcset_density_descriptors_pick_the_largest_up_to_2x() {
    let html = r#"
        <img src="a1.png" srcset="a15.png 1.5x, a2.png 2x, a3.png 3x">
        <img src="b1.png" srcset="b3.png 3x">
        <img srcset="c4.png 4x, c3.png 3x">"#;
    assert_eq!(
        urls(&find_in_html(html, BASE)),
        [
            "https://blog.example/posts/hello/a2.png",
            // The src is the 1x candidate, and 1x beats 3x.
            "https://blog.example/posts/hello/b1.png",
            "https://blog.example/posts/hello/c3.png"
        ]
    );
}

#[test]
fn a_picture_gives_its_best_storable_source_once() {
    let html = r#"
        <picture>
          <source type="image/avif" srcset="a.avif">
          <source type="image/webp" srcset="a-800.webp 800w, a-1600.webp 1600w">
          <img src="a.jpg" alt="Sunset">
        </picture>
        <picture>
          <source media="(prefers-color-scheme: dark)" srcset="dark.png">
          <img src="light.png" srcset="light-2x.png 2x" alt="Logo">
        </picture>"#;
    assert_eq!(
        find_in_html(html, BASE),
        [
            FoundImage {
                url: "https://blog.example/posts/hello/a-1600.webp".into(),
                alt: "Sunset".into()
            },
            // A media query cannot be answered in a terminal: the img is the default.
            FoundImage {
                url: "https://blog.example/posts/hello/light-2x.png".into(),
                alt: "Logo".into()
            },
        ]
    );
}

#[test]
fn data_javascript_empty_and_non_web_sources_are_skipped() {
    let html = r#"
        <img src="data:image/png;base64,iVBORw0KGgo=">
        <img src="javascript:alert(1)">
        <img src="">
        <img src="   ">
        <img>
        <img src="file:///etc/passwd">
        <img src="ftp://files.example/a.png">
        <img src="mailto:me@example.com">
        <img src="ok.png">"#;
    assert_eq!(
        urls(&find_in_html(html, BASE)),
        ["https://blog.example/posts/hello/ok.png"]
    );
}

#[test]
fn tracking_pixels_are_skipped() {
    let html = r#"
        <img src="https://track.example/p.gif" width="1" height="1">
        <img src="https://track.example/q.gif" width="0" height="0" alt="">
        <img src="https://cdn.example/thin.png" width="1" height="300">"#;
    assert_eq!(
        urls(&find_in_html(html, BASE)),
        ["https://cdn.example/thin.png"]
    );
}

#[test]
fn an_image_shown_twice_is_found_once() {
    let html = r#"<img src="a.png" alt="first"><img src="https://blog.example/posts/hello/a.png" alt="again"><img src="b.png">"#;
    let found = find_in_html(html, BASE);
    assert_eq!(
        urls(&found),
        [
            "https://blog.example/posts/hello/a.png",
            "https://blog.example/posts/hello/b.png"
        ]
    );
    assert_eq!(found[0].alt, "first");
}

#[test]
fn alt_text_loses_terminal_controls_and_extra_space() {
    let html = "<img src=\"a.png\" alt=\"  red\u{1b}[31m text\u{202e} &amp;\n   more  \">";
    assert_eq!(find_in_html(html, BASE)[0].alt, "red[31m text & more");
}

#[test]
fn at_most_200_images_are_found_per_article() {
    let html: String = (0..250).map(|i| format!("<img src=\"{i}.png\">")).collect();
    let found = find_in_html(&html, BASE);
    assert_eq!(found.len(), 200);
    assert_eq!(found[0].url, "https://blog.example/posts/hello/0.png");
    assert_eq!(found[199].url, "https://blog.example/posts/hello/199.png");
}

/// The seed feed: six real articles whose bodies show 29 images. Its
/// `images` map gives 28 of them (URL → size); the 29th, a GIF, is the one its
/// host no longer serves.
#[test]
fn the_seed_articles_show_29_images() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/seed/articles.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIPPED the_seed_articles_show_29_images: ../shared/fixtures/seed not found");
        return;
    };
    let seed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let listed = seed["images"].as_object().unwrap();
    let articles = seed["articles"].as_array().unwrap();

    let found: Vec<Vec<FoundImage>> = articles
        .iter()
        .map(|a| {
            find_in_html(
                a["description"].as_str().unwrap(),
                a["link"].as_str().unwrap(),
            )
        })
        .collect();

    let counts: Vec<usize> = found.iter().map(Vec::len).collect();
    assert_eq!(counts, [4, 1, 8, 10, 0, 6]);
    let all: Vec<&FoundImage> = found.iter().flatten().collect();
    assert_eq!(all.len(), 29);
    let unlisted: Vec<&str> = all
        .iter()
        .map(|f| f.url.as_str())
        .filter(|url| !listed.contains_key(*url))
        .collect();
    assert_eq!(
        unlisted,
        ["https://openshift4-on-aws.awsworkshop.io/images/GetPullSecret.gif"]
    );
    for url in listed.keys() {
        assert!(all.iter().any(|f| &f.url == url), "{url} not found");
    }
    assert_eq!(
        found[0][1].alt,
        "TalkingData upgraded their model to DNN (Deep Neural Network) Models"
    );
    assert_eq!(found[5][0].alt, "OpenTelemetry API & SDK Structure");
}

// ---- from_enclosures ----

#[test]
fn image_enclosures_are_kept_and_others_dropped() {
    let found = from_enclosures([
        ("https://cdn.example/cover.jpg", Some("image/jpeg")),
        ("https://cdn.example/episode.mp3", Some("audio/mpeg")),
        ("https://cdn.example/thumb.PNG?size=large", None),
        ("https://cdn.example/clip.mp4", None),
        ("https://cdn.example/untyped", Some("")),
        ("ftp://cdn.example/a.png", Some("image/png")),
        ("https://cdn.example/cover.jpg", Some("image/jpeg")),
        ("https://cdn.example/logo", Some("Image/SVG+XML")),
    ]);
    assert_eq!(
        urls(&found),
        [
            "https://cdn.example/cover.jpg",
            "https://cdn.example/thumb.PNG?size=large",
            "https://cdn.example/logo"
        ]
    );
}

// ---- files ----

#[test]
fn file_names_are_stable_hex_hashes_of_the_url() {
    let name = file_name("https://cdn.example/a.png", ImageKind::Png);
    assert_eq!(name, file_name("https://cdn.example/a.png", ImageKind::Png));
    let (hash, extension) = name.split_once('.').unwrap();
    assert_eq!(hash.len(), 32);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(extension, "png");
    assert_ne!(name, file_name("https://cdn.example/b.png", ImageKind::Png));
    let hostile = file_name("https://x.example/../../etc/passwd", ImageKind::Svg);
    assert!(hostile.ends_with(".svg") && !hostile.contains('/') && !hostile.contains("etc"));
}

#[test]
fn write_atomic_replaces_the_file_and_leaves_no_temp_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("images");
    write_atomic(&dir, "a.png", b"first").unwrap();
    write_atomic(&dir, "a.png", b"second").unwrap();
    assert_eq!(std::fs::read(dir.join("a.png")).unwrap(), b"second");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["a.png"]);
}

#[test]
fn write_atomic_takes_only_plain_file_names() {
    let root = tempfile::tempdir().unwrap();
    for name in ["", "..", "../a.png", "sub/a.png", ".hidden"] {
        assert!(write_atomic(root.path(), name, b"x").is_err(), "{name:?}");
    }
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
}
