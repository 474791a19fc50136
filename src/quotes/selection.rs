//! The selection condition (`StageName IN ('Proposal/Price Quote') AND IsClosed =
//! false`) parsed with the project's SOQL parser and translated into a parameterised SQL
//! condition over the mirror: Opportunity columns as `o.<field>`, `Account.<field>` as
//! `a.<field>` (the caller joins `a` on `a.sfid = o.accountid`). Every value is a bind
//! parameter; field names are checked against the mirror's columns and quoted. String
//! comparisons and LIKE ignore case, as in SOQL.

use std::collections::HashSet;

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
}
