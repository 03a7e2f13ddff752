//! The record of downloaded enclosures: one row per address, saved as a
//! download starts, is cut off, fails or completes.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::model::{ArticleId, DownloadRecord, DownloadStatus};

const DOWNLOAD_SELECT: &str = "SELECT url, article_id, title, feed_title, file, status, bytes,
    total, error, updated_at FROM downloads";

fn download_from_row(r: &rusqlite::Row) -> rusqlite::Result<DownloadRecord> {
    Ok(DownloadRecord {
        url: r.get(0)?,
        article_id: r.get::<_, Option<i64>>(1)?.map(ArticleId),
        title: r.get(2)?,
        feed_title: r.get(3)?,
        file: r.get(4)?,
        status: DownloadStatus::parse(&r.get::<_, String>(5)?),
        bytes: r.get::<_, i64>(6)?.max(0) as u64,
        total: r.get::<_, Option<i64>>(7)?.map(|t| t.max(0) as u64),
        error: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

impl Store {
    /// Saves where a download stands (the row of its address is replaced).
    pub fn save_download(&mut self, record: &DownloadRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO downloads (url, article_id, title, feed_title, file, status, bytes,
                total, error, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (url) DO UPDATE SET
                article_id = coalesce(excluded.article_id, article_id),
                title = coalesce(excluded.title, title),
                feed_title = coalesce(excluded.feed_title, feed_title),
                file = excluded.file, status = excluded.status, bytes = excluded.bytes,
                total = excluded.total, error = excluded.error, updated_at = excluded.updated_at",
            params![
                record.url,
                record.article_id.map(|a| a.0),
                record.title,
                record.feed_title,
                record.file,
                record.status.as_str(),
                record.bytes as i64,
                record.total.map(|t| t as i64),
                record.error,
                record.updated_at
            ],
        )?;
        Ok(())
    }

    /// The download of `url`, if one was ever started.
    pub fn download_of(&self, url: &str) -> Result<Option<DownloadRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{DOWNLOAD_SELECT} WHERE url = ?1"))?;
        Ok(stmt.query_row([url], download_from_row).optional()?)
    }

    /// Every download, the latest first.
    pub fn downloads(&self) -> Result<Vec<DownloadRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{DOWNLOAD_SELECT} ORDER BY updated_at DESC, url"))?;
        let rows = stmt.query_map([], download_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Forgets the download of `url` (its file is the caller's to remove).
    pub fn forget_download(&mut self, url: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM downloads WHERE url = ?1", [url])?;
        Ok(())
    }
}
