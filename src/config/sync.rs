//! The `[sync]` section: which aggregator server keeps this device's
//! subscriptions and reading state in step with the others, and how to log in
//! to it. No section: tidings works alone.
//!
//! The password comes from `TIDINGS_SYNC_PASSWORD` when it is set, else from
//! `password`, else from the output of `password_command` (its first line,
//! the command run directly, without a shell). It is held in a [`Secret`],
//! which prints as `***` everywhere (logs, errors, `Debug`), so that it can
//! only reach the server.

use std::path::Path;

use serde::Deserialize;

/// The variable that holds the sync password, when neither the config nor a
/// command gives it.
pub const PASSWORD_VARIABLE: &str = "TIDINGS_SYNC_PASSWORD";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    pub backend: SyncBackend,
    /// The server's address: for Tiny Tiny RSS, where its web interface is
    /// (`https://example.org/tt-rss/`); its API is `api/` under it.
    pub url: String,
    pub user: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// A command that prints the password (`["pass", "show", "ttrss"]`, or
    /// one string split at spaces).
    #[serde(default)]
    pub password_command: Option<Command>,
    /// Minutes between syncs in the reader; absent: `[refresh]
    /// interval_minutes`. 0 syncs only at start and on `r`.
    #[serde(default)]
    pub interval_minutes: Option<u64>,
}

/// The servers tidings syncs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncBackend {
    /// Tiny Tiny RSS, through its JSON API (level 15 and later).
    Ttrss,
}

impl SyncBackend {
    pub fn name(self) -> &'static str {
        match self {
            SyncBackend::Ttrss => "ttrss",
        }
    }
}

/// A password: shown as `***` by `Debug`, never displayed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }
    /// The password itself: only for the request that logs in.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A command and its arguments, given as a list or as one string split at spaces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Words(Vec<String>),
    Line(String),
}

impl Command {
    pub fn words(&self) -> Vec<String> {
        match self {
            Command::Words(words) => words.clone(),
            Command::Line(line) => line.split_whitespace().map(str::to_string).collect(),
        }
    }
}

impl SyncConfig {
    /// The server's address without any user name or password in it: what
    /// messages and the statistics name.
    pub fn server(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => self.url.clone(),
        }
    }

    /// The password, from the variable, the config or the command, in that order.
    pub fn password(&self) -> Result<Secret, String> {
        if let Ok(text) = std::env::var(PASSWORD_VARIABLE)
            && !text.is_empty()
        {
            return Ok(Secret(text));
        }
        if let Some(password) = &self.password {
            return Ok(password.clone());
        }
        let Some(command) = &self.password_command else {
            return Err(format!(
                "no password for the sync server: set [sync] password or password_command, \
                 or {PASSWORD_VARIABLE}"
            ));
        };
        let words = command.words();
        let Some((program, args)) = words.split_first() else {
            return Err("[sync] password_command is empty".into());
        };
        let output = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("[sync] password_command `{program}` could not run: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "[sync] password_command `{program}` failed ({})",
                output.status
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if line.is_empty() {
            return Err(format!(
                "[sync] password_command `{program}` printed nothing"
            ));
        }
        Ok(Secret(line.to_string()))
    }
}

/// Whether the config file holds a password that other users can read: the
/// warning tidings gives when it does.
pub fn password_exposed(config_file: &Path, sync: &SyncConfig) -> Option<String> {
    sync.password.as_ref()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(config_file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return Some(format!(
                "{} holds the sync password and other users can read it: \
                 run `chmod 600 {}`, or use password_command",
                config_file.display(),
                config_file.display()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> SyncConfig {
        toml::from_str(&format!(
            "backend = \"ttrss\"\nurl = \"https://u:p@example.org/tt-rss/\"\nuser = \"me\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn the_password_never_prints() {
        let sync = config("password = \"hunter2\"");
        assert!(!format!("{sync:?}").contains("hunter2"));
        assert_eq!(sync.server(), "https://example.org/tt-rss/");
    }

    #[test]
    fn the_password_command_runs_without_a_shell() {
        let sync =
            config("password_command = [\"printf\", \"%s\\n\", \"from a command; not $HOME\"]");
        let password = sync.password().unwrap();
        assert_eq!(password.expose(), "from a command; not $HOME");
        let failing = config("password_command = \"false\"");
        assert!(failing.password().unwrap_err().contains("failed"));
    }

    #[cfg(unix)]
    #[test]
    fn a_password_others_can_read_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "").unwrap();
        let sync = config("password = \"x\"");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            password_exposed(&file, &sync)
                .unwrap()
                .contains("chmod 600")
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(password_exposed(&file, &sync), None);
        let commanded = config("password_command = \"pass show ttrss\"");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(password_exposed(&file, &commanded), None);
    }
}
