//! SOQL parse errors and the positional message format Salesforce puts in its
//! `MALFORMED_QUERY` / `INVALID_FIELD` bodies (offending line, caret, row and column).

use thiserror::Error;

/// Why a query text is not valid SOQL, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} (row {row}, column {column})")]
pub struct ParseError {
    /// What is wrong, in Salesforce's wording where it has one
    /// (`unexpected token: 'SELEKT'`, `unexpected token: <EOF>`).
    pub message: String,
    /// Byte offset into the query text where the problem starts.
    pub offset: usize,
    /// 1-based line of `offset`.
    pub row: usize,
    /// 1-based column of `offset`, counted in characters.
    pub column: usize,
}

impl ParseError {
    /// An error at byte `offset` of `text`; row and column are derived from the text.
    pub fn new(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let pos = Position::of(text, offset);
        Self {
            message: message.into(),
            offset: pos.offset,
            row: pos.row,
            column: pos.column,
        }
    }

    /// The error as Salesforce's body shows it: the offending line, a caret under
    /// the column, `ERROR at Row:r:Column:c`, then the message.
    pub fn salesforce_message(&self, text: &str) -> String {
        caret_message(text, self.offset, &self.message)
    }

    /// The Salesforce error code for a query that does not parse.
    pub fn error_code(&self) -> &'static str {
        "MALFORMED_QUERY"
    }
}

/// Salesforce's positional error body for `message` at byte `offset` of `text`:
/// `"\n" + line + "\n" + spaces + "^" + "\nERROR at Row:r:Column:c\n" + message`.
/// Evaluators reuse it for field errors; any offset is accepted (clamped to the text).
pub fn caret_message(text: &str, offset: usize, message: &str) -> String {
    let pos = Position::of(text, offset);
    let line = text[pos.line_start..]
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    format!(
        "\n{line}\n{pad}^\nERROR at Row:{row}:Column:{column}\n{message}",
        pad = " ".repeat(pos.column.saturating_sub(1)),
        row = pos.row,
        column = pos.column,
    )
}

/// Row and column of a byte offset, plus where its line starts.
struct Position {
    offset: usize,
    line_start: usize,
    row: usize,
    column: usize,
}

impl Position {
    fn of(text: &str, offset: usize) -> Self {
        // Clamp to the text and back onto a char boundary so no offset can panic.
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            offset,
            line_start,
            row: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_message_matches_salesforce_layout() {
        let text = "SELECT Bacon__c FROM Account LIMIT 2";
        assert_eq!(
            caret_message(text, 7, "No such column 'Bacon__c' on entity 'Account'."),
            "\nSELECT Bacon__c FROM Account LIMIT 2\n       ^\nERROR at Row:1:Column:8\n\
             No such column 'Bacon__c' on entity 'Account'."
        );
    }

    #[test]
    fn position_on_later_line_counts_chars() {
        let text = "SELECT Id\r\nFROM Account\nWHERE Name = 'é' AND x";
        let offset = text.find("x").unwrap_or_default();
        let err = ParseError::new(text, offset, "boom");
        assert_eq!((err.row, err.column), (3, 22));
        assert_eq!(
            err.salesforce_message(text),
            format!(
                "\nWHERE Name = 'é' AND x\n{}^\nERROR at Row:3:Column:22\nboom",
                " ".repeat(21)
            )
        );
        assert_eq!(err.error_code(), "MALFORMED_QUERY");
    }

    #[test]
    fn out_of_range_and_mid_char_offsets_are_clamped() {
        let text = "é\né";
        assert_eq!(ParseError::new(text, 1, "m").offset, 0);
        let err = ParseError::new(text, 999, "m");
        assert_eq!((err.offset, err.row, err.column), (text.len(), 2, 2));
        assert!(caret_message("", 5, "m").contains("Row:1:Column:1"));
        assert!(caret_message("a\r\n", 2, "m").starts_with("\na\n"));
    }
}
