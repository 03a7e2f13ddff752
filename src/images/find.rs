//! Which images an article shows: the `<img>` and `<picture>` elements of its
//! body, and the image enclosures and thumbnails of its entry, found on a
//! parsed feed ([`find_in_feed`]) after `parse` is done with it. This owns the
//! choice among responsive candidates (`srcset`, `<source>`), and must never
//! let a URL through that is not http(s): what comes out here is downloaded.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, Tag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer,
    TokenizerOpts,
};
use scraper::{ElementRef, Html, Selector};

use super::DEFAULT_MAX_WIDTH;
use crate::model::{Article, ParsedArticle, ParsedFeed};
use crate::text::{sanitize_text, web_url};

pub use crate::model::FoundImage;

/// An article showing more images than this is a gallery or an attack; the
/// rest are not cached.
const MAX_IMAGES_PER_ARTICLE: usize = 200;

/// The largest pixel density worth downloading for a `srcset` of `x` descriptors.
const MAX_DENSITY: f64 = 2.0;

/// The `type`s of a `<source>` whose images [`super::check`] can store.
const STORED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/webp",
    "image/svg+xml",
];

/// Fills in the `images` of every article of `feed`, which `parse_feed` read
/// with `feed_url` as its base URL: first its body's (the content, else the
/// summary; relative addresses resolve against the entry's `xml:base`, else
/// the article's link, else `feed_url`), then its image enclosures,
/// thumbnails and cover image, each URL once. An article without a cover image of its own
/// (`image`) gets the first image of its body as one, as gofeed gives it.
/// A feed without an icon gets the first image of its description.
pub fn find_in_feed(feed: &mut ParsedFeed, feed_url: &str) {
    find_icon(feed, feed_url);
    for article in &mut feed.articles {
        article.images = in_article(article, feed_url);
        if article.image.is_none() {
            article.image = article.images.first().map(|i| i.url.clone());
        }
    }
}

/// Which of an article's images a refresh looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImagesToFind {
    /// Every image, to cache ([`find_in_feed`]).
    All,
    /// The cover image only, when images are not cached ([`find_covers`]).
    Covers,
}

impl ImagesToFind {
    /// What to look for when images are cached (`[images] cache`) or not.
    pub fn when_caching(cache: bool) -> ImagesToFind {
        if cache {
            ImagesToFind::All
        } else {
            ImagesToFind::Covers
        }
    }

    /// Looks for them in `feed`, read with `feed_url` as its base URL.
    pub fn find(self, feed: &mut ParsedFeed, feed_url: &str) {
        match self {
            ImagesToFind::All => find_in_feed(feed, feed_url),
            ImagesToFind::Covers => find_covers(feed, feed_url),
        }
    }
}

/// A feed without an icon gets the first image of its description.
fn find_icon(feed: &mut ParsedFeed, feed_url: &str) {
    if feed.icon.is_none()
        && let Some(description) = &feed.description
    {
        let base = feed.site_url.as_deref().unwrap_or(feed_url);
        feed.icon = first_in_html(description, base).map(|i| i.url);
    }
}

/// What [`find_in_feed`] gives when images are not cached: each article's
/// cover image only (its own, else the first image of its body, else of its
/// enclosures and thumbnails), which the article header and the export show.
/// Nothing else needs a body's images then, so a body is read only up to its
/// first image, and no document of it is built: that was most of the cost of
/// finding images in a refresh.
pub fn find_covers(feed: &mut ParsedFeed, feed_url: &str) {
    find_icon(feed, feed_url);
    for article in &mut feed.articles {
        if article.image.is_some() {
            continue;
        }
        let base = article_base(article, feed_url);
        let body = article.content.as_deref().or(article.summary.as_deref());
        let first = body.and_then(|body| first_in_html(body, base));
        article.image = first
            .or_else(|| enclosed_images(article).into_iter().next())
            .map(|i| i.url);
    }
}

/// The first image of `html` as [`find_in_html`] would list it. Only the
/// tokenizer runs, up to that image, and no document is built: each `<img>`
/// (or `<picture>` with what it holds) is written out again on its own and
/// given to [`find_in_html`], until one is an image (tracking pixels and
/// `data:` URIs are not). The tokenizer is switched as a parse would switch
/// it (the text of `<script>`, `<style>`, `<textarea>`, `<noscript>`, … is no
/// markup), and `<image>` is an `<img>` outside SVG, as a parse renames it.
fn first_in_html(html: &str, base: &str) -> Option<FoundImage> {
    let html = cut_at_char_boundary(html, crate::render::MAX_HTML_BYTES);
    if !mentions_image_tag(html) {
        return None;
    }
    let sink = FirstImage {
        base,
        state: RefCell::new(FirstImageState::default()),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink suspends the tokenizer (as a script would) once it has the image.
    let _ = tokenizer.feed(&input);
    if tokenizer.sink.state.borrow().found.is_none() {
        tokenizer.end();
    }
    tokenizer.sink.state.into_inner().found
}

/// The tokens [`first_in_html`] reads, and what it found.
struct FirstImage<'a> {
    base: &'a str,
    state: RefCell<FirstImageState>,
}

#[derive(Default)]
struct FirstImageState {
    /// Open `<svg>` and `<math>` elements: foreign content, where a parse
    /// switches no tokenizer state and keeps `<image>` as it is.
    foreign: usize,
    /// Open integration points inside it (`<foreignObject>`, `<mi>`, …),
    /// whose content is HTML again.
    integration_points: usize,
    /// The `<picture>` being read, written out again: its start tag and the
    /// tags it holds.
    picture: Option<String>,
    found: Option<FoundImage>,
}

/// Elements of foreign content whose content is parsed as HTML (the tokenizer
/// gives names in lower case).
const INTEGRATION_POINTS: &[&str] = &[
    "foreignobject",
    "desc",
    "title",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
];

/// Start tags that end foreign content in a parse (the HTML standard's list).
const LEAVE_FOREIGN: &[&str] = &[
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strong",
    "strike",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
];

/// The attributes [`find_in_html`] reads of an `<img>`, `<picture>` or `<source>`.
const IMAGE_ATTRIBUTES: &[&str] = &["src", "srcset", "alt", "width", "height", "type", "media"];

/// `tag` written out again with only [`IMAGE_ATTRIBUTES`], as `name`.
fn write_tag(out: &mut String, tag: &Tag, name: &str) {
    out.push('<');
    if tag.kind == EndTag {
        out.push('/');
        out.push_str(name);
        out.push('>');
        return;
    }
    out.push_str(name);
    for attribute in &tag.attrs {
        let key: &str = &attribute.name.local;
        if IMAGE_ATTRIBUTES.contains(&key) {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            html_escape::encode_double_quoted_attribute_to_string(&attribute.value, out);
            out.push('"');
        }
    }
    out.push('>');
}

impl FirstImage<'_> {
    /// The image of markup written out by [`write_tag`], if any.
    fn image_of(&self, markup: &str) -> Option<FoundImage> {
        find_in_html(markup, self.base).into_iter().next()
    }

    /// Closes the `<picture>` being read and looks for its image.
    fn close_picture(&self, state: &mut FirstImageState) {
        if let Some(mut markup) = state.picture.take() {
            markup.push_str("</picture>");
            state.found = self.image_of(&markup);
        }
    }
}

impl TokenSink for FirstImage<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let mut state = self.state.borrow_mut();
        let name: &str = &tag.name;
        let start = tag.kind == StartTag;
        if let Some(picture) = state.picture.as_mut() {
            if name == "picture" && !start {
                self.close_picture(&mut state);
            } else if matches!(name, "img" | "image" | "source") {
                let name = if name == "image" { "img" } else { name };
                write_tag(picture, &tag, name);
            }
        } else if let Some(switch) = self.read_tag(&mut state, &tag) {
            return switch;
        }
        match state.found {
            Some(_) => TokenSinkResult::Script(()),
            None => TokenSinkResult::Continue,
        }
    }

    /// A `<picture>` still open at the end is closed there, as a parse closes it.
    fn end(&self) {
        self.close_picture(&mut self.state.borrow_mut());
    }
}

impl FirstImage<'_> {
    /// Reads a tag outside a `<picture>`: foreign content, a `<picture>` or an
    /// image, or an element whose text is no markup (the tokenizer state to
    /// switch to is returned).
    fn read_tag(&self, state: &mut FirstImageState, tag: &Tag) -> Option<TokenSinkResult<()>> {
        let name: &str = &tag.name;
        let start = tag.kind == StartTag;
        if start && state.foreign > 0 && LEAVE_FOREIGN.contains(&name) {
            state.foreign = 0;
            state.integration_points = 0;
        }
        // Where the tokenizer switches states as in HTML.
        let html = state.foreign == 0 || state.integration_points > 0;
        match (name, start) {
            ("svg" | "math", true) if !tag.self_closing => state.foreign += 1,
            ("svg" | "math", false) => state.foreign = state.foreign.saturating_sub(1),
            (_, true) if state.foreign > 0 && INTEGRATION_POINTS.contains(&name) => {
                state.integration_points += 1;
            }
            (_, false) if state.foreign > 0 && INTEGRATION_POINTS.contains(&name) => {
                state.integration_points = state.integration_points.saturating_sub(1);
            }
            ("picture", true) if state.foreign == 0 => {
                let mut picture = String::new();
                write_tag(&mut picture, tag, "picture");
                state.picture = Some(picture);
            }
            // (An <img> has left foreign content above; an <image> in it stays SVG's.)
            ("img" | "image", true) if state.foreign == 0 => {
                let mut markup = String::new();
                write_tag(&mut markup, tag, "img");
                state.found = self.image_of(&markup);
            }
            _ if start && html => {
                let kind = match name {
                    "script" => Some(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        Some(RawKind::Rawtext)
                    }
                    "textarea" | "title" => Some(RawKind::Rcdata),
                    "plaintext" => return Some(TokenSinkResult::Plaintext),
                    _ => None,
                };
                return kind.map(TokenSinkResult::RawData);
            }
            _ => {}
        }
        None
    }
}

/// The base an article's relative image addresses resolve against: its
/// `xml:base`, else its link, else the feed's address.
fn article_base<'a>(article: &'a ParsedArticle, feed_url: &'a str) -> &'a str {
    article
        .xml_base
        .as_deref()
        .or(article.link.as_deref())
        .unwrap_or(feed_url)
}

/// The images a stored article shows, found again from what the cache keeps
/// of it: for an article stored while images were not cached, when it is
/// opened with the cache on. Its body's addresses were made absolute when it
/// was parsed.
pub fn find_in_stored(article: &Article, feed_url: &str) -> Vec<FoundImage> {
    let parsed = ParsedArticle {
        link: article.link.clone(),
        summary: article.summary.clone(),
        content: article.content.clone(),
        enclosures: article.enclosures.clone(),
        image: article.image.clone(),
        ..Default::default()
    };
    in_article(&parsed, feed_url)
}

fn in_article(article: &ParsedArticle, feed_url: &str) -> Vec<FoundImage> {
    let base = article_base(article, feed_url);
    let body = article.content.as_deref().or(article.summary.as_deref());
    let mut images = find_in_html(body.unwrap_or(""), base);
    for image in enclosed_images(article) {
        if !images.iter().any(|i| i.url == image.url) {
            images.push(image);
        }
    }
    images
}

/// The images an entry names outside its body: image enclosures, media
/// thumbnails and its own cover image.
fn enclosed_images(article: &ParsedArticle) -> Vec<FoundImage> {
    from_enclosures(
        article
            .enclosures
            .iter()
            .map(|e| (e.url.as_str(), e.mime_type.as_deref()))
            .chain(
                article
                    .thumbnails
                    .iter()
                    .chain(article.image.as_ref())
                    .map(|t| (t.as_str(), Some("image/*"))),
            ),
    )
}

/// Images in an article body, in document order, deduplicated by URL.
///
/// An `<img>` gives its `src`, or when it has a `srcset`, its best candidate:
/// the largest `w` descriptor not above [`DEFAULT_MAX_WIDTH`], else the
/// smallest above; for `x` descriptors the largest up to 2x, else the smallest.
/// A `<picture>` gives one image: the best candidate of its first `<source>`
/// that has no `media` query and a `type` we can store (or none), else its
/// `<img>`. URLs are resolved against `base` (for [`find_in_feed`], the entry's
/// `xml:base`, its link or the feed URL), and only http(s) survive: data: URIs, javascript: and empty sources
/// are skipped, and so are 1×1 tracking pixels (by their `width` and `height`
/// attributes). Alt text is sanitised and its white space collapsed. At most
/// 200 images per article; images past the size at which `render` cuts a body
/// are never shown, so they are not looked for.
pub fn find_in_html(html: &str, base: &str) -> Vec<FoundImage> {
    let html = cut_at_char_boundary(html, crate::render::MAX_HTML_BYTES);
    // Most bodies show no image: a scan for the tags costs a fraction of a parse.
    if !mentions_image_tag(html) {
        return Vec::new();
    }
    let document = Html::parse_fragment(html);
    let selector = Selector::parse("img, picture").expect("valid selector");
    let mut found: Vec<FoundImage> = Vec::new();
    for element in document.select(&selector) {
        let image = match element.value().name() {
            "picture" => from_picture(element, base),
            // The picture around it has spoken for it.
            _ if parent_is_picture(element) => None,
            _ => from_img(element, base),
        };
        let Some(image) = image else { continue };
        if found.iter().any(|f| f.url == image.url) {
            continue;
        }
        found.push(image);
        if found.len() == MAX_IMAGES_PER_ARTICLE {
            break;
        }
    }
    found
}

/// For each `<img>` whose address as written (`src`) is not the one
/// [`find_in_html`] chose for it (a `srcset` candidate or a `<picture>`
/// source), the pair (its `src`, the chosen URL), both resolved against
/// `base`. The reader shows an image where its `src` stands and finds the
/// cached file of the chosen URL through this.
pub fn chosen_for_sources(html: &str, base: &str) -> Vec<(String, String)> {
    let html = cut_at_char_boundary(html, crate::render::MAX_HTML_BYTES);
    // Without a srcset anywhere, every image is cached from its own src.
    let has_srcset = html
        .as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"srcset"));
    if !has_srcset || !mentions_image_tag(html) {
        return Vec::new();
    }
    let document = Html::parse_fragment(html);
    let selector = Selector::parse("img").expect("valid selector");
    let mut pairs = Vec::new();
    for img in document.select(&selector) {
        let Some(src) = img.attr("src").and_then(|src| web_url(src.trim(), base)) else {
            continue;
        };
        let chosen = match img.parent().and_then(ElementRef::wrap) {
            Some(picture) if picture.value().name() == "picture" => from_picture(picture, base),
            _ => from_img(img, base),
        };
        if let Some(chosen) = chosen.filter(|c| c.url != src) {
            pairs.push((src, chosen.url));
        }
    }
    pairs
}

/// Whether the HTML has an `<img` or `<picture` tag, in any case.
fn mentions_image_tag(html: &str) -> bool {
    let bytes = html.as_bytes();
    memchr::memchr_iter(b'<', bytes).any(|at| {
        let rest = &bytes[at + 1..];
        let starts =
            |tag: &[u8]| rest.len() >= tag.len() && rest[..tag.len()].eq_ignore_ascii_case(tag);
        starts(b"img") || starts(b"picture")
    })
}

/// Images a feed shows outside its articles' bodies: of an entry's enclosures
/// (url, MIME type), those of an `image/*` type, and those without a type whose
/// URL's path ends in an image extension. Only absolute http(s) URLs are kept.
pub fn from_enclosures<'a>(
    enclosures: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<FoundImage> {
    const EXTENSIONS: &[&str] = &[".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"];
    let mut found: Vec<FoundImage> = Vec::new();
    for (url, mime_type) in enclosures {
        let Some(url) = url::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        let is_image = match mime_type.map(str::trim).filter(|t| !t.is_empty()) {
            Some(mime_type) => mime_type.to_ascii_lowercase().starts_with("image/"),
            None => {
                let path = url.path().to_ascii_lowercase();
                EXTENSIONS.iter().any(|ext| path.ends_with(ext))
            }
        };
        let url = url.to_string();
        if is_image && !found.iter().any(|f| f.url == url) {
            found.push(FoundImage {
                url,
                alt: String::new(),
            });
        }
    }
    found
}

fn from_img(img: ElementRef, base: &str) -> Option<FoundImage> {
    if is_tracking_pixel(img) {
        return None;
    }
    let url = img_url(img, base)?;
    Some(FoundImage {
        url,
        alt: alt_text(img),
    })
}

/// The image's URL: the best `srcset` candidate, else `src`.
fn img_url(img: ElementRef, base: &str) -> Option<String> {
    let src = img.attr("src").map(str::trim).filter(|s| !s.is_empty());
    let mut candidates = parse_srcset(img.attr("srcset").unwrap_or_default());
    // Without a 1x candidate, `src` is the 1x one (the HTML standard's rule).
    let has_widths = candidates
        .iter()
        .any(|c| matches!(c.descriptor, Descriptor::Width(_)));
    let has_1x = candidates
        .iter()
        .any(|c| c.descriptor == Descriptor::Density(1.0));
    if let Some(src) = src.filter(|_| !candidates.is_empty() && !has_widths && !has_1x) {
        candidates.push(Candidate {
            url: src,
            descriptor: Descriptor::Density(1.0),
        });
    }
    best_candidate(&candidates)
        .and_then(|url| web_url(url, base))
        .or_else(|| web_url(src?, base))
}

fn from_picture(picture: ElementRef, base: &str) -> Option<FoundImage> {
    let img = picture.child_elements().find(|e| e.value().name() == "img");
    if img.is_some_and(is_tracking_pixel) {
        return None;
    }
    let from_source = picture
        .child_elements()
        .filter(|e| e.value().name() == "source")
        .find(|source| source_is_usable(*source))
        .and_then(|source| best_candidate(&parse_srcset(source.attr("srcset")?)))
        .and_then(|url| web_url(url, base));
    let url = from_source.or_else(|| img_url(img?, base))?;
    Some(FoundImage {
        url,
        alt: img.map(alt_text).unwrap_or_default(),
    })
}

/// A `<source>` we would pick: it has candidates, no `media` query (which a
/// terminal cannot answer; the `<img>` is the author's default then), and an
/// image type we can store, when it names one.
fn source_is_usable(source: ElementRef) -> bool {
    let has_srcset = source.attr("srcset").is_some_and(|s| !s.trim().is_empty());
    let type_ok = source.attr("type").is_none_or(|t| {
        let t = t.trim().to_ascii_lowercase();
        t.is_empty() || STORED_TYPES.contains(&t.as_str())
    });
    has_srcset && type_ok && source.attr("media").is_none()
}

fn parent_is_picture(element: ElementRef) -> bool {
    element
        .parent()
        .and_then(ElementRef::wrap)
        .is_some_and(|p| p.value().name() == "picture")
}

/// `width` and `height` attributes of at most 1 pixel: a tracking pixel.
fn is_tracking_pixel(img: ElementRef) -> bool {
    let tiny = |name| {
        img.attr(name)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v <= 1)
    };
    tiny("width") && tiny("height")
}

fn alt_text(img: ElementRef) -> String {
    let alt = sanitize_text(img.attr("alt").unwrap_or_default());
    alt.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Descriptor {
    Width(u32),
    Density(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate<'a> {
    url: &'a str,
    descriptor: Descriptor,
}

/// The candidates of a `srcset`, in order, as the HTML standard splits them: a
/// URL runs to white space (so it may hold commas), a trailing comma ends it,
/// and its descriptor runs to the next comma. Candidates with a descriptor we
/// cannot read are left out.
fn parse_srcset(srcset: &str) -> Vec<Candidate<'_>> {
    let mut candidates = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return candidates;
        }
        let url_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        let descriptor_text;
        if url.ends_with(',') {
            descriptor_text = "";
            rest = after;
        } else {
            let end = after.find(',').unwrap_or(after.len());
            descriptor_text = &after[..end];
            rest = &after[end..];
        }
        let url = url.trim_end_matches(',');
        if let Some(descriptor) = parse_descriptor(descriptor_text) {
            candidates.push(Candidate { url, descriptor });
        }
    }
}

fn parse_descriptor(text: &str) -> Option<Descriptor> {
    let Some(first) = text.split_ascii_whitespace().next() else {
        return Some(Descriptor::Density(1.0));
    };
    if let Some(width) = first.strip_suffix('w') {
        return width
            .parse::<u32>()
            .ok()
            .filter(|w| *w > 0)
            .map(Descriptor::Width);
    }
    let density = first.strip_suffix('x')?.parse::<f64>().ok()?;
    (density.is_finite() && density > 0.0).then_some(Descriptor::Density(density))
}

/// The candidate to download: by width when any candidate gives one (a
/// `srcset` should not mix the two), else by density.
fn best_candidate<'a>(candidates: &[Candidate<'a>]) -> Option<&'a str> {
    let widths: Vec<(f64, &str)> = candidates
        .iter()
        .filter_map(|c| match c.descriptor {
            Descriptor::Width(w) => Some((f64::from(w), c.url)),
            Descriptor::Density(_) => None,
        })
        .collect();
    if !widths.is_empty() {
        return largest_up_to(&widths, f64::from(DEFAULT_MAX_WIDTH));
    }
    let densities: Vec<(f64, &str)> = candidates
        .iter()
        .filter_map(|c| match c.descriptor {
            Descriptor::Density(d) => Some((d, c.url)),
            Descriptor::Width(_) => None,
        })
        .collect();
    largest_up_to(&densities, MAX_DENSITY)
}

/// The largest size not above `limit`, else the smallest above it.
fn largest_up_to<'a>(sized: &[(f64, &'a str)], limit: f64) -> Option<&'a str> {
    let within = sized
        .iter()
        .filter(|(size, _)| *size <= limit)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let smallest = || sized.iter().min_by(|a, b| a.0.total_cmp(&b.0));
    within.or_else(smallest).map(|(_, url)| *url)
}

fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
