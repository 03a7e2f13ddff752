//! `tidings repair`: the way out of a damaged database, asked for, never
//! taken behind the user's back. It runs before any store is opened. A sound
//! database is left alone, and so is one that is merely locked, read-only or
//! written by a newer tidings (that one must never be touched). A damaged one
//! is set aside whole (renamed `tidings.db.damaged-<local time>`, with its
//! `-wal` and `-shm`) and a fresh cache is built with the subscriptions from
//! `subscriptions.opml`, or, when there is no backup, with what the damaged
//! file still gives up. Articles come back with the next refresh; read and
//! starred states stay in the set-aside file.

use std::path::Path;

use anyhow::{Context, bail};

use crate::config::Paths;
use crate::refresh::{Attempt, RunLock, busy_message};
use crate::store::repair::{Health, health, salvage_subscriptions, set_aside};
use crate::store::{NewSubscription, Store};
use crate::subscriptions::{keep_backup, parse_backup};

pub fn repair(paths: &Paths) -> anyhow::Result<()> {
    let database = &paths.database;
    // No refresh may write to the file while it is moved.
    let _lock = match RunLock::try_take(&RunLock::path_for(database))? {
        Attempt::Held(lock) => lock,
        Attempt::Busy(pid) => bail!("{}; repair once it has ended", busy_message(pid)),
    };
    let why = match health(database) {
        Health::Missing => {
            println!(
                "there is no database at {} yet: nothing to repair",
                database.display()
            );
            return Ok(());
        }
        Health::Sound => {
            println!(
                "{} is sound (SQLite's check found nothing wrong): nothing to repair",
                database.display()
            );
            return Ok(());
        }
        Health::Unusable(e) => bail!(
            "{} is not damaged, so repair leaves it as it is: {e}",
            database.display()
        ),
        Health::Damaged(why) => why,
    };
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S").to_string();
    let moved = set_aside(database, &stamp)
        .with_context(|| format!("cannot move {} aside", database.display()))?;
    let aside = &moved[0];
    println!("{} is damaged ({why})", database.display());
    let names: Vec<String> = moved.iter().map(|p| p.display().to_string()).collect();
    println!("kept it, untouched, as {}", names.join(" and "));

    let backup = paths.subscriptions_backup();
    let (subscriptions, source) = match read_backup(&backup) {
        Some(subs) => (subs, backup.display().to_string()),
        None => match salvage_subscriptions(aside) {
            Ok(subs) => (subs, format!("what {} still holds", aside.display())),
            Err(e) => {
                eprintln!("no subscriptions could be read from the damaged file: {e}");
                (Vec::new(), "nowhere".into())
            }
        },
    };
    let mut store =
        Store::open(database).with_context(|| format!("cannot create {}", database.display()))?;
    // The welcome feed is for a first start, not for a rebuilt cache.
    store.set_setting("welcomed", "yes")?;
    keep_backup(&mut store, backup)?;
    // Nothing to add must not write an empty backup over an unreadable one.
    if !subscriptions.is_empty() {
        store.add_feeds(&subscriptions)?;
    }
    let added = subscriptions.len();
    store.truncate_wal()?;
    if added == 0 {
        println!(
            "started a fresh, empty cache: no subscriptions were found to rebuild it with \
             (`tidings import FILE` adds a list)"
        );
    } else {
        println!(
            "built a fresh cache with your {added} {} from {source}; \
             `tidings refresh` fetches their articles again",
            if added == 1 {
                "subscription"
            } else {
                "subscriptions"
            }
        );
    }
    Ok(())
}

/// The subscriptions of the OPML backup; none when it is missing or unreadable.
fn read_backup(path: &Path) -> Option<Vec<NewSubscription>> {
    let text = std::fs::read_to_string(path).ok()?;
    match parse_backup(&text) {
        Ok(list) if !list.subscriptions.is_empty() => Some(list.subscriptions),
        Ok(_) => None,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            None
        }
    }
}
