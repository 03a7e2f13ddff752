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
//! 4. [`lines_from`] turns html2text's tagged lines into ratatui lines: markers
//!    become styled text, `<pre>` lines that html2text wrapped are joined again,
//!    every span is sanitised, blank runs collapse, and a line still too wide
//!    (deep nesting) is broken at the width. Notes and the link list follow.
//!
//! If html2text fails or panics, the body is shown as plain text instead.

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

/// A blank line, "Links:" and the numbered targets, broken at the width.
fn link_list(links: &[String], width: usize, styles: &ArticleStyles) -> Vec<Line<'static>> {
    if links.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        Line::default(),
        Span::styled("Links:", styles.heading).into(),
    ];
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

/// A run of text with one style: the unit the line-building below works in.
#[derive(Debug)]
struct Piece {
    text: String,
    style: Style,
    image: Option<usize>,
}

impl Piece {
    fn new(text: String, style: Style) -> Self {
        Self {
            text,
            style,
            image: None,
        }
    }
}

#[derive(Debug, Default)]
struct Row {
    pieces: Vec<Piece>,
    /// Part of a `<pre>` block: never broken at the width.
    code: bool,
}

impl Row {
    /// Appends `text` sanitised: every span of the output passes through here.
    fn push(&mut self, text: &str, style: Style, image: Option<usize>) {
        let text = clean(text);
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(last) if last.style == style && last.image == image => last.text.push_str(&text),
            _ => self.pieces.push(Piece { text, style, image }),
        }
    }

    /// The pieces without the spaces at the end, which only pad table cells.
    fn trimmed(mut self) -> Vec<Piece> {
        while let Some(last) = self.pieces.last_mut() {
            last.text.truncate(last.text.trim_end().len());
            if !last.text.is_empty() {
                break;
            }
            self.pieces.pop();
        }
        self.pieces
    }

    fn is_blank(&self) -> bool {
        self.pieces.iter().all(|p| p.text.trim().is_empty())
    }
}

/// Turns html2text's output into the body's lines (see the module docs, step 4).
fn lines_from(
    tagged: Vec<TaggedLine<Vec<Mark>>>,
    found: Found,
    width: usize,
    styles: &ArticleStyles,
) -> Rendered {
    let mut lines = Vec::new();
    let mut image_lines = HashMap::new();
    let mut last_blank = true;
    let mut last_code = false;
    for row in rows_from(tagged, &found.link_numbers, styles) {
        let blank = row.is_blank();
        // Blank runs collapse, except inside a <pre> block.
        if blank && last_blank && !last_code {
            continue;
        }
        last_blank = blank;
        last_code = row.code || (blank && last_code);
        let broken = if row.code {
            vec![row.pieces]
        } else {
            break_at(row.trimmed(), width)
        };
        for pieces in broken {
            for piece in &pieces {
                if let Some(n) = piece.image {
                    image_lines.entry(n).or_insert(lines.len());
                }
            }
            lines.push(to_line(pieces));
        }
    }
    while lines.last().is_some_and(|l| l.width() == 0) {
        lines.pop();
    }
    let images = found
        .images
        .into_iter()
        .enumerate()
        .filter_map(|(i, (src, alt))| {
            let line = *image_lines.get(&(i + 1))?;
            Some(ImageRef { src, alt, line })
        })
        .collect();
    Rendered {
        lines,
        links: found.links,
        images,
    }
}

/// One row per line of html2text's, its markers turned into styled text, and
/// the `<pre>` lines it wrapped joined back.
fn rows_from(
    tagged: Vec<TaggedLine<Vec<Mark>>>,
    link_numbers: &[usize],
    styles: &ArticleStyles,
) -> Vec<Row> {
    let mut suffixes = LinkSuffixes::new(&tagged, link_numbers);
    let mut rows: Vec<Row> = Vec::new();
    for line in tagged {
        let mut strings: Vec<_> = line.tagged_strings().collect();
        let mut row = Row::default();
        let continued = strings
            .iter()
            .position(|ts| ts.tag.contains(&Mark::Pre { continued: true }));
        if let (Some(start), Some(_)) = (continued, rows.last())
            && strings[start..]
                .iter()
                .all(|ts| ts.tag.iter().any(Mark::is_pre))
        {
            // Put it back on its line, without the quote or list prefix
            // that html2text repeated in front of it.
            row = rows.pop().unwrap_or_default();
            strings.drain(..start);
        }
        let mut heading = false;
        for ts in strings {
            let marks = &ts.tag;
            let image = marks.iter().find_map(|m| match m {
                Mark::Image(n) => Some(*n),
                _ => None,
            });
            let link = marks.iter().rev().find_map(|m| match m {
                Mark::Link(n) => Some(*n),
                _ => None,
            });
            row.code |= marks.iter().any(Mark::is_pre);
            let style = |heading: bool| {
                let base = if heading {
                    styles.heading
                } else {
                    Style::new()
                };
                marks
                    .iter()
                    .fold(base, |style, m| style.patch(styles.of(m)))
            };
            let mut parts = ts.s.split(MARKER);
            let text = parts.next().unwrap_or_default();
            let (text, suffix) = match link {
                Some(link) => suffixes.split(link, ts.s.len(), text),
                None => (text, ""),
            };
            row.push(text, style(heading), image);
            match suffix.strip_prefix(NBSP) {
                // A plain space: the underline of a link stops at its text.
                Some(number) => {
                    row.push(" ", Style::new(), image);
                    row.push(number, styles.link_number, image);
                }
                None => row.push(suffix, styles.link_number, image),
            }
            for part in parts {
                let rest = match part.as_bytes().first() {
                    Some(b'>') => {
                        row.push("│ ", styles.quote, None);
                        &part[1..]
                    }
                    Some(b'*') => {
                        row.push("• ", style(heading), None);
                        &part[1..]
                    }
                    // The heading marker shows as its first '#'.
                    _ => {
                        heading = true;
                        row.push("#", style(true), None);
                        part
                    }
                };
                row.push(rest, style(heading), image);
            }
        }
        rows.push(row);
    }
    rows
}

/// Finds the [`link_suffix`] at the end of each link's text, which html2text
/// may have spread over several strings and lines.
struct LinkSuffixes<'a> {
    numbers: &'a [usize],
    /// Bytes of each link's text, suffix included.
    len: Vec<usize>,
    /// Bytes of each link's text met so far.
    seen: Vec<usize>,
}

impl<'a> LinkSuffixes<'a> {
    fn new(tagged: &[TaggedLine<Vec<Mark>>], numbers: &'a [usize]) -> Self {
        let mut len = vec![0; numbers.len()];
        for ts in tagged.iter().flat_map(|line| line.tagged_strings()) {
            let link = ts.tag.iter().rev().find_map(|m| match m {
                Mark::Link(n) => Some(*n),
                _ => None,
            });
            if let Some(link) = link {
                len[link] += ts.s.len();
            }
        }
        Self {
            numbers,
            seen: vec![0; numbers.len()],
            len,
        }
    }

    /// `text`, the start of the next `string_len` bytes of `link`, split where
    /// the link's suffix starts.
    fn split<'t>(&mut self, link: usize, string_len: usize, text: &'t str) -> (&'t str, &'t str) {
        let suffix_len = link_suffix(self.numbers[link]).len();
        let suffix_start = self.len[link].saturating_sub(suffix_len);
        let at = suffix_start.saturating_sub(self.seen[link]).min(text.len());
        self.seen[link] += string_len;
        text.split_at_checked(at).unwrap_or((text, ""))
    }
}

/// `pieces` broken into lines at most `width` columns wide.
fn break_at(pieces: Vec<Piece>, width: usize) -> Vec<Vec<Piece>> {
    let mut lines = vec![Vec::new()];
    let mut used = 0;
    for piece in pieces {
        let mut start = 0;
        for (i, c) in piece.text.char_indices() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if start < i {
                    let text = piece.text[start..i].to_string();
                    lines.last_mut().unwrap().push(Piece { text, ..piece });
                }
                lines.push(Vec::new());
                used = 0;
                start = i;
            }
            used += w;
        }
        if start < piece.text.len() {
            let text = piece.text[start..].to_string();
            lines.last_mut().unwrap().push(Piece { text, ..piece });
        }
    }
    lines
}

fn to_line(pieces: Vec<Piece>) -> Line<'static> {
    Line::from(
        pieces
            .into_iter()
            .map(|p| Span::styled(p.text, p.style))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests;
