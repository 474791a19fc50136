//! The SOQL syntax tree shared by the fake org (query evaluation) and orgpool's own
//! selection filters (translated to parameterised SQL). It holds syntax only: whether a
//! field exists or a literal fits its type is decided by whoever evaluates the tree.

use std::fmt;

/// A parsed `SELECT ... FROM ...` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The select list, in the order written (Bulk CSV columns follow it).
    pub select: Vec<SelectItem>,
    /// The object named after `FROM`, as written.
    pub from: String,
    /// The `WHERE` condition, if any.
    pub filter: Option<Expr>,
    /// `ORDER BY` items, in the order written.
    pub order_by: Vec<OrderItem>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    /// `OFFSET n` (REST only; Bulk rejects it).
    pub offset: Option<u64>,
}

/// One entry of the select list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field or a parent relationship path such as `Account.Name`.
    Field(FieldPath),
    /// `COUNT()`: the query returns only `totalSize`.
    Count,
}

/// A dotted field reference: `Name`, `Account.Name`, `Account.Owner.Email`.
/// Every part but the last is a relationship name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    /// The parts, as written (SOQL names are case-insensitive; evaluators compare
    /// them case-insensitively and report them as the schema spells them).
    pub parts: Vec<String>,
}

impl FieldPath {
    /// A path of one field.
    pub fn single(name: impl Into<String>) -> Self {
        Self {
            parts: vec![name.into()],
        }
    }

    /// The path joined with dots, as Bulk CSV headers show it.
    pub fn dotted(&self) -> String {
        self.parts.join(".")
    }
}

/// A boolean condition of a `WHERE` clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of the operands hold (two or more).
    And(Vec<Expr>),
    /// Any of the operands holds (two or more).
    Or(Vec<Expr>),
    /// The operand does not hold.
    Not(Box<Expr>),
    /// `field op literal`.
    Compare {
        /// The left-hand field.
        field: FieldPath,
        /// The operator.
        op: CompareOp,
        /// The right-hand literal.
        value: Literal,
    },
    /// `field [NOT] IN (literal, ...)`.
    In {
        /// The left-hand field.
        field: FieldPath,
        /// `NOT IN` when true.
        negated: bool,
        /// The listed literals (at least one).
        values: Vec<Literal>,
    },
    /// `field [NOT] LIKE 'pattern'` (`%` any run, `_` one character, case-insensitive).
    /// `NOT field LIKE ...` parses as `Not(Like)`; `negated` is never set by the parser
    /// and exists so that translators can express it directly.
    Like {
        /// The left-hand field.
        field: FieldPath,
        /// Whether the match is inverted.
        negated: bool,
        /// The pattern text without quotes.
        pattern: String,
    },
    /// `field INCLUDES ('a;b', 'c')` / `EXCLUDES (...)` on multi-select picklists.
    Includes {
        /// The left-hand field.
        field: FieldPath,
        /// `EXCLUDES` when true.
        excludes: bool,
        /// The listed values; each may hold several `;`-separated values that must all be present.
        values: Vec<String>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=` (also written `<>`)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as SOQL (and SQL) writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A literal value on the right of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A quoted string, escapes resolved.
    String(String),
    /// A number exactly as written (`42`, `-3.5`, `1e3` is not SOQL): kept as text so
    /// that decimal consumers lose nothing.
    Number(String),
    /// A date `YYYY-MM-DD`.
    Date(chrono::NaiveDate),
    /// A datetime `YYYY-MM-DDThh:mm:ss[.sss](Z|±hh:mm)`, normalised to UTC.
    DateTime(chrono::DateTime<chrono::Utc>),
    /// A relative date literal such as `TODAY`, `LAST_N_DAYS:30` (name upper-cased, the
    /// `:n` argument if any).
    DateLiteral {
        /// The literal's name, upper-case (`TODAY`, `LAST_N_DAYS` ...).
        name: String,
        /// The `:n` argument, when the literal takes one.
        n: Option<i64>,
    },
}

/// One `ORDER BY` item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// The field to sort on.
    pub field: FieldPath,
    /// Descending when true.
    pub descending: bool,
    /// `NULLS FIRST` (`Some(true)`), `NULLS LAST` (`Some(false)`), or the default.
    pub nulls_first: Option<bool>,
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}
