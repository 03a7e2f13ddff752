//! Article HTML → the lines of the article pane (`render::render_article`),
//! at a pane width picked by the input's length (some below the minimum).
//! Checks the promises in `tests/invariants`: sanitised spans, no line wider
//! than the pane outside `<pre>`, image lines inside the text.
//!
//! html2text panics are recovered by design (the body is shown as plain
//! text), so a panic inside it does not abort the fuzzer unless
//! `TIDINGS_FUZZ_STRICT=1`; every other panic does.
#![no_main]

#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use tidings::render::{ArticleStyles, recovering_from_panic, render_article};

const WIDTHS: [u16; 7] = [1, 20, 23, 40, 61, 80, 132];

static HOOK: Once = Once::new();

/// libFuzzer's hook aborts on every panic, even one caught later: let the
/// ones `render` recovers from unwind to where it catches them.
fn install_hook() {
    HOOK.call_once(|| {
        if std::env::var_os("TIDINGS_FUZZ_STRICT").is_some_and(|v| v == "1") {
            return;
        }
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !recovering_from_panic() {
                aborting(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    let html = String::from_utf8_lossy(data);
    let width = WIDTHS[data.len() % WIDTHS.len()];
    let rendered = render_article(&html, width, &ArticleStyles::colored());
    invariants::check_rendered(&html, width, &rendered);
});
