//! Example-based tests of the SOQL parser and printer: the query shapes the sync engine
//! and the fake org really see, every condition form, precedence and canonical printing.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

fn q(text: &str) -> Query {
    match parse(text) {
        Ok(query) => query,
        Err(e) => panic!("{text:?} failed: {}", e.salesforce_message(text)),
    }
}

fn filter(text: &str) -> Expr {
    q(&format!("SELECT Id FROM Account WHERE {text}"))
        .filter
        .expect("a WHERE clause")
}

fn err(text: &str) -> (String, usize, usize) {
    let e = parse(text).expect_err("should not parse");
    (e.message, e.row, e.column)
}

fn path(dotted: &str) -> FieldPath {
    FieldPath {
        parts: dotted.split('.').map(String::from).collect(),
    }
}

fn cmp(field: &str, op: CompareOp, value: Literal) -> Expr {
    Expr::Compare {
        field: path(field),
        op,
        value,
    }
}

fn s(text: &str) -> Literal {
    Literal::String(text.into())
}

fn num(text: &str) -> Literal {
    Literal::Number(text.into())
}

fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

/// Printing then re-parsing must give the same tree.
fn assert_round_trips(text: &str) {
    let query = q(text);
    assert_eq!(q(&query.to_string()), query, "{query}");
}

#[test]
fn sync_engine_window_query() {
    let text = "SELECT Id,SystemModstamp,Name FROM Account WHERE SystemModstamp > \
                1999-02-03T00:00:00.000Z AND SystemModstamp <= 2026-07-01T00:00:00.000Z \
                AND Id > '001000000000005AAA' ORDER BY Id ASC LIMIT 2000";
    let at = |y, mo, d| {
        Utc.with_ymd_and_hms(y, mo, d, 0, 0, 0)
            .single()
            .expect("valid")
    };
    assert_eq!(
        q(text),
        Query {
            select: ["Id", "SystemModstamp", "Name"]
                .map(|f| SelectItem::Field(path(f)))
                .to_vec(),
            from: "Account".into(),
            filter: Some(Expr::And(vec![
                cmp(
                    "SystemModstamp",
                    CompareOp::Gt,
                    Literal::DateTime(at(1999, 2, 3))
                ),
                cmp(
                    "SystemModstamp",
                    CompareOp::Le,
                    Literal::DateTime(at(2026, 7, 1))
                ),
                cmp("Id", CompareOp::Gt, s("001000000000005AAA")),
            ])),
            order_by: vec![OrderItem {
                field: path("Id"),
                descending: false,
                nulls_first: None,
            }],
            limit: Some(2000),
            offset: None,
        }
    );
    assert_round_trips(text);
}

#[test]
fn count_query_over_id_range() {
    let query = q(
        "SELECT COUNT() FROM Opportunity WHERE Id >= '006000000000001AAA' \
                   AND Id < '006000000000009AAA'",
    );
    assert_eq!(query.select, vec![SelectItem::Count]);
    assert_eq!(query.from, "Opportunity");
    assert_eq!(
        query.filter,
        Some(Expr::And(vec![
            cmp("Id", CompareOp::Ge, s("006000000000001AAA")),
            cmp("Id", CompareOp::Lt, s("006000000000009AAA")),
        ]))
    );
    assert_eq!(
        query.to_string(),
        "SELECT COUNT() FROM Opportunity WHERE Id >= '006000000000001AAA' \
         AND Id < '006000000000009AAA'"
    );
}

#[test]
fn parent_paths_and_their_offsets() {
    let text = "SELECT Id, Account.Owner.Email FROM Contact WHERE Account.Name = 'Acme' \
                ORDER BY Account.Name";
    let (query, spans) = parse_with_spans(text).expect("parses");
    assert_eq!(
        query.select[1],
        SelectItem::Field(path("Account.Owner.Email"))
    );
    let expected: Vec<(FieldPath, usize)> = [
        ("Id", 7),
        ("Account.Owner.Email", 11),
        ("Account.Name", 50),
        ("Account.Name", 81),
    ]
    .iter()
    .map(|&(p, at)| (path(p), at))
    .collect();
    assert_eq!(spans, expected);
    for (p, at) in &spans {
        assert!(text[*at..].starts_with(&p.dotted()));
    }
}

#[test]
fn in_lists_and_booleans() {
    assert_eq!(
        filter("StageName IN ('Proposal/Price Quote','Negotiation/Review') AND IsClosed = false"),
        Expr::And(vec![
            Expr::In {
                field: path("StageName"),
                negated: false,
                values: vec![s("Proposal/Price Quote"), s("Negotiation/Review")],
            },
            cmp("IsClosed", CompareOp::Eq, Literal::Bool(false)),
        ])
    );
    assert_eq!(
        filter("Amount NOT IN (1, -2.5, null, TRUE)"),
        Expr::In {
            field: path("Amount"),
            negated: true,
            values: vec![num("1"), num("-2.5"), Literal::Null, Literal::Bool(true)],
        }
    );
}

#[test]
fn like_with_escapes_and_both_not_spellings() {
    let like = |pattern: &str| Expr::Like {
        field: path("Name"),
        negated: false,
        pattern: pattern.into(),
    };
    assert_eq!(filter(r"Name LIKE 'O\'Brien\_%'"), like(r"O'Brien\_%"));
    assert_eq!(filter(r"Name LIKE '100\%\\x'"), like(r"100\%\x"));
    assert_eq!(filter("NOT Name LIKE 'a%'"), not(like("a%")));
    assert_eq!(filter("Name NOT LIKE 'a%'"), not(like("a%")));
    assert_eq!(
        err("SELECT Id FROM Account WHERE Name LIKE 5"),
        ("expecting a string literal, found '5'".into(), 1, 40)
    );
}

#[test]
fn includes_and_excludes() {
    assert_eq!(
        filter("Colors__c INCLUDES ('red;blue', 'green') OR Colors__c excludes ('x')"),
        Expr::Or(vec![
            Expr::Includes {
                field: path("Colors__c"),
                excludes: false,
                values: vec!["red;blue".into(), "green".into()],
            },
            Expr::Includes {
                field: path("Colors__c"),
                excludes: true,
                values: vec!["x".into()],
            },
        ])
    );
}

#[test]
fn nulls_numbers_and_not_equal_spellings() {
    assert_eq!(
        filter("Email = null"),
        cmp("Email", CompareOp::Eq, Literal::Null)
    );
    assert_eq!(
        filter("Email != NULL"),
        cmp("Email", CompareOp::Ne, Literal::Null)
    );
    assert_eq!(
        filter("Email <> null"),
        cmp("Email", CompareOp::Ne, Literal::Null)
    );
    assert_eq!(
        filter("Amount > -5"),
        cmp("Amount", CompareOp::Gt, num("-5"))
    );
    assert_eq!(
        filter("Amount>=3.25"),
        cmp("Amount", CompareOp::Ge, num("3.25"))
    );
    assert_eq!(
        filter("Amount < +7"),
        cmp("Amount", CompareOp::Lt, num("+7"))
    );
    assert_eq!(
        filter("IsDeleted = TRUE"),
        cmp("IsDeleted", CompareOp::Eq, Literal::Bool(true))
    );
}

#[test]
fn dates_and_relative_date_literals() {
    let rel = |name: &str, n| Literal::DateLiteral {
        name: name.into(),
        n,
    };
    let date = NaiveDate::from_ymd_opt(2024, 5, 20).expect("valid");
    assert_eq!(
        filter(
            "CloseDate = TODAY AND CreatedDate > last_n_days:30 AND x < N_DAYS_AGO:7 \
                AND d = 2024-05-20 AND t = 2024-05-20T20:49:32+02:00"
        ),
        Expr::And(vec![
            cmp("CloseDate", CompareOp::Eq, rel("TODAY", None)),
            cmp("CreatedDate", CompareOp::Gt, rel("LAST_N_DAYS", Some(30))),
            cmp("x", CompareOp::Lt, rel("N_DAYS_AGO", Some(7))),
            cmp("d", CompareOp::Eq, Literal::Date(date)),
            cmp(
                "t",
                CompareOp::Eq,
                Literal::DateTime(
                    Utc.with_ymd_and_hms(2024, 5, 20, 18, 49, 32)
                        .single()
                        .expect("valid")
                ),
            ),
        ])
    );
    // As field names, date literal names are ordinary identifiers.
    assert_eq!(
        q("SELECT Today FROM X WHERE Today = TODAY").filter,
        Some(cmp("Today", CompareOp::Eq, rel("TODAY", None)))
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE d = LAST_N_DAYS 3"),
        ("expecting a colon, found '3'".into(), 1, 40)
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE d = Tomorrow:3"),
        ("unexpected token: ':'".into(), 1, 36)
    );
    assert_eq!(
        err("SELECT Id FROM X WHERE d = someName"),
        ("unexpected token: 'someName'".into(), 1, 28)
    );
}

#[test]
fn precedence_not_and_or() {
    let a = || cmp("a", CompareOp::Eq, num("1"));
    let b = || cmp("b", CompareOp::Eq, num("2"));
    let c = || cmp("c", CompareOp::Eq, num("3"));
    assert_eq!(
        filter("a = 1 OR b = 2 AND NOT c = 3"),
        Expr::Or(vec![a(), Expr::And(vec![b(), not(c())])])
    );
    assert_eq!(
        filter("(a = 1 OR b = 2) AND c = 3"),
        Expr::And(vec![Expr::Or(vec![a(), b()]), c()])
    );
    assert_eq!(
        filter("NOT (a = 1 AND b = 2) OR NOT NOT c = 3"),
        Expr::Or(vec![not(Expr::And(vec![a(), b()])), not(not(c()))])
    );
    assert_eq!(
        filter("a = 1 AND (b = 2 AND c = 3)"),
        Expr::And(vec![a(), b(), c()])
    );
    assert_eq!(
        filter("(a = 1 OR b = 2) OR c = 3"),
        Expr::Or(vec![a(), b(), c()])
    );
    assert_eq!(filter("((a = 1))"), a());
    for text in [
        "SELECT Id FROM X WHERE (a = 1 OR b = 2) AND NOT (c = 3 OR a = 1)",
        "SELECT Id FROM X WHERE NOT (a = 1 AND (b = 2 OR c = 3)) OR b = 2",
    ] {
        assert_round_trips(text);
    }
    assert_eq!(
        q("SELECT Id FROM X WHERE NOT ((a = 1 or b = 2) and c = 3)").to_string(),
        "SELECT Id FROM X WHERE NOT ((a = 1 OR b = 2) AND c = 3)"
    );
}

#[test]
fn order_by_limit_offset() {
    let query = q("SELECT Id FROM Account ORDER BY Name DESC NULLS LAST, Id, \
                   CreatedDate ASC NULLS FIRST LIMIT 10 OFFSET 20");
    let item = |f: &str, descending, nulls_first| OrderItem {
        field: path(f),
        descending,
        nulls_first,
    };
    assert_eq!(
        query.order_by,
        vec![
            item("Name", true, Some(false)),
            item("Id", false, None),
            item("CreatedDate", false, Some(true)),
        ]
    );
    assert_eq!((query.limit, query.offset), (Some(10), Some(20)));
    assert_eq!(
        query.to_string(),
        "SELECT Id FROM Account ORDER BY Name DESC NULLS LAST, Id, CreatedDate NULLS FIRST \
         LIMIT 10 OFFSET 20"
    );
    assert_eq!(q("SELECT Id FROM Account OFFSET 5").offset, Some(5));
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        q("select id from account where name like 'a%' order by id desc nulls first limit 1"),
        q("SELECT id FROM account WHERE name LIKE 'a%' ORDER BY id DESC NULLS FIRST LIMIT 1")
    );
    assert_eq!(
        q("select count() from account").select,
        vec![SelectItem::Count]
    );
    assert_eq!(
        q("SELECT Select__c FROM X").select,
        vec![SelectItem::Field(path("Select__c"))]
    );
}

#[test]
fn strings_print_escaped() {
    let text = "SELECT Id FROM X WHERE a = 'it\\'s \\\\ \\n\\t é \"q\"'";
    assert_eq!(
        q(text).to_string(),
        "SELECT Id FROM X WHERE a = 'it\\'s \\\\ \\n\\t é \"q\"'"
    );
    assert_round_trips(text);
}

#[test]
fn keyword_named_objects_parse_after_from() {
    let q = parse("SELECT Id FROM Order ORDER BY Id LIMIT 1").unwrap();
    assert_eq!(q.from, "Order");
    assert_eq!(q.order_by.len(), 1);
    let q = parse("SELECT COUNT() FROM Order WHERE Id >= '801000000000001'").unwrap();
    assert_eq!(q.from, "Order");
}
