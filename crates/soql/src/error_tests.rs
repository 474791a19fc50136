//! Error tests of the SOQL parser: exact messages, rows and columns, Salesforce's
//! caret rendering, and the nesting cap that keeps hostile input off the stack.

use super::parser::MAX_DEPTH;
use super::*;

fn err(text: &str) -> (String, usize, usize) {
    let e = parse(text).expect_err("should not parse");
    (e.message, e.row, e.column)
}

#[test]
fn syntax_errors_point_at_the_token() {
    let cases: &[(&str, &str, usize)] = &[
        ("SELEKT Id FROM Account", "unexpected token: 'SELEKT'", 1),
        ("SELECT Id Account", "unexpected token: 'Account'", 11),
        ("SELECT Id", "unexpected token: <EOF>", 10),
        (
            "SELECT Id FROM Account LIMIT 5 garbage",
            "unexpected token: 'garbage'",
            32,
        ),
        (
            "SELECT Id FROM Account WHERE Name = 'abc",
            "unterminated string literal",
            37,
        ),
        (
            "SELECT Id FROM Account WHERE Name = \"abc\"",
            "unexpected token: '\"' (SOQL strings use single quotes)",
            37,
        ),
        (
            "SELECT Id, COUNT() FROM Account",
            "COUNT() must be the only item in the select list",
            12,
        ),
        (
            "SELECT COUNT(), Id FROM Account",
            "COUNT() must be the only item in the select list",
            17,
        ),
        (
            "SELECT COUNT( FROM Account",
            "expecting a right parentheses, found 'FROM'",
            15,
        ),
        (
            "SELECT Id FROM X WHERE d = 2024-13-01",
            "invalid date: '2024-13-01'",
            28,
        ),
        (
            "SELECT Id FROM X WHERE d = 2024-02-30",
            "invalid date: '2024-02-30'",
            28,
        ),
        (
            "SELECT Id FROM X LIMIT -1",
            "expecting a non-negative integer, found '-1'",
            24,
        ),
        (
            "SELECT Id FROM X WHERE a IN ()",
            "unexpected token: ')'",
            30,
        ),
        (
            "SELECT Id FROM X WHERE (a = 1",
            "expecting a right parentheses, found <EOF>",
            30,
        ),
        (
            "SELECT Id FROM X WHERE a = 1;",
            "unexpected character: ';'",
            29,
        ),
        ("", "unexpected token: <EOF>", 1),
    ];
    for &(text, message, column) in cases {
        assert_eq!(err(text), (message.to_string(), 1, column), "{text}");
    }
    let e = parse("SELEKT Id FROM Account").expect_err("bad keyword");
    assert_eq!(e.offset, 0);
    assert_eq!(e.error_code(), "MALFORMED_QUERY");
    assert_eq!(
        e.salesforce_message("SELEKT Id FROM Account"),
        "\nSELEKT Id FROM Account\n^\nERROR at Row:1:Column:1\nunexpected token: 'SELEKT'"
    );
}

#[test]
fn multi_line_error_row_and_column() {
    let text = "SELECT Id,\n       Name\nFROM Account\nWHERE Name = 'x' AND\n  LIMIT 5";
    let e = parse(text).expect_err("dangling AND");
    assert_eq!((e.row, e.column), (5, 3));
    assert_eq!(e.offset, text.find("LIMIT").unwrap_or_default());
    assert_eq!(
        e.salesforce_message(text),
        "\n  LIMIT 5\n  ^\nERROR at Row:5:Column:3\nunexpected token: 'LIMIT'"
    );
    assert_eq!(err("  \n "), ("unexpected token: <EOF>".into(), 2, 2));
}

#[test]
fn nesting_depth_is_capped() {
    let nested = |depth: usize| {
        format!(
            "SELECT Id FROM X WHERE {}a = 1{}",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    let deep = err(&nested(MAX_DEPTH + 1)).0;
    assert_eq!(deep, "query nests more than 200 levels deep");
    for bomb in ["(".repeat(1_000_000), "NOT ".repeat(1_000_000)] {
        let text = format!("SELECT Id FROM X WHERE {bomb}");
        assert_eq!(err(&text).0, deep);
    }
}
