//! The recursive-descent SOQL parser: query text to [`Query`], with the byte offset
//! of every field path so evaluators can point at unknown fields.

use super::ast::{CompareOp, Expr, FieldPath, Literal, OrderItem, Query, SelectItem};
use super::dates::{DATE_LITERALS, DATE_LITERALS_N};
use super::error::ParseError;
use super::lexer::{Keyword, Lexer, Token, TokenKind};

/// How deep `(` and `NOT` may nest; hostile input must get an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 200;

/// Every field path occurrence with the byte offset where it starts, in textual order.
pub type FieldSpans = Vec<(FieldPath, usize)>;

/// Parses one SOQL query.
pub fn parse(text: &str) -> Result<Query, ParseError> {
    parse_with_spans(text).map(|(query, _)| query)
}

/// Parses one SOQL query and lists every field path occurrence (select list, `WHERE`,
/// `ORDER BY`) with its byte offset, in textual order.
pub fn parse_with_spans(text: &str) -> Result<(Query, FieldSpans), ParseError> {
    let mut lexer = Lexer::new(text);
    let tok = lexer.next_token()?;
    let mut parser = Parser {
        text,
        lexer,
        tok,
        depth: 0,
        spans: Vec::new(),
    };
    let query = parser.query()?;
    Ok((query, parser.spans))
}

struct Parser<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    /// The current (not yet consumed) token.
    tok: Token<'a>,
    /// Current `(` / `NOT` nesting.
    depth: usize,
    spans: FieldSpans,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn advance(&mut self) -> PResult<Token<'a>> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    fn at_kw(&self, kw: Keyword) -> bool {
        self.tok.kind == TokenKind::Keyword(kw)
    }

    fn eat_kw(&mut self, kw: Keyword) -> PResult<bool> {
        let at = self.at_kw(kw);
        if at {
            self.advance()?;
        }
        Ok(at)
    }

    fn eat(&mut self, kind: &TokenKind) -> PResult<bool> {
        let at = self.tok.kind == *kind;
        if at {
            self.advance()?;
        }
        Ok(at)
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.text, self.tok.offset, message)
    }

    fn unexpected(&self) -> ParseError {
        self.error(format!("unexpected token: {}", self.tok.describe()))
    }

    fn expecting(&self, what: &str) -> ParseError {
        self.error(format!("expecting {what}, found {}", self.tok.describe()))
    }

    fn expect_kw(&mut self, kw: Keyword) -> PResult<()> {
        if self.eat_kw(kw)? {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<()> {
        if self.eat(kind)? {
            Ok(())
        } else {
            Err(self.expecting(what))
        }
    }

    fn query(&mut self) -> PResult<Query> {
        self.expect_kw(Keyword::Select)?;
        let select = self.select_list()?;
        self.expect_kw(Keyword::From)?;
        let from = self.object_name()?;
        let filter = if self.eat_kw(Keyword::Where)? {
            Some(self.or_expr()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_kw(Keyword::Order)? {
            self.expect_kw(Keyword::By)?;
            loop {
                order_by.push(self.order_item()?);
                if !self.eat(&TokenKind::Comma)? {
                    break;
                }
            }
        }
        let limit = match self.eat_kw(Keyword::Limit)? {
            true => Some(self.unsigned()?),
            false => None,
        };
        let offset = match self.eat_kw(Keyword::Offset)? {
            true => Some(self.unsigned()?),
            false => None,
        };
        if self.tok.kind != TokenKind::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            filter,
            order_by,
            limit,
            offset,
        })
    }

    fn select_list(&mut self) -> PResult<Vec<SelectItem>> {
        let mut items = Vec::new();
        loop {
            let counting = items.first() == Some(&SelectItem::Count);
            if !items.is_empty() && (counting || self.at_kw(Keyword::Count)) {
                return Err(self.error("COUNT() must be the only item in the select list"));
            }
            let item = if self.eat_kw(Keyword::Count)? {
                self.expect(&TokenKind::LParen, "a left parentheses")?;
                self.expect(&TokenKind::RParen, "a right parentheses")?;
                SelectItem::Count
            } else {
                SelectItem::Field(self.path()?)
            };
            items.push(item);
            if !self.eat(&TokenKind::Comma)? {
                return Ok(items);
            }
        }
    }

    /// An object name: a plain name, or a word SOQL also uses as a keyword (`Order`, a
    /// standard object), which Salesforce accepts in this position.
    fn object_name(&mut self) -> PResult<String> {
        if matches!(self.tok.kind, TokenKind::Keyword(_)) {
            return Ok(self.advance()?.text.to_string());
        }
        self.ident()
    }

    fn ident(&mut self) -> PResult<String> {
        if self.tok.kind != TokenKind::Ident {
            return Err(self.unexpected());
        }
        Ok(self.advance()?.text.to_string())
    }

    /// `Ident {. Ident}`, recording where it starts.
    fn path(&mut self) -> PResult<FieldPath> {
        let start = self.tok.offset;
        let mut parts = vec![self.ident()?];
        while self.eat(&TokenKind::Dot)? {
            parts.push(self.ident()?);
        }
        let path = FieldPath { parts };
        self.spans.push((path.clone(), start));
        Ok(path)
    }

    fn order_item(&mut self) -> PResult<OrderItem> {
        let field = self.path()?;
        let descending = if self.eat_kw(Keyword::Desc)? {
            true
        } else {
            self.eat_kw(Keyword::Asc)?;
            false
        };
        let nulls_first = if self.eat_kw(Keyword::Nulls)? {
            if self.eat_kw(Keyword::First)? {
                Some(true)
            } else if self.eat_kw(Keyword::Last)? {
                Some(false)
            } else {
                return Err(self.expecting("FIRST or LAST"));
            }
        } else {
            None
        };
        Ok(OrderItem {
            field,
            descending,
            nulls_first,
        })
    }

    /// A non-negative integer (LIMIT, OFFSET, the `n` of `LAST_N_DAYS:n`).
    fn unsigned<T: std::str::FromStr>(&mut self) -> PResult<T> {
        let parsed = match self.tok.kind {
            TokenKind::Number if self.tok.text.bytes().all(|b| b.is_ascii_digit()) => {
                self.tok.text.parse().ok()
            }
            _ => None,
        };
        match parsed {
            Some(n) => {
                self.advance()?;
                Ok(n)
            }
            None => Err(self.expecting("a non-negative integer")),
        }
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let first = self.and_expr()?;
        let mut rest = Vec::new();
        while self.eat_kw(Keyword::Or)? {
            rest.push(self.and_expr()?);
        }
        Ok(flatten(first, rest, false))
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let first = self.unary()?;
        let mut rest = Vec::new();
        while self.eat_kw(Keyword::And)? {
            rest.push(self.unary()?);
        }
        Ok(flatten(first, rest, true))
    }

    fn unary(&mut self) -> PResult<Expr> {
        let nests = self.at_kw(Keyword::Not) || self.tok.kind == TokenKind::LParen;
        if !nests {
            return self.comparison();
        }
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("query nests more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let expr = if self.eat_kw(Keyword::Not)? {
            Expr::Not(Box::new(self.unary()?))
        } else {
            self.advance()?; // the `(`
            let inner = self.or_expr()?;
            self.expect(&TokenKind::RParen, "a right parentheses")?;
            inner
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let field = self.path()?;
        let op = match self.tok.kind {
            TokenKind::Eq => CompareOp::Eq,
            TokenKind::Ne => CompareOp::Ne,
            TokenKind::Lt => CompareOp::Lt,
            TokenKind::Le => CompareOp::Le,
            TokenKind::Gt => CompareOp::Gt,
            TokenKind::Ge => CompareOp::Ge,
            TokenKind::Keyword(Keyword::In) => {
                self.advance()?;
                let values = self.list(Self::literal)?;
                return Ok(Expr::In {
                    field,
                    negated: false,
                    values,
                });
            }
            TokenKind::Keyword(Keyword::Not) => {
                self.advance()?;
                if self.eat_kw(Keyword::In)? {
                    let values = self.list(Self::literal)?;
                    return Ok(Expr::In {
                        field,
                        negated: true,
                        values,
                    });
                }
                if self.eat_kw(Keyword::Like)? {
                    // Same tree as `NOT field LIKE ...`, so both spellings are canonical.
                    return Ok(Expr::Not(Box::new(self.like(field)?)));
                }
                return Err(self.unexpected());
            }
            TokenKind::Keyword(Keyword::Like) => {
                self.advance()?;
                return self.like(field);
            }
            TokenKind::Keyword(kw @ (Keyword::Includes | Keyword::Excludes)) => {
                self.advance()?;
                let values = self.list(Self::string)?;
                return Ok(Expr::Includes {
                    field,
                    excludes: kw == Keyword::Excludes,
                    values,
                });
            }
            _ => return Err(self.unexpected()),
        };
        self.advance()?;
        let value = self.literal()?;
        Ok(Expr::Compare { field, op, value })
    }

    fn like(&mut self, field: FieldPath) -> PResult<Expr> {
        Ok(Expr::Like {
            field,
            negated: false,
            pattern: self.string()?,
        })
    }

    /// `( item {, item} )`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        self.expect(&TokenKind::LParen, "a left parentheses")?;
        let mut values = vec![item(self)?];
        while self.eat(&TokenKind::Comma)? {
            values.push(item(self)?);
        }
        self.expect(&TokenKind::RParen, "a right parentheses")?;
        Ok(values)
    }

    fn string(&mut self) -> PResult<String> {
        match &self.tok.kind {
            TokenKind::String(s) => {
                let s = s.clone();
                self.advance()?;
                Ok(s)
            }
            _ => Err(self.expecting("a string literal")),
        }
    }

    fn literal(&mut self) -> PResult<Literal> {
        let literal = match &self.tok.kind {
            TokenKind::Keyword(Keyword::Null) => Literal::Null,
            TokenKind::Keyword(Keyword::True) => Literal::Bool(true),
            TokenKind::Keyword(Keyword::False) => Literal::Bool(false),
            TokenKind::String(s) => Literal::String(s.clone()),
            TokenKind::Number => Literal::Number(self.tok.text.to_string()),
            TokenKind::Date(d) => Literal::Date(*d),
            TokenKind::DateTime(dt) => Literal::DateTime(*dt),
            TokenKind::Ident => return self.date_literal(),
            _ => return Err(self.unexpected()),
        };
        self.advance()?;
        Ok(literal)
    }

    /// `TODAY`, `LAST_N_DAYS:30` ...; any other name in value position is an error.
    fn date_literal(&mut self) -> PResult<Literal> {
        let name = self.tok.text.to_ascii_uppercase();
        if DATE_LITERALS.contains(&name.as_str()) {
            self.advance()?;
            return Ok(Literal::DateLiteral { name, n: None });
        }
        if !DATE_LITERALS_N.contains(&name.as_str()) {
            return Err(self.unexpected());
        }
        self.advance()?;
        self.expect(&TokenKind::Colon, "a colon")?;
        let n = self.unsigned()?;
        Ok(Literal::DateLiteral { name, n: Some(n) })
    }
}

/// Joins `first` and `rest` with AND (or OR), splicing in operands of the same kind so
/// that `a AND (b AND c)` and `a AND b AND c` give the same tree.
fn flatten(first: Expr, rest: Vec<Expr>, and: bool) -> Expr {
    if rest.is_empty() {
        return first;
    }
    let mut operands = Vec::with_capacity(rest.len() + 1);
    for expr in std::iter::once(first).chain(rest) {
        match (expr, and) {
            (Expr::And(inner), true) | (Expr::Or(inner), false) => operands.extend(inner),
            (other, _) => operands.push(other),
        }
    }
    if and {
        Expr::And(operands)
    } else {
        Expr::Or(operands)
    }
}
