//! MCP over stdin/stdout. Stdin is read line by line (each line bounded) and every line gets what
//! JSON-RPC promises: a valid message goes to rmcp; an unparsable line gets -32700 with
//! `"id": null`; well-formed JSON that is not a valid message gets -32600 with its id. One task
//! writes stdout, so it carries only whole JSON-RPC lines. Returns when the host closes stdin.

use crate::{App, Switchboard};
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Longest stdin line accepted, in bytes (rmcp's own default).
const MAX_LINE: usize = 16 * 1024 * 1024;
/// How much of an oversized line is read at a time while skipping it.
const SKIP_CHUNK: u64 = 64 * 1024;
/// Messages queued between stdin and rmcp, and between rmcp and stdout.
const QUEUE: usize = 64;
/// How long replies still queued at exit may take to reach stdout.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(5);
const PARSE_ERROR: i32 = -32700;
const INVALID_REQUEST: i32 = -32600;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Serves until stdin reaches EOF (the host went away).
///
/// # Errors
/// When the MCP handshake fails or the transport breaks.
pub async fn serve_stdio(app: Arc<App>) -> anyhow::Result<()> {
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let (to_rmcp, mut for_rmcp) = mpsc::channel::<ClientJsonRpcMessage>(QUEUE);
    let (from_rmcp, rmcp_out) = mpsc::channel::<ServerJsonRpcMessage>(QUEUE);
    let (replies, own_out) = mpsc::channel::<Vec<u8>>(QUEUE);
    let reader = tokio::spawn(read_stdin(stdin, to_rmcp, replies));
    let writer = tokio::spawn(write_stdout(stdout, rmcp_out, own_out));
    let incoming = futures_util::stream::poll_fn(move |cx| for_rmcp.poll_recv(cx));
    let outgoing = tokio_util::sync::PollSender::new(from_rmcp);
    let served = serve(app, outgoing, incoming).await;
    reader.abort();
    let _ = tokio::time::timeout(FLUSH_AT_EXIT, writer).await;
    served
}

async fn serve(
    app: Arc<App>,
    outgoing: tokio_util::sync::PollSender<ServerJsonRpcMessage>,
    incoming: impl futures_util::Stream<Item = ClientJsonRpcMessage> + Send + Unpin + 'static,
) -> anyhow::Result<()> {
    let running = Switchboard::new(app)
        .with_client_roots()
        .serve((outgoing, incoming))
        .await?;
    if let Some(peer) = running.peer().peer_info() {
        let client = &peer.client_info;
        tracing::info!(
            client = %client.name,
            version = %client.version,
            protocol = %peer.protocol_version,
            "serving MCP over stdio"
        );
    }
    running.waiting().await?;
    Ok(())
}

/// What one stdin line calls for.
#[derive(Debug)]
enum Verdict {
    /// A valid message for rmcp.
    Forward(Box<ClientJsonRpcMessage>),
    /// An error reply, written straight to stdout.
    Reply(Vec<u8>),
    /// Nothing: a blank line, or a notification this server does not know (no reply is due).
    Ignore,
}

/// How a bounded line read ended.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Complete,
    TooLong,
    Eof,
}

async fn read_stdin(
    stdin: impl AsyncRead + Unpin,
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    replies: mpsc::Sender<Vec<u8>>,
) {
    let mut stdin = BufReader::new(stdin);
    let mut line = Vec::new();
    loop {
        line.clear();
        let verdict = match read_line(&mut stdin, &mut line).await {
            Ok(Line::Complete) => judge(&line),
            Ok(Line::TooLong) => Verdict::Reply(error_reply(
                Value::Null,
                INVALID_REQUEST,
                &format!("Invalid Request: the line is longer than {MAX_LINE} bytes"),
            )),
            Ok(Line::Eof) => return,
            Err(error) => {
                tracing::warn!(%error, "stdin failed; stopping");
                return;
            }
        };
        let delivered = match verdict {
            Verdict::Forward(message) => to_rmcp.send(*message).await.is_ok(),
            Verdict::Reply(reply) => replies.send(reply).await.is_ok(),
            Verdict::Ignore => true,
        };
        if !delivered {
            return;
        }
    }
}

/// Reads one `\n`-terminated line into `line`, never holding more than [`MAX_LINE`] bytes. An
/// oversized line is skipped to its end. A last line without `\n` at EOF is dropped, as rmcp does.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
    let read = (&mut *reader).take(limit).read_until(b'\n', line).await?;
    if line.ends_with(b"\n") {
        return Ok(Line::Complete);
    }
    if read == 0 || line.len() <= MAX_LINE {
        return Ok(Line::Eof);
    }
    loop {
        line.clear();
        let read = (&mut *reader)
            .take(SKIP_CHUNK)
            .read_until(b'\n', line)
            .await?;
        if read == 0 || line.ends_with(b"\n") {
            return Ok(Line::TooLong);
        }
    }
}

/// Decides what one complete line (with its `\n`) calls for.
fn judge(line: &[u8]) -> Verdict {
    let line = line.strip_prefix(UTF8_BOM).unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Ignore;
    }
    match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        Ok(message) => Verdict::Forward(Box::new(message)),
        Err(error) => judge_invalid(line, &error),
    }
}

/// A line that is not a valid message: unparsable (-32700), or JSON of the wrong shape (-32600,
/// with its id when it has one). A notification of unknown shape gets no reply.
fn judge_invalid(line: &[u8], error: &serde_json::Error) -> Verdict {
    let value = match serde_json::from_slice::<Value>(line) {
        Ok(value) => value,
        Err(parse) => {
            tracing::debug!(error = %parse, "stdin line is not JSON");
            let message = format!("Parse error: {parse}");
            return Verdict::Reply(error_reply(Value::Null, PARSE_ERROR, &message));
        }
    };
    tracing::debug!(%error, "stdin message is not a valid JSON-RPC message");
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned();
    match id {
        Some(id) => Verdict::Reply(error_reply(
            id,
            INVALID_REQUEST,
            &format!("Invalid Request: {error}"),
        )),
        None if value.get("method").is_some() => Verdict::Ignore,
        None => Verdict::Reply(error_reply(
            Value::Null,
            INVALID_REQUEST,
            "Invalid Request: not a JSON-RPC 2.0 message",
        )),
    }
}

fn error_reply(id: Value, code: i32, message: &str) -> Vec<u8> {
    let reply = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    reply.to_string().into_bytes()
}

/// The only writer of stdout: rmcp's messages and this transport's own error replies, one whole
/// line each.
async fn write_stdout(
    mut stdout: impl AsyncWrite + Unpin,
    mut messages: mpsc::Receiver<ServerJsonRpcMessage>,
    mut replies: mpsc::Receiver<Vec<u8>>,
) {
    loop {
        let mut line = tokio::select! {
            Some(message) = messages.recv() => match serde_json::to_vec(&message) {
                Ok(line) => line,
                Err(error) => {
                    tracing::warn!(%error, "could not serialize a reply");
                    continue;
                }
            },
            Some(reply) = replies.recv() => reply,
            else => return,
        };
        line.push(b'\n');
        let written = async {
            stdout.write_all(&line).await?;
            stdout.flush().await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, "stdout failed; stopping");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(verdict: Verdict) -> Value {
        match verdict {
            Verdict::Reply(bytes) => serde_json::from_slice(&bytes).unwrap(),
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn unparsable_lines_get_a_parse_error_with_a_null_id() {
        let deep = format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        for line in [
            &b"garbage\n"[..],
            b"\xff\xfe{\n",
            b"NaN\n",
            b"{\"id\":1,\n",
            deep.as_bytes(),
        ] {
            let answer = reply(judge(line));
            assert_eq!(answer["error"]["code"], PARSE_ERROR, "{answer}");
            assert!(
                answer["id"].is_null() && answer.get("id").is_some(),
                "{answer}"
            );
        }
    }

    #[test]
    fn invalid_requests_get_an_error_with_their_id() {
        let answer = reply(judge(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":42}\n"));
        assert_eq!(answer["id"], 7);
        assert_eq!(answer["error"]["code"], INVALID_REQUEST);
        let answer = reply(judge(
            b"{\"jsonrpc\":\"1.0\",\"id\":\"a\",\"method\":\"ping\"}\n",
        ));
        assert_eq!(answer["id"], "a");
        let answer = reply(judge(b"[1,2]\n"));
        assert!(answer["id"].is_null(), "{answer}");
    }

    #[test]
    fn valid_messages_go_to_rmcp_and_blank_lines_are_ignored() {
        let ping = b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n";
        assert!(matches!(judge(ping), Verdict::Forward(_)));
        assert!(matches!(judge(b"  \r\n"), Verdict::Ignore));
        let unknown = b"{\"jsonrpc\":\"2.0\",\"method\":\"$/unknown\",\"params\":1}\n";
        assert!(matches!(judge(unknown), Verdict::Ignore));
    }

    #[tokio::test]
    async fn an_oversized_line_is_skipped_and_the_next_one_read() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\n{}\n");
        let mut reader = BufReader::new(&input[..]);
        let mut line = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut line).await.unwrap(),
            Line::TooLong
        );
        line.clear();
        assert_eq!(
            read_line(&mut reader, &mut line).await.unwrap(),
            Line::Complete
        );
        assert_eq!(line, b"{}\n");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).await.unwrap(), Line::Eof);
    }
}
