//! The selection condition (`StageName IN ('Proposal/Price Quote') AND IsClosed =
//! false`) parsed with the project's SOQL parser and translated into a parameterised SQL
//! condition over the mirror: Opportunity columns as `o.<field>`, `Account.<field>` as
//! `a.<field>` (the caller joins `a` on `a.sfid = o.accountid`). Every value is a bind
//! parameter; field names are checked against the mirror's columns and quoted. String
//! comparisons and LIKE ignore case, as in SOQL.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::mirror::quote_ident;
use crate::soql::{self, CompareOp, Expr, FieldPath, Literal};

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// A number, as text (bound and cast to numeric).
    Number(String),
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(NaiveDate),
    /// A datetime.
    DateTime(DateTime<Utc>),
}

/// A translated condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// SQL over aliases `o` (Opportunity) and `a` (Account), with `$1`.. placeholders
    /// numbered from the caller's `first` parameter.
    pub sql: String,
    /// Values, in placeholder order.
    pub binds: Vec<Bind>,
    /// Whether `a` is used.
    pub uses_account: bool,
}

/// The condition cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// Not valid SOQL.
    #[error("selection is not a valid SOQL condition: {0}")]
    Syntax(String),
    /// A field the mirror does not have.
    #[error(
        "selection uses {field}, which the mirror of {object} does not have; map it in jobs/mappings.toml or fix the name"
    )]
    UnknownField {
        /// As written.
        field: String,
        /// Opportunity or Account.
        object: String,
    },
    /// Something the translation does not support.
    #[error("selection: {0}")]
    Unsupported(String),
    /// A literal that cannot be compared with its field (SOQL refuses it too; in SQL it
    /// would compare as text and match nothing).
    #[error(
        "selection compares {field} (a {kind} field, column type {column_type}) with {literal}, which is not a {kind}; write {example}"
    )]
    WrongType {
        /// As written.
        field: String,
        /// `number`, `boolean`, `date`, `datetime` or `text`.
        kind: &'static str,
        /// The mirror column's type.
        column_type: String,
        /// The literal as written.
        literal: String,
        /// A literal of the right type, such as `Amount > 1000`.
        example: String,
    },
}

struct Out<'a> {
    opportunity: &'a HashSet<String>,
    account: &'a HashSet<String>,
    binds: Vec<Bind>,
    first: usize,
    uses_account: bool,
}

impl Out<'_> {
    fn column(&mut self, f: &FieldPath) -> Result<String, SelectionError> {
        let (alias, object, name, known) = match f.parts.as_slice() {
            [name] => ("o", "Opportunity", name, self.opportunity),
            [rel, name] if rel.eq_ignore_ascii_case("Account") => {
                self.uses_account = true;
                ("a", "Account", name, self.account)
            }
            _ => {
                return Err(SelectionError::Unsupported(format!(
                    "{f}: only Opportunity fields and Account.<field> can be used"
                )));
            }
        };
        let col = if name.eq_ignore_ascii_case("Id") {
            "sfid".to_string()
        } else {
            name.to_ascii_lowercase()
        };
        if !known.contains(&col) {
            return Err(SelectionError::UnknownField {
                field: f.dotted(),
                object: object.into(),
            });
        }
        Ok(format!("{alias}.{}", quote_ident(&col)))
    }

    fn bind(&mut self, lit: &Literal) -> Result<(String, bool), SelectionError> {
        let (b, cast, text) = match lit {
            Literal::String(s) => (Bind::Text(s.clone()), "text", true),
            Literal::Number(n) => (Bind::Number(n.clone()), "numeric", false),
            Literal::Bool(v) => (Bind::Bool(*v), "boolean", false),
            Literal::Date(d) => (Bind::Date(*d), "date", false),
            Literal::DateTime(t) => (Bind::DateTime(*t), "timestamptz", false),
            Literal::Null => {
                return Err(SelectionError::Unsupported(
                    "NULL only works with = and !=".into(),
                ));
            }
            Literal::DateLiteral { name, .. } => {
                return Err(SelectionError::Unsupported(format!(
                    "relative date {name} is not supported yet; write a date such as 2026-01-31"
                )));
            }
        };
        self.binds.push(b);
        Ok((
            format!("${}::{cast}", self.first + self.binds.len() - 1),
            text,
        ))
    }

    fn expr(&mut self, e: &Expr) -> Result<String, SelectionError> {
        Ok(match e {
            Expr::And(xs) => self.join(xs, " AND ")?,
            Expr::Or(xs) => self.join(xs, " OR ")?,
            Expr::Not(x) => format!("NOT ({})", self.expr(x)?),
            Expr::Compare {
                field,
                op,
                value: Literal::Null,
            } => {
                let col = self.column(field)?;
                match op {
                    CompareOp::Eq => format!("{col} IS NULL"),
                    CompareOp::Ne => format!("{col} IS NOT NULL"),
                    _ => {
                        return Err(SelectionError::Unsupported(
                            "NULL only works with = and !=".into(),
                        ));
                    }
                }
            }
            Expr::Compare { field, op, value } => {
                let col = self.column(field)?;
                let (p, text) = self.bind(value)?;
                let sym = if *op == CompareOp::Ne {
                    "<>"
                } else {
                    op.symbol()
                };
                if text {
                    format!("lower({col}::text) {sym} lower({p})")
                } else {
                    format!("{col} {sym} {p}")
                }
            }
            Expr::In {
                field,
                negated,
                values,
            } => {
                let col = self.column(field)?;
                let mut items = Vec::new();
                let mut text = false;
                for v in values {
                    let (p, t) = self.bind(v)?;
                    text |= t;
                    items.push(if t { format!("lower({p})") } else { p });
                }
                let lhs = if text {
                    format!("lower({col}::text)")
                } else {
                    col
                };
                format!(
                    "{lhs} {}IN ({})",
                    if *negated { "NOT " } else { "" },
                    items.join(", ")
                )
            }
            Expr::Like {
                field,
                negated,
                pattern,
            } => {
                let col = self.column(field)?;
                let (p, _) = self.bind(&Literal::String(pattern.clone()))?;
                format!(
                    "{col}::text {}ILIKE {p}",
                    if *negated { "NOT " } else { "" }
                )
            }
            Expr::Includes {
                field,
                excludes,
                values,
            } => {
                let col = self.column(field)?;
                let mut any = Vec::new();
                for v in values {
                    let (p, _) = self.bind(&Literal::String(v.clone()))?;
                    any.push(format!("lower(';' || {p} || ';') = ANY (SELECT lower(';' || x || ';') FROM unnest(string_to_array({col}::text, ';')) x)"));
                }
                let all = format!("({})", any.join(" OR "));
                if *excludes {
                    format!("NOT coalesce({all}, false)")
                } else {
                    all
                }
            }
        })
    }

    fn join(&mut self, xs: &[Expr], sep: &str) -> Result<String, SelectionError> {
        let parts: Result<Vec<String>, _> = xs
            .iter()
            .map(|x| self.expr(x).map(|s| format!("({s})")))
            .collect();
        Ok(parts?.join(sep))
    }
}

/// Translates `condition`, checking fields against the mirror's Opportunity and Account
/// columns (lowercase names); placeholders start at `$first`.
pub fn translate(
    condition: &str,
    opportunity: &HashSet<String>,
    account: &HashSet<String>,
    first: usize,
) -> Result<Selection, SelectionError> {
    let q = soql::parse(&format!("SELECT Id FROM Opportunity WHERE {condition}"))
        .map_err(|e| SelectionError::Syntax(e.to_string()))?;
    let Some(filter) = q.filter else {
        return Err(SelectionError::Syntax("the condition is empty".into()));
    };
    if !q.order_by.is_empty() || q.limit.is_some() || q.offset.is_some() {
        return Err(SelectionError::Syntax(
            "only a condition is allowed, without ORDER BY, LIMIT or OFFSET".into(),
        ));
    }
    let mut out = Out {
        opportunity,
        account,
        binds: Vec::new(),
        first,
        uses_account: false,
    };
    let sql = out.expr(&filter)?;
    Ok(Selection {
        sql,
        binds: out.binds,
        uses_account: out.uses_account,
    })
}

/// What kind of literal a mirror column type compares with; None for types that are
/// not checked (they are compared as text).
fn kind_of(column_type: &str) -> Option<&'static str> {
    Some(match column_type {
        "numeric" | "double precision" | "real" | "integer" | "bigint" | "smallint" => "number",
        "boolean" => "boolean",
        "date" => "date",
        t if t.starts_with("timestamp") => "datetime",
        "text" | "character varying" | "character" => "text",
        _ => return None,
    })
}

fn literal_text(lit: &Literal) -> String {
    match lit {
        Literal::String(s) => format!("'{}'", s.replace('\'', "\\'")),
        Literal::Number(n) => n.clone(),
        Literal::Bool(b) => b.to_string(),
        Literal::Date(d) => d.to_string(),
        Literal::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Literal::Null => "null".into(),
        Literal::DateLiteral { name, n } => match n {
            Some(n) => format!("{name}:{n}"),
            None => name.clone(),
        },
    }
}

/// Whether `lit` can be compared with a field of `kind`: numbers with numbers, text
/// with text, booleans with booleans, dates and datetimes with either.
fn fits(kind: &str, lit: &Literal) -> bool {
    match lit {
        Literal::Null | Literal::DateLiteral { .. } => true,
        Literal::String(_) => kind == "text",
        Literal::Number(_) => kind == "number",
        Literal::Bool(_) => kind == "boolean",
        Literal::Date(_) | Literal::DateTime(_) => kind == "date" || kind == "datetime",
    }
}

fn example(field: &str, kind: &str) -> String {
    match kind {
        "number" => format!("a number, such as {field} > 1000"),
        "boolean" => format!("true or false, such as {field} = true"),
        "date" => format!("a date without quotes, such as {field} > 2026-01-31"),
        "datetime" => format!("a datetime without quotes, such as {field} > 2026-01-31T00:00:00Z"),
        _ => format!("a quoted string, such as {field} = 'text'"),
    }
}

/// Refuses a comparison whose literal does not fit its field's mirror column type
/// (`Amount > 'abc'`), naming the field, its type and the literal. `opportunity` and
/// `account` map lowercase column names to their Postgres types; fields they do not
/// list are left to [`translate`]'s checks.
pub fn check_literals(
    condition: &str,
    opportunity: &HashMap<String, String>,
    account: &HashMap<String, String>,
) -> Result<(), SelectionError> {
    let q = soql::parse(&format!("SELECT Id FROM Opportunity WHERE {condition}"))
        .map_err(|e| SelectionError::Syntax(e.to_string()))?;
    let Some(filter) = q.filter else {
        return Ok(());
    };
    let check = |field: &FieldPath, lit: &Literal| -> Result<(), SelectionError> {
        let (name, types) = match field.parts.as_slice() {
            [name] => (name, opportunity),
            [rel, name] if rel.eq_ignore_ascii_case("Account") => (name, account),
            _ => return Ok(()),
        };
        let col = if name.eq_ignore_ascii_case("Id") {
            "sfid".to_string()
        } else {
            name.to_ascii_lowercase()
        };
        let Some(column_type) = types.get(&col) else {
            return Ok(());
        };
        match kind_of(column_type) {
            Some(kind) if !fits(kind, lit) => Err(SelectionError::WrongType {
                field: field.dotted(),
                kind,
                column_type: column_type.clone(),
                literal: literal_text(lit),
                example: example(&field.dotted(), kind),
            }),
            _ => Ok(()),
        }
    };
    fn walk(
        e: &Expr,
        check: &dyn Fn(&FieldPath, &Literal) -> Result<(), SelectionError>,
    ) -> Result<(), SelectionError> {
        match e {
            Expr::And(xs) | Expr::Or(xs) => xs.iter().try_for_each(|x| walk(x, check)),
            Expr::Not(x) => walk(x, check),
            Expr::Compare { field, value, .. } => check(field, value),
            Expr::In { field, values, .. } => values.iter().try_for_each(|v| check(field, v)),
            Expr::Like { .. } | Expr::Includes { .. } => Ok(()),
        }
    }
    walk(&filter, &check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn translates_to_bound_sql() {
        let o = cols(&[
            "sfid",
            "stagename",
            "isclosed",
            "amount",
            "closedate",
            "accountid",
        ]);
        let a = cols(&["sfid", "billingcountry"]);
        let s = translate(
            "StageName IN ('Proposal/Price Quote','Negotiation/Review') AND IsClosed = false AND Amount > 1000 AND Account.BillingCountry != null",
            &o,
            &a,
            1,
        )
        .unwrap();
        assert_eq!(
            s.sql,
            "(lower(o.\"stagename\"::text) IN (lower($1::text), lower($2::text))) AND (o.\"isclosed\" = $3::boolean) AND (o.\"amount\" > $4::numeric) AND (a.\"billingcountry\" IS NOT NULL)"
        );
        assert_eq!(s.binds.len(), 4);
        assert!(s.uses_account);
        let s = translate(
            "Name LIKE 'Acme%' OR NOT (CloseDate < 2026-01-01)",
            &cols(&["name", "closedate"]),
            &a,
            3,
        )
        .unwrap();
        assert_eq!(
            s.sql,
            "(o.\"name\"::text ILIKE $3::text) OR (NOT (o.\"closedate\" < $4::date))"
        );
    }

    #[test]
    fn values_are_never_spliced() {
        let o = cols(&["name"]);
        let s = translate(r"Name = 'x\' OR 1=1 --'", &o, &o, 1).unwrap();
        assert_eq!(s.sql, "lower(o.\"name\"::text) = lower($1::text)");
        assert_eq!(s.binds, vec![Bind::Text("x' OR 1=1 --".into())]);
    }

    #[test]
    fn bad_conditions_say_what_is_wrong() {
        let o = cols(&["stagename"]);
        let e = translate("Stage = 'x'", &o, &o, 1).unwrap_err();
        assert!(
            e.to_string().contains("Stage") && e.to_string().contains("jobs/mappings.toml"),
            "{e}"
        );
        assert!(matches!(
            translate("StageName = ", &o, &o, 1),
            Err(SelectionError::Syntax(_))
        ));
        assert!(matches!(
            translate("Owner.Name = 'x'", &o, &o, 1),
            Err(SelectionError::Unsupported(_))
        ));
    }

    #[test]
    fn a_literal_of_the_wrong_type_names_the_field_its_type_and_the_literal() {
        let types: HashMap<String, String> = [
            ("amount", "numeric"),
            ("stagename", "character varying"),
            ("isclosed", "boolean"),
            ("closedate", "date"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let none = HashMap::new();
        let e = check_literals("Amount > 'abc'", &types, &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "selection compares Amount (a number field, column type numeric) with 'abc', which is not a number; write a number, such as Amount > 1000"
        );
        assert!(check_literals("StageName = 5", &types, &none).is_err());
        assert!(check_literals("IsClosed = 'no'", &types, &none).is_err());
        assert!(check_literals("StageName IN ('a', 3)", &types, &none).is_err());
        check_literals(
            "Amount > 1000 AND StageName IN ('a') AND IsClosed = false AND CloseDate < 2026-01-01 AND Amount != null",
            &types,
            &none,
        )
        .unwrap();
    }
}
