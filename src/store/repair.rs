//! The way out of a damaged database, store side: telling damage from the
//! errors that are not (a lock, a newer schema, a read-only file, a full
//! disk), setting the damaged file aside with its `-wal` and `-shm` under one
//! timestamped name, and reading back what subscriptions it still holds when
//! there is no OPML backup to rebuild from. The command that uses these
//! (`tidings repair`) lives in `cli`; nothing here ever deletes a file.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{MIGRATIONS, NewSubscription, Result, StoreError};

/// What a look at a database file found.
#[derive(Debug)]
pub enum Health {
    /// No file there.
    Missing,
    /// It opens and SQLite's quick check finds nothing wrong.
    Sound,
    /// Damaged: this is what SQLite said.
    Damaged(String),
    /// It cannot be used now, but is not damaged (locked, newer, read-only,
    /// disk full): nothing must touch it.
    Unusable(StoreError),
}

/// Checks the whole database at `path` without writing to it: no
/// migration, no change of mode, so a file set aside afterwards is the file
/// as it was found.
pub fn health(path: &Path) -> Health {
    if !path.exists() {
        return Health::Missing;
    }
    let check = || -> Result<()> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(verdict))
        }
    };
    match check() {
        Ok(()) => Health::Sound,
        Err(StoreError::Corrupt(why)) => Health::Damaged(why),
        Err(other) => Health::Unusable(other),
    }
}

/// Renames the database at `path`, then its `-wal` and `-shm` if there are
/// any, to `<name>.damaged-<stamp>` (and `…-wal`, `…-shm`, so the set-aside
/// file still finds its log). The log must go with it: a fresh database
/// would otherwise read the old log's pages as its own. Returns the new
/// names, the database's first.
pub fn set_aside(path: &Path, stamp: &str) -> std::io::Result<Vec<PathBuf>> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut aside = path.with_file_name(format!("{name}.damaged-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = path.with_file_name(format!("{name}.damaged-{stamp}-{n}"));
    }
    std::fs::rename(path, &aside)?;
    let mut moved = vec![aside.clone()];
    for suffix in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", aside.display()));
            std::fs::rename(&from, &to)?;
            moved.push(to);
        }
    }
    Ok(moved)
}

/// The subscriptions (addresses, own titles, tags) a damaged database still
/// gives up, opened read-only; none when its feeds cannot be read.
pub fn salvage_subscriptions(path: &Path) -> Result<Vec<NewSubscription>> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Saved feeds are no subscriptions; a database older than them has none.
    let with_saved = "SELECT id, url, custom_title, feed_title FROM feeds
                      WHERE saved_at IS NULL ORDER BY position";
    let without = "SELECT id, url, custom_title, feed_title FROM feeds ORDER BY position";
    let mut stmt = conn
        .prepare(with_saved)
        .or_else(|_| conn.prepare(without))?;
    let feeds = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                NewSubscription {
                    url: r.get(1)?,
                    title: r.get(2)?,
                    feed_title: r.get(3)?,
                    tags: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Tags are a nicety: a damaged tag table leaves the feeds untagged.
    let mut tags = conn
        .prepare("SELECT tag FROM feed_tags WHERE feed_id = ?1 ORDER BY position")
        .ok();
    Ok(feeds
        .into_iter()
        .map(|(id, mut sub)| {
            if let Some(stmt) = tags.as_mut()
                && let Ok(rows) = stmt.query_map([id], |r| r.get::<_, String>(0))
            {
                sub.tags = rows.filter_map(|t| t.ok()).collect();
            }
            sub
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_moves_the_log_with_the_file_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("tidings.db");
        for (name, text) in [
            ("tidings.db", "db"),
            ("tidings.db-wal", "wal"),
            ("tidings.db-shm", "shm"),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let moved = set_aside(&db, "20261205T101500").unwrap();
        let names: Vec<String> = moved
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "tidings.db.damaged-20261205T101500",
                "tidings.db.damaged-20261205T101500-wal",
                "tidings.db.damaged-20261205T101500-shm"
            ]
        );
        assert_eq!(std::fs::read_to_string(&moved[1]).unwrap(), "wal");
        assert!(!db.exists() && !dir.path().join("tidings.db-wal").exists());

        // The same second again: a name of its own, the first one kept.
        std::fs::write(&db, "second").unwrap();
        let again = set_aside(&db, "20261205T101500").unwrap();
        assert_eq!(again.len(), 1);
        assert!(again[0].ends_with("tidings.db.damaged-20261205T101500-2"));
        assert_eq!(std::fs::read_to_string(&moved[0]).unwrap(), "db");
    }

    #[test]
    fn health_tells_damage_from_a_newer_schema_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        assert!(matches!(health(&db), Health::Missing));
        drop(super::super::Store::open(&db).unwrap());
        assert!(matches!(health(&db), Health::Sound));
        let conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            health(&db),
            Health::Unusable(StoreError::TooNew { found: 99, .. })
        ));
        std::fs::write(&db, vec![7u8; 40_000]).unwrap();
        assert!(matches!(health(&db), Health::Damaged(_)));
        assert_eq!(std::fs::read(&db).unwrap(), vec![7u8; 40_000]);
    }
}
