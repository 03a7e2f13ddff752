//! `tidings filter`: try a query on the cache (`test`), save a filter
//! (`add`, tested first; one that would hide every article asks), list the
//! filters in force, remove a saved one.

use std::io::{IsTerminal, Write};

use anyhow::bail;

use super::FilterAction as Command;
use super::inspect::filter_test;
use crate::config::Config;
use crate::query::FilterAction;
use crate::store::Store;

pub(super) fn filter(store: &mut Store, config: &Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Test { query, limit } => filter_test(store, &query.join(" "), limit),
        Command::Add {
            action,
            tag,
            yes,
            query,
        } => add(store, &query.join(" "), &action, tag.as_deref(), yes),
        Command::List => list(store, config),
        Command::Remove { id } => {
            if !store.remove_filter(id)? {
                bail!("no saved filter {id} (`tidings filter list` shows them)");
            }
            println!("removed filter {id}");
            Ok(())
        }
    }
}

fn add(
    store: &mut Store,
    text: &str,
    action: &str,
    tag: Option<&str>,
    yes: bool,
) -> anyhow::Result<()> {
    let query = crate::query::parse(text).map_err(|e| anyhow::anyhow!("{}", e.pointed(text)))?;
    let action = FilterAction::new(action, tag).map_err(|e| anyhow::anyhow!(e))?;
    let now = chrono::Utc::now().timestamp();
    let counts = store.query_counts(&query, now)?;
    let all = store.article_total()?;
    println!(
        "it catches {} of the {} articles in the cache now",
        crate::report::thousands(counts.total),
        crate::report::thousands(all)
    );
    if action == FilterAction::Hide && all > 0 && counts.total == all && !yes {
        let question = "this filter would hide every article: save it anyway? [y/N] ";
        if !std::io::stdin().is_terminal() {
            bail!("this filter would hide every article; --yes saves it anyway");
        }
        print!("{question}");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            bail!("not saved");
        }
    }
    let id = store.add_filter(text, &action)?;
    let what = match &action {
        FilterAction::Hide => "hides".to_string(),
        FilterAction::Read => "marks read".to_string(),
        FilterAction::Star => "stars".to_string(),
        FilterAction::Tag(tag) => format!("tags {tag:?}"),
    };
    println!("saved filter {id}: it {what} the articles that arrive matching it");
    Ok(())
}

fn list(store: &Store, config: &Config) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let saved = store.saved_filters()?;
    if config.filters.is_empty() && saved.is_empty() {
        writeln!(out, "no filters (`tidings filter add` saves one)")?;
    }
    for filter in &config.filters {
        let tag = filter
            .tag
            .as_deref()
            .map(|t| format!(" {t:?}"))
            .unwrap_or_default();
        writeln!(out, "config  {}{tag}  {}", filter.action, filter.query)?;
    }
    for filter in saved {
        let tag = filter
            .action
            .tag()
            .map(|t| format!(" {t:?}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{:>6}  {}{tag}  {}",
            filter.id,
            filter.action.name(),
            filter.text
        )?;
    }
    Ok(())
}
