//! An article's body HTML → styled lines for the article pane, through
//! html2text with a decorator of our own. This module owns the look of an
//! article's text ([`ArticleStyles`]), the numbering of its links and images,
//! and the last sanitising pass before feed text reaches the terminal; its
//! `prepare` submodule owns the limits that keep hostile HTML cheap. It must
//! not know about panes, scrolling or the terminal, and does no I/O: the
//! caller runs it off the UI thread or caches it per (article, width).
//!
//! How a body becomes lines:
//! 1. it is cut to [`MAX_HTML_BYTES`]; a body without tags is plain text, and its
//!    paragraphs and line breaks become `<p>` and `<br>`;
//! 2. `prepare` drops the tags nested too deep and caps their number, and puts
//!    each `<img>` on a line of its own;
//! 3. html2text lays the text out at the pane's width. Our decorator numbers
//!    links and images, and marks headings, quote gutters and bullets, which
//!    html2text only passes on as text, with a NUL and a kind character.
//!    html5ever never leaves a NUL in a document, so markers cannot be forged.
//!    A link's number goes after its text as a non-breaking space and `[n]`;
//! 4. `lines` turns html2text's tagged lines into ratatui lines: markers
//!    become styled text, `<pre>` lines that html2text wrapped are joined again,
//!    every span is sanitised, blank runs collapse, and a line still too wide
//!    (deep nesting) is broken at the width. Notes and the link list follow.
//!
//! If html2text fails or panics, the body is shown as plain text instead.

mod lines;
mod prepare;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use html2text::config::ImageRenderMode;
use html2text::render::{TaggedLine, TextDecorator};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::text::is_forbidden;
use lines::{Piece, break_at, lines_from, to_line};
use prepare::{Prepared, WORD_JOINER, has_tags, prepare, text_of, text_to_html};

/// Bodies longer than this are cut, and the rest is replaced by a note.
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// Panes narrower than this are laid out at this width.
pub const MIN_WIDTH: u16 = 20;

const CUT_NOTE: &str = "[The article is too long: the rest is not shown.]";
const PLAIN_NOTE: &str = "[Shown as plain text: the HTML could not be laid out.]";
const EMPTY_NOTE: &str = "[This article has no text to show.]";

/// An article laid out for one width.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// The body, then a blank line and the numbered link list.
    pub lines: Vec<Line<'static>>,
    /// Link targets: `links[0]` is the one shown as `[1]`.
    pub links: Vec<String>,
    /// Images in document order: `images[0]` is the one shown as `[image 1]`.
    pub images: Vec<ImageRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The `src` attribute as given, sanitised like all text.
    pub src: String,
    /// The whole alt text, spaces collapsed; the placeholder may shorten it.
    pub alt: String,
    /// Index into [`Rendered::lines`] of the image's placeholder.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleStyles {
    pub heading: Style,
    pub strong: Style,
    pub emphasis: Style,
    pub strike: Style,
    /// Inline `<code>` and `<pre>` blocks.
    pub code: Style,
    /// The gutter drawn left of a block quote.
    pub quote: Style,
    pub link: Style,
    /// The `[n]` after a link's text and before each entry of the link list.
    pub link_number: Style,
    /// An image's `[image n: alt]` placeholder.
    pub image: Style,
    /// Notes from the renderer itself, such as "the rest is not shown".
    pub note: Style,
}

impl ArticleStyles {
    pub fn colored() -> Self {
        Self {
            heading: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            strong: Style::new().add_modifier(Modifier::BOLD),
            emphasis: Style::new().add_modifier(Modifier::ITALIC),
            strike: Style::new().add_modifier(Modifier::CROSSED_OUT),
            code: Style::new().fg(Color::Yellow),
            quote: Style::new().fg(Color::Blue),
            link: Style::new()
                .fg(Color::Blue)
                .add_modifier(Modifier::UNDERLINED),
            link_number: Style::new().fg(Color::Magenta),
            image: Style::new()
                .fg(Color::Magenta)
                .add_modifier(Modifier::ITALIC),
            note: Style::new()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::ITALIC),
        }
    }

    /// Modifiers only, no colours: for `NO_COLOR`.
    pub fn plain() -> Self {
        Self {
            heading: Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED)),
            strong: Style::new().add_modifier(Modifier::BOLD),
            emphasis: Style::new().add_modifier(Modifier::ITALIC),
            strike: Style::new().add_modifier(Modifier::CROSSED_OUT),
            code: Style::new().add_modifier(Modifier::DIM),
            quote: Style::new().add_modifier(Modifier::DIM),
            link: Style::new().add_modifier(Modifier::UNDERLINED),
            link_number: Style::new().add_modifier(Modifier::DIM),
            image: Style::new().add_modifier(Modifier::REVERSED),
            note: Style::new().add_modifier(Modifier::DIM.union(Modifier::ITALIC)),
        }
    }

    fn of(&self, mark: &Mark) -> Style {
        match mark {
            Mark::Plain => Style::new(),
            Mark::Link(_) => self.link,
            Mark::Emphasis => self.emphasis,
            Mark::Strong => self.strong,
            Mark::Strike => self.strike,
            Mark::Code | Mark::Pre { .. } => self.code,
            Mark::Image(_) => self.image,
        }
    }
}

/// Never fails: what html2text cannot lay out is shown as plain text, and a
/// pane narrower than [`MIN_WIDTH`] gets that width (the pane clips the rest).
pub fn render_article(html: &str, width: u16, styles: &ArticleStyles) -> Rendered {
    if html.trim().is_empty() {
        return Rendered::default();
    }
    let width = usize::from(width.max(MIN_WIDTH));
    let (html, mut cut) = cut_to_size(html);
    let prepared = if has_tags(html) {
        prepare(html)
    } else {
        Prepared {
            html: text_to_html(html),
            cut: false,
        }
    };
    cut |= prepared.cut;

    let mut notes = Vec::new();
    let (tagged, found) = lay_out(&prepared.html, width).unwrap_or_else(|| {
        notes.push(PLAIN_NOTE);
        lay_out(&text_to_html(&text_of(html)), width).unwrap_or_default()
    });
    let mut rendered = lines_from(tagged, found, width, styles);
    if rendered.lines.is_empty() {
        notes.push(EMPTY_NOTE);
    }
    if cut {
        notes.push(CUT_NOTE);
    }
    for note in notes {
        if !rendered.lines.is_empty() {
            rendered.lines.push(Line::default());
        }
        let note = Piece::new(note.to_string(), styles.note);
        rendered
            .lines
            .extend(break_at(vec![note], width).into_iter().map(to_line));
    }
    let links = link_list(&rendered.links, width, styles);
    rendered.lines.extend(links);
    rendered
}

/// A blank line, "Links:" with how to open them, and the numbered targets,
/// broken at the width.
fn link_list(links: &[String], width: usize, styles: &ArticleStyles) -> Vec<Line<'static>> {
    if links.is_empty() {
        return Vec::new();
    }
    // How to open them: a number's digits, then Enter from 10 on.
    let how = if links.len() > 9 {
        "  (its number opens a link: 1 2 then Enter for [12])"
    } else {
        "  (its number opens a link)"
    };
    let heading = vec![
        Piece::new("Links:".to_string(), styles.heading),
        Piece::new(how.to_string(), styles.note),
    ];
    let mut lines = vec![Line::default()];
    lines.extend(break_at(heading, width).into_iter().map(to_line));
    for (i, target) in links.iter().enumerate() {
        let entry = vec![
            Piece::new(format!("[{}]", i + 1), styles.link_number),
            Piece::new(" ".to_string(), Style::new()),
            Piece::new(target.clone(), styles.link),
        ];
        lines.extend(break_at(entry, width).into_iter().map(to_line));
    }
    lines
}

/// The body cut to [`MAX_HTML_BYTES`] at a character boundary, and whether it was cut.
fn cut_to_size(html: &str) -> (&str, bool) {
    if html.len() <= MAX_HTML_BYTES {
        return (html, false);
    }
    let mut end = MAX_HTML_BYTES;
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    (&html[..end], true)
}

/// What html2text's output carries besides text. Markers for headings, quotes
/// and bullets travel in the text itself (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Mark {
    #[default]
    Plain,
    /// The n-th link met (from 0), whatever its number: a link's number comes
    /// last in its text, and two links next to each other must not merge.
    Link(usize),
    Emphasis,
    Strong,
    Strike,
    Code,
    Pre {
        continued: bool,
    },
    Image(usize),
}

impl Mark {
    fn is_pre(&self) -> bool {
        matches!(self, Mark::Pre { .. })
    }
}

const MARKER: char = '\0';
const QUOTE: &str = "\0>";
const BULLET: &str = "\0*";
const NBSP: char = '\u{a0}';

/// Links and images met while laying out, shared by the decorator html2text
/// clones for every table cell and nested block.
#[derive(Debug, Default)]
struct Found {
    links: Vec<String>,
    numbers: HashMap<String, usize>,
    /// The number of each link met, by [`Mark::Link`].
    link_numbers: Vec<usize>,
    /// The number of each link being rendered, `None` for a refused target.
    open_links: Vec<Option<usize>>,
    /// Source and alt text of each image, in document order.
    images: Vec<(String, String)>,
}

/// What follows a link's text: a space that does not break, and its number.
fn link_suffix(number: usize) -> String {
    format!("{NBSP}[{number}]")
}

#[derive(Clone)]
struct Decorator {
    found: Rc<RefCell<Found>>,
    width: usize,
}

impl TextDecorator for Decorator {
    type Annotation = Mark;

    fn decorate_link_start(&mut self, url: &str) -> (String, Mark) {
        let target = clean(url).trim().to_string();
        let mut found = self.found.borrow_mut();
        if !is_safe_target(&target) {
            found.open_links.push(None);
            return (String::new(), Mark::Plain);
        }
        let next = found.links.len() + 1;
        let number = *found.numbers.entry(target.clone()).or_insert(next);
        if number == next {
            found.links.push(target);
        }
        found.open_links.push(Some(number));
        found.link_numbers.push(number);
        (String::new(), Mark::Link(found.link_numbers.len() - 1))
    }

    fn decorate_link_end(&mut self) -> String {
        match self.found.borrow_mut().open_links.pop() {
            Some(Some(number)) => link_suffix(number),
            _ => String::new(),
        }
    }

    fn decorate_em_start(&self) -> (String, Mark) {
        (String::new(), Mark::Emphasis)
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, Mark) {
        (String::new(), Mark::Strong)
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, Mark) {
        (String::new(), Mark::Strike)
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, Mark) {
        (String::new(), Mark::Code)
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) -> Mark {
        Mark::Pre { continued: false }
    }

    fn decorate_preformat_cont(&self) -> Mark {
        Mark::Pre { continued: true }
    }

    fn decorate_image(&mut self, src: &str, title: &str) -> (String, Mark) {
        // An inline <svg> comes without a source: it is a drawing, not an image.
        if src.is_empty() {
            return (String::new(), Mark::Plain);
        }
        let alt = clean(title)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut found = self.found.borrow_mut();
        let number = found.images.len() + 1;
        let label = format!("[image {number}]");
        // Room for the alt text on one line; a few characters say nothing.
        let room = self.width.saturating_sub(label.len() + 2);
        let text = if alt.is_empty() || room < 4 {
            label
        } else {
            format!("[image {number}: {}]", truncate(&alt, room))
        };
        found.images.push((clean(src), alt));
        (text, Mark::Image(number))
    }

    fn header_prefix(&self, level: usize) -> String {
        // The marker shows as the first '#': "# " for <h1>, "## " for <h2> …
        format!("{MARKER}{} ", "#".repeat(level.saturating_sub(1)))
    }

    fn quote_prefix(&self) -> String {
        QUOTE.to_string()
    }

    fn unordered_item_prefix(&self) -> String {
        BULLET.to_string()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        self.clone()
    }
}

/// Only targets a browser may be handed; `javascript:`, `data:` and relative
/// links are shown as plain text.
fn is_safe_target(target: &str) -> bool {
    ["http://", "https://", "mailto:"].iter().any(|scheme| {
        target
            .get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    })
}

/// `text` without anything a terminal would act on; tabs become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            '\n' | WORD_JOINER => None,
            c if is_forbidden(c) => None,
            c => Some(c),
        })
        .collect()
}

/// The start of `text` that fits in `columns`, with "…" when it was shortened.
fn truncate(text: &str, columns: usize) -> String {
    if text.width() <= columns {
        return text.to_string();
    }
    let mut used = 1;
    let mut out: String = text
        .chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= columns
        })
        .collect();
    out.push('…');
    out
}

thread_local! {
    static RECOVERING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a panic on this thread happens inside html2text, where rendering
/// recovers from it: the panic hooks then neither print nor restore the
/// terminal (the reader goes on).
pub fn recovering_from_panic() -> bool {
    RECOVERING.with(Cell::get)
}

/// html2text's lines for `html`, or `None` when it fails or panics.
fn lay_out(html: &str, width: usize) -> Option<(Vec<TaggedLine<Vec<Mark>>>, Found)> {
    let found = Rc::new(RefCell::new(Found::default()));
    let decorator = Decorator {
        found: Rc::clone(&found),
        width,
    };
    RECOVERING.with(|r| r.set(true));
    let lines = panic::catch_unwind(AssertUnwindSafe(|| {
        html2text::config::with_decorator(decorator)
            .allow_width_overflow()
            .unicode_strikeout(false)
            .empty_img_mode(ImageRenderMode::ShowAlways)
            .lines_from_read(html.as_bytes(), width)
    }));
    RECOVERING.with(|r| r.set(false));
    let lines = lines.ok()?.ok()?;
    Some((lines, found.take()))
}

#[cfg(test)]
mod tests;
