//! The glue between the tools' `files` / `images` arguments and the wire: the roots this call may
//! read, the attachments read and masked, the masked prompt and messages, the parts added to the
//! last user message, the `masked` counts and the input modalities the attachments need.

use super::ToolError;
use crate::App;
use crate::attach::{self, AttachError, Attachment, Limits, Roots};
use crate::mask::{Counts, MaskMode, Masker};
use crate::openrouter::types::{
    ChatMessage, ContentPart, FileData, ImageUrl, MessageContent, Role,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where attachments by path may come from during one tool call, besides `SWITCHBOARD_FILE_ROOTS`.
#[derive(Debug, Clone)]
pub enum Sources {
    /// stdio: the directories of the client's MCP roots (none when it shares none).
    Client(Vec<PathBuf>),
    /// The shell command: the current directory.
    Shell(PathBuf),
    /// `http` (and any call outside a scope): `SWITCHBOARD_FILE_ROOTS` only.
    ServerOnly,
}

tokio::task_local! {
    static SOURCES: Sources;
}

/// Runs `work` (one tool call) with `sources` as the roots beside `SWITCHBOARD_FILE_ROOTS`.
pub async fn with_sources<F: Future>(sources: Sources, work: F) -> F::Output {
    SOURCES.scope(sources, work).await
}

/// What was masked, by kind: the tools' `masked` output.
pub type Masked = BTreeMap<String, u32>;

/// What a consultation sends once its attachments are in.
#[derive(Debug)]
pub struct Prepared {
    /// Masked; the last user message carries the attachments as content parts.
    pub messages: Vec<ChatMessage>,
    /// What was masked, by kind (the tools' `masked` output; empty when nothing was).
    pub masked: Masked,
    /// Input modalities the attachments need: `image`, `file`.
    pub needs: Vec<&'static str>,
}

/// Masks `messages`, reads and masks `files` and `images`, and joins them to the last user
/// message.
///
/// # Errors
/// A message with content parts (only `files` / `images` attach), or the first attachment
/// refused, as an error naming `files` or `images` and the path.
pub fn prepare(
    app: &App,
    messages: Vec<ChatMessage>,
    files: Option<Vec<String>>,
    images: Option<Vec<String>>,
) -> Result<Prepared, ToolError> {
    let masker = masker(app.config.mask);
    let mut counts = Counts::new();
    let mut messages = mask_messages(masker, messages, &mut counts)?;
    let mut attachments = read(app, files, images)?;
    attachments
        .iter_mut()
        .for_each(|a| a.mask(masker, &mut counts));
    let needs = needs(&attachments);
    if !attachments.is_empty() {
        attach_to_last_user(&mut messages, &attachments);
    }
    let masked = counts.iter().map(|(k, n)| ((*k).to_string(), *n)).collect();
    Ok(Prepared {
        messages,
        masked,
        needs,
    })
}

/// The compiled masker of `mode`, built once per process.
pub fn masker(mode: MaskMode) -> &'static Masker {
    static MASKERS: [OnceLock<Masker>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match mode {
        MaskMode::Off => 0,
        MaskMode::Secrets => 1,
        MaskMode::SecretsAndPii => 2,
    };
    MASKERS[slot].get_or_init(|| Masker::new(mode))
}

fn mask_messages(
    masker: &Masker,
    messages: Vec<ChatMessage>,
    counts: &mut Counts,
) -> Result<Vec<ChatMessage>, ToolError> {
    messages
        .into_iter()
        .map(|mut message| match &mut message.content {
            MessageContent::Text(text) => {
                if let std::borrow::Cow::Owned(masked) = masker.mask_counting(text, counts) {
                    *text = masked;
                }
                Ok(message)
            }
            MessageContent::Parts(_) => Err(ToolError::invalid(
                "messages",
                "content must be a string; attach files with `files` and images with `images`",
            )),
        })
        .collect()
}

/// The attachments, files first, each refusal naming its argument.
fn read(
    app: &App,
    files: Option<Vec<String>>,
    images: Option<Vec<String>>,
) -> Result<Vec<Attachment>, ToolError> {
    let files = files.unwrap_or_default();
    let images = images.unwrap_or_default();
    if files.is_empty() && images.is_empty() {
        return Ok(Vec::new());
    }
    let sources = SOURCES
        .try_with(Clone::clone)
        .unwrap_or(Sources::ServerOnly);
    let over_http = matches!(sources, Sources::ServerOnly);
    let limits = Limits::default();
    let refused = |field: &'static str| {
        move |error: AttachError| match error {
            AttachError::NoRoots if over_http => ToolError::invalid(
                field,
                "no path is read over http unless SWITCHBOARD_FILE_ROOTS is set; set it to the directories the server may read, or send images as https:// URLs or data: URIs",
            ),
            other => ToolError::invalid(field, other.to_string()),
        }
    };
    let roots = roots(app, sources).map_err(refused("files"))?;
    let mut attachments = attach::read_files(&files, &roots, &limits).map_err(refused("files"))?;
    attachments.extend(attach::read_images(&images, &roots, &limits).map_err(refused("images"))?);
    Ok(attachments)
}

/// `SWITCHBOARD_FILE_ROOTS` first when set (relative paths resolve against the first root), then
/// the client's roots or the shell's directory.
fn roots(app: &App, sources: Sources) -> Result<Roots, AttachError> {
    let mut dirs = app.config.file_roots.clone();
    match sources {
        Sources::Client(client) => dirs.extend(client),
        Sources::Shell(dir) if dirs.is_empty() => dirs.push(dir),
        Sources::Shell(_) | Sources::ServerOnly => {}
    }
    Roots::new(dirs)
}

/// The input modalities `messages` need: `image` for an image part, `file` for a file part
/// (a continued conversation carries the attachments of its earlier turns).
pub fn needs_of(messages: &[ChatMessage]) -> Vec<&'static str> {
    let parts = || {
        messages.iter().flat_map(|m| match &m.content {
            MessageContent::Parts(parts) => parts.as_slice(),
            MessageContent::Text(_) => &[],
        })
    };
    let mut needs = Vec::new();
    if parts().any(|p| matches!(p, ContentPart::ImageUrl { .. })) {
        needs.push("image");
    }
    if parts().any(|p| matches!(p, ContentPart::File { .. })) {
        needs.push("file");
    }
    needs
}

fn needs(attachments: &[Attachment]) -> Vec<&'static str> {
    let mut needs = Vec::new();
    if attachments
        .iter()
        .any(|a| matches!(a, Attachment::Image { .. }))
    {
        needs.push("image");
    }
    if attachments
        .iter()
        .any(|a| matches!(a, Attachment::Pdf { .. }))
    {
        needs.push("file");
    }
    needs
}

/// The last user message becomes its text followed by one part per attachment (a new user message
/// when there is none).
fn attach_to_last_user(messages: &mut Vec<ChatMessage>, attachments: &[Attachment]) {
    let at = match messages.iter().rposition(|m| m.role == Role::User) {
        Some(at) => at,
        None => {
            messages.push(ChatMessage::with_parts(Role::User, Vec::new()));
            messages.len() - 1
        }
    };
    let message = &mut messages[at];
    let mut parts = match std::mem::replace(&mut message.content, MessageContent::Parts(Vec::new()))
    {
        MessageContent::Text(text) => vec![ContentPart::Text { text }],
        MessageContent::Parts(parts) => parts,
    };
    parts.extend(attachments.iter().map(part));
    message.content = MessageContent::Parts(parts);
}

/// The wire part of one attachment (the same shape as [`Attachment::part`]).
fn part(attachment: &Attachment) -> ContentPart {
    match attachment {
        Attachment::Text { path, text } => ContentPart::Text {
            text: attach::fenced(path, text),
        },
        Attachment::Pdf {
            filename, data_url, ..
        } => ContentPart::File {
            file: FileData {
                filename: filename.clone(),
                file_data: data_url.clone(),
            },
        },
        Attachment::Image { url, .. } => ContentPart::ImageUrl {
            image_url: ImageUrl { url: url.clone() },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_parts_match_the_library_parts() {
        let attachments = vec![
            Attachment::Text {
                path: "src/a.rs".into(),
                text: "fn a() {}\n".into(),
            },
            Attachment::Pdf {
                path: "doc.pdf".into(),
                filename: "doc.pdf".into(),
                data_url: "data:application/pdf;base64,JVBERi0=".into(),
                bytes: 5,
            },
            Attachment::Image {
                source: "https://x/a.png".into(),
                url: "https://x/a.png".into(),
                mime: None,
            },
        ];
        for a in &attachments {
            assert_eq!(serde_json::to_value(part(a)).unwrap(), a.part());
        }
        let mut messages = vec![
            ChatMessage::new(Role::System, "be brief"),
            ChatMessage::new(Role::User, "review"),
        ];
        attach_to_last_user(&mut messages, &attachments);
        let wire = serde_json::to_value(&messages[1]).unwrap();
        assert_eq!(
            wire["content"],
            serde_json::Value::Array(attach::content_parts("review", &attachments))
        );
        assert_eq!(needs(&attachments), ["image", "file"]);
        assert_eq!(needs_of(&messages), ["image", "file"]);
    }
}
