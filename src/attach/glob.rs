//! Glob expansion inside the roots: the walk starts at the glob's literal directory, never follows
//! symlinked directories, skips hidden entries unless the glob names them, and is bounded.

use super::{AttachError, Limits, Roots};
use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Whether `path` is a glob rather than a plain path.
pub(super) fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// The files `pattern` matches, sorted, each canonical and inside a root.
///
/// # Errors
/// A glob whose directory is outside the roots, that matches more than `max_glob_matches` files,
/// that looks at more than `max_glob_entries` entries, or that matches nothing.
pub(super) fn expand(
    pattern: &str,
    roots: &Roots,
    limits: &Limits,
) -> Result<Vec<PathBuf>, AttachError> {
    let joined = roots.join(pattern)?;
    let (base, rest) = split(&joined);
    let matcher = matcher(pattern, &rest)?;
    let base = roots.resolve_path(pattern, &base)?;
    let hidden_ok = rest.starts_with('.') || rest.contains("/.");
    let mut walk = WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    if !rest.contains("**") {
        walk = walk.max_depth(rest.split('/').count());
    }
    let mut found = Vec::new();
    let entries = walk
        .into_iter()
        .filter_entry(|e| hidden_ok || !e.file_name().to_string_lossy().starts_with('.'));
    for (seen, entry) in entries.enumerate() {
        if seen >= limits.max_glob_entries {
            return Err(AttachError::GlobTooBroad {
                pattern: pattern.to_owned(),
                limit: limits.max_glob_entries,
            });
        }
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_dir() || (entry.path_is_symlink() && entry.path().is_dir()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&base) else {
            continue;
        };
        if !matcher.is_match(relative) {
            continue;
        }
        if found.len() == limits.max_glob_matches {
            return Err(AttachError::GlobTooMany {
                pattern: pattern.to_owned(),
                limit: limits.max_glob_matches,
            });
        }
        found.push(entry.into_path());
    }
    if found.is_empty() {
        return Err(AttachError::GlobNoMatch {
            pattern: pattern.to_owned(),
        });
    }
    Ok(found)
}

/// Splits an absolute glob into its literal leading directory and the pattern below it.
fn split(joined: &Path) -> (PathBuf, String) {
    let mut base = PathBuf::new();
    let mut rest: Vec<String> = Vec::new();
    for component in joined.components() {
        let text = component.as_os_str().to_string_lossy();
        if rest.is_empty() && !is_glob(&text) {
            base.push(component);
        } else {
            rest.push(text.into_owned());
        }
    }
    (base, rest.join("/"))
}

fn matcher(pattern: &str, rest: &str) -> Result<GlobMatcher, AttachError> {
    GlobBuilder::new(rest)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|err| AttachError::BadGlob {
            pattern: pattern.to_owned(),
            reason: err.kind().to_string(),
        })
}
