//! The payload every queue carries: a chunk id. The ledger holds everything else, so a
//! payload is tiny, never changes shape, and a stale one is harmless (the claim checks
//! the ledger).

use serde::{Deserialize, Serialize};

/// A chunk to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkTask {
    /// `orgpool.chunks.id`.
    pub chunk_id: i64,
}

/// Whether raw payload bytes decode as a [`ChunkTask`] (what the worker's codec will do),
/// with the decoder's message when they do not.
pub fn check_payload(raw: &[u8]) -> Result<ChunkTask, String> {
    serde_json::from_slice(raw).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_decode_or_say_why() {
        assert_eq!(
            check_payload(br#"{"chunk_id":7}"#).unwrap(),
            ChunkTask { chunk_id: 7 }
        );
        assert!(check_payload(b"\x00garbage").is_err());
        assert!(
            check_payload(br#"{"chunk":"x"}"#)
                .unwrap_err()
                .contains("chunk_id")
        );
    }
}
