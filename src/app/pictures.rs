//! Images drawn inside the article. Each cached image gets a block of rows at
//! its place in the text, sized from its stored pixel size and the
//! terminal's cell size; the rows are laid out here (in `update`, never in
//! `draw`), and the picture for a block (a ratatui-image protocol: kitty,
//! iTerm2, sixel or half-blocks) is decoded and encoded on another thread,
//! then kept per (image, size). A block that is not ready, or only partly on
//! screen, shows the image's one-line placeholder instead.

use std::collections::{HashMap, HashSet};

use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;

use crate::model::{ArticleImage, ImageStatus};
use crate::render::Rendered;

/// Tallest an image block gets, in rows.
pub const MAX_IMAGE_ROWS: u16 = 18;

/// One picture at one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PictureKey {
    pub image: i64,
    pub cols: u16,
    pub rows: u16,
}

/// One row of the article body as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayRow {
    /// A line of the rendered text.
    Line(usize),
    /// Row `row` of the block of rendered image `n` (0-based), whose
    /// placeholder is text line `line`.
    Image {
        n: usize,
        line: usize,
        row: u16,
        key: PictureKey,
    },
}

/// The pictures of the reader: how to draw them, and those ready.
pub struct Pictures {
    pub picker: Picker,
    ready: HashMap<PictureKey, Protocol>,
    asked: HashSet<PictureKey>,
}

impl Pictures {
    pub fn new(picker: Picker) -> Pictures {
        Pictures {
            picker,
            ready: HashMap::new(),
            asked: HashSet::new(),
        }
    }

    pub fn get(&self, key: &PictureKey) -> Option<&Protocol> {
        self.ready.get(key)
    }

    /// Whether to ask for this picture (not ready, not asked before).
    pub fn should_ask(&mut self, key: PictureKey) -> bool {
        !self.ready.contains_key(&key) && self.asked.insert(key)
    }

    pub fn store(&mut self, key: PictureKey, protocol: Protocol) {
        // A few articles' worth; a new size or article asks again.
        if self.ready.len() > 48 {
            self.ready.clear();
            self.asked.clear();
        }
        self.ready.insert(key, protocol);
    }

    /// The rows of an article body: its text lines, with a block of rows
    /// after the placeholder of each cached, decodable image.
    pub fn layout(
        &self,
        rendered: &Rendered,
        images: &[Option<&ArticleImage>],
        width: u16,
    ) -> Vec<DisplayRow> {
        let font = self.picker.font_size();
        let mut blocks: HashMap<usize, (usize, PictureKey)> = HashMap::new();
        for (n, shown) in rendered.images.iter().enumerate() {
            let Some(Some(image)) = images.get(n) else {
                continue;
            };
            if let Some(key) = block_size(image, width, (font.width, font.height)) {
                blocks.insert(shown.line, (n, key));
            }
        }
        let mut rows = Vec::with_capacity(rendered.lines.len());
        for line in 0..rendered.lines.len() {
            match blocks.get(&line) {
                Some(&(n, key)) => {
                    rows.extend((0..key.rows).map(|row| DisplayRow::Image { n, line, row, key }))
                }
                None => rows.push(DisplayRow::Line(line)),
            }
        }
        rows
    }
}

/// The block an image takes: as wide as its pixels (at most the text width),
/// as tall as its aspect ratio asks (at most [`MAX_IMAGE_ROWS`]). None for
/// images that are not drawn: not cached, SVG (never decoded), no size.
fn block_size(
    image: &ArticleImage,
    width: u16,
    (font_w, font_h): (u16, u16),
) -> Option<PictureKey> {
    if image.status != ImageStatus::Cached || image.file.as_deref()?.ends_with(".svg") {
        return None;
    }
    let (w, h) = (image.width? as f64, image.height? as f64);
    if w < 1.0 || h < 1.0 || width == 0 {
        return None;
    }
    let (font_w, font_h) = (font_w.max(1) as f64, font_h.max(1) as f64);
    let mut cols = (w / font_w).ceil().min(width as f64).max(1.0);
    let mut rows = (cols * font_w * h / w / font_h).ceil().max(1.0);
    if rows > MAX_IMAGE_ROWS as f64 {
        rows = MAX_IMAGE_ROWS as f64;
        cols = (rows * font_h * w / h / font_w)
            .ceil()
            .clamp(1.0, width as f64);
    }
    Some(PictureKey {
        image: image.id,
        cols: cols as u16,
        rows: rows as u16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(w: u32, h: u32) -> ArticleImage {
        ArticleImage {
            position: 0,
            alt: String::new(),
            id: 7,
            url: "https://example.org/a.png".into(),
            status: ImageStatus::Cached,
            file: Some("a.png".into()),
            http_status: Some(200),
            width: Some(w),
            height: Some(h),
            source_bytes: Some(1000),
            error: None,
        }
    }

    #[test]
    fn blocks_keep_the_aspect_ratio_within_the_pane_and_the_row_cap() {
        let font = (10, 20);
        // 900×566 in an 80-column pane: 80 columns (800 px), 566*800/900/20 ≈ 25 rows → capped.
        let wide = block_size(&cached(900, 566), 80, font).unwrap();
        assert_eq!(wide.rows, MAX_IMAGE_ROWS);
        assert!(wide.cols < 80 && wide.cols > 50, "{wide:?}");
        // A small icon stays small.
        let icon = block_size(&cached(40, 40), 80, font).unwrap();
        assert_eq!((icon.cols, icon.rows), (4, 2));
        // Not cached, or an SVG: no block.
        let mut failed = cached(10, 10);
        failed.status = ImageStatus::Failed;
        assert!(block_size(&failed, 80, font).is_none());
        let mut svg = cached(10, 10);
        svg.file = Some("a.svg".into());
        assert!(block_size(&svg, 80, font).is_none());
    }
}
