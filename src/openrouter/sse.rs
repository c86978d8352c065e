//! Server-sent events framing: splits a byte stream into `data:` payloads, skipping the
//! `: OPENROUTER PROCESSING` comment lines OpenRouter sends as keep-alives. Linear in the bytes
//! fed, and bounded: one event may not grow past a limit, however the stream is cut.

/// Incremental SSE decoder; feed it bytes as they arrive.
#[derive(Debug)]
pub struct SseDecoder {
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no line end.
    scanned: usize,
    data: String,
    max_event: usize,
}

/// One event (or one line) grew past the decoder's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversized;

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

impl SseDecoder {
    /// A decoder that refuses an event larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Self {
        Self {
            buffer: Vec::new(),
            scanned: 0,
            data: String::new(),
            max_event,
        }
    }

    /// Consumes `bytes` and returns every event payload completed by them.
    ///
    /// # Errors
    /// [`Oversized`] when the event being read passes the limit.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, Oversized> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(offset) = self.buffer[self.scanned..].iter().position(|&b| b == b'\n') {
            let end = self.scanned + offset;
            let line = String::from_utf8_lossy(&self.buffer[start..end]).into_owned();
            start = end + 1;
            self.scanned = start;
            if let Some(event) = self.line(line.trim_end_matches('\r')) {
                events.push(event);
            }
            self.check(self.buffer.len() - start)?;
        }
        self.buffer.drain(..start);
        self.scanned = self.buffer.len();
        self.check(self.buffer.len())?;
        Ok(events)
    }

    /// Fails when the event being read (its data so far and the unread line) is past the limit.
    fn check(&self, unread: usize) -> Result<(), Oversized> {
        if self.data.len().saturating_add(unread) > self.max_event {
            return Err(Oversized);
        }
        Ok(())
    }

    /// Returns the payload still pending when the stream ends without a blank line.
    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buffer)).into_owned();
        self.scanned = 0;
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
        assert!(
            decoder
                .feed(b": OPENROUTER PROCESSING\n\nda")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            decoder
                .feed(b"ta: {\"a\":1}\r\n\r\ndata: [DONE]\n\n")
                .unwrap(),
            vec!["{\"a\":1}", "[DONE]"]
        );
    }

    #[test]
    fn flushes_a_final_event_without_blank_line() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.feed(b"data: x").unwrap().is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("x"));
    }

    #[test]
    fn a_line_split_over_many_reads_is_joined_once() {
        let mut decoder = SseDecoder::default();
        for piece in [&b"data: ab"[..], b"cd", b"ef\n", b"\n"] {
            let events = decoder.feed(piece).unwrap();
            if piece == b"\n" {
                assert_eq!(events, vec!["abcdef"]);
            }
        }
    }

    #[test]
    fn refuses_an_event_past_the_limit_with_or_without_line_ends() {
        let mut decoder = SseDecoder::new(16);
        assert_eq!(decoder.feed(&[b'x'; 17]), Err(Oversized));
        let mut decoder = SseDecoder::new(16);
        assert!(decoder.feed(b"data: 0123456789\n").is_ok());
        assert_eq!(decoder.feed(b"data: 0123456789\n"), Err(Oversized));
    }
}
