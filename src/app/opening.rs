//! What an open article points at, opened by its number: links, images
//! and enclosures. A number is typed digit by digit (`1` `2` for link 12)
//! or picked after `i`, `p` or `D`; an enclosure is played, or downloaded and
//! its download recorded, listed and deleted.

use crossterm::event::{KeyCode, KeyEvent};

use super::{ActiveDownload, App, DisplayRow, DownloadJob, DownloadsView, Effect, Overlay};
use crate::keys::Action;
use crate::model::{DownloadRecord, DownloadStatus, ImageStatus};

/// A link's or an image's number typed digit by digit (`1` `2` for link 12,
/// in an article with at least 12): it opens at Enter, after a pause of
/// [`TYPED_PAUSE_MS`], or at once when no longer number exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TypedNumber {
    target: Numbered,
    value: usize,
    at_ms: i64,
}

/// What a typed number opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Numbered {
    Link,
    Image,
    /// An enclosure to play.
    Play,
    /// An enclosure to download.
    Download,
}

/// How long after its last digit a typed number opens by itself.
const TYPED_PAUSE_MS: i64 = 1_000;

impl App {
    /// A key while a number is being typed or picked: its effects, or
    /// `None` when the key is not part of the number and does what it does.
    pub(super) fn on_number_key(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        // A number being typed: more digits, Enter, or Esc; any other key
        // drops it and does what it does.
        if let Some(typed) = self.typed.take() {
            self.notice = None;
            match key.code {
                KeyCode::Char(digit @ '0'..='9') => {
                    let value = typed.value * 10 + digit.to_digit(10).unwrap_or(0) as usize;
                    return Some(self.number_typed(typed.target, value));
                }
                KeyCode::Enter => return Some(self.open_numbered(typed.target, typed.value)),
                KeyCode::Esc => return Some(Vec::new()),
                _ => {}
            }
        }
        // After `i`, `p` or `D`: a number picks one; after `i`, Enter or `i`
        // again picks the image on screen.
        if let Some(target) = self.choosing.take() {
            self.notice = None;
            let on_screen =
                key.code == KeyCode::Enter || self.keymap.action(key) == Some(Action::OpenImage);
            match key.code {
                KeyCode::Char(digit @ '1'..='9') => {
                    let n = digit.to_digit(10).unwrap_or(0) as usize;
                    return Some(self.number_typed(target, n));
                }
                _ if target == Numbered::Image && on_screen => {
                    return Some(self.open_image(self.image_on_screen()));
                }
                _ => {}
            }
        }
        None
    }

    /// `i`, `p` or `D`: with one thing to open, it opens; with several, the
    /// next key says which (a number; for images also Enter, the one on
    /// screen); with none, a notice says so.
    pub(super) fn ask_which(&mut self, target: Numbered) -> Vec<Effect> {
        let count = self.count_of(target);
        let (what, verb) = match target {
            Numbered::Image => ("image", "open"),
            Numbered::Play => ("enclosure", "play"),
            _ => ("enclosure", "download"),
        };
        match count {
            0 => self.notify(format!("this article has no {what} to {verb}"), true),
            1 if target != Numbered::Image => return self.open_numbered(target, 1),
            _ if target == Numbered::Image => {
                self.choosing = Some(target);
                self.notify(
                    "open image: its number (then Enter from 10 on), or i for the one on screen"
                        .into(),
                    false,
                );
            }
            _ => {
                self.choosing = Some(target);
                self.notify(format!("{verb}: the enclosure's number, 1–{count}"), false);
            }
        }
        Vec::new()
    }

    /// How many of `target` the open article has.
    fn count_of(&self, target: Numbered) -> usize {
        self.open.as_ref().map_or(0, |o| match target {
            Numbered::Link => o.rendered.links.len(),
            Numbered::Image => o.rendered.images.len(),
            Numbered::Play | Numbered::Download => o.article.enclosures.len(),
        })
    }

    /// A link's or image's number typed so far: opened now when no longer
    /// number exists in the article, else kept for the next digit.
    pub(super) fn number_typed(&mut self, target: Numbered, value: usize) -> Vec<Effect> {
        let count = self.count_of(target);
        if value == 0 || value * 10 > count {
            return self.open_numbered(target, value);
        }
        self.typed = Some(TypedNumber {
            target,
            value,
            at_ms: self.now_ms,
        });
        let what = match target {
            Numbered::Link => "link",
            Numbered::Image => "image",
            Numbered::Play | Numbered::Download => "enclosure",
        };
        self.notify(
            format!("{what} {value}… another digit, or Enter to open (Esc: none)"),
            false,
        );
        Vec::new()
    }

    /// Opens link or image `value` (counted from 1) of the open article.
    pub(super) fn open_numbered(&mut self, target: Numbered, value: usize) -> Vec<Effect> {
        self.notice = None;
        match target {
            Numbered::Link => {
                let link = value
                    .checked_sub(1)
                    .and_then(|i| self.open.as_ref()?.rendered.links.get(i));
                match link {
                    Some(url) => vec![Effect::OpenUrl(url.clone())],
                    None => {
                        self.notify(format!("no link [{value}] in this article"), true);
                        Vec::new()
                    }
                }
            }
            Numbered::Image => match value.checked_sub(1) {
                Some(n) => self.open_image(self.image_file(n)),
                None => self.open_image(None),
            },
            Numbered::Play | Numbered::Download => {
                let exists = value.checked_sub(1).is_some_and(|i| {
                    self.open
                        .as_ref()
                        .is_some_and(|o| i < o.article.enclosures.len())
                });
                if !exists {
                    self.notify(format!("no enclosure {value} in this article"), true);
                    return Vec::new();
                }
                match target {
                    Numbered::Play => self.play_enclosure(value - 1),
                    _ => self.download_enclosure(value - 1),
                }
            }
        }
    }

    /// Plays enclosure `i` of the open article: its downloaded file when
    /// there is one (offline too), else its address.
    fn play_enclosure(&mut self, i: usize) -> Vec<Effect> {
        let Some(open) = self.open.as_ref() else {
            return Vec::new();
        };
        match self.downloaded_file(open.downloads.get(i).and_then(Option::as_ref)) {
            Some(path) => vec![Effect::PlayFile(path)],
            None => vec![Effect::Play(open.article.enclosures[i].url.clone())],
        }
    }

    /// Starts downloading enclosure `i` of the open article, unless it is
    /// downloaded already or on its way.
    fn download_enclosure(&mut self, i: usize) -> Vec<Effect> {
        let Some(open) = self.open.as_ref() else {
            return Vec::new();
        };
        let enclosure = &open.article.enclosures[i];
        if let Some(path) = self.downloaded_file(open.downloads.get(i).and_then(Option::as_ref)) {
            self.notify(format!("downloaded already: {}", path.display()), false);
            return Vec::new();
        }
        if self.downloading.iter().any(|d| d.url == enclosure.url) {
            self.notify(format!("{} is on its way", enclosure.file_name()), false);
            return Vec::new();
        }
        if !(enclosure.url.starts_with("http://") || enclosure.url.starts_with("https://")) {
            self.notify("only http(s) enclosures are downloaded".into(), true);
            return Vec::new();
        }
        let feed_url = self
            .feeds
            .feed(open.article.feed_id)
            .map(|f| f.fetch_url.clone())
            .unwrap_or_default();
        let job = DownloadJob {
            url: enclosure.url.clone(),
            article: open.article.id,
            title: open.article.title.clone(),
            feed_title: open.feed_title.clone(),
            feed_url,
        };
        self.downloading.push(ActiveDownload {
            url: enclosure.url.clone(),
            name: enclosure.file_name(),
            done: 0,
            total: enclosure.length.filter(|&l| l > 0),
        });
        self.notify(
            format!(
                "downloading {} into {}",
                enclosure.file_name(),
                self.downloads_dir.display()
            ),
            false,
        );
        vec![Effect::Download(job)]
    }

    /// The file of a complete download, when it is still there.
    pub(super) fn downloaded_file(
        &self,
        record: Option<&DownloadRecord>,
    ) -> Option<std::path::PathBuf> {
        let record = record.filter(|r| r.status == DownloadStatus::Complete)?;
        let path = self.downloads_dir.join(record.file.as_deref()?);
        path.is_file().then_some(path)
    }

    /// `d` in the list of downloads: the first asks, the second deletes the
    /// selected download's file and forgets it (`D` fetches it again).
    pub(super) fn delete_download(&mut self, view: &mut DownloadsView) -> anyhow::Result<()> {
        let Some(row) = view.rows.get(view.cursor).cloned() else {
            return Ok(());
        };
        let name = row.file.clone().unwrap_or_else(|| row.url.clone());
        if view.deleting.as_deref() != Some(row.url.as_str()) {
            view.deleting = Some(row.url);
            self.notify(format!("d again deletes {name}"), false);
            return Ok(());
        }
        view.deleting = None;
        if let Some(file) = &row.file {
            match std::fs::remove_file(self.downloads_dir.join(file)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    self.notify(format!("cannot delete {name}: {e}"), true);
                    return Ok(());
                }
            }
        }
        self.store.forget_download(&row.url)?;
        if let Some(open) = self.open.as_mut() {
            for slot in open.downloads.iter_mut() {
                if slot.as_ref().is_some_and(|d| d.url == row.url) {
                    *slot = None;
                }
            }
        }
        view.reload(&self.store)?;
        self.notify(format!("deleted {name}"), false);
        Ok(())
    }

    /// A download ended: recorded, the open article's enclosures updated,
    /// and said.
    pub(super) fn on_download_ended(&mut self, record: DownloadRecord) -> anyhow::Result<()> {
        self.downloading.retain(|d| d.url != record.url);
        self.store.save_download(&record)?;
        if let Some(open) = self.open.as_mut() {
            for (enclosure, slot) in open
                .article
                .enclosures
                .iter()
                .zip(open.downloads.iter_mut())
            {
                if enclosure.url == record.url {
                    *slot = Some(record.clone());
                }
            }
        }
        let name = record.file.clone().unwrap_or_else(|| record.url.clone());
        match record.status {
            DownloadStatus::Complete => self.notify(
                format!("downloaded {}", self.downloads_dir.join(&name).display()),
                false,
            ),
            _ => self.notify(
                format!(
                    "download failed: {} (D again resumes it)",
                    record.error.as_deref().unwrap_or("unknown error")
                ),
                true,
            ),
        }
        if let Some(Overlay::Downloads(view)) = self.overlay.as_mut() {
            view.reload(&self.store)?;
        }
        Ok(())
    }

    /// Opens a number typed a pause ago.
    pub(super) fn open_typed_after_pause(&mut self) -> Vec<Effect> {
        match self.typed {
            Some(typed) if self.now_ms - typed.at_ms >= TYPED_PAUSE_MS => {
                self.typed = None;
                self.open_numbered(typed.target, typed.value)
            }
            _ => Vec::new(),
        }
    }

    /// Whether a number is being typed (the reader then ticks often, for
    /// its pause to end on time).
    pub fn typing_a_number(&self) -> bool {
        self.typed.is_some()
    }

    /// Opens a cached image's file, or says there is none.
    fn open_image(&mut self, file: Option<std::path::PathBuf>) -> Vec<Effect> {
        match file {
            Some(path) => vec![Effect::OpenFile(path)],
            None => {
                self.notify("that image is not in the cache".into(), true);
                Vec::new()
            }
        }
    }

    /// The file of the open article's image `n` (0-based), when cached.
    fn image_file(&self, n: usize) -> Option<std::path::PathBuf> {
        let image = self.open.as_ref()?.image_for(n)?;
        let file = image
            .file
            .as_ref()
            .filter(|_| image.status == ImageStatus::Cached)?;
        Some(self.image_dir.join(file))
    }

    /// The file of the first cached image whose place is on screen.
    fn image_on_screen(&self) -> Option<std::path::PathBuf> {
        let open = self.open.as_ref()?;
        let top = open.scroll.saturating_sub(open.header_lines());
        let bottom = (open.scroll + self.page_height()).saturating_sub(open.header_lines());
        let visible_lines: std::collections::HashSet<usize> = open
            .rows
            .get(top..bottom.min(open.rows.len()))
            .unwrap_or_default()
            .iter()
            .map(|row| match row {
                DisplayRow::Line(line) | DisplayRow::Image { line, .. } => *line,
            })
            .collect();
        open.rendered
            .images
            .iter()
            .enumerate()
            .filter(|(_, shown)| visible_lines.contains(&shown.line))
            .find_map(|(n, _)| self.image_file(n))
    }
}
