//! Canonical SOQL text for syntax trees: what `Display` prints parses back to an
//! equal tree (upper-case keywords, re-escaped strings, millisecond UTC datetimes).

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{Expr, Literal, OrderItem, Query, SelectItem};
use super::dates::{write_date, write_datetime};

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        write_joined(f, &self.select, ", ")?;
        write!(f, " FROM {}", self.from)?;
        if let Some(filter) = &self.filter {
            write!(f, " WHERE {filter}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            write_joined(f, &self.order_by, ", ")?;
        }
        if let Some(limit) = self.limit {
            write!(f, " LIMIT {limit}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " OFFSET {offset}")?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Field(path) => write!(f, "{path}"),
            SelectItem::Count => f.write_str("COUNT()"),
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        if self.descending {
            f.write_str(" DESC")?;
        }
        match self.nulls_first {
            Some(true) => f.write_str(" NULLS FIRST"),
            Some(false) => f.write_str(" NULLS LAST"),
            None => Ok(()),
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            // NOT binds tighter than AND, AND tighter than OR: only an OR under an AND
            // needs parentheses (a same-kind child would be flattened on re-parse anyway).
            Expr::And(operands) => write_operands(f, operands, " AND ", |e| {
                matches!(e, Expr::And(_) | Expr::Or(_))
            }),
            Expr::Or(operands) => write_operands(f, operands, " OR ", |e| matches!(e, Expr::Or(_))),
            Expr::Not(inner) => match **inner {
                Expr::And(_) | Expr::Or(_) => write!(f, "NOT ({inner})"),
                _ => write!(f, "NOT {inner}"),
            },
            Expr::Compare { field, op, value } => write!(f, "{field} {} {value}", op.symbol()),
            Expr::In {
                field,
                negated,
                values,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{field} {not}IN (")?;
                write_joined(f, values, ", ")?;
                f.write_char(')')
            }
            Expr::Like {
                field,
                negated,
                pattern,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{not}{field} LIKE ")?;
                write_quoted(f, pattern)
            }
            Expr::Includes {
                field,
                excludes,
                values,
            } => {
                let op = if *excludes { "EXCLUDES" } else { "INCLUDES" };
                write!(f, "{field} {op} (")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, value)?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Bool(true) => f.write_str("TRUE"),
            Literal::Bool(false) => f.write_str("FALSE"),
            Literal::String(s) => write_quoted(f, s),
            Literal::Number(n) => f.write_str(n),
            Literal::Date(d) => write_date(f, d),
            Literal::DateTime(dt) => write_datetime(f, dt),
            Literal::DateLiteral { name, n: None } => f.write_str(name),
            Literal::DateLiteral { name, n: Some(n) } => write!(f, "{name}:{n}"),
        }
    }
}

fn write_joined<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn write_operands(
    f: &mut Formatter<'_>,
    operands: &[Expr],
    sep: &str,
    needs_parens: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if needs_parens(operand) {
            write!(f, "({operand})")?;
        } else {
            write!(f, "{operand}")?;
        }
    }
    Ok(())
}

/// A single-quoted SOQL string; the lexer resolves every escape written here.
fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\'' => f.write_str("\\'")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            _ => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}
