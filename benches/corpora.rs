//! Parsing every document of `../shared/corpora` (about 3,000 feeds from other
//! parsers' and validators' test suites, real and adversarial), once with
//! feed-rs alone and once through `parse_feed` (charset pre-pass, dialects,
//! feed-rs, repairs, the extension pass, mapping), and through it without
//! the passes that read what feed-rs does not (dialects, extension elements,
//! recovery): what those passes cost, against feed-rs alone; and that
//! cost alone, as the difference between the two in each iteration. Without
//! `../shared` it says so and measures nothing.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};

fn documents(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        // feed-rs panics on a few UTF-16 documents (tidings decodes them
        // first); they would measure the unwinding, not the parse.
        .filter(|bytes| {
            let bytes = bytes.clone();
            std::panic::catch_unwind(move || feed_rs::parser::parse(bytes.as_slice())).is_ok()
        })
        .collect()
}

const BASE_URL: &str = "http://corpus.test/feed.xml";

/// How many of `docs` `parse_feed` reads.
fn parse_all(docs: &[Vec<u8>]) -> usize {
    docs.iter()
        .filter(|d| tidings::parse::parse_feed(d, None, BASE_URL).is_ok())
        .count()
}

/// How many of `docs` the same parse reads without its passes.
fn parse_all_without_passes(docs: &[Vec<u8>]) -> usize {
    docs.iter()
        .filter(|d| tidings::parse::parse_feed_without_passes(d, None, BASE_URL).is_ok())
        .count()
}

fn corpora(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if !dir.is_dir() {
        eprintln!("SKIPPED corpora bench: ../shared/corpora is not beside this checkout");
        return;
    }
    std::panic::set_hook(Box::new(|_| {}));
    let docs = documents(&dir);
    let _ = std::panic::take_hook();
    let mut group = c.benchmark_group("corpora");
    // The three are a few milliseconds apart on a shared machine: more
    // samples over a longer time steady the medians compared.
    group.sample_size(30);
    group.measurement_time(std::time::Duration::from_secs(15));
    group.bench_function("feed_rs_alone", |b| {
        b.iter(|| {
            docs.iter()
                .filter(|d| feed_rs::parser::parse(d.as_slice()).is_ok())
                .count()
        })
    });
    group.bench_function("parse_feed", |b| b.iter(|| parse_all(&docs)));
    group.bench_function("parse_feed_without_passes", |b| {
        b.iter(|| parse_all_without_passes(&docs))
    });
    // What the passes add, timed within one iteration as the difference
    // between the two parses of every document, taking turns: on a shared
    // machine the three figures above drift apart by a few milliseconds
    // between the minutes they are taken in, as much as the passes cost.
    group.bench_function("passes_alone", |b| {
        b.iter_custom(|iterations| {
            let mut passes = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let started = std::time::Instant::now();
                std::hint::black_box(parse_all(&docs));
                let between = std::time::Instant::now();
                std::hint::black_box(parse_all_without_passes(&docs));
                let ended = std::time::Instant::now();
                passes += (between - started).saturating_sub(ended - between);
            }
            passes
        })
    });
    group.finish();
}

criterion_group!(benches, corpora);
criterion_main!(benches);
