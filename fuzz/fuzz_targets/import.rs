//! OPML and newsboat `urls` files → the import list
//! (`subscriptions::parse_import`, which picks the format from the text).
//! Checks the promises in `tests/invariants`: only valid web addresses are
//! imported, each once, and every text is sanitised.
#![no_main]

#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;
use tidings::subscriptions::parse_import;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_import(&text) {
        Ok(list) => invariants::check_import(&list),
        Err(e) => invariants::assert_clean("an import error", &e.to_string()),
    }
});
