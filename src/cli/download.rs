//! `tidings download`: podcast episodes (and other playable enclosures)
//! downloaded headless, for cron: the newest `[downloads] newest` episodes
//! of each feed tagged `[downloads] podcast_tag` (or of the feeds named),
//! one file at a time, each resumed where an earlier run was cut off.
//! `--list` shows what was downloaded and where.

use std::io::IsTerminal;

use anyhow::bail;

use crate::config::{Config, Paths};
use crate::downloads::Downloader;
use crate::model::{Article, DownloadStatus, Enclosure, EnclosureKind, Feed};
use crate::report::megabytes;
use crate::store::Store;
use crate::text::truncate;

/// Downloads the newest episodes of the podcast feeds (or of `names`), or
/// lists the downloads with `list`. Fails when any download failed.
pub(super) async fn download(
    store: &mut Store,
    paths: &Paths,
    config: &Config,
    names: &[String],
    newest: Option<usize>,
    list: bool,
) -> anyhow::Result<()> {
    let downloader = Downloader::new(config, paths)?;
    if list {
        return list_downloads(store, &downloader);
    }
    let feeds: Vec<Feed> = if names.is_empty() {
        let tag = &config.downloads.podcast_tag;
        let tagged: Vec<Feed> = store
            .feeds()?
            .into_iter()
            .filter(|f| f.tags.iter().any(|t| t == tag))
            .collect();
        if tagged.is_empty() {
            bail!(
                "no feed is tagged {tag:?}: tag your podcasts (tidings add URL --tag {tag}, or e in \
                 the reader), or name feeds: tidings download FEED"
            );
        }
        tagged
    } else {
        names
            .iter()
            .map(|n| super::resolve_feed(store, n))
            .collect::<anyhow::Result<_>>()?
    };
    let newest = newest.unwrap_or(config.downloads.newest);
    let mut episodes: Vec<(Feed, Article, Enclosure)> = Vec::new();
    for feed in feeds {
        let articles = store.feed_articles(feed.id)?;
        let playable = articles
            .into_iter()
            .filter_map(|a| {
                let enclosure = a
                    .enclosures
                    .iter()
                    .find(|e| matches!(e.kind(), EnclosureKind::Audio | EnclosureKind::Video))?
                    .clone();
                Some((a, enclosure))
            })
            .take(newest)
            .collect::<Vec<_>>();
        episodes.extend(playable.into_iter().map(|(a, e)| (feed.clone(), a, e)));
    }
    let (mut fetched, mut here, mut failed) = (0, 0, 0);
    for (feed, article, enclosure) in &episodes {
        let title = article
            .title
            .clone()
            .unwrap_or_else(|| enclosure.file_name());
        if let Some(done) = store.download_of(&enclosure.url)?
            && done.status == DownloadStatus::Complete
            && let Some(file) = &done.file
            && downloader.dir().join(file).is_file()
        {
            here += 1;
            println!(
                "here  {}: {}",
                truncate(&title, 60),
                downloader.dir().join(file).display()
            );
            continue;
        }
        let public_only = !crate::fetch::address::feed_is_private(&feed.fetch_url).await;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(enclosure.length.unwrap_or(0));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {wide_msg}",
                )
                .expect("valid template"),
            );
            bar.set_message(truncate(&title, 50));
            bar
        });
        let outcome = downloader
            .download(&enclosure.url, public_only, |done, total| {
                if let Some(bar) = &bar {
                    if let Some(total) = total {
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                }
            })
            .await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let record = crate::downloads::record(
            &enclosure.url,
            Some(article.id),
            article.title.clone(),
            Some(feed.display_name().to_string()),
            &outcome,
        );
        match &outcome {
            Ok(done) => {
                fetched += 1;
                let resumed = if done.resumed_from > 0 {
                    format!(", resumed at {}", megabytes(done.resumed_from))
                } else {
                    String::new()
                };
                println!(
                    "got   {}: {} ({}{resumed})",
                    truncate(&title, 60),
                    downloader.dir().join(&done.file).display(),
                    megabytes(done.bytes),
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("FAIL  {}: {e}", truncate(&title, 60));
            }
        }
        store.save_download(&record)?;
    }
    println!(
        "{} episode{} · {fetched} downloaded · {here} already here · {failed} failed · {}",
        episodes.len(),
        if episodes.len() == 1 { "" } else { "s" },
        downloader.dir().display()
    );
    if failed > 0 {
        bail!("{failed} download(s) failed; run tidings download again to resume them");
    }
    Ok(())
}

fn list_downloads(store: &Store, downloader: &Downloader) -> anyhow::Result<()> {
    let downloads = store.downloads()?;
    if downloads.is_empty() {
        println!(
            "nothing downloaded yet (into {})",
            downloader.dir().display()
        );
        return Ok(());
    }
    for d in downloads {
        let what = d.title.as_deref().unwrap_or(&d.url);
        let feed = d.feed_title.as_deref().unwrap_or("");
        let place = match (&d.status, &d.file) {
            (DownloadStatus::Complete, Some(file)) if downloader.dir().join(file).is_file() => {
                downloader.dir().join(file).display().to_string()
            }
            (DownloadStatus::Complete, _) => "(the file was removed)".into(),
            _ => d.error.clone().unwrap_or_default(),
        };
        println!(
            "{:<8} {:>9}  {} · {}  {place}",
            d.status.as_str(),
            megabytes(d.bytes),
            truncate(what, 50),
            truncate(feed, 30),
        );
    }
    Ok(())
}
