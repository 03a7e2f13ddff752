//! The HTML source before html2text sees it: a quick scan of the tags that
//! bounds the work hostile markup can cause, and the plain-text paths (bodies
//! without tags, and the fallback when html2text fails). It owns the limits
//! below and a tokenizer that is just good enough to tell tags from text; it
//! must not try to be an HTML parser, and where it cannot tell what html5ever
//! will do it assumes the deeper tree.
//!
//! Why: html5ever and html2text both take time quadratic in nesting depth
//! (20,000 nested `<div>`s took a second), and html5ever re-opens every unclosed
//! formatting element (`<b>`, `<font>` …) inside each new block, so a few
//! hundred of them multiply the document. Neither has a limit of its own.

/// Deepest nesting of elements that html5ever is given; deeper tags are
/// dropped and their text joins the deepest element kept. Of the 1,456 bodies
/// in `../shared/corpora`, the deepest reaches 31 by this count.
pub(super) const MAX_DEPTH: usize = 512;
/// Most formatting elements that may be open at once; those bodies have three.
pub(super) const MAX_FORMATTING: usize = 8;
/// Most tags read from one body; the rest is cut like an over-long body.
pub(super) const MAX_TAGS: usize = 100_000;

/// Put after every image: html2text drops a link whose only content is an
/// image without alt text, image included, unless the link has some text.
/// Invisible, and removed again with the control characters.
pub(super) const WORD_JOINER: char = '\u{2060}';

const BR: &str = "<br>";

/// Elements without an end tag.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];
/// Elements that close their own kind or need a counted parent to nest: not
/// counted, which keeps unclosed `<p>` and `<li>` from adding up.
const UNCOUNTED: &[&str] = &[
    "html", "head", "body", "p", "li", "dt", "dd", "tr", "td", "th", "tbody", "thead", "tfoot",
    "caption", "colgroup", "option", "optgroup", "rb", "rp", "rt", "rtc",
];
/// html5ever's formatting elements but `<a>`, of which only one stays open.
const FORMATTING: &[&str] = &[
    "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
/// Elements whose end tag also closes the elements opened inside them.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "button",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "listing",
    "main",
    "menu",
    "nav",
    "ol",
    "pre",
    "search",
    "section",
    "summary",
    "table",
    "ul",
];
/// Elements that an end tag for an element outside them cannot close.
const SCOPE_BOUNDARIES: &[&str] = &[
    "applet", "marquee", "math", "object", "select", "svg", "table", "template",
];
/// Elements whose content is not markup.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];
/// Elements that start a paragraph in [`text_of`], besides [`BLOCKS`].
const PARAGRAPHS: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
];

/// The HTML given to html2text, and whether some of the body was left out.
pub(super) struct Prepared {
    pub html: String,
    pub cut: bool,
}

/// Whether `html` has any markup at all: some feeds ship plain text.
pub(super) fn has_tags(html: &str) -> bool {
    let bytes = html.as_bytes();
    memchr::memchr_iter(b'<', bytes).any(|i| {
        bytes
            .get(i + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?'))
    })
}

/// Plain text as HTML: blank lines part paragraphs, other line ends are `<br>`.
pub(super) fn text_to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 64);
    let mut in_paragraph = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            if in_paragraph {
                html.push_str("</p>");
            }
            in_paragraph = false;
            continue;
        }
        html.push_str(if in_paragraph { BR } else { "<p>" });
        html.push_str(line);
        in_paragraph = true;
    }
    if in_paragraph {
        html.push_str("</p>");
    }
    html
}

/// The text of `html` without its tags, for [`text_to_html`]: blocks become
/// paragraphs and `<br>` a line end. Entities are left for html2text to decode.
pub(super) fn text_of(html: &str) -> String {
    let mut text = String::with_capacity(html.len() / 2);
    for token in Tokens::new(html) {
        match token {
            Token::Text(t) => text.push_str(&t.replace(['\r', '\n'], " ")),
            Token::Start { name, .. } | Token::End { name, .. } => {
                let name = name.to_ascii_lowercase();
                if name == "br" {
                    text.push('\n');
                } else if BLOCKS.contains(&name.as_str()) || PARAGRAPHS.contains(&name.as_str()) {
                    text.push_str("\n\n");
                }
            }
            Token::Other(_) => {}
        }
    }
    text
}

/// An element [`prepare`] saw open, and what it did with it.
struct Open {
    name: String,
    /// Passed on to html5ever, not dropped for being past a limit.
    kept: bool,
    /// A kept formatting element: counts towards [`MAX_FORMATTING`].
    formatting: bool,
    /// A kept `<svg>` or `<math>`, inside which `<x/>` closes itself.
    foreign: bool,
}

/// Bounds what html5ever and html2text are given, in one pass over the tags:
/// no more than [`MAX_TAGS`] tags, nesting no deeper than [`MAX_DEPTH`], no
/// more than [`MAX_FORMATTING`] formatting elements open. Tags past a limit
/// are dropped and their text kept. It also puts a `<br>` on each side of every
/// `<img>` (after the `</a>` when the image is a link), so that its placeholder
/// gets a line of its own.
///
/// The count errs on the deep side. An end tag closes elements here only where
/// html5ever surely closes them too: the element is the last one open, or it
/// is a block and only non-formatting elements inside the same table (or svg …)
/// were opened after it. So html5ever's tree is never deeper than this count
/// (times four for the `<tbody>`, `<tr>` and `<td>` of tables, not counted).
/// Formatting elements that a block's end tag closes stay counted, because
/// html5ever keeps them to re-open in the next block.
pub(super) fn prepare(html: &str) -> Prepared {
    let mut out = String::with_capacity(html.len() + 256);
    let mut open: Vec<Open> = Vec::new();
    let (mut kept, mut formatting, mut foreign) = (0, 0, 0);
    let mut tags = 0;
    let mut break_after_image = false;
    for token in Tokens::new(html) {
        let name = match token {
            Token::Start { name, .. } | Token::End { name, .. } => {
                tags += 1;
                if tags > MAX_TAGS {
                    return Prepared {
                        html: out,
                        cut: true,
                    };
                }
                name.to_ascii_lowercase()
            }
            Token::Text(_) | Token::Other(_) => String::new(),
        };
        let closes_link = matches!(token, Token::End { .. }) && name == "a";
        let blank = matches!(token, Token::Text(t) if t.trim().is_empty());
        if break_after_image && !closes_link && !blank {
            out.push_str(BR);
            break_after_image = false;
        }
        match token {
            Token::Text(raw) | Token::Other(raw) => out.push_str(raw),
            Token::Start { raw, .. } if name == "img" => {
                out.push_str(BR);
                out.push_str(raw);
                out.push(WORD_JOINER);
                break_after_image = true;
            }
            Token::Start {
                raw, self_closing, ..
            } => {
                let uncounted = VOID.contains(&name.as_str()) || UNCOUNTED.contains(&name.as_str());
                if uncounted || (self_closing && foreign > 0) {
                    out.push_str(raw);
                    continue;
                }
                let is_formatting = FORMATTING.contains(&name.as_str());
                let keep = kept < MAX_DEPTH && !(is_formatting && formatting >= MAX_FORMATTING);
                let is_foreign = keep && matches!(name.as_str(), "svg" | "math");
                if keep {
                    out.push_str(raw);
                    kept += 1;
                    formatting += usize::from(is_formatting);
                    foreign += usize::from(is_foreign);
                }
                open.push(Open {
                    name,
                    kept: keep,
                    formatting: keep && is_formatting,
                    foreign: is_foreign,
                });
            }
            Token::End { raw, .. } => match closed_by(&open, &name) {
                Some(at) => {
                    if open[at].kept {
                        out.push_str(raw);
                    }
                    formatting -= usize::from(open[at].formatting);
                    for closed in open.drain(at..) {
                        kept -= usize::from(closed.kept);
                        foreign -= usize::from(closed.foreign);
                    }
                }
                // Whatever html5ever makes of it can only make the tree shallower.
                None => out.push_str(raw),
            },
        }
        if break_after_image && closes_link {
            out.push_str(BR);
            break_after_image = false;
        }
    }
    Prepared {
        html: out,
        cut: false,
    }
}

/// Where in `open` the end tag `name` surely closes an element, if it does.
fn closed_by(open: &[Open], name: &str) -> Option<usize> {
    let top = open.len().checked_sub(1)?;
    if open[top].name == name {
        return Some(top);
    }
    if !BLOCKS.contains(&name) {
        return None;
    }
    // A block left open under more than a few elements is malformed anyway,
    // and a bounded look keeps a flood of stray end tags linear.
    for at in (top.saturating_sub(16)..=top).rev() {
        let element = &open[at];
        if element.name == name {
            return Some(at);
        }
        if element.formatting || SCOPE_BOUNDARIES.contains(&element.name.as_str()) {
            return None;
        }
    }
    None
}

/// A piece of HTML source as [`Tokens`] sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Token<'a> {
    Text(&'a str),
    Start {
        name: &'a str,
        raw: &'a str,
        self_closing: bool,
    },
    End {
        name: &'a str,
        raw: &'a str,
    },
    /// A comment, doctype, the content of `<script>`, `<style>` and the like,
    /// or a tag cut off by the end of the input.
    Other(&'a str),
}

/// Splits HTML into [`Token`]s; joined, they give back the input.
pub(super) struct Tokens<'a> {
    html: &'a str,
    /// Set after the start tag of an element whose content is not markup.
    raw_text_of: Option<&'a str>,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(html: &'a str) -> Self {
        Self {
            html,
            raw_text_of: None,
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let rest = self.html;
        if rest.is_empty() {
            return None;
        }
        let raw_text = self.raw_text_of.take().map(|name| raw_text_len(rest, name));
        let (token, len) = match raw_text {
            Some(len) if len > 0 => (Token::Other(&rest[..len]), len),
            _ if !rest.starts_with('<') => {
                let len = memchr::memchr(b'<', rest.as_bytes()).unwrap_or(rest.len());
                (Token::Text(&rest[..len]), len)
            }
            _ => markup(rest),
        };
        self.html = &rest[len..];
        if let Token::Start { name, .. } = token
            && RAW_TEXT.iter().any(|r| r.eq_ignore_ascii_case(name))
        {
            self.raw_text_of = Some(name);
        }
        Some(token)
    }
}

/// The token at the start of `rest`, which starts with `<`, and its length.
fn markup(rest: &str) -> (Token<'_>, usize) {
    let bytes = rest.as_bytes();
    let through_gt = memchr::memchr(b'>', bytes).map_or(rest.len(), |i| i + 1);
    match bytes.get(1) {
        Some(b) if b.is_ascii_alphabetic() => match tag(rest, 1) {
            Some((name, len)) => {
                let raw = &rest[..len];
                let self_closing = raw.ends_with("/>");
                (
                    Token::Start {
                        name,
                        raw,
                        self_closing,
                    },
                    len,
                )
            }
            None => (Token::Other(rest), rest.len()),
        },
        Some(b'/') if bytes.get(2).is_some_and(u8::is_ascii_alphabetic) => match tag(rest, 2) {
            Some((name, len)) => (
                Token::End {
                    name,
                    raw: &rest[..len],
                },
                len,
            ),
            None => (Token::Other(rest), rest.len()),
        },
        Some(b'!') if rest.starts_with("<!--") => {
            let len = rest[2..].find("-->").map_or(rest.len(), |i| i + 5);
            (Token::Other(&rest[..len]), len)
        }
        Some(b'!' | b'?' | b'/') => (Token::Other(&rest[..through_gt]), through_gt),
        _ => (Token::Text(&rest[..1]), 1),
    }
}

/// The name and length of the tag at the start of `rest`, whose name starts at
/// `name_start`; `None` when the input ends inside the tag. A `>` inside a
/// quoted attribute value does not end it.
fn tag(rest: &str, name_start: usize) -> Option<(&str, usize)> {
    let bytes = rest.as_bytes();
    let name_end = bytes[name_start..]
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .map_or(bytes.len(), |i| name_start + i);
    let mut after_equals = false;
    let mut i = name_end;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return Some((&rest[name_start..name_end], i + 1)),
            b'=' => after_equals = true,
            quote @ (b'"' | b'\'') if after_equals => {
                i += 1 + memchr::memchr(quote, &bytes[i + 1..])?;
                after_equals = false;
            }
            b if b.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        i += 1;
    }
    None
}

/// The length of the raw text at the start of `rest`, up to the end tag `</name`.
fn raw_text_len(rest: &str, name: &str) -> usize {
    let bytes = rest.as_bytes();
    memchr::memchr_iter(b'<', bytes)
        .find(|&i| {
            let after = &bytes[i + 1..];
            after.first() == Some(&b'/')
                && after
                    .get(1..=name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
                && after
                    .get(name.len() + 1)
                    .is_none_or(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        })
        .unwrap_or(bytes.len())
}
