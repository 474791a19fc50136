//! Reading the hstore text the capture writes into `old` and `values`
//! (`"name"=>"Acme", "amount"=>NULL`), the form Heroku Connect's log uses, without the
//! hstore extension. Keys and values are double-quoted with `\"` and `\\` escaped; an
//! unquoted `NULL` is SQL null.

/// The text is not hstore as the capture writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not hstore text at byte {at}: {problem}")]
pub struct HstoreError {
    /// Where it went wrong.
    pub at: usize,
    /// What was expected.
    pub problem: &'static str,
}

/// The pairs of `text`, in order; `None` for a null value.
pub fn parse(text: &str) -> Result<Vec<(String, Option<String>)>, HstoreError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            return Ok(out);
        }
        let key = quoted(text, &mut i)?;
        skip_ws(&mut i);
        if !text[i..].starts_with("=>") {
            return Err(HstoreError {
                at: i,
                problem: "expected =>",
            });
        }
        i += 2;
        skip_ws(&mut i);
        let value = if text[i..].starts_with("NULL") {
            i += 4;
            None
        } else {
            Some(quoted(text, &mut i)?)
        };
        out.push((key, value));
        skip_ws(&mut i);
        if i >= b.len() {
            return Ok(out);
        }
        if b[i] != b',' {
            return Err(HstoreError {
                at: i,
                problem: "expected , between pairs",
            });
        }
        i += 1;
    }
}

/// A double-quoted string starting at `*i`, unescaped; `*i` ends after its quote.
fn quoted(text: &str, i: &mut usize) -> Result<String, HstoreError> {
    let b = text.as_bytes();
    if b.get(*i) != Some(&b'"') {
        return Err(HstoreError {
            at: *i,
            problem: "expected a double quote",
        });
    }
    let start = *i;
    *i += 1;
    let mut out = Vec::new();
    while *i < b.len() {
        match b[*i] {
            b'\\' if *i + 1 < b.len() => {
                out.push(b[*i + 1]);
                *i += 2;
            }
            b'"' => {
                *i += 1;
                // Escapes only ever drop ASCII backslashes, so the bytes stay UTF-8.
                return Ok(String::from_utf8(out).unwrap_or_default());
            }
            c => {
                out.push(c);
                *i += 1;
            }
        }
    }
    Err(HstoreError {
        at: start,
        problem: "unterminated string",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn reads_pairs_nulls_and_escapes() {
        let got = parse(r#""name"=>"Acme \"Big\" Co", "amount"=>NULL, "path"=>"a\\b""#).unwrap();
        assert_eq!(
            got,
            vec![
                ("name".into(), s(r#"Acme "Big" Co"#)),
                ("amount".into(), None),
                ("path".into(), s(r"a\b")),
            ]
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(
            parse(r#""n"=>"Zoë, ünïcode""#).unwrap(),
            vec![("n".into(), s("Zoë, ünïcode"))]
        );
        // A value that is the word NULL in quotes is text, not null.
        assert_eq!(
            parse(r#""n"=>"NULL""#).unwrap(),
            vec![("n".into(), s("NULL"))]
        );
    }

    #[test]
    fn refuses_what_the_capture_never_writes() {
        assert!(parse(r#""a"=>"b" "c"=>"d""#).is_err());
        assert!(parse(r#""a"="b""#).is_err());
        assert!(parse(r#""a"=>"b"#).is_err());
        assert!(parse(r#"a=>"b""#).is_err());
    }
}
