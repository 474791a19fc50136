//! Property tests: random canonical trees survive print-then-parse unchanged, and no
//! input (random text, token soup, mutated queries) makes the parser or the error
//! renderer panic.

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::sample::select;

use super::dates::{DATE_LITERALS, DATE_LITERALS_N};
use super::lexer::Keyword;
use super::*;

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,8}(__c|__r|__s)?".prop_filter("reserved word", |s| {
        Keyword::lookup(s).is_none()
            && !DATE_LITERALS
                .iter()
                .chain(DATE_LITERALS_N.iter())
                .any(|name| name.eq_ignore_ascii_case(s))
    })
}

fn path() -> impl Strategy<Value = FieldPath> {
    prop::collection::vec(ident(), 1..=3).prop_map(|parts| FieldPath { parts })
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zé日 '\"\\\\%_\n\r\t\u{8}\u{c}]{0,12}",]
}

fn datetime() -> impl Strategy<Value = DateTime<Utc>> {
    let bound = |y, mo, d, h, mi, s, ms| {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_milli_opt(h, mi, s, ms))
            .map_or(0, |dt| dt.and_utc().timestamp_millis())
    };
    let (min, max) = (
        bound(0, 1, 1, 0, 0, 0, 0),
        bound(9999, 12, 31, 23, 59, 59, 999),
    );
    (min..=max).prop_filter_map("out of range", DateTime::from_timestamp_millis)
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        string().prop_map(Literal::String),
        "[+-]?[0-9]{1,12}(\\.[0-9]{1,6})?".prop_map(Literal::Number),
        (0i32..=9999, 1u32..=12, 1u32..=31)
            .prop_filter_map("no such day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
            .prop_map(Literal::Date),
        datetime().prop_map(Literal::DateTime),
        select(&DATE_LITERALS[..]).prop_map(|name| Literal::DateLiteral {
            name: name.into(),
            n: None
        }),
        (select(&DATE_LITERALS_N[..]), 0..=i64::MAX).prop_map(|(name, n)| {
            Literal::DateLiteral {
                name: name.into(),
                n: Some(n),
            }
        }),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    let op = select(
        &[
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Lt,
            CompareOp::Le,
            CompareOp::Gt,
            CompareOp::Ge,
        ][..],
    );
    prop_oneof![
        (path(), op, literal()).prop_map(|(field, op, value)| Expr::Compare { field, op, value }),
        (
            path(),
            any::<bool>(),
            prop::collection::vec(literal(), 1..4)
        )
            .prop_map(|(field, negated, values)| Expr::In {
                field,
                negated,
                values
            }),
        (path(), string()).prop_map(|(field, pattern)| Expr::Like {
            field,
            negated: false,
            pattern
        }),
        (path(), any::<bool>(), prop::collection::vec(string(), 1..4)).prop_map(
            |(field, excludes, values)| Expr::Includes {
                field,
                excludes,
                values
            }
        ),
    ]
}

/// Canonical AND/OR: operands of the same kind are spliced in, as the parser does.
fn join(operands: Vec<Expr>, and: bool) -> Expr {
    let mut flat = Vec::new();
    for operand in operands {
        match (operand, and) {
            (Expr::And(inner), true) | (Expr::Or(inner), false) => flat.extend(inner),
            (other, _) => flat.push(other),
        }
    }
    if and { Expr::And(flat) } else { Expr::Or(flat) }
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| join(v, true)),
            prop::collection::vec(inner, 2..4).prop_map(|v| join(v, false)),
        ]
    })
}

fn query() -> impl Strategy<Value = Query> {
    let select_list = prop_oneof![
        1 => Just(vec![SelectItem::Count]),
        4 => prop::collection::vec(path().prop_map(SelectItem::Field), 1..4),
    ];
    let order_item = (path(), any::<bool>(), prop::option::of(any::<bool>())).prop_map(
        |(field, descending, nulls_first)| OrderItem {
            field,
            descending,
            nulls_first,
        },
    );
    (
        select_list,
        ident(),
        prop::option::of(expr()),
        prop::collection::vec(order_item, 0..3),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(select, from, filter, order_by, limit, offset)| Query {
            select,
            from,
            filter,
            order_by,
            limit,
            offset,
        })
}

const SOUP: &[&str] = &[
    "SELECT",
    "select",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "INCLUDES",
    "EXCLUDES",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "NULL",
    "TRUE",
    "false",
    "COUNT",
    "COUNT()",
    "(",
    ")",
    ",",
    ".",
    ":",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "Id",
    "Name",
    "Account.Name",
    "Account",
    "'str'",
    "'it\\'s'",
    "'open",
    "'\\",
    "'\\q'",
    "\"dq\"",
    "42",
    "-3.5",
    "+",
    "-",
    "2024-05-20",
    "2024-02-30",
    "2024-05-20T20:49:32Z",
    "2024-05-20T20:49:32.000+02:00",
    "2024-05-20T",
    "9999-12-31T23:59:59-0100",
    "TODAY",
    "LAST_N_DAYS",
    "LAST_N_DAYS:30",
    "N_DAYS_AGO:",
    "99999999999999999999",
    "é",
    ";",
    "\n",
    "\t",
    " ",
];

/// Any error renders without panicking, against its own text or another one.
fn render(text: &str) {
    if let Err(e) = parse(text) {
        let _ = e.salesforce_message(text);
        let _ = e.salesforce_message("x");
        let _ = e.to_string();
    }
}

proptest! {
    #[test]
    fn printed_trees_parse_back_equal(query in query()) {
        let text = query.to_string();
        let (parsed, spans) = parse_with_spans(&text)
            .map_err(|e| TestCaseError::fail(e.salesforce_message(&text)))?;
        prop_assert_eq!(&parsed, &query, "text: {}", text);
        for (path, at) in spans {
            prop_assert!(text.get(at..).is_some_and(|rest| rest.starts_with(&path.dotted())));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        render(&text);
    }

    #[test]
    fn token_soup_never_panics(
        tokens in prop::collection::vec(select(SOUP), 0..40),
        glue in select(&["", " ", "\n"][..]),
    ) {
        render(&tokens.join(glue));
        render(&format!("SELECT Id FROM X WHERE {}", tokens.join(glue)));
    }

    #[test]
    fn mutated_queries_never_panic(query in query(), at in any::<usize>(), c in any::<char>(), cut in any::<bool>()) {
        let mut text = query.to_string();
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if cut {
            text.truncate(at);
        } else {
            text.insert(at, c);
        }
        render(&text);
    }

    #[test]
    fn caret_message_never_panics(text in any::<String>(), offset in any::<usize>(), message in any::<String>()) {
        let _ = caret_message(&text, offset, &message);
        let e = ParseError::new(&text, offset, message);
        prop_assert!(e.offset <= text.len() && e.row >= 1 && e.column >= 1);
    }
}
