//! Server-sent events on top of the `sse-stream` crate (rmcp's own SSE parser), which parses the
//! fields, joins `data:` lines into one payload, dispatches on blank lines and skips the
//! `: OPENROUTER PROCESSING` comments OpenRouter sends as keep-alives. This file only cuts the bytes
//! into lines first (at LF, CRLF or a bare CR, also when a CRLF is split between reads) and hands
//! each over on its own: that keeps one event bounded (the crate buffers without a limit), a
//! malformed line from costing more than itself, and text that is not UTF-8 (kept as U+FFFD).
//! Linear in the bytes fed.

use bytes::Bytes;
use futures_util::Stream;
use sse_stream::{ByteStreamBody, SseStream};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Incremental SSE decoder; feed it bytes as they arrive.
pub struct SseDecoder {
    /// The line being read, without its line end.
    line: Vec<u8>,
    /// The last line ended with a CR at the end of the bytes fed: an LF that starts the next bytes
    /// belongs to it.
    after_cr: bool,
    /// Bytes in the lines of the event being read so far.
    event: usize,
    max_event: usize,
    /// Complete lines, waiting for the parser.
    inbox: Inbox,
    parser: Pin<Box<SseStream<ByteStreamBody<Inbox, Bytes>>>>,
}

impl std::fmt::Debug for SseDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseDecoder")
            .field("line", &self.line.len())
            .field("event", &self.event)
            .field("max_event", &self.max_event)
            .finish_non_exhaustive()
    }
}

/// One event (or one line) grew past the decoder's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversized;

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

/// The lines handed to the parser: a byte stream that is never done, only drained.
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<VecDeque<Bytes>>>);

impl Stream for Inbox {
    type Item = Result<Bytes, Infallible>;

    /// Polled only from `SseDecoder::push`, synchronously: `Pending` just means "empty now".
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.0.lock().map(|mut q| q.pop_front()).unwrap_or(None);
        next.map_or(Poll::Pending, |bytes| Poll::Ready(Some(Ok(bytes))))
    }
}

impl SseDecoder {
    /// A decoder that refuses an event larger than `max_event` bytes.
    pub fn new(max_event: usize) -> Self {
        let inbox = Inbox::default();
        Self {
            line: Vec::new(),
            after_cr: false,
            event: 0,
            max_event,
            parser: Box::pin(SseStream::from_bytes_stream(inbox.clone())),
            inbox,
        }
    }

    /// Consumes `bytes` and returns every event payload completed by them.
    ///
    /// # Errors
    /// [`Oversized`] when the event being read passes the limit.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<Vec<String>, Oversized> {
        let mut events = Vec::new();
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&bytes[..end]);
            let cr = bytes[end] == b'\r';
            let crlf = cr && bytes.get(end + 1) == Some(&b'\n');
            self.after_cr = cr && end + 1 == bytes.len();
            bytes = &bytes[end + 1 + usize::from(crlf)..];
            self.complete(&mut events)?;
        }
        self.line.extend_from_slice(bytes);
        self.check()?;
        Ok(events)
    }

    /// Returns the payload still pending when the stream ends without a blank line.
    pub fn finish(&mut self) -> Option<String> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            let _ = self.complete(&mut events);
        }
        self.push(Bytes::from_static(b"\n"), &mut events);
        events.pop()
    }

    /// Fails when the event being read (its lines so far and the unread line) is past the limit.
    fn check(&self) -> Result<(), Oversized> {
        if self.event.saturating_add(self.line.len()) > self.max_event {
            return Err(Oversized);
        }
        Ok(())
    }

    /// Hands the line read so far to the parser, ended by LF whatever ended it (LF, CRLF or a bare
    /// CR). Text that is not UTF-8 is kept (as U+FFFD), not dropped with its line.
    fn complete(&mut self, events: &mut Vec<String>) -> Result<(), Oversized> {
        self.check()?;
        let blank = self.line.is_empty();
        self.event = if blank {
            0
        } else {
            self.event + self.line.len()
        };
        let mut text = String::from_utf8_lossy(&self.line).into_owned();
        text.push('\n');
        self.line.clear();
        self.push(Bytes::from(text), events);
        Ok(())
    }

    /// Parses one line; collects the data of any event it completes.
    fn push(&mut self, line: Bytes, events: &mut Vec<String>) {
        if let Ok(mut inbox) = self.inbox.0.lock() {
            inbox.push_back(line);
        }
        let mut context = Context::from_waker(Waker::noop());
        loop {
            match self.parser.as_mut().poll_next(&mut context) {
                Poll::Ready(Some(Ok(event))) => {
                    events.extend(event.data.filter(|data| !data.is_empty()));
                }
                // A malformed line (an unknown field, a line without `:`) is skipped alone.
                Poll::Ready(Some(Err(error))) => tracing::debug!(%error, "skipped an SSE line"),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
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

    #[test]
    fn bare_cr_and_crlf_end_lines_even_when_split_between_reads() {
        let mut decoder = SseDecoder::default();
        assert_eq!(
            decoder
                .feed(b"data: a\rdata: b\r\rdata: c\r\n\r\n")
                .unwrap(),
            vec!["a\nb", "c"]
        );
        // A CR at the end of one read, its LF at the start of the next: one line end.
        assert!(decoder.feed(b"data: d\r").unwrap().is_empty());
        assert!(decoder.feed(b"\ndata: e\r").unwrap().is_empty());
        assert_eq!(decoder.feed(b"\r").unwrap(), vec!["d\ne"]);
        // A bare CR at the end of the stream still ends the event.
        assert!(decoder.feed(b"data: f\r").unwrap().is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("f"));
    }

    #[test]
    fn keep_alive_comments_yield_nothing_and_never_count_against_the_limit() {
        let mut decoder = SseDecoder::new(64);
        for _ in 0..1000 {
            assert!(
                decoder
                    .feed(b": OPENROUTER PROCESSING\n\n")
                    .unwrap()
                    .is_empty()
            );
        }
        // Comments inside an event are skipped too.
        assert_eq!(
            decoder
                .feed(b"data: {\"a\":1}\n: OPENROUTER PROCESSING\ndata: 2\n\n")
                .unwrap(),
            vec!["{\"a\":1}\n2"]
        );
    }

    #[test]
    fn a_malformed_line_is_skipped_alone() {
        let mut decoder = SseDecoder::default();
        let events = decoder
            .feed(b"data: 1\nnonsense\nbogus: x\ndata: 2\n\ndata: \xff3\n\n")
            .unwrap();
        assert_eq!(events, vec!["1\n2", "\u{fffd}3"]);
    }
}
