//! Opening an article is the key a reader presses most, so it does only what
//! its frame needs. Its writes (marking it read, marking its images used) are
//! made after the frame is on the screen ([`App::after_frame`]), before the
//! next message is handled; and the article under the cursor is read from the
//! cache and set for the pane ahead of Enter, once the frame of the move that
//! selected it is drawn, so that Enter finds it ready.
//!
//! What was read ahead is good until the next message other than a tick:
//! anything else (a key that marks it read, a refresh that stores a newer
//! version) may have changed the article, and it is read again.
//!
//! The pictures of its first screen are made ahead too, once the cursor has
//! rested on it (a tick with no message since it was read): made at every
//! step of a held `j`, they would cost a core.

use std::path::PathBuf;

use super::{App, DisplayRow, Effect, Focus, PictureKey};
use crate::model::{Article, ArticleId, ArticleImage, DownloadRecord};

/// The article under the cursor, read before it is opened.
pub(super) struct ReadAhead {
    pub article: Article,
    pub images: Vec<ArticleImage>,
    pub downloads: Vec<Option<DownloadRecord>>,
    /// Whether the pictures of its first screen were asked for: that is
    /// done once the cursor rests on it ([`App::make_pictures_ahead`]).
    pub pictures_asked: bool,
}

/// A write that opening an article leaves until its frame is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LaterWrite {
    /// Mark it read (the lists and counts already show it read).
    Read(ArticleId),
    /// Mark its images used at this time (eviction goes by last use).
    ImagesShown(ArticleId, i64),
}

impl App {
    /// Work that can wait until the frame of the last message is on the
    /// screen: the writes opening an article left, then reading ahead the
    /// article under the cursor. Returns the effects that raised (a long
    /// article is set on another thread) and those that waited for the
    /// frame (an opened article's missing images).
    pub fn after_frame(&mut self) -> Vec<crate::app::Effect> {
        self.write_later_writes();
        if let Err(e) = self.read_ahead() {
            tracing::warn!("reading the selected article ahead: {e:#}");
        }
        let mut effects = std::mem::take(&mut self.pending);
        effects.append(&mut self.after_frame_effects);
        effects
    }

    /// Makes the writes left for after the frame (also when the reader
    /// stops): a failure is shown like any other.
    pub fn write_later_writes(&mut self) {
        for write in std::mem::take(&mut self.later) {
            let written = match write {
                LaterWrite::Read(id) => self.store.set_read(id, true).map(|_| ()),
                LaterWrite::ImagesShown(id, now) => self.store.touch_images(id, now),
            };
            if let Err(e) = written {
                tracing::error!("{e:#}");
                self.notify(format!("{e:#}"), true);
            }
        }
    }

    /// Reads and sets the article under the cursor of the article list,
    /// unless that is done already.
    fn read_ahead(&mut self) -> anyhow::Result<()> {
        if self.focus != Focus::Articles || self.open.is_some() {
            return Ok(());
        }
        let Some(id) = self.articles.selected().map(|a| a.id) else {
            return Ok(());
        };
        if self.ahead.as_ref().is_some_and(|a| a.article.id == id) {
            return Ok(());
        }
        let Some(article) = self.store.article(id)? else {
            return Ok(());
        };
        // Set now, into the cache Enter reads (a long one is set on opening).
        if self.sets_at_once(&article) {
            self.rendered(&article);
        }
        let images = self.store.article_images(id)?;
        let downloads = self.downloads_of(&article)?;
        self.ahead = Some(ReadAhead {
            article,
            images,
            downloads,
            pictures_asked: false,
        });
        Ok(())
    }

    /// The pictures that the first screen of `article` shows, with their
    /// files (none when pictures are not drawn, or the article is set only
    /// on opening).
    fn first_screen_pictures(
        &self,
        article: &Article,
        images: &[ArticleImage],
    ) -> Vec<(PictureKey, PathBuf)> {
        let Some(pictures) = self.pictures.as_ref().filter(|_| self.show_images) else {
            return Vec::new();
        };
        let Some(rendered) = self.renders.get(&self.text_to_show(article).0) else {
            return Vec::new();
        };
        let chosen = Default::default();
        let found: Vec<Option<&ArticleImage>> = (0..rendered.images.len())
            .map(|n| super::image_for(article, rendered, images, &chosen, n))
            .collect();
        let screen = self
            .article_height()
            .saturating_sub(super::header_lines(article));
        pictures
            .layout(rendered, &found, self.text_width())
            .into_iter()
            .take(screen)
            .filter_map(|row| match row {
                DisplayRow::Image { n, row: 0, key, .. } => {
                    let file = found[n]?.file.as_ref()?;
                    Some((key, self.image_dir.join(file)))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the article under the cursor has pictures to make once the
    /// cursor rests on it (the reader then ticks sooner).
    pub fn has_pictures_ahead(&self) -> bool {
        self.pictures.is_some()
            && self.show_images
            && (self.ahead.as_ref()).is_some_and(|a| !a.pictures_asked && !a.images.is_empty())
    }

    /// At a tick, the cursor has rested on the article read ahead: its
    /// first screen's pictures are asked for, laid out only now (not at
    /// every step of a held `j`).
    pub(super) fn make_pictures_ahead(&mut self) -> Vec<Effect> {
        if !self.has_pictures_ahead() {
            return Vec::new();
        }
        let Some(ahead) = self.ahead.as_ref() else {
            return Vec::new();
        };
        let shown = self.first_screen_pictures(&ahead.article, &ahead.images);
        if let Some(ahead) = self.ahead.as_mut() {
            ahead.pictures_asked = true;
        }
        let Some(pictures) = self.pictures.as_mut() else {
            return Vec::new();
        };
        shown
            .into_iter()
            .filter(|(key, _)| pictures.should_ask(*key))
            .map(|(key, path)| Effect::PreparePicture { key, path })
            .collect()
    }

    /// The article `id` as [`Self::read_ahead`] left it, if it did.
    pub(super) fn take_ahead(&mut self, id: ArticleId) -> Option<ReadAhead> {
        self.ahead.take().filter(|a| a.article.id == id)
    }

    /// The downloaded copy of each of the article's enclosures, if any.
    pub(super) fn downloads_of(
        &self,
        article: &Article,
    ) -> anyhow::Result<Vec<Option<DownloadRecord>>> {
        Ok(article
            .enclosures
            .iter()
            .map(|e| self.store.download_of(&e.url))
            .collect::<Result<Vec<_>, _>>()?)
    }
}
