//! Server-sent events framing: splits a byte stream into `data:` payloads, skipping the
//! `: OPENROUTER PROCESSING` comment lines OpenRouter sends as keep-alives.

/// Incremental SSE decoder; feed it bytes as they arrive.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buffer: Vec<u8>,
    data: String,
}

impl SseDecoder {
    /// Consumes `bytes` and returns every event payload completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(event) = self.line(line) {
                events.push(event);
            }
        }
        events
    }

    /// Returns the payload still pending when the stream ends without a blank line.
    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
        if !rest.trim().is_empty() {
            self.line(rest.trim_end_matches('\r'));
        }
        (!self.data.is_empty()).then(|| std::mem::take(&mut self.data))
    }

    fn line(&mut self, line: &str) -> Option<String> {
        if line.is_empty() {
            return (!self.data.is_empty()).then(|| std::mem::take(&mut self.data));
        }
        if line.starts_with(':') {
            return None;
        }
        if let Some(value) = line.strip_prefix("data:") {
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(value.strip_prefix(' ').unwrap_or(value));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_comments_and_joins_split_reads() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.feed(b": OPENROUTER PROCESSING\n\nda").is_empty());
        assert_eq!(
            decoder.feed(b"ta: {\"a\":1}\r\n\r\ndata: [DONE]\n\n"),
            vec!["{\"a\":1}", "[DONE]"]
        );
    }

    #[test]
    fn flushes_a_final_event_without_blank_line() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.feed(b"data: x").is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("x"));
    }
}
