//! An immutable view of the catalog at one moment, with where it came from.

use super::model::ModelInfo;
use crate::openrouter::types::ApiModel;
use std::collections::HashMap;
use std::time::SystemTime;

/// Where the catalog in use came from, as `list_models` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Fetched from `GET /models` during this run.
    Live,
    /// Read from the copy saved in the data dir by an earlier run.
    Saved,
    /// The small table compiled into the binary, for the very first offline start.
    Embedded,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Saved => "saved",
            Source::Embedded => "embedded",
        }
    }
}

#[derive(Debug)]
pub struct Snapshot {
    pub models: Vec<ModelInfo>,
    pub source: Source,
    pub fetched_at: SystemTime,
    index: HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(api_models: Vec<ApiModel>, source: Source, fetched_at: SystemTime) -> Self {
        let models: Vec<ModelInfo> = api_models.into_iter().map(ModelInfo::from_api).collect();
        let mut index = HashMap::with_capacity(models.len() * 2);
        for (position, model) in models.iter().enumerate() {
            if let Some(slug) = &model.canonical_slug {
                index.entry(slug.clone()).or_insert(position);
            }
        }
        for (position, model) in models.iter().enumerate() {
            index.insert(model.id.clone(), position);
        }
        Self {
            models,
            source,
            fetched_at,
            index,
        }
    }

    /// Finds a model by id, or by the dated canonical slug a response may name.
    pub fn find(&self, id: &str) -> Option<&ModelInfo> {
        self.index.get(id).map(|&position| &self.models[position])
    }

    /// Whether this catalog is complete enough to call an id unknown: the embedded table is not.
    pub fn is_authoritative(&self) -> bool {
        self.source != Source::Embedded
    }

    /// `fetched_at` as RFC 3339 (UTC, seconds).
    pub fn fetched_at_rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.fetched_at).to_string()
    }
}
