//! The SOQL tokenizer: turns query text into tokens on demand, each with its byte
//! offset, resolving string escapes and date/datetime literals as it goes.

use chrono::{DateTime, NaiveDate, Utc};

use super::dates::{parse_date, parse_datetime};
use super::error::ParseError;

/// A reserved word, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Select,
    From,
    Where,
    And,
    Or,
    Not,
    In,
    Like,
    Includes,
    Excludes,
    Order,
    By,
    Asc,
    Desc,
    Nulls,
    First,
    Last,
    Limit,
    Offset,
    Null,
    True,
    False,
    Count,
}

impl Keyword {
    const ALL: [(&'static str, Keyword); 23] = [
        ("SELECT", Keyword::Select),
        ("FROM", Keyword::From),
        ("WHERE", Keyword::Where),
        ("AND", Keyword::And),
        ("OR", Keyword::Or),
        ("NOT", Keyword::Not),
        ("IN", Keyword::In),
        ("LIKE", Keyword::Like),
        ("INCLUDES", Keyword::Includes),
        ("EXCLUDES", Keyword::Excludes),
        ("ORDER", Keyword::Order),
        ("BY", Keyword::By),
        ("ASC", Keyword::Asc),
        ("DESC", Keyword::Desc),
        ("NULLS", Keyword::Nulls),
        ("FIRST", Keyword::First),
        ("LAST", Keyword::Last),
        ("LIMIT", Keyword::Limit),
        ("OFFSET", Keyword::Offset),
        ("NULL", Keyword::Null),
        ("TRUE", Keyword::True),
        ("FALSE", Keyword::False),
        ("COUNT", Keyword::Count),
    ];

    /// The keyword spelled by `word`, in any case.
    pub(crate) fn lookup(word: &str) -> Option<Keyword> {
        Self::ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, kw)| kw)
    }
}

/// What a token is; its text and position live in [`Token`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Keyword(Keyword),
    /// A name; relative date literals such as `TODAY` are names too, and only the
    /// parser (in value position) gives them meaning.
    Ident,
    /// A single-quoted string, escapes resolved.
    String(String),
    /// A number; its text is the token's text.
    Number,
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Comma,
    LParen,
    RParen,
    Dot,
    Colon,
    Eof,
}

/// One token: its kind, the source text it covers and where that starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    pub offset: usize,
}

impl Token<'_> {
    /// The token as error messages quote it: `'text'`, or `<EOF>`.
    pub(crate) fn describe(&self) -> String {
        match self.kind {
            TokenKind::Eof => "<EOF>".to_string(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// Produces tokens one at a time, so that a parse error earlier in the text is
/// reported before a lexical error later in it.
pub(crate) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.text[self.pos..].chars().nth(1)
    }

    fn err(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.text, offset, message)
    }

    /// The next token; `Eof` (repeatedly) at the end of the text.
    pub(crate) fn next_token(&mut self) -> Result<Token<'a>, ParseError> {
        while self.peek_char().is_some_and(char::is_whitespace) {
            self.bump_char();
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(self.token(TokenKind::Eof, start));
        };
        let kind = match c {
            'a'..='z' | 'A'..='Z' => self.word(start),
            '0'..='9' => self.number_or_date(start)?,
            '+' | '-' if self.peek_second().is_some_and(|d| d.is_ascii_digit()) => {
                self.pos += 1;
                self.number()
            }
            '\'' => self.string(start)?,
            '"' => {
                return Err(self.err(
                    start,
                    "unexpected token: '\"' (SOQL strings use single quotes)",
                ));
            }
            _ => self.operator(start)?,
        };
        Ok(self.token(kind, start))
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token<'a> {
        Token {
            kind,
            text: &self.text[start..self.pos],
            offset: start,
        }
    }

    fn bump_char(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat_while(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek_char().is_some_and(&pred) {
            self.bump_char();
        }
    }

    fn word(&mut self, start: usize) -> TokenKind {
        self.eat_while(|c| c.is_ascii_alphanumeric() || c == '_');
        match Keyword::lookup(&self.text[start..self.pos]) {
            Some(kw) => TokenKind::Keyword(kw),
            None => TokenKind::Ident,
        }
    }

    /// Digits, then an optional `.digits` fraction; the sign (if any) is consumed.
    fn number(&mut self) -> TokenKind {
        self.eat_while(|c| c.is_ascii_digit());
        if self.peek_char() == Some('.') && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.eat_while(|c| c.is_ascii_digit());
        }
        TokenKind::Number
    }

    /// `dddd-` followed by a digit starts a date or datetime; anything else is a number.
    fn number_or_date(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        let rest = &self.text.as_bytes()[start..];
        let looks_like_date = rest.len() > 5
            && rest[..4].iter().all(u8::is_ascii_digit)
            && rest[4] == b'-'
            && rest[5].is_ascii_digit();
        if !looks_like_date {
            return Ok(self.number());
        }
        // Take the whole run a datetime could span, then check its shape strictly.
        self.eat_while(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | '+' | 'T' | 'Z'));
        let raw = &self.text[start..self.pos];
        if raw.len() == 10 {
            return parse_date(raw)
                .map(TokenKind::Date)
                .ok_or_else(|| self.err(start, format!("invalid date: '{raw}'")));
        }
        parse_datetime(raw)
            .map(TokenKind::DateTime)
            .ok_or_else(|| self.err(start, format!("invalid datetime: '{raw}'")))
    }

    fn string(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        self.pos += 1; // opening quote
        let mut value = String::new();
        loop {
            let Some(c) = self.bump_char() else {
                return Err(self.err(start, "unterminated string literal"));
            };
            match c {
                '\'' => return Ok(TokenKind::String(value)),
                '\\' => {
                    let escape_at = self.pos - 1;
                    let Some(e) = self.bump_char() else {
                        return Err(self.err(start, "unterminated string literal"));
                    };
                    match e {
                        '\'' | '"' | '\\' => value.push(e),
                        'n' | 'N' => value.push('\n'),
                        'r' | 'R' => value.push('\r'),
                        't' | 'T' => value.push('\t'),
                        'b' | 'B' => value.push('\u{8}'),
                        'f' | 'F' => value.push('\u{c}'),
                        // Kept escaped so LIKE can tell a literal `_`/`%` from a wildcard.
                        '_' | '%' => {
                            value.push('\\');
                            value.push(e);
                        }
                        _ => {
                            return Err(
                                self.err(escape_at, format!("invalid escape sequence: '\\{e}'"))
                            );
                        }
                    }
                }
                _ => value.push(c),
            }
        }
    }

    fn operator(&mut self, start: usize) -> Result<TokenKind, ParseError> {
        let two = self.text[start..].get(..2);
        let (kind, len) = match two {
            Some("!=") | Some("<>") => (TokenKind::Ne, 2),
            Some("<=") => (TokenKind::Le, 2),
            Some(">=") => (TokenKind::Ge, 2),
            _ => match self.peek_char() {
                Some('=') => (TokenKind::Eq, 1),
                Some('<') => (TokenKind::Lt, 1),
                Some('>') => (TokenKind::Gt, 1),
                Some(',') => (TokenKind::Comma, 1),
                Some('(') => (TokenKind::LParen, 1),
                Some(')') => (TokenKind::RParen, 1),
                Some('.') => (TokenKind::Dot, 1),
                Some(':') => (TokenKind::Colon, 1),
                other => {
                    let shown = other.map(String::from).unwrap_or_default();
                    return Err(self.err(start, format!("unexpected character: '{shown}'")));
                }
            },
        };
        self.pos += len;
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Result<Vec<TokenKind>, ParseError> {
        let mut lexer = Lexer::new(text);
        let mut out = Vec::new();
        loop {
            let tok = lexer.next_token()?;
            if tok.kind == TokenKind::Eof {
                return Ok(out);
            }
            out.push(tok.kind);
        }
    }

    #[test]
    fn operators_and_keywords() {
        assert_eq!(
            kinds("select <> != <= >= < > = , ( ) . : nulls Last__c").ok(),
            Some(vec![
                TokenKind::Keyword(Keyword::Select),
                TokenKind::Ne,
                TokenKind::Ne,
                TokenKind::Le,
                TokenKind::Ge,
                TokenKind::Lt,
                TokenKind::Gt,
                TokenKind::Eq,
                TokenKind::Comma,
                TokenKind::LParen,
                TokenKind::RParen,
                TokenKind::Dot,
                TokenKind::Colon,
                TokenKind::Keyword(Keyword::Nulls),
                TokenKind::Ident,
            ])
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            kinds(r#"'a\'b\"c\\d\ne\Rf\tg\bh\Fi\_j\%k'"#).ok(),
            Some(vec![TokenKind::String(
                "a'b\"c\\d\ne\rf\tg\u{8}h\u{c}i\\_j\\%k".into()
            )])
        );
        let err = kinds(r"'a\qb'").err();
        assert_eq!(
            err.map(|e| (e.message, e.column)),
            Some(("invalid escape sequence: '\\q'".into(), 3))
        );
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(
            kinds("-3.5 +7 1234 2024-02-29").ok(),
            Some(vec![
                TokenKind::Number,
                TokenKind::Number,
                TokenKind::Number,
                TokenKind::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default()),
            ])
        );
        assert!(kinds("2023-02-29").is_err());
        assert!(kinds("2024-5-20").is_err());
    }
}
