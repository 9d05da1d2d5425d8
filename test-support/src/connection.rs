//! One client connection: read requests, answer them, until one side closes.

use crate::delivery::{self, After, Exchange};
use crate::plan::Action;
use crate::record::RequestRecord;
use crate::request::{self, HeadError, MAX_BODY};
use crate::server::Shared;
use crate::transport::Transport;

/// Serves connection `id` until it ends.
pub(crate) fn serve(stream: &mut impl Transport, shared: &Shared, id: usize, tls: bool) {
    let mut buffer = Vec::new();
    for index in 0.. {
        // Bytes left over from the last read came with the request before: pipelined.
        let pipelined = index > 0 && !buffer.is_empty();
        let head = match request::read_head(stream, &mut buffer) {
            Ok(head) => head,
            Err(HeadError::Closed) => return,
            Err(HeadError::TooLarge) => return refuse(stream, 431, "request head too large"),
            Err(HeadError::Malformed(why)) => return refuse(stream, 400, why),
        };
        shared.record(RequestRecord::new(
            &head,
            id,
            index,
            tls,
            shared.tick(),
            pipelined,
        ));

        if head.header("transfer-encoding").is_some() {
            return refuse(stream, 501, "request bodies must have a Content-Length");
        }
        if let Some(length) = head.header("content-length") {
            match length.parse::<u64>() {
                Ok(length) if length <= MAX_BODY => {
                    if request::skip_body(stream, &mut buffer, length).is_err() {
                        return;
                    }
                }
                Ok(_) => return refuse(stream, 413, "request body too large"),
                Err(_) => return refuse(stream, 400, "bad Content-Length"),
            }
        }

        let response = match shared.planner.plan(&head, id, index) {
            Action::Respond(response) => response,
            Action::Stall => return stream.wait_for_close(),
        };
        let exchange = Exchange {
            head_only: head.method == "HEAD",
            client_closes: head.wants_close(),
            http10: head.version == "HTTP/1.0",
        };
        let mut finishing = || shared.answered(id, index);
        match delivery::send(
            stream,
            &response,
            exchange,
            &shared.stopping,
            &mut finishing,
            &shared.body_sent,
        ) {
            Ok(After::KeepAlive) => {}
            Ok(After::Close) => return stream.finish(),
            Ok(After::Drop) => return stream.cut(),
            Ok(After::Stall) => return stream.wait_for_close(),
            Err(_) => return,
        }
    }
}

/// Answers a request the server cannot handle, explaining `why`, and closes.
fn refuse(stream: &mut impl Transport, status: u16, why: &str) {
    if delivery::send_error(stream, status, why).is_ok() {
        stream.finish();
    }
}
