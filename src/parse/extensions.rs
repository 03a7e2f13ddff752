//! The second pass: what feed-rs drops from an RSS document (and from a JSON
//! Feed, its items' images: [`collect_json`]). A quick-xml
//! pass over the text collects, for the channel and for each `<item>` in
//! document order, the extension elements real feeds use in place of (or
//! beside) the core ones: Dublin Core (`dc:`, `dcterms:`), iTunes, Media RSS
//! and Atom elements inside RSS. `mapping` applies them as fallbacks, per
//! entry, when the entries line up with the items counted here.
//!
//! It also keeps each RSS item's `xml:base`, and reads Atom documents for
//! their Media RSS. It runs only where [`worth_a_look`] says it would find
//! something feed-rs has not given. Prefixes are resolved through the document's own `xmlns` declarations;
//! a prefix used without one (`dc:`, `atom:` …) is taken for its usual
//! vocabulary. It reads and never fails: a broken document gives what was
//! collected before the break.

use std::sync::LazyLock;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

/// The vocabularies this pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Vocabulary {
    /// RSS itself (no namespace, or RSS 1.0's).
    Rss,
    Dc,
    DcTerms,
    Itunes,
    Media,
    Atom,
    Content,
    Other,
}

/// An element whose text this pass keeps (the first of each per item).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    DcTitle,
    MediaTitle,
    /// An RSS `<description>` holding unescaped HTML, as written.
    DescriptionMarkup,
    ItunesTitle,
    DcDescription,
    ItunesSummary,
    MediaDescription,
    AtomContent,
    /// `content:encoded` where feed-rs did not read it (no namespace declared).
    ContentEncoded,
    DcCreator,
    DcAuthor,
    ItunesAuthor,
    AtomAuthorName,
    DcDate,
    DcTermsIssued,
    DcTermsCreated,
    DcTermsModified,
    AtomPublished,
    AtomUpdated,
    /// How long an episode plays, as written (feed-rs keeps it only beside
    /// Media RSS, and reads `42:05` as 42 seconds).
    ItunesDuration,
    /// An episode's number and season (feed-rs keeps them only where the
    /// item has an iTunes title or summary too).
    ItunesEpisode,
    ItunesSeason,
}

/// What one element (the channel, or an item) carries in the vocabularies
/// feed-rs leaves out.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Found {
    /// The text of the [`Field`]s the element has (the first of each), in
    /// the order met: a few per element, where an array of every field
    /// would be mostly empty space written for each item.
    values: Vec<(Field, String)>,
    /// `atom:link rel="alternate"` (or without `rel`).
    pub atom_link: Option<String>,
    /// The `href` of the element's own RSS `<link href="…"/>` (Atom's form
    /// without its namespace), which feed-rs skips, when it is the last of
    /// its `<link>`s: where several are given, feedparser and gofeed both
    /// keep the last, and feed-rs has the others.
    pub href_link: Option<String>,
    /// Categories from `dc:subject`, `itunes:keywords`, `itunes:category`,
    /// `media:keywords` and `atom:category`, in document order.
    pub categories: Vec<String>,
    /// An RSS 1.0 item's `rdf:about`.
    pub rdf_about: Option<String>,
    /// The `xml:base` in effect for an item (its own, resolved against its
    /// ancestors'), when one is set: feed-rs does not give it for RSS.
    pub base: Option<String>,
    /// The first `media:thumbnail` or `itunes:image`, which feed-rs drops
    /// where no `media:content` goes with it.
    pub thumbnail: Option<String>,
    /// An image feed-rs does not see: `media:content` of an image type or
    /// `medium="image"` (feed-rs reads it only on an item, and only with a
    /// type), or a JSON Feed item's `image`, else its `banner_image`.
    pub image: Option<String>,
}

impl Found {
    /// The values of `fields` that the element has, in that order.
    pub fn each<'a>(&'a self, fields: &'a [Field]) -> impl Iterator<Item = &'a str> {
        fields.iter().filter_map(|f| self.value(*f))
    }

    /// The text of `field`, when the element has it.
    fn value(&self, field: Field) -> Option<&str> {
        self.values
            .iter()
            .find(|(has, _)| *has == field)
            .map(|(_, text)| text.as_str())
    }

    /// Sets `field` unless the element has it already: the first one counts.
    fn set_first(&mut self, field: Field, text: &str) {
        if self.value(field).is_none() {
            self.values.push((field, text.to_string()));
        }
    }

    /// Sets `field`, in place of what the element had: the last one counts.
    fn set(&mut self, field: Field, text: &str) {
        self.values.retain(|(has, _)| *has != field);
        self.values.push((field, text.to_string()));
    }

    /// The first of `fields` that the element has.
    pub fn first(&self, fields: &[Field]) -> Option<String> {
        self.each(fields).next().map(str::to_string)
    }
}

/// What the pass found in a document.
#[derive(Debug, Default)]
pub(super) struct Extensions {
    pub channel: Found,
    pub items: Vec<Found>,
}

/// Whether the pass would find anything feed-rs has not given (`feed`):
/// an RSS document with an `xml:base` in its channel or first entries; or the top of the document (where
/// the root element declares its namespaces) declares one of the
/// vocabularies, or uses one of their prefixes without a declaration, or is
/// RSS 1.0, and then, unless a vocabulary goes by an unusual prefix, a scan
/// of the channel and its first entries finds an element the pass adds from
/// (categories, images, `<link href>`) or one that fills a field some entry
/// lacks, or an episode's duration (which feed-rs reads only beside Media
/// RSS). So a feed that declares Dublin Core and gives feed-rs all it needs
/// is read once.
/// `signs`: which of [`SIGNS`] the top of `text` holds.
pub(super) fn worth_a_look(text: &str, feed: &feed_rs::model::Feed, signs: &[bool]) -> bool {
    let atom = feed.feed_type == feed_rs::model::FeedType::Atom;
    let head = super::head(text);
    let has = |i: usize| signs[i];
    let used = |p: usize| has(UNDECLARED + 2 * p);
    let declared = |p: usize| has(UNDECLARED + 2 * p + 1);
    let undeclared = (0..PREFIXES).any(|p| used(p) && !declared(p));
    let markup = !atom && markup_in_description(head);
    // A vocabulary declared under a prefix other than its usual one: the
    // scan below, which looks for the usual ones, would not see it.
    let vocabularies = if atom { IN_RSS } else { IN_RSS + 1 };
    let unusual = (0..vocabularies).any(|v| has(v) && !declared(v));
    if undeclared || markup || unusual {
        return true;
    }
    let declares =
        (0..IN_RSS).any(has) || has(OTHER_ITUNES) || (!atom && (IN_RSS..UNDECLARED).any(has));
    // The channel and its first entries: entries repeat one another's
    // elements, so a large document is not scanned whole.
    let sample = super::prefix(text, SAMPLE_BYTES);
    // RSS's xml:base is the pass's to read (feed-rs keeps it for Atom).
    if !atom && XML_BASE_FINDER.find(sample.as_bytes()).is_some() {
        return true;
    }
    // Nothing declared: nothing to read. An iTunes namespace feed-rs does
    // not know (it knows one spelling): all of it to read.
    if !declares || has(OTHER_ITUNES) {
        return declares;
    }
    // Where the first entry starts: what comes before is the channel's.
    let first_entry = first_entry(sample).unwrap_or(sample.len());
    let (channel, items): ([bool; ELEMENTS.len()], [bool; ELEMENTS.len()]) =
        ELEMENT_FINDER.which_split(sample, first_entry);
    let elements: [bool; ELEMENTS.len()] = std::array::from_fn(|i| channel[i] || items[i]);
    let any = |group: &[usize]| group.iter().any(|&i| elements[i]);
    let entries = &feed.entries;
    let lacks = |lacking: fn(&feed_rs::model::Entry) -> bool| entries.iter().any(lacking);
    let pictured = |e: &feed_rs::model::Entry| {
        e.media.iter().any(|m| {
            !m.thumbnails.is_empty()
                || m.content.iter().any(|c| {
                    c.content_type
                        .as_ref()
                        .is_some_and(|t| t.as_str().starts_with("image/"))
                })
        })
    };
    // Categories add up only on entries (the channel's are not kept).
    CATEGORIES.iter().any(|&i| items[i])
        || elements[HREF_LINK]
        || (IMAGES.iter().any(|&i| items[i]) && entries.iter().any(|e| !pictured(e)))
        || (IMAGES.iter().any(|&i| channel[i]) && feed.logo.is_none() && feed.icon.is_none())
        || (any(&TITLES) && (feed.title.is_none() || lacks(|e| e.title.is_none())))
        || (any(&AUTHORS) && lacks(|e| e.authors.is_empty()))
        || (any(&DATES) && lacks(|e| e.published.is_none() || e.updated.is_none()))
        || (any(&SUMMARIES) && (feed.description.is_none() || lacks(|e| e.summary.is_none())))
        || (any(&CONTENTS) && lacks(|e| e.content.is_none()))
        || (any(&LINKS) && (feed.links.is_empty() || lacks(|e| e.links.is_empty())))
        || (any(&IDS) && lacks(|e| e.id.trim().is_empty()))
        || PODCAST.iter().any(|&i| items[i])
}

/// The elements [`worth_a_look`] scans a document for, under their usual
/// prefixes; none starts another. By what they give: [`CATEGORIES`] add
/// to an entry's, [`IMAGES`] give an entry or the channel a picture
/// feed-rs missed, the `<link href>` form a link, the others fill a field
/// only where it lacks one.
const ELEMENTS: &[&str] = &[
    "<dc:subject",
    "<itunes:keywords",
    "<itunes:category",
    "<media:keywords",
    "<atom:category",
    "<media:thumbnail",
    "<itunes:image",
    "<media:content",
    "<link href=",
    "<dc:title",
    "<media:title",
    "<itunes:title",
    "<dc:creator",
    "<dc:author",
    "<itunes:author",
    "<atom:author",
    "<dc:date",
    "<dcterms:",
    "<atom:published",
    "<atom:updated",
    "<dc:description",
    "<itunes:summary",
    "<media:description",
    "<content:encoded",
    "<atom:content",
    "<atom:link",
    "rdf:about",
    "<itunes:duration",
    "<itunes:episode",
    "<itunes:season",
];

/// How much of a document the scan for [`ELEMENTS`] reads.
const SAMPLE_BYTES: usize = 64 << 10;
const CATEGORIES: [usize; 5] = [0, 1, 2, 3, 4];
const IMAGES: [usize; 3] = [5, 6, 7];
const HREF_LINK: usize = 8;
const TITLES: [usize; 3] = [9, 10, 11];
const AUTHORS: [usize; 4] = [12, 13, 14, 15];
const DATES: [usize; 4] = [16, 17, 18, 19];
const SUMMARIES: [usize; 3] = [20, 21, 22];
const CONTENTS: [usize; 2] = [23, 24];
const LINKS: [usize; 1] = [25];
const IDS: [usize; 1] = [26];
const PODCAST: [usize; 3] = [27, 28, 29];
const _: () = assert!(ELEMENTS.len() == 30);

static ELEMENT_FINDER: LazyLock<super::Signs> = LazyLock::new(|| super::Signs::new(ELEMENTS));

/// Where the first `<item>` or `<entry>` start tag in `text` begins.
fn first_entry(text: &str) -> Option<usize> {
    static ITEM: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("<item"));
    static ENTRY: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("<entry"));
    let bytes = text.as_bytes();
    [(&*ITEM, 5), (&*ENTRY, 6)]
        .into_iter()
        .filter_map(|(finder, length)| {
            finder.find_iter(bytes).find(|&at| {
                bytes
                    .get(at + length)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            })
        })
        .min()
}

static XML_BASE_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("xml:base"));

/// What [`worth_a_look`] looks for: first the vocabularies' namespaces
/// (iTunes' in the one spelling feed-rs knows), then what only matters in
/// RSS, then for each usual prefix its use (`<dc:`) and its declaration
/// (`xmlns:dc=`, found by its `s:dc=`), and last iTunes' domain in any
/// other spelling. Each starts with bytes that are rare in a document's
/// top (not `http`, `www` or `xmlns`), as the scan stops to look wherever a
/// start matches; where two match at one place, the first listed wins.
pub(super) const SIGNS: &[&str] = &[
    "purl.org/dc/elements/1.1",
    "purl.org/dc/terms",
    "itunes.com/dtds/podcast-1.0.dtd",
    "search.yahoo.com/mrss",
    // From here, only in RSS: Atom elements, RSS 1.0's items, and RSS
    // links written the Atom way, without its namespace.
    "w3.org/2005/Atom",
    "rdf:about",
    "<link href=",
    "<dc:",
    "s:dc=",
    "<dcterms:",
    "s:dcterms=",
    "<itunes:",
    "s:itunes=",
    "<media:",
    "s:media=",
    "<atom:",
    "s:atom=",
    "<content:",
    "s:content=",
    "itunes.com/",
];
/// iTunes' domain not followed by the namespace's one spelling feed-rs knows.
const OTHER_ITUNES: usize = 19;
const IN_RSS: usize = 4;
const UNDECLARED: usize = 7;
const PREFIXES: usize = 6;
const _: () = assert!(SIGNS.len() == UNDECLARED + 2 * PREFIXES + 1);

static DESCRIPTION: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("<description>"));

/// Whether a `<description>` in `head` holds an element: HTML left
/// unescaped, which feed-rs drops.
fn markup_in_description(head: &str) -> bool {
    DESCRIPTION.find_iter(head.as_bytes()).any(|at| {
        let body = &head[at + "<description>".len()..];
        let body = &body[..body.find("</description>").unwrap_or(body.len())];
        is_markup(body)
    })
}

/// Whether a description's body, as written, holds markup (HTML left
/// unescaped), not text or a CDATA section.
fn is_markup(body: &str) -> bool {
    static CDATA: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("<![CDATA["));
    memchr::memchr(b'<', body.as_bytes()).is_some() && CDATA.find(body.as_bytes()).is_none()
}

/// `base_url`: the document's address, against which `xml:base`s resolve.
pub(super) fn collect(text: &str, base_url: &str) -> Extensions {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let mut prefixes = Prefixes::new();
    let mut out = Extensions::default();
    // Where we are: inside an item (its depth), and the element whose text
    // is being collected (its depth, its field).
    let mut depth = 0usize;
    let mut item_depth: Option<usize> = None;
    let mut channel_depth: Option<usize> = None;
    let mut capture: Option<(usize, Capture, String)> = None;
    // The `xml:base`s in effect, each with the depth of the element that set it.
    let mut bases: Vec<(usize, String)> = vec![(0, base_url.to_string())];
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let opens = matches!(event, Event::Start(_));
                depth += usize::from(opens);
                learn_prefixes(start, &mut prefixes);
                if capture.is_some() {
                    continue;
                }
                if opens
                    && XML_BASE_FINDER.find(start.as_bytes()).is_some()
                    && let Some(base) = attribute(start, "xml:base")
                {
                    let current = &bases[bases.len() - 1].1;
                    let resolved = crate::text::resolve_url(&base, current).unwrap_or(base);
                    bases.push((depth, resolved));
                }
                let name = start.name();
                let (vocabulary, local) = classify(name.as_ref(), &prefixes);
                let entry = local == "item" || local == "entry";
                if vocabulary == Vocabulary::Rss && entry && item_depth.is_none() {
                    // An empty <item/> is an entry too: entries line up by position.
                    item_depth = opens.then_some(depth);
                    out.items.push(Found {
                        rdf_about: attribute(start, "rdf:about"),
                        base: (bases.len() > 1).then(|| bases[bases.len() - 1].1.clone()),
                        ..Found::default()
                    });
                    continue;
                }
                if opens
                    && vocabulary == Vocabulary::Rss
                    && (local == "channel" || local == "feed")
                    && channel_depth.is_none()
                {
                    channel_depth = Some(depth);
                    continue;
                }
                let parent = depth - usize::from(opens);
                let own = item_depth.or(channel_depth) == Some(parent);
                let Some(target) = current(&mut out, item_depth.is_some(), channel_depth.is_some())
                else {
                    continue;
                };
                attributes_of(start, vocabulary, local, own, target);
                if opens
                    && let Some(what) = Capture::of(
                        vocabulary,
                        local,
                        own,
                        start,
                        reader.buffer_position() as usize,
                    )
                {
                    capture = Some((depth, what, String::new()));
                }
                // Text nothing is kept from (a description is kept only
                // when it holds markup) is passed over, not read event by
                // event: escaped HTML has a reference every few bytes.
                let kept = capture
                    .as_ref()
                    .is_some_and(|(_, what, _)| !matches!(what, Capture::Markup(_)));
                if opens && !kept && skip_plain_text(&mut reader, name.into_inner().as_bytes()) {
                    capture = None;
                }
            }
            Event::Text(text) => {
                if let Some(buffer) = decoded_text(&mut capture) {
                    buffer.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(buffer) = decoded_text(&mut capture) {
                    buffer.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(buffer) = decoded_text(&mut capture) {
                    push_reference(buffer, &reference);
                }
            }
            Event::End(_) => {
                if let Some((_, what, buffer)) = capture.take_if(|(at, ..)| *at == depth) {
                    let kept = match what {
                        // Kept as written, and only when it is markup:
                        // escaped HTML and CDATA bodies are feed-rs's.
                        Capture::Markup(start) => Some(text.get(start..before).unwrap_or_default())
                            .filter(|written| is_markup(written))
                            .map(str::to_string),
                        _ => Some(buffer),
                    };
                    if let Some(kept) = kept
                        && let Some(target) =
                            current(&mut out, item_depth.is_some(), channel_depth.is_some())
                    {
                        what.store(kept, target);
                    }
                } else if item_depth == Some(depth) {
                    item_depth = None;
                } else if channel_depth == Some(depth) {
                    channel_depth = None;
                }
                if bases.len() > 1 && bases[bases.len() - 1].0 == depth {
                    bases.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    out
}

/// What feed-rs drops from a JSON Feed: each item's `image`, else its
/// `banner_image`. Only for a document that names one of them; `None`
/// when it does not, or when its items are not what the spec says.
pub(super) fn collect_json(text: &str) -> Option<Extensions> {
    #[derive(serde::Deserialize)]
    struct Document {
        #[serde(default)]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        image: Option<serde_json::Value>,
        banner_image: Option<serde_json::Value>,
    }
    memchr::memmem::find(text.as_bytes(), b"image\"")?;
    let document: Document = serde_json::from_str(text).ok()?;
    let items = document
        .items
        .into_iter()
        .map(|item| Found {
            image: [item.image, item.banner_image]
                .into_iter()
                .flatten()
                .find_map(|v| v.as_str().map(str::to_string)),
            ..Found::default()
        })
        .collect();
    Some(Extensions {
        channel: Found::default(),
        items,
    })
}

/// The text an entity or character reference stands for, onto `buffer`:
/// a character, one of XML's five entities, else the reference as written.
pub(super) fn push_reference(buffer: &mut String, reference: &quick_xml::events::BytesRef) {
    match reference.resolve_char_ref() {
        Ok(Some(c)) => buffer.push(c),
        _ => match quick_xml::escape::resolve_predefined_entity(reference) {
            Some(s) => buffer.push_str(s),
            None => {
                buffer.push('&');
                buffer.push_str(reference);
                buffer.push(';');
            }
        },
    }
}

/// Moves `reader`, just past the start tag of the element `name`, past
/// the element's content when that is only text (no child element,
/// comment or CDATA section): the next event is the element's end. Whether
/// it did.
fn skip_plain_text(reader: &mut Reader<&[u8]>, name: &[u8]) -> bool {
    use std::io::BufRead;
    let rest: &[u8] = reader.get_ref();
    let Some(at) = memchr::memchr(b'<', rest) else {
        return false;
    };
    let closes = rest[at..]
        .strip_prefix(b"</")
        .and_then(|end| end.strip_prefix(name))
        .and_then(|end| end.first())
        .is_some_and(|b| *b == b'>' || b.is_ascii_whitespace());
    if closes {
        reader.stream().consume(at);
    }
    closes
}

/// Where the decoded text of the element being captured goes; `None` when
/// nothing is captured, or when the element is kept as written (a
/// description's markup is taken from the document at its end, so its
/// text, often escaped HTML full of references, is not decoded for nothing).
fn decoded_text(capture: &mut Option<(usize, Capture, String)>) -> Option<&mut String> {
    match capture {
        Some((_, Capture::Markup(_), _)) | None => None,
        Some((_, _, buffer)) => Some(buffer),
    }
}

/// The element text goes to: the current item, else the channel.
fn current(out: &mut Extensions, in_item: bool, in_channel: bool) -> Option<&mut Found> {
    if in_item {
        out.items.last_mut()
    } else if in_channel {
        Some(&mut out.channel)
    } else {
        None
    }
}

/// The prefixes a document declares, with their vocabularies: a handful,
/// looked up at every element, where a list beats hashing each name.
type Prefixes = Vec<(String, Vocabulary)>;

fn learn_prefixes(start: &BytesStart, prefixes: &mut Prefixes) {
    // Most elements declare nothing: a look at the tag spares reading its attributes.
    static XMLNS: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("xmlns:"));
    if XMLNS.find(start.as_bytes()).is_none() {
        return;
    }
    for a in start.attributes().flatten() {
        let key = a.key.as_ref();
        let Some(prefix) = key.strip_prefix("xmlns:") else {
            continue;
        };
        let uri = a
            .normalized_value(XmlVersion::Implicit1_0)
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !prefixes.iter().any(|(known, _)| known == prefix) {
            prefixes.push((prefix.to_string(), vocabulary_of(&uri)));
        }
    }
}

fn vocabulary_of(uri: &str) -> Vocabulary {
    let uri = uri.trim().trim_end_matches(['/', '#']);
    match uri {
        "http://purl.org/dc/elements/1.1" => Vocabulary::Dc,
        "http://purl.org/dc/terms" => Vocabulary::DcTerms,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" => Vocabulary::Itunes,
        "http://search.yahoo.com/mrss" => Vocabulary::Media,
        "http://www.w3.org/2005/atom" => Vocabulary::Atom,
        "http://purl.org/rss/1.0" => Vocabulary::Rss,
        "http://purl.org/rss/1.0/modules/content" => Vocabulary::Content,
        _ => Vocabulary::Other,
    }
}

/// An element's vocabulary and local name.
fn classify<'a>(name: &'a str, prefixes: &Prefixes) -> (Vocabulary, &'a str) {
    let Some((prefix, local)) = name.split_once(':') else {
        return (Vocabulary::Rss, name);
    };
    let declared = prefixes.iter().find(|(known, _)| known == prefix);
    let vocabulary = declared.map(|(_, v)| *v).unwrap_or(match prefix {
        // Used without a declaration: the usual meaning.
        "dc" => Vocabulary::Dc,
        "dcterms" => Vocabulary::DcTerms,
        "itunes" => Vocabulary::Itunes,
        "media" => Vocabulary::Media,
        "atom" => Vocabulary::Atom,
        "content" => Vocabulary::Content,
        _ => Vocabulary::Other,
    });
    (vocabulary, local)
}

fn attribute(start: &BytesStart, name: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// What an element says in its attributes. `own`: the element is a child
/// of the item or channel itself, not of something inside it.
fn attributes_of(
    start: &BytesStart,
    vocabulary: Vocabulary,
    local: &str,
    own: bool,
    target: &mut Found,
) {
    match (vocabulary, local) {
        (Vocabulary::Rss, "link") if own => {
            if let Some(href) = attribute(start, "href") {
                target.href_link = Some(href);
            }
        }
        (Vocabulary::Atom, "link") => {
            let rel = attribute(start, "rel");
            if matches!(rel.as_deref(), None | Some("alternate")) && target.atom_link.is_none() {
                target.atom_link = attribute(start, "href");
            }
        }
        (Vocabulary::Media, "thumbnail") if target.thumbnail.is_none() => {
            target.thumbnail = attribute(start, "url");
        }
        (Vocabulary::Itunes, "image") if target.thumbnail.is_none() => {
            target.thumbnail = attribute(start, "href");
        }
        (Vocabulary::Media, "content")
            if target.image.is_none()
                && (attribute(start, "medium").as_deref() == Some("image")
                    || attribute(start, "type").is_some_and(|t| t.starts_with("image/"))) =>
        {
            target.image = attribute(start, "url");
        }
        (Vocabulary::Atom, "category") => target.categories.extend(attribute(start, "term")),
        (Vocabulary::Itunes, "category") => target.categories.extend(attribute(start, "text")),
        _ => {}
    }
}

/// What the text of an element goes to.
#[derive(Debug, Clone, Copy)]
enum Capture {
    Text(Field),
    /// An RSS `<link>` of the item or channel itself.
    Link,
    /// An item's RSS `<description>`, kept as written from the byte it
    /// starts at: markup left unescaped in it is HTML, which feed-rs drops.
    Markup(usize),
    Category,
    /// Comma-separated categories.
    Keywords,
}

impl Capture {
    /// What to keep of an element that starts as `start` and whose content
    /// starts at byte `content_start`; `own`: a child of the item or
    /// channel itself.
    fn of(
        vocabulary: Vocabulary,
        local: &str,
        own: bool,
        start: &BytesStart,
        content_start: usize,
    ) -> Option<Capture> {
        use Vocabulary::*;
        let field = match (vocabulary, local) {
            (Rss, "link") if own => return Some(Capture::Link),
            (Rss, "description") if own => return Some(Capture::Markup(content_start)),
            (Dc, "subject") => return Some(Capture::Category),
            (Itunes, "keywords") | (Media, "keywords") => return Some(Capture::Keywords),
            (Dc, "title") => Field::DcTitle,
            (Media, "title") => Field::MediaTitle,
            (Itunes, "title") => Field::ItunesTitle,
            (Dc, "description") => Field::DcDescription,
            (Itunes, "summary") => Field::ItunesSummary,
            (Media, "description") => Field::MediaDescription,
            // Text content only: an xhtml body is feed-rs's business.
            (Atom, "content") if attribute(start, "type").as_deref() != Some("xhtml") => {
                Field::AtomContent
            }
            (Content, "encoded") => Field::ContentEncoded,
            (Dc, "creator") => Field::DcCreator,
            (Dc, "author") => Field::DcAuthor,
            (Itunes, "author") => Field::ItunesAuthor,
            (Atom, "name") => Field::AtomAuthorName,
            (Dc, "date") => Field::DcDate,
            (DcTerms, "issued") => Field::DcTermsIssued,
            (DcTerms, "created") => Field::DcTermsCreated,
            (DcTerms, "modified") => Field::DcTermsModified,
            (Atom, "published") => Field::AtomPublished,
            (Atom, "updated") => Field::AtomUpdated,
            (Itunes, "duration") => Field::ItunesDuration,
            (Itunes, "episode") => Field::ItunesEpisode,
            (Itunes, "season") => Field::ItunesSeason,
            _ => return None,
        };
        Some(Capture::Text(field))
    }

    fn store(self, text: String, target: &mut Found) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        match self {
            Capture::Text(field) => {
                target.set_first(field, text);
            }
            Capture::Link => target.href_link = None,
            Capture::Markup(_) => target.set(Field::DescriptionMarkup, text),
            Capture::Category => target.categories.push(text.to_string()),
            Capture::Keywords => target.categories.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string),
            ),
        }
    }
}
