//! Pictures in the terminal: which graphics protocol to draw with (asked of
//! the terminal only when it looks like one that has graphics), and turning a
//! cached image into the protocol's encoding at a block's size, off the UI
//! thread.

use std::time::Duration;

use ratatui_image::picker::{Picker, ProtocolType};

use crate::app::PictureKey;
use crate::config::ImageProtocol;

/// How to draw pictures here. Inside tmux or screen graphics protocols
/// misbehave, so half-blocks unless the config names one; a terminal is asked
/// what it supports only when it looks like one that has graphics (a terminal
/// that does not answer would hold the start for the query's timeout).
pub fn choose_picker(protocol: ImageProtocol) -> Option<Picker> {
    let query = || {
        let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
            timeout: Duration::from_millis(400),
            ..Default::default()
        };
        Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks())
    };
    let forced = |kind| {
        let mut picker = query();
        picker.set_protocol_type(kind);
        Some(picker)
    };
    match protocol {
        ImageProtocol::Off => None,
        ImageProtocol::Halfblocks => Some(Picker::halfblocks()),
        ImageProtocol::Kitty => forced(ProtocolType::Kitty),
        ImageProtocol::Iterm2 => forced(ProtocolType::Iterm2),
        ImageProtocol::Sixel => forced(ProtocolType::Sixel),
        ImageProtocol::Auto => {
            let var = |name| std::env::var(name).unwrap_or_default();
            let multiplexer =
                std::env::var_os("TMUX").is_some() || std::env::var_os("STY").is_some();
            let graphical = std::env::var_os("KITTY_WINDOW_ID").is_some()
                || std::env::var_os("KONSOLE_VERSION").is_some()
                || var("TERM").contains("kitty")
                || var("TERM").starts_with("foot")
                || var("TERM").contains("ghostty")
                || ["iTerm.app", "WezTerm", "ghostty", "mlterm"]
                    .contains(&var("TERM_PROGRAM").as_str());
            Some(if graphical && !multiplexer {
                query()
            } else {
                Picker::halfblocks()
            })
        }
    }
}

/// Decodes a cached image and encodes it for the terminal at a block's size.
pub fn prepare_picture(
    picker: &Picker,
    path: &std::path::Path,
    key: PictureKey,
) -> Option<ratatui_image::protocol::Protocol> {
    let image = image::ImageReader::open(path)
        .ok()?
        .with_guessed_format()
        .ok()?
        .decode()
        .ok()?;
    let size = ratatui::layout::Size::new(key.cols, key.rows);
    if picker.protocol_type() == ProtocolType::Halfblocks {
        return Some(half_blocks(picker, image, size));
    }
    picker
        .new_protocol(image, size, ratatui_image::Resize::Fit(None))
        .map_err(|e| tracing::warn!("cannot draw {}: {e}", path.display()))
        .ok()
}

/// Half-blocks for `image` in at most `size` cells, as `Picker::new_protocol`
/// places them (the image's size in the picker's font cells, scaled down to
/// fit), made from a copy first shrunk to two pixels a cell: the half-block
/// encoder's own filter, run over a full-size photo, was most of the time to
/// make a picture (an article with a cover and ten 900×566 pictures: 53 ms
/// until all were made, now 18 ms; `cargo bench --bench reader`).
fn half_blocks(
    picker: &Picker,
    image: image::DynamicImage,
    size: ratatui::layout::Size,
) -> ratatui_image::protocol::Protocol {
    let font = picker.font_size();
    let (fw, fh) = (f64::from(font.width.max(1)), f64::from(font.height.max(1)));
    let cells = |w: f64, h: f64| {
        ratatui::layout::Size::new(
            ((w / fw).ceil() as u16).max(1),
            ((h / fh).ceil() as u16).max(1),
        )
    };
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    let mut area = cells(w, h);
    if area.width > size.width || area.height > size.height {
        // Scaled to fit the block's pixels, keeping its proportions.
        let ratio = (f64::from(size.width) * fw / w).min(f64::from(size.height) * fh / h);
        area = cells((w * ratio).round().max(1.0), (h * ratio).round().max(1.0));
    }
    let small = image.thumbnail_exact(u32::from(area.width), u32::from(area.height) * 2);
    let blocks = ratatui_image::protocol::halfblocks::Halfblocks::new(small, area)
        .expect("half-blocks are made from any image");
    ratatui_image::protocol::Protocol::Halfblocks(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_blocks_take_the_cells_the_picker_would_give_them() {
        let picker = Picker::halfblocks();
        for (w, h) in [
            (900, 566),
            (40, 30),
            (1600, 200),
            (200, 1600),
            (1, 1),
            (333, 777),
        ] {
            for (cols, rows) in [(60, 20), (130, 40), (8, 3), (200, 60)] {
                let image = image::DynamicImage::new_rgb8(w, h);
                let size = ratatui::layout::Size::new(cols, rows);
                let theirs = picker
                    .new_protocol(image.clone(), size, ratatui_image::Resize::Fit(None))
                    .unwrap()
                    .size();
                let ours = half_blocks(&picker, image, size).size();
                assert_eq!(ours, theirs, "{w}×{h} in {cols}×{rows}");
            }
        }
    }
}
