//! Wire types for the OpenRouter API, named as in its docs. Every response field that real traffic
//! sometimes omits is optional, and unknown fields are ignored.

use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

// A chat message role. (Plain comments: doc comments would land in every tool's schema.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

// One chat message: text, or content parts (text, image_url, file) once attachments join it. The
// tools' `messages` argument is published as {role, content: string}.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct ChatMessage {
    pub role: Role,
    #[schemars(with = "String")]
    pub content: MessageContent,
}

impl ChatMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: MessageContent::Text(content.into()),
        }
    }

    /// A message made of content parts.
    pub fn with_parts(role: Role, parts: Vec<ContentPart>) -> Self {
        Self {
            role,
            content: MessageContent::Parts(parts),
        }
    }

    /// The message's text: the content, or its text parts joined by newlines.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        self.content.text()
    }

    /// Bytes of text in the message (the text parts only).
    pub fn text_len(&self) -> usize {
        match &self.content {
            MessageContent::Text(text) => text.len(),
            MessageContent::Parts(parts) => {
                parts.iter().map(|p| p.text().map_or(0, str::len)).sum()
            }
        }
    }
}

/// A message's content: a string, or a list of parts (serialized untagged, as the API takes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The text, or the text parts joined by newlines.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Text(text) => std::borrow::Cow::Borrowed(text),
            Self::Parts(parts) => {
                let texts: Vec<&str> = parts.iter().filter_map(ContentPart::text).collect();
                std::borrow::Cow::Owned(texts.join("\n"))
            }
        }
    }
}

impl From<String> for MessageContent {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl PartialEq<&str> for MessageContent {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Self::Text(text) if text == other)
    }
}

/// A string or a list of parts; anything else is refused as "expected a string", the usual case.
impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = MessageContent;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(MessageContent::Text(text))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                let parts = Vec::<ContentPart>::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(seq),
                )?;
                Ok(MessageContent::Parts(parts))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One content part, as OpenRouter takes it: text, an image (`https://` or `data:` URL), a PDF.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
    File { file: FileData },
}

impl ContentPart {
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text { text } => Some(text),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
}

/// A file part: its name and a `data:` URL of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileData {
    pub filename: String,
    pub file_data: String,
}

/// The body of `POST /chat/completions`. `max_tokens` is always explicit: without it OpenRouter's
/// credit pre-check assumes the model's maximum output and may answer 402.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChatRequest {
    pub model: String,
    /// OpenRouter-native fallback: the whole chain, tried in order by OpenRouter itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    pub stream: bool,
    /// `{effort | max_tokens, exclude, enabled}`: how much the model reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<serde_json::Value>,
    /// Structured output: `{type: "json_schema", json_schema: {name, strict, schema}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<serde_json::Value>,
    /// Provider routing preferences (`order`, `only`, `sort`, `require_parameters`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Token counts and the charged cost, as OpenRouter reports them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    /// USD credits charged; absent on some old responses.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Where the reasoning tokens (part of `completion_tokens`) are reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

/// The breakdown of `completion_tokens`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    /// The completion tokens spent reasoning, when upstream reports them.
    pub fn reasoning_tokens(&self) -> Option<u64> {
        self.completion_tokens_details.as_ref()?.reasoning_tokens
    }
}

/// A non-streamed completion or one streamed chunk: both share this shape.
#[derive(Debug, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// A mid-stream failure: HTTP stayed 200, the error rides in a chunk.
    #[serde(default)]
    pub error: Option<ApiErrorDetail>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub message: Option<Content>,
    #[serde(default)]
    pub delta: Option<Content>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Content {
    #[serde(default)]
    pub content: Option<String>,
}

/// `{"error": {...}}` as OpenRouter sends it on failures.
#[derive(Debug, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

/// `code` is usually the HTTP status as a number, sometimes a string, sometimes missing.
#[derive(Debug, Deserialize)]
pub struct ApiErrorDetail {
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    /// The request parameter an OpenAI-compatible server refused (`"max_tokens"`).
    #[serde(default)]
    pub param: Option<String>,
}

/// The `GET /models` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelsResponse {
    pub data: Vec<ApiModel>,
}

/// One catalog entry as the API sends it (only the fields the switchboard uses). Only `id` is
/// required, so an OpenAI-shaped entry is a valid one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiModel {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_slug: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub context_length: Option<u64>,
    #[serde(default)]
    pub architecture: Option<Architecture>,
    /// Absent from an OpenAI-shaped list (`{id, object, created, owned_by}`, what gateways such
    /// as LiteLLM or vLLM serve): every price of such a model is unknown, never 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<ApiPricing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_provider: Option<TopProvider>,
    #[serde(default)]
    pub supported_parameters: Vec<String>,
    /// How the model reasons (`mandatory`, `supported_efforts`, ...); absent for models that do
    /// not, and in older catalogs. Kept as sent: one odd entry must not fail the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<serde_json::Value>,
    /// LiteLLM's `/models` names the limits of the models it knows (no prices): the context
    /// window and the longest answer, in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Architecture {
    #[serde(default)]
    pub input_modalities: Vec<String>,
    #[serde(default)]
    pub output_modalities: Vec<String>,
}

/// Prices are decimal strings in USD per token; a missing key means 0.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiPricing {
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub completion: Option<String>,
    // Fees besides the token prices (USD per request, per search, per image, per token), kept in
    // the saved catalog: a budget's worst case counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_read: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_cache_write: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TopProvider {
    #[serde(default)]
    pub context_length: Option<u64>,
    #[serde(default)]
    pub max_completion_tokens: Option<u64>,
}

/// The `GET /key` response: what the key may spend and has spent, in USD.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyResponse {
    pub data: KeyInfo,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyInfo {
    #[serde(default)]
    pub limit: Option<f64>,
    #[serde(default)]
    pub limit_remaining: Option<f64>,
    #[serde(default)]
    pub usage: Option<f64>,
    #[serde(default)]
    pub is_free_tier: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_skips_absent_sampling_parameters() {
        let request = ChatRequest {
            model: "openai/gpt-5-mini".into(),
            models: None,
            messages: vec![ChatMessage::new(Role::User, "hi")],
            max_tokens: 16,
            temperature: None,
            stream: true,
            ..ChatRequest::default()
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}],
                               "max_tokens": 16, "stream": true})
        );
    }

    #[test]
    fn content_parts_round_trip_and_text_stays_a_string() {
        let text = ChatMessage::new(Role::User, "hi");
        assert_eq!(
            serde_json::to_value(&text).unwrap(),
            serde_json::json!({"role": "user", "content": "hi"})
        );
        let parts = ChatMessage::with_parts(
            Role::User,
            vec![
                ContentPart::Text {
                    text: "look".into(),
                },
                ContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url: "https://x/a.png".into(),
                    },
                },
                ContentPart::File {
                    file: FileData {
                        filename: "a.pdf".into(),
                        file_data: "data:application/pdf;base64,JVBE".into(),
                    },
                },
            ],
        );
        let json = serde_json::to_value(&parts).unwrap();
        assert_eq!(
            json["content"][1],
            serde_json::json!({"type": "image_url", "image_url": {"url": "https://x/a.png"}})
        );
        assert_eq!(json["content"][2]["file"]["filename"], "a.pdf");
        let back: ChatMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, parts);
        assert_eq!(back.text(), "look");
        let wrong = serde_json::from_value::<ChatMessage>(
            serde_json::json!({"role": "user", "content": 5}),
        );
        assert!(wrong.unwrap_err().to_string().contains("expected a string"));
    }

    #[test]
    fn an_openai_shaped_model_list_decodes_with_no_prices() {
        let body = r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1677610602,"owned_by":"openai"}]}"#;
        let list: ModelsResponse = serde_json::from_str(body).unwrap();
        assert_eq!(list.data[0].id, "gpt-4o-mini");
        assert!(list.data[0].pricing.is_none());
        let saved = serde_json::to_value(&list.data[0]).unwrap();
        assert!(saved.get("pricing").is_none(), "saved as unknown, not as 0");
    }

    #[test]
    fn error_code_may_be_a_string_or_missing() {
        let body: ApiErrorBody =
            serde_json::from_str(r#"{"error":{"code":"server_error","message":"x"}}"#).unwrap();
        assert_eq!(body.error.code, Some(serde_json::json!("server_error")));
        let body: ApiErrorBody = serde_json::from_str(r#"{"error":{"message":"y"}}"#).unwrap();
        assert!(body.error.code.is_none());
    }
}
