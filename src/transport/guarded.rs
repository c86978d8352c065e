//! A response body that keeps a guard alive for as long as the body is being sent: a stream slot,
//! a connection marked busy. Dropping the body (the reply ended, or the client went away) drops it.

use axum::body::{Body, HttpBody};
use bytes::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(super) struct Guarded<G> {
    body: Body,
    _guard: G,
}

impl<G: Send + Unpin + 'static> Guarded<G> {
    /// `body`, holding `guard` until it is dropped.
    pub(super) fn wrap(body: Body, guard: G) -> Body {
        Body::new(Self {
            body,
            _guard: guard,
        })
    }
}

impl<G: Unpin> HttpBody for Guarded<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
