//! Counts CSV records in a byte stream without parsing it, so a Bulk results page can be
//! checked against `Sforce-NumberOfRecords` while it streams, and finds where the header
//! row ends so later pages can drop theirs. A record ends at a line feed outside quotes;
//! a doubled quote inside a quoted value toggles twice, which keeps the state right.

/// Streaming record counter.
#[derive(Debug, Clone, Default)]
pub struct RecordScanner {
    in_quotes: bool,
    complete: u64,
    partial: bool,
}

impl RecordScanner {
    /// Scans `chunk`; returns the offset just past the first record's line feed when the
    /// first record (the header) ends inside this chunk.
    pub fn scan(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut header_end = None;
        let mut last = 0usize;
        for i in memchr::memchr2_iter(b'"', b'\n', chunk) {
            if chunk[i] == b'"' {
                self.in_quotes = !self.in_quotes;
            } else if !self.in_quotes {
                if self.complete == 0 {
                    header_end = Some(i + 1);
                }
                self.complete += 1;
                last = i + 1;
                self.partial = false;
            }
        }
        if chunk.len() > last {
            // Bytes after the last line feed start (or continue) a record.
            self.partial = true;
        }
        header_end
    }

    /// Records seen, counting an unterminated last one.
    pub fn records(&self) -> u64 {
        self.complete + u64::from(self.partial)
    }

    /// Whether the scan ended inside a quoted value (a truncated body).
    pub fn in_quotes(&self) -> bool {
        self.in_quotes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(parts: &[&str]) -> (u64, Vec<Option<usize>>) {
        let mut s = RecordScanner::default();
        let ends = parts.iter().map(|p| s.scan(p.as_bytes())).collect();
        (s.records(), ends)
    }

    #[test]
    fn counts_records_across_chunks_and_quotes() {
        assert_eq!(count(&["\"Id\",\"Name\"\n\"1\",\"a\"\n"]).0, 2);
        // A quoted line feed and doubled quotes do not end a record.
        assert_eq!(
            count(&["\"Id\",\"N\"\n\"1\",\"a\nb \"\"q\"\"\"\n\"2\",\"c\"\n"]).0,
            3
        );
        // Split inside a quoted value and inside a doubled quote.
        let (n, ends) = count(&["\"Id\",\"N\"\n\"1\",\"x\"", "\"y\n\"\n", "\"2\",\"z\""]);
        assert_eq!(n, 3, "the last record has no line feed");
        assert_eq!(ends, vec![Some(9), None, None]);
        assert_eq!(count(&[]).0, 0);
        // The header ends in the second chunk.
        let (_, ends) = count(&["\"I", "d\"\n\"1\"\n"]);
        assert_eq!(ends, vec![None, Some(3)]);
    }
}
