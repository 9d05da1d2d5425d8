//! Why a tracker's answer was not usable.

use thiserror::Error;

/// A tracker failure, its own or in its answer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// The tracker said no (`failure reason`, or a UDP error action).
    #[error("tracker failure: {0}")]
    Failure(String),
    /// The response is not bencode.
    #[error("tracker response is not bencode: {0}")]
    Bencode(#[from] swarmget_bencode::Error),
    /// The response is not a dictionary.
    #[error("tracker response is not a dictionary")]
    NotADictionary,
    /// A field has the wrong type or size.
    #[error("tracker response field `{0}` is malformed")]
    Malformed(&'static str),
    /// A UDP packet too short for its action, or with an unknown action.
    #[error("malformed UDP tracker packet: {0}")]
    BadPacket(&'static str),
    /// Every retransmission went unanswered (BEP 15).
    #[error("UDP tracker did not answer after {0} retransmissions")]
    Timeout(u32),
}
