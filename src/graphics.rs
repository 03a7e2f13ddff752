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
    picker
        .new_protocol(image, size, ratatui_image::Resize::Fit(None))
        .map_err(|e| tracing::warn!("cannot draw {}: {e}", path.display()))
        .ok()
}
