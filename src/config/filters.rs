//! The `[[filters]]` of config.toml: rules applied to articles as they
//! arrive, each a query of the query language and what to do with its
//! matches (`hide`, `read`, `star`, or `tag` with `tag = "name"`). Checked
//! when the file is read: a wrong one is an error that says where.

use serde::Deserialize;

use crate::query::{Filter, FilterAction};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    pub query: String,
    pub action: String,
    #[serde(default)]
    pub tag: Option<String>,
}

impl FilterConfig {
    /// The rule, or what is wrong with it.
    pub fn filter(&self) -> Result<Filter, String> {
        let query = crate::query::parse(&self.query).map_err(|e| e.pointed(&self.query))?;
        let action = FilterAction::new(&self.action, self.tag.as_deref())?;
        Ok(Filter { query, action })
    }
}
