//! What tidings reads beyond what feed-rs understands, one small hand-written
//! document a case: old formats, the extension elements real feeds use in
//! place of the core ones, enclosures, and the forms of a person's name.

use tidings::model::ParsedFeed;
use tidings::parse::parse_feed;

const BASE: &str = "http://example.test/feed.xml";

fn parse(doc: &str) -> ParsedFeed {
    parse_feed(doc.as_bytes(), None, BASE).expect("the document parses")
}

/// The titles of a feed's entries, in order.
fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.articles
        .iter()
        .filter_map(|a| a.title.as_deref())
        .collect()
}

#[test]
fn a_json_feed_with_version_1_0_and_no_title_is_read() {
    for version in [r#""version": "1.0","#, r#""version": "1","#, ""] {
        let doc = format!(
            r#"{{ {version} "items": [{{"id": "a", "url": "https://example.test/a", "title": "First",
            "content_text": "Body", "attachments": [{{"url": "https://example.test/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 42}}]}}] }}"#
        );
        let feed = parse(&doc);
        assert_eq!(feed.title, None, "{version}");
        let article = &feed.articles[0];
        assert_eq!(article.title.as_deref(), Some("First"));
        assert_eq!(article.link.as_deref(), Some("https://example.test/a"));
        assert_eq!(article.enclosures.len(), 1, "{version}");
        assert_eq!(article.enclosures[0].url, "https://example.test/a.mp3");
        assert_eq!(article.enclosures[0].length, Some(42));
    }
}

#[test]
fn a_json_feed_attachment_is_never_the_articles_link() {
    let doc = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [{"id": "a",
        "content_html": "<p>x</p>", "attachments": [{"url": "https://example.test/a.mp3", "mime_type": "audio/mpeg"}]}]}"#;
    let article = &parse(doc).articles[0];
    assert_eq!(article.link, None);
    assert_eq!(article.enclosures[0].url, "https://example.test/a.mp3");
}

#[test]
fn an_atom_0_3_feed_is_read_with_its_entries() {
    let doc = r#"<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old Atom</title>
  <tagline>A tagline</tagline>
  <link rel="alternate" type="text/html" href="http://example.test/"/>
  <modified>2004-01-01T19:48:21Z</modified>
  <entry>
    <title>Entry</title>
    <link rel="alternate" type="text/html" href="http://example.test/1"/>
    <id>tag:example.test,2004:1</id>
    <issued>2004-01-01T19:48:21Z</issued>
    <modified>2004-01-02T19:48:21Z</modified>
    <author><name>Ann</name></author>
    <summary type="text/html" mode="escaped">&lt;p&gt;Sum&lt;/p&gt;</summary>
    <content type="text/html" mode="base64">PHA+Qm9keTwvcD4=</content>
  </entry>
</feed>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("Old Atom"));
    assert_eq!(feed.description.as_deref(), Some("A tagline"));
    assert_eq!(feed.site_url.as_deref(), Some("http://example.test/"));
    let entry = &feed.articles[0];
    assert_eq!(entry.title.as_deref(), Some("Entry"));
    assert_eq!(entry.link.as_deref(), Some("http://example.test/1"));
    assert_eq!(entry.author.as_deref(), Some("Ann"));
    assert_eq!(entry.published, Some(1072986501));
    assert_eq!(entry.updated, Some(1072986501 + 86400));
    assert_eq!(entry.summary.as_deref(), Some("<p>Sum</p>"));
    assert_eq!(
        entry.content.as_deref(),
        Some("<p>Body</p>"),
        "base64 decoded"
    );
}

#[test]
fn rss_1_0_items_without_a_link_use_their_rdf_about() {
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="http://example.test/index.rdf"><title>RDF</title><link>http://example.test/</link></channel>
  <item rdf:about="http://example.test/entry/1"><title>One</title></item>
  <item rdf:about="http://example.test/entry/2"><title>Two</title><link>http://example.test/two</link></item>
</rdf:RDF>"#;
    let feed = parse(doc);
    let links: Vec<_> = feed.articles.iter().map(|a| a.link.as_deref()).collect();
    assert_eq!(
        links,
        [
            Some("http://example.test/entry/1"),
            Some("http://example.test/two")
        ]
    );
    assert_eq!(
        feed.articles[0].guid.as_deref(),
        Some("http://example.test/entry/1")
    );
}

#[test]
fn rss_items_fall_back_to_dublin_core_itunes_and_media() {
    let doc = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><dc:title>Channel by DC</dc:title><itunes:summary>About the show</itunes:summary>
  <atom:link rel="alternate" href="http://example.test/"/>
  <item><guid>1</guid><dc:title>DC title</dc:title><dc:description>DC description</dc:description>
    <dc:date>2026-02-03T04:05:06Z</dc:date><dc:creator>Dee Cee</dc:creator>
    <dc:subject>Subject</dc:subject><itunes:keywords>one, two</itunes:keywords><atom:category term="term"/></item>
  <item><guid>2</guid><itunes:title>Episode</itunes:title><itunes:summary>Show notes</itunes:summary><itunes:author>Host</itunes:author>
    <atom:link href="http://example.test/2"/><atom:published>2026-02-04T00:00:00Z</atom:published></item>
  <item><guid>3</guid><media:group><media:title>Video</media:title><media:description>What the video shows</media:description></media:group></item>
</channel></rss>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("Channel by DC"));
    assert_eq!(feed.description.as_deref(), Some("About the show"));
    assert_eq!(feed.site_url.as_deref(), Some("http://example.test/"));
    let [one, two, three] = feed.articles.as_slice() else {
        panic!("three items: {:?}", feed.articles);
    };
    assert_eq!(one.title.as_deref(), Some("DC title"));
    assert_eq!(one.summary.as_deref(), Some("DC description"));
    assert_eq!(one.author.as_deref(), Some("Dee Cee"));
    assert_eq!(one.published, Some(1770091506));
    assert_eq!(one.categories, ["Subject", "one", "two", "term"]);
    assert_eq!(two.title.as_deref(), Some("Episode"));
    assert_eq!(two.summary.as_deref(), Some("Show notes"));
    assert_eq!(two.author.as_deref(), Some("Host"));
    assert_eq!(two.link.as_deref(), Some("http://example.test/2"));
    assert_eq!(two.published, Some(1770163200));
    assert_eq!(three.title.as_deref(), Some("Video"));
    assert_eq!(three.summary.as_deref(), Some("What the video shows"));
}

#[test]
fn prefixes_used_without_a_declaration_are_understood() {
    let doc = r#"<rss version="2.0"><channel><title>T</title>
  <item><title>A</title><content:encoded><![CDATA[<p>Full <b>body</b></p>]]></content:encoded><dc:creator>Writer</dc:creator></item>
</channel></rss>"#;
    let article = &parse(doc).articles[0];
    assert_eq!(article.content.as_deref(), Some("<p>Full <b>body</b></p>"));
    assert_eq!(article.author.as_deref(), Some("Writer"));
}

#[test]
fn an_atom_entry_whose_only_address_is_its_id_gets_it_as_link() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id><updated>2024-01-01T00:00:00Z</updated>
<entry><title>E</title><id>https://example.test/posts/1</id><updated>2024-01-01T00:00:00Z</updated>
<link rel="enclosure" type="audio/mpeg" length="123" href="https://example.test/1.mp3"/></entry>
<entry><title>F</title><id>urn:uuid:1</id><updated>2024-01-01T00:00:00Z</updated></entry></feed>"#;
    let feed = parse(doc);
    assert_eq!(
        feed.articles[0].link.as_deref(),
        Some("https://example.test/posts/1"),
        "an http id, and never the enclosure"
    );
    assert_eq!(
        feed.articles[0].enclosures[0].url,
        "https://example.test/1.mp3"
    );
    assert_eq!(feed.articles[0].enclosures[0].length, Some(123));
    assert_eq!(feed.articles[1].link, None, "a urn is no address");
}

#[test]
fn a_persons_name_is_taken_from_the_email_forms() {
    let item = |author: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>T</title><item><title>A</title><author>{author}</author></item></channel></rss>"
        )
    };
    for (given, name) in [
        ("jo@example.test (Jo Writer)", "Jo Writer"),
        ("Jo Writer (jo@example.test)", "Jo Writer"),
        ("Jo Writer &lt;jo@example.test&gt;", "Jo Writer"),
        ("jo@example.test", "jo@example.test"),
        ("jo@example.test (Lo&amp;#239;c Le Meur)", "Loïc Le Meur"),
        ("Jo (the writer)", "Jo (the writer)"),
    ] {
        let feed = parse(&item(given));
        assert_eq!(feed.articles[0].author.as_deref(), Some(name), "{given}");
    }
}

#[test]
fn categories_are_terms_and_each_comes_once() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id><updated>2024-01-01T00:00:00Z</updated>
<entry><title>E</title><id>urn:e</id><updated>2024-01-01T00:00:00Z</updated>
<category term="rust" label="The Rust language"/><category term="rust"/><category term="cli"/>
<category scheme="http://schemas.google.com/g/2005#kind" term="http://schemas.google.com/docs/2007#document" label="document"/></entry></feed>"#;
    assert_eq!(
        parse(doc).articles[0].categories,
        ["rust", "cli", "document"],
        "terms, but a label in words where the term is a URI"
    );
}

/// A WordPress-like feed of `items` entries, each with a CDATA body.
fn wordpress(items: usize) -> String {
    let mut doc = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Blog</title><link>https://blog.example.test/</link>"#,
    );
    for i in 1..=items {
        doc.push_str(&format!(
            "<item><title>Post {i}</title><link>https://blog.example.test/{i}</link><guid>https://blog.example.test/?p={i}</guid><dc:creator><![CDATA[Ann]]></dc:creator><content:encoded><![CDATA[<p>Body of post {i}, with <b>markup</b> &amp; an ampersand.</p>]]></content:encoded></item>"
        ));
    }
    doc.push_str("</channel></rss>");
    doc
}

#[test]
fn a_feed_cut_off_inside_a_cdata_section_keeps_the_entries_before_the_break() {
    let whole = wordpress(9);
    let cut = &whole[..whole.rfind("markup").unwrap()];
    let feed = parse(cut);
    assert_eq!(feed.title.as_deref(), Some("Blog"));
    let titles = titles(&feed);
    assert_eq!(titles.len(), 8, "{titles:?}");
    assert_eq!(titles[7], "Post 8");
    assert_eq!(feed.articles[7].author.as_deref(), Some("Ann"));
    let warning = feed.warning.expect("the feed says it was recovered");
    assert!(
        warning.starts_with("recovered: an unclosed CDATA section; read 8 entries before byte"),
        "{warning}"
    );
    assert_eq!(
        parse(&whole).warning,
        None,
        "a whole document has no warning"
    );
}

#[test]
fn a_misspelt_end_tag_is_read_as_the_one_expected() {
    let whole = wordpress(5);
    let broken = whole.replacen("<title>Post 5</title>", "<title>Post 5</titel>", 1);
    let feed = parse(&broken);
    assert_eq!(feed.articles.len(), 5);
    assert_eq!(feed.articles[4].title.as_deref(), Some("Post 5"));
    let warning = feed.warning.unwrap();
    assert!(
        warning.starts_with("recovered: `</titel>` where `</title>` was expected at byte ")
            && warning.ends_with("(repaired); read 5 entries"),
        "{warning}"
    );
}

#[test]
fn markup_left_open_early_in_the_document_is_closed_and_every_entry_read() {
    let whole = wordpress(20);
    let broken = whole
        .replacen("<title>Post 2</title>", "<title>Post 2</titel>", 1)
        .replacen(
            "<link>https://blog.example.test/4</link>",
            "<link>https://blog.example.test/4</link><description>An <b>open tag</description>",
            1,
        );
    let feed = parse(&broken);
    let titles = titles(&feed);
    assert_eq!(titles.len(), 20, "{titles:?}");
    assert_eq!((titles[1], titles[19]), ("Post 2", "Post 20"));
    assert_eq!(
        feed.articles[3].summary.as_deref(),
        Some("An <b>open tag</b>")
    );
    let warning = feed.warning.expect("the feed says it was repaired");
    assert!(
        warning.contains("`</titel>` where `</title>` was expected"),
        "{warning}"
    );
    assert!(warning.contains("`<b>` left open at byte"), "{warning}");
}

#[test]
fn a_break_that_cannot_be_repaired_leaves_out_only_the_entry_it_is_in() {
    let whole = wordpress(10);
    // A comment opened wrongly in the third entry: nothing to close, nothing to rename.
    let broken = whole.replacen("<title>Post 3</title>", "<title>Post 3</title><!- x ->", 1);
    let feed = parse(&broken);
    let titles = titles(&feed);
    assert_eq!(titles.len(), 9, "{titles:?}");
    assert!(!titles.contains(&"Post 3"));
    assert_eq!(titles[8], "Post 10");
    let warning = feed.warning.unwrap();
    assert!(
        warning.ends_with("(left out an entry); read 9 entries"),
        "{warning}"
    );
}

#[test]
fn a_document_with_neither_title_nor_entries_says_so() {
    let feed = parse(r#"<rss version="2.0"><channel></channel></rss>"#);
    assert_eq!(
        feed.warning.as_deref(),
        Some("no feed found: root element `<rss>`, without a title or entries")
    );
    let unknown =
        r#"<?xml version="1.0"?><foo:bar xmlns:foo="http://example.test/ns"><x/></foo:bar>"#;
    let error = parse_feed(unknown.as_bytes(), None, BASE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "not a feed: root element `<foo:bar>` in namespace `http://example.test/ns`"
    );
}

#[test]
fn html_and_doctype_entities_are_read_as_the_characters_they_stand_for() {
    let doc = r#"<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY site "Example &#38; Co"> ]>
<rss version="2.0"><channel><title>News from &site;</title>
<item><title>Caf&eacute; &mdash; open&nbsp;late</title><guid>1</guid><description>&lt;p&gt;&hellip;&lt;/p&gt; &bogus;</description></item>
</channel></rss>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("News from Example & Co"));
    let item = &feed.articles[0];
    assert_eq!(item.title.as_deref(), Some("Café — open\u{a0}late"));
    // The summary is HTML: its entities are the renderer's to read.
    assert_eq!(item.summary.as_deref(), Some("<p>&hellip;</p> &bogus;"));
}

#[test]
fn titles_keep_their_unicode_spaces_and_collapse_only_ascii_ones() {
    let doc = "<rss version=\"2.0\"><channel><title>A\u{a0}B \u{2009}C</title><item><title>  One \n\t two\u{202f}three </title><guid>1</guid></item></channel></rss>";
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("A\u{a0}B \u{2009}C"));
    assert_eq!(
        feed.articles[0].title.as_deref(),
        Some("One two\u{202f}three")
    );
}

#[test]
fn an_empty_item_does_not_shift_the_fallbacks_of_the_items_after_it() {
    let doc = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>
<item/><item><guid>2</guid><dc:title>Two</dc:title></item></channel></rss>"#;
    let feed = parse(doc);
    assert_eq!(feed.articles.len(), 2);
    assert_eq!(feed.articles[1].title.as_deref(), Some("Two"));
}

#[test]
fn of_several_rss_links_the_last_is_the_address_also_written_with_href_never_comments() {
    let doc = r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>
  <link>http://example.test/old</link><link>http://example.test/site</link>
  <atom:link rel="alternate" type="application/rss+xml" href="http://example.test/feed/opus/"/>
  <image><url>http://example.test/logo.png</url><link>http://example.test/image-link</link></image>
  <item><title>Text links</title><link>http://example.test/1</link><link>http://example.test/2</link></item>
  <item><title>Href last</title><link>http://example.test/3</link><link href="http://example.test/4"/></item>
  <item xmlns:wfw="http://wellformedweb.org/CommentAPI/"><title>Comments after</title><link>http://example.test/5</link>
    <comments>http://example.test/5#comments</comments><wfw:commentRss>http://example.test/5/feed/</wfw:commentRss></item>
  <item><title>Only comments</title><guid isPermaLink="false">6</guid><comments>http://example.test/6#comments</comments></item>
</channel></rss>"#;
    let feed = parse(doc);
    assert_eq!(feed.site_url.as_deref(), Some("http://example.test/site"));
    let links: Vec<_> = feed.articles.iter().map(|a| a.link.as_deref()).collect();
    assert_eq!(
        links,
        [
            Some("http://example.test/2"),
            Some("http://example.test/4"),
            Some("http://example.test/5"),
            None
        ]
    );
}

#[test]
fn an_atom_entry_with_only_an_updated_date_was_published_then() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
  <entry><id>urn:1</id><title>Only updated</title><updated>2024-03-01T10:00:00Z</updated></entry>
  <entry><id>urn:2</id><title>Both</title><published>2024-02-01T10:00:00Z</published><updated>2024-03-01T10:00:00Z</updated></entry>
</feed>"#;
    let feed = parse(doc);
    let march = 1_709_287_200;
    assert_eq!(feed.articles[0].published, Some(march));
    assert_eq!(feed.articles[1].published, Some(march - 29 * 86_400));
    assert_eq!(feed.articles[1].updated, Some(march));
    // RSS's dates are optional: an item with only atom:updated has no publication date.
    let rss = r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>T</title>
  <item><title>x</title><atom:updated>2024-03-01T10:00:00Z</atom:updated></item></channel></rss>"#;
    let item = &parse(rss).articles[0];
    assert_eq!((item.published, item.updated), (None, Some(march)));
}

#[test]
fn an_articles_cover_image_comes_from_thumbnails_carried_images_itunes_or_json() {
    let doc = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>T</title>
  <item><title>Thumbnail</title><link>http://example.test/1</link>
    <media:content url="http://example.test/clip.mp4" type="video/mp4"/>
    <media:thumbnail url="http://example.test/thumb.jpg"/></item>
  <item><title>Image content, no type</title><link>http://example.test/2</link>
    <media:content url="http://example.test/photo?id=2" medium="image"/></item>
  <item><title>Image enclosure</title><link>http://example.test/3</link>
    <enclosure url="http://example.test/cover.png" type="image/png" length="10"/></item>
  <item><title>Podcast</title><link>http://example.test/4</link>
    <enclosure url="http://example.test/ep.mp3" type="audio/mpeg" length="10"/>
    <itunes:image href="http://example.test/episode.jpg"/></item>
  <item><title>None</title><link>http://example.test/5</link>
    <enclosure url="http://example.test/ep5.mp3" type="audio/mpeg" length="10"/></item>
</channel></rss>"#;
    let feed = parse(doc);
    let images: Vec<_> = feed.articles.iter().map(|a| a.image.as_deref()).collect();
    assert_eq!(
        images,
        [
            Some("http://example.test/thumb.jpg"),
            Some("http://example.test/photo?id=2"),
            Some("http://example.test/cover.png"),
            Some("http://example.test/episode.jpg"),
            None
        ]
    );
    // The cover is cached with the article's other images.
    let article = &feed.articles[1];
    assert!(
        article
            .thumbnails
            .contains(&"http://example.test/photo?id=2".to_string())
    );

    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "1", "content_text": "a", "image": "https://example.test/a.jpg", "banner_image": "https://example.test/banner.jpg"},
        {"id": "2", "content_text": "b", "banner_image": "/b.jpg"},
        {"id": "3", "content_text": "c"}]}"#;
    let images: Vec<_> = parse(json)
        .articles
        .iter()
        .map(|a| a.image.clone())
        .collect();
    assert_eq!(
        images,
        [
            Some("https://example.test/a.jpg".to_string()),
            Some("http://example.test/b.jpg".to_string()),
            None
        ]
    );
}

#[test]
fn a_feeds_icon_falls_back_to_itunes_media_and_its_descriptions_image() {
    let icon = |doc: &str| {
        let mut feed = parse(doc);
        tidings::images::find_in_feed(&mut feed, BASE);
        feed.icon
    };
    // A namespace spelled in another case is still iTunes'.
    let itunes = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/DTDs/PodCast-1.0.dtd"><channel><title>P</title>
  <itunes:image href="http://example.test/show.png"/></channel></rss>"#;
    assert_eq!(
        icon(itunes).as_deref(),
        Some("http://example.test/show.png")
    );
    let media = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>M</title>
  <media:content url="http://example.test/media.png" type="image/png"/></channel></rss>"#;
    assert_eq!(
        icon(media).as_deref(),
        Some("http://example.test/media.png")
    );
    let description = r#"<rss version="2.0"><channel><title>D</title>
  <description><![CDATA[<img src="/logo.gif"> A blog]]></description></channel></rss>"#;
    assert_eq!(
        icon(description).as_deref(),
        Some("http://example.test/logo.gif")
    );
    let logo_first = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>L</title>
  <image><url>http://example.test/logo.png</url><title>L</title><link>http://example.test/</link></image>
  <itunes:image href="http://example.test/show.png"/></channel></rss>"#;
    assert_eq!(
        icon(logo_first).as_deref(),
        Some("http://example.test/logo.png")
    );
}

#[test]
fn an_atom_10_text_construct_of_a_binary_type_is_base64_and_decoded() {
    let doc = r#"<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="application/octet-stream">RmVlZCAmIFRpdGxl</title>
  <entry><id>urn:1</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>
    <summary type="application/octet-stream">
      U3VtbWFyeQ==
    </summary>
    <content type="text/plain">VGV4dCBpcyBub3QgYmFzZTY0</content></entry>
</feed>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("Feed & Title"));
    let entry = &feed.articles[0];
    assert_eq!(entry.summary.as_deref(), Some("Summary"));
    // A text type is text, however it looks.
    assert_eq!(entry.content.as_deref(), Some("VGV4dCBpcyBub3QgYmFzZTY0"));
}

#[test]
fn rss_0_90_and_rss_in_historical_namespaces_are_read() {
    let rss090 = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
  <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link><description>the Mozilla Organization</description></channel>
  <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
  <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rdf:RDF>"#;
    let feed = parse(rss090);
    assert_eq!(feed.title.as_deref(), Some("Mozilla Dot Org"));
    assert_eq!(feed.articles.len(), 2);
    assert_eq!(
        feed.articles[1].link.as_deref(),
        Some("http://www.mozilla.org/bugs/")
    );
    for namespace in [
        "http://backend.userland.com/rss2",
        "http://blogs.law.harvard.edu/tech/rss",
    ] {
        let doc = format!(
            r#"<rss version="2.0" xmlns="{namespace}"><channel><title>Userland</title>
  <item><title>One</title><link>http://example.test/1</link><description>Body</description>
  <pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item></channel></rss>"#
        );
        let feed = parse(&doc);
        assert_eq!(feed.title.as_deref(), Some("Userland"), "{namespace}");
        assert_eq!(feed.articles.len(), 1, "{namespace}");
        assert_eq!(feed.articles[0].summary.as_deref(), Some("Body"));
        assert_eq!(feed.articles[0].published, Some(1_704_103_200));
    }
}

#[test]
fn rss_items_without_a_channel_are_read() {
    let doc = r#"<?xml version="1.0"?>
<rss version="2.0"><title>No channel</title><link>http://example.test/</link>
  <item><title>One</title><link>http://example.test/1</link></item>
  <item><title>Two</title><link>http://example.test/2</link></item></rss>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("No channel"));
    let titles = titles(&feed);
    assert_eq!(titles, ["One", "Two"]);
}

#[test]
fn a_cdf_channel_is_read_as_a_feed() {
    let doc = r#"<?xml version="1.0"?>
<CHANNEL HREF="http://example.test/" LASTMOD="2004-01-01T00:00">
  <TITLE>CDF &amp; Co</TITLE>
  <ABSTRACT>A channel definition</ABSTRACT>
  <ITEM HREF="http://example.test/1" LASTMOD="2004-01-02T10:00"><TITLE>First item</TITLE><ABSTRACT>The first</ABSTRACT></ITEM>
  <CHANNEL HREF="http://example.test/sub"><TITLE>Sub</TITLE>
    <ITEM HREF="http://example.test/2"><TITLE>Second item</TITLE></ITEM></CHANNEL>
</CHANNEL>"#;
    let feed = parse(doc);
    assert_eq!(feed.title.as_deref(), Some("CDF & Co"));
    assert_eq!(feed.description.as_deref(), Some("A channel definition"));
    assert_eq!(feed.site_url.as_deref(), Some("http://example.test/"));
    let first = &feed.articles[0];
    assert_eq!(first.title.as_deref(), Some("First item"));
    assert_eq!(first.link.as_deref(), Some("http://example.test/1"));
    assert_eq!(first.summary.as_deref(), Some("The first"));
    assert_eq!(first.published, Some(1_073_037_600));
    assert_eq!(feed.articles[1].title.as_deref(), Some("Second item"));
}

#[test]
fn html_left_unescaped_in_an_rss_description_is_kept_as_html() {
    let doc = r#"<rss version="2.0"><channel><title>T</title>
  <item><title>x</title><guid>1</guid><description><p>Hello <b>world</b> &amp; <a href="/x">a link</a></p></description></item>
  <item><title>y</title><guid>2</guid><description>Intro <b>bold</b> end</description></item>
  <item><title>z</title><guid>3</guid><description>a &lt;b&gt; escaped</description ><dc:creator>Zed</dc:creator></item>
</channel></rss>"#;
    let feed = parse(doc);
    // What follows a description passed over as text is still read.
    assert_eq!(feed.articles[2].author.as_deref(), Some("Zed"));
    let summaries: Vec<_> = feed.articles.iter().map(|a| a.summary.as_deref()).collect();
    assert_eq!(
        summaries,
        [
            Some(r#"<p>Hello <b>world</b> &amp; <a href="http://example.test/x">a link</a></p>"#),
            Some("Intro <b>bold</b> end"),
            Some("a <b> escaped")
        ]
    );
}

#[test]
fn entries_without_an_id_are_not_merged_because_their_titles_match() {
    let doc = r#"<rss version="2.0"><channel><title>Notes</title>
  <item><title>Note</title><description>First note</description></item>
  <item><title>Note</title><description>Second note</description></item>
  <item><title>Note</title><description>Second note</description></item>
  <item><guid>a</guid><title>Same id</title><description>kept</description></item>
  <item><guid>a</guid><title>Same id</title><description>dropped</description></item>
</channel></rss>"#;
    let feed = parse(doc);
    let bodies: Vec<_> = feed
        .articles
        .iter()
        .filter_map(|a| a.summary.as_deref())
        .collect();
    assert_eq!(bodies, ["First note", "Second note", "kept"]);
    // The same document gives the same keys each time.
    let again = parse(doc);
    let keys = |f: &ParsedFeed| {
        f.articles
            .iter()
            .map(|a| a.guid_key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&feed), keys(&again));
}

#[test]
fn relative_addresses_in_a_body_resolve_against_the_items_xml_base() {
    let doc = r##"<rss version="2.0" xml:base="https://example.test/"><channel><title>T</title>
  <item xml:base="posts/1/"><title>Based</title><guid>1</guid>
    <description><![CDATA[<p><a href="more">More</a> <a href="#c">Comments</a> <img src="/img/a.png" srcset="small.png 480w, /large.png 2x"> <a href="mailto:x@example.test">Mail</a></p>]]></description></item>
  <item><title>Unbased</title><guid>2</guid><description><![CDATA[<a href="//cdn.example.test/x">CDN</a> <a href="/about">About</a>]]></description></item>
</channel></rss>"##;
    let feed = parse(doc);
    assert_eq!(
        feed.articles[0].summary.as_deref(),
        Some(
            r##"<p><a href="https://example.test/posts/1/more">More</a> <a href="https://example.test/posts/1/#c">Comments</a> <img src="https://example.test/img/a.png" srcset="https://example.test/posts/1/small.png 480w, https://example.test/large.png 2x"> <a href="mailto:x@example.test">Mail</a></p>"##
        )
    );
    // Without an item base, the document's own applies, then the feed's address.
    assert_eq!(
        feed.articles[1].summary.as_deref(),
        Some(
            r#"<a href="https://cdn.example.test/x">CDN</a> <a href="https://example.test/about">About</a>"#
        )
    );
}

#[test]
fn a_podcast_declaring_only_itunes_gets_its_keywords_and_episode_images() {
    let doc = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Show</title>
  <item><title>Episode</title><guid>1</guid><itunes:keywords>rust, terminals</itunes:keywords>
    <enclosure url="http://example.test/1.mp3" type="audio/mpeg" length="1"/>
    <itunes:image href="http://example.test/1.jpg"/></item>
</channel></rss>"#;
    let episode = &parse(doc).articles[0];
    assert_eq!(episode.categories, ["rust", "terminals"]);
    assert_eq!(episode.image.as_deref(), Some("http://example.test/1.jpg"));
}

#[test]
fn a_podcast_episode_keeps_its_duration_kind_and_file_name() {
    let feed = parse(
        r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Cast</title>
<item><title>One</title><guid>e1</guid><itunes:duration>1:02:03</itunes:duration>
<enclosure url="https://cdn.example.test/shows/episode%2001.mp3?source=rss" type="audio/mpeg" length="48213000"/></item>
<item><title>Two</title><guid>e2</guid><itunes:episode>2</itunes:episode><itunes:season>1</itunes:season>
<itunes:duration>2520</itunes:duration>
<enclosure url="https://cdn.example.test/shows/episode-02.m4a" type="" length="0"/></item>
<item><title>Three</title><guid>e3</guid>
<enclosure url="https://cdn.example.test/shows/trailer.webm" length="1200"/></item>
<item><title>Four</title><guid>e4</guid><itunes:duration>42:05</itunes:duration>
<enclosure url="https://cdn.example.test/shows/4.ogg" type="audio/ogg"/></item>
</channel></rss>"#,
    );
    use tidings::model::EnclosureKind;
    let first = &feed.articles[0].enclosures[0];
    assert_eq!(first.duration_secs, Some(3723));
    assert_eq!(first.kind(), EnclosureKind::Audio);
    assert_eq!(first.file_name(), "episode 01.mp3");
    // The duration comes on a media object of its own when an episode
    // number goes with it; the kind from the file name when the type is empty.
    let second = &feed.articles[1].enclosures[0];
    assert_eq!(second.duration_secs, Some(2520));
    assert_eq!(second.kind(), EnclosureKind::Audio);
    let third = &feed.articles[2].enclosures[0];
    assert_eq!(
        (third.kind(), third.duration_secs),
        (EnclosureKind::Video, None)
    );
    // Episode and season, which feed-rs drops without an iTunes title.
    assert_eq!(
        (feed.articles[1].episode, feed.articles[1].season),
        (Some(2), Some(1))
    );
    assert_eq!(
        (feed.articles[0].episode, feed.articles[0].season),
        (None, None)
    );
    // Minutes and seconds are not 42 seconds.
    assert_eq!(
        feed.articles[3].enclosures[0].duration_secs,
        Some(42 * 60 + 5)
    );
}
