//! The size and count limits on attachments, with defaults sized for a source tree of a few MB.

/// Bytes one attached file may have (text or PDF): 2 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
/// Bytes all attached files may have together: 8 MiB.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024;
/// Files one call may attach.
pub const DEFAULT_MAX_FILES: usize = 500;
/// Files one glob may match before it is refused.
pub const DEFAULT_MAX_GLOB_MATCHES: usize = 1000;
/// Directory entries one glob may look at before it is refused, matched or not.
pub const DEFAULT_MAX_GLOB_ENTRIES: usize = 20_000;
/// Bytes of one image (a file or a decoded `data:` URI): 5 MiB.
pub const DEFAULT_MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;
/// Images one call may attach.
pub const DEFAULT_MAX_IMAGES: usize = 20;

/// What one call may attach. Every refusal names the limit it hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    pub max_files: usize,
    pub max_glob_matches: usize,
    pub max_glob_entries: usize,
    pub max_image_bytes: u64,
    pub max_images: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_files: DEFAULT_MAX_FILES,
            max_glob_matches: DEFAULT_MAX_GLOB_MATCHES,
            max_glob_entries: DEFAULT_MAX_GLOB_ENTRIES,
            max_image_bytes: DEFAULT_MAX_IMAGE_BYTES,
            max_images: DEFAULT_MAX_IMAGES,
        }
    }
}
