//! Rule file text → syntax tree. Parse errors are phrased for lawyers: they name what was
//! expected ("a condition", "`where`"), never the grammar's internal rule names.

use pest::iterators::Pair;
use pest::Parser;

use super::ast::*;
use super::diag::LangError;
use crate::date::Date;
use crate::source::FileId;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/lexflow.pest"]
struct PolicyParser;

/// Deepest nesting of parentheses and brackets accepted before parsing; pest recurses, so
/// a hostile file must be refused before it can exhaust the stack.
const MAX_NESTING: usize = 64;

pub fn parse_policy(file: FileId, text: &str) -> Result<PolicyFile, LangError> {
    check_nesting(file, text)?;
    let mut pairs =
        PolicyParser::parse(Rule::file, text).map_err(|e| parse_error(file, text, e))?;
    let Some(root) = pairs.next() else {
        return Ok(PolicyFile {
            file,
            items: vec![],
        });
    };
    let builder = Builder { file };
    let mut items = Vec::new();
    for pair in root.into_inner() {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        items.push(builder.item(pair)?);
    }
    Ok(PolicyFile { file, items })
}

/// Where a character of rule-file text stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lexical {
    Code,
    /// Inside a quoted text (escapes `\"` and `\\` honoured).
    Text,
    /// From `#` to the end of the line.
    Comment,
}

/// A character-by-character view of rule-file text that tells code from quoted text and
/// comments, without parsing: the nesting guard and the language server both need it.
#[derive(Clone, Copy, Debug)]
pub struct LexicalScanner {
    state: Lexical,
    escaped: bool,
}

impl Default for LexicalScanner {
    fn default() -> Self {
        LexicalScanner {
            state: Lexical::Code,
            escaped: false,
        }
    }
}

impl LexicalScanner {
    /// Where `c` stands, then moves past it.
    pub fn step(&mut self, c: char) -> Lexical {
        let here = self.state;
        match here {
            Lexical::Comment if c == '\n' => self.state = Lexical::Code,
            Lexical::Comment => {}
            Lexical::Text => match (self.escaped, c) {
                (true, _) => self.escaped = false,
                (false, '\\') => self.escaped = true,
                (false, '"') => self.state = Lexical::Code,
                _ => {}
            },
            Lexical::Code if c == '#' => self.state = Lexical::Comment,
            Lexical::Code if c == '"' => self.state = Lexical::Text,
            Lexical::Code => {}
        }
        here
    }

    /// Where the position after all characters stepped over stands.
    pub fn state(&self) -> Lexical {
        self.state
    }

    /// Where byte `offset` of `text` stands (in code, a quoted text or a comment).
    pub fn at(text: &str, offset: usize) -> Lexical {
        let mut scanner = LexicalScanner::default();
        for c in text.get(..offset).unwrap_or(text).chars() {
            scanner.step(c);
        }
        scanner.state()
    }
}

fn check_nesting(file: FileId, text: &str) -> Result<(), LangError> {
    let mut depth = 0usize;
    let mut scanner = LexicalScanner::default();
    for (offset, ch) in text.char_indices() {
        if scanner.step(ch) != Lexical::Code {
            continue;
        }
        match ch {
            '(' | '[' | '{' => {
                depth = depth.saturating_add(1);
                if depth > MAX_NESTING {
                    return Err(LangError::new(
                        "nesting too deep",
                        Span {
                            file,
                            start: offset as u32,
                            end: (offset as u32).saturating_add(1),
                        },
                        format!("more than {MAX_NESTING} nested brackets"),
                    )
                    .with_help("split the condition into named definitions (`define ...`)"));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn describe(which: &Rule) -> &'static str {
    match which {
        Rule::EOI => "the end of the file",
        Rule::import => "`import`",
        Rule::taxonomy => "`taxonomy`",
        Rule::countries => "`countries`",
        Rule::group => "`group`",
        Rule::vocabulary => "`vocabulary`",
        Rule::define => "`define`",
        Rule::law => "`law`",
        Rule::law_name => "a law's short name in capitals (such as PIPL)",
        Rule::rule_id => "a rule id in capitals (such as PIPL-39)",
        Rule::string | Rule::string_inner => "a quoted text",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::number | Rule::int => "a number",
        Rule::name | Rule::path => "a name",
        Rule::kind => {
            "an entity kind (system, flow, organization, contract, assessment, collection)"
        }
        Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::test => "a condition",
        Rule::sum_expr => "a value",
        Rule::severity_level => "`error`, `warning` or `review`",
        Rule::rule => "`rule`",
        Rule::cite => "`cite`",
        Rule::severity => "`severity`",
        Rule::require => "`require`",
        Rule::unless => "`unless`",
        Rule::remedy => "`remedy`",
        Rule::query => "`for each`",
        Rule::kw_where | Rule::where_clause => "`where`",
        Rule::kw_let | Rule::let_clause => "`let`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_over => "`over`",
        Rule::kw_to => "`to`",
        Rule::kw_from => "`from`",
        Rule::kw_along => "`along`",
        Rule::kw_each => "`each`",
        Rule::is_what => "`missing`, `present`, `true` or `false`",
        Rule::active_when => {
            "`in the as-of year`, `on the as-of date` or `since the start of the previous year`"
        }
        Rule::cmp_op => "a comparison (=, !=, <, <=, >, >=)",
        Rule::category_node => "a category name",
        Rule::list => "a list in brackets",
        Rule::group_term | Rule::group_list => "a group name or a list of countries",
        Rule::vocab_op => "`=` or `+=`",
        Rule::unit => "a unit (days, working days, months, years)",
        _ => "something else",
    }
}

fn parse_error(file: FileId, text: &str, error: pest::error::Error<Rule>) -> LangError {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match error.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let found: String = text
        .get(start..)
        .unwrap_or("")
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .chars()
        .take(40)
        .collect();
    let end = end.max(start + found.len()).min(text.len());
    let message = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut wanted: Vec<&str> = positives.iter().map(describe).collect();
            wanted.sort_unstable();
            wanted.dedup();
            wanted.retain(|w| *w != "something else");
            let expected = match wanted.len() {
                0 => "something else".to_string(),
                1 => wanted.join(""),
                _ => {
                    let last = wanted.pop().unwrap_or_default();
                    format!("{} or {}", wanted.join(", "), last)
                }
            };
            if found.is_empty() {
                format!("expected {expected} here")
            } else {
                format!("expected {expected}, found `{found}`")
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    LangError::new(
        "syntax error in rule file",
        Span {
            file,
            start: start as u32,
            end: end as u32,
        },
        message,
    )
    .with_help("see docs/language.md for the shape of each statement")
}

/// One `from`/`to`/`along` part of a path query: kind, variable, filter.
type PathSection<'i> = (Option<Pair<'i, Rule>>, Option<Pair<'i, Rule>>, Option<Expr>);

struct Builder {
    file: FileId,
}

type Res<T> = Result<T, LangError>;

impl Builder {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span {
            file: self.file,
            start: s.start() as u32,
            end: s.end() as u32,
        }
    }

    fn name(&self, pair: Pair<Rule>) -> Name {
        Name {
            span: self.span(&pair),
            text: pair.as_str().to_string(),
        }
    }

    fn string(&self, pair: Pair<Rule>) -> String {
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        // Long legal texts are wrapped in the file; fold the wrapping into single spaces.
        let folded: Vec<&str> = out.split('\n').map(str::trim).collect();
        folded.join(" ").trim().to_string()
    }

    fn date(&self, pair: Pair<Rule>) -> Res<Date> {
        let span = self.span(&pair);
        Date::parse(pair.as_str()).ok_or_else(|| {
            LangError::new(
                "invalid date",
                span,
                format!("`{}` is not a calendar date", pair.as_str()),
            )
            .with_help("dates are written YYYY-MM-DD, e.g. 2021-11-01")
        })
    }

    fn number(&self, pair: Pair<Rule>) -> Res<i64> {
        let span = self.span(&pair);
        pair.as_str().replace('_', "").parse::<i64>().map_err(|_| {
            LangError::new(
                "number too large",
                span,
                "this number does not fit".to_string(),
            )
            .with_help("numbers must be below 9,223,372,036,854,775,807")
        })
    }

    fn item(&self, pair: Pair<Rule>) -> Res<Item> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::import => {
                let s = first(pair, span)?;
                let text = self.string(s.clone());
                Ok(Item::Import(Name {
                    text,
                    span: self.span(&s),
                }))
            }
            Rule::taxonomy => Ok(Item::Taxonomy(
                pair.into_inner().map(|p| self.category_node(p)).collect(),
            )),
            Rule::countries => Ok(Item::Countries(
                pair.into_inner().map(|p| self.name(p)).collect(),
            )),
            Rule::group => {
                let mut inner = pair.into_inner();
                let name = self.name(next(&mut inner, span)?);
                let expr = next(&mut inner, span)?;
                let mut terms = Vec::new();
                for term in expr.into_inner() {
                    let term_span = self.span(&term);
                    let content = first(term, term_span)?;
                    match content.as_rule() {
                        Rule::group_list => {
                            let mut entries = Vec::new();
                            for entry in content.into_inner() {
                                let entry_span = self.span(&entry);
                                let mut parts = entry.into_inner();
                                let code = self.name(next(&mut parts, entry_span)?);
                                let (mut from, mut until) = (None, None);
                                if let Some(dated) = parts.next() {
                                    let mut last_kw = Rule::kw_from;
                                    for part in dated.into_inner() {
                                        match part.as_rule() {
                                            Rule::kw_from | Rule::kw_until => {
                                                last_kw = part.as_rule()
                                            }
                                            Rule::date if last_kw == Rule::kw_from => {
                                                from = Some(self.date(part)?)
                                            }
                                            Rule::date => until = Some(self.date(part)?),
                                            _ => {}
                                        }
                                    }
                                }
                                entries.push(GroupEntry { code, from, until });
                            }
                            terms.push(GroupTerm::List(entries));
                        }
                        _ => terms.push(GroupTerm::Group(self.name(content))),
                    }
                }
                Ok(Item::Group(GroupDecl { name, terms }))
            }
            Rule::vocabulary => {
                let mut inner = pair.into_inner();
                let name = self.name(next(&mut inner, span)?);
                let extends = next(&mut inner, span)?.as_str() == "+=";
                let values = inner.map(|p| self.name(p)).collect();
                Ok(Item::Vocabulary(VocabularyDecl {
                    name,
                    extends,
                    values,
                }))
            }
            Rule::define => Ok(Item::Define(self.define(pair)?)),
            Rule::law => Ok(Item::Law(self.law(pair)?)),
            _ => Err(LangError::new(
                "unexpected statement",
                span,
                "not expected here".into(),
            )),
        }
    }

    fn category_node(&self, pair: Pair<Rule>) -> CategoryNode {
        let mut inner = pair.into_inner();
        let name = inner.next().map(|p| self.name(p)).unwrap_or(Name {
            text: String::new(),
            span: Span::default(),
        });
        CategoryNode {
            name,
            children: inner.map(|p| self.category_node(p)).collect(),
        }
    }

    fn define(&self, pair: Pair<Rule>) -> Res<Define> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(next(&mut inner, span)?);
        let mut part = next(&mut inner, span)?;
        let mut param = None;
        if part.as_rule() == Rule::define_params {
            let pspan = self.span(&part);
            let mut p = part.into_inner();
            let kind = self.kind(next(&mut p, pspan)?)?;
            param = Some((kind, self.name(next(&mut p, pspan)?)));
            part = next(&mut inner, span)?;
        }
        Ok(Define {
            name,
            param,
            body: self.expr(part)?,
            span,
        })
    }

    fn kind(&self, pair: Pair<Rule>) -> Res<EntityKindName> {
        let span = self.span(&pair);
        EntityKindName::parse(pair.as_str())
            .ok_or_else(|| LangError::new("unknown entity kind", span, "not an entity kind".into()))
    }

    fn law(&self, pair: Pair<Rule>) -> Res<Law> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.name(next(&mut inner, span)?);
        let title = self.string(next(&mut inner, span)?);
        let mut law = Law {
            name,
            title,
            version: None,
            effective: None,
            until: None,
            source: None,
            applies: None,
            off_by_default: false,
            defines: vec![],
            rules: vec![],
            span,
        };
        for item in inner {
            let item_span = self.span(&item);
            match item.as_rule() {
                Rule::law_version => law.version = Some(self.string(first(item, item_span)?)),
                Rule::law_effective => law.effective = Some(self.date(first(item, item_span)?)?),
                Rule::law_until => law.until = Some(self.date(first(item, item_span)?)?),
                Rule::law_source => law.source = Some(self.string(first(item, item_span)?)),
                Rule::law_applies => law.applies = Some(self.expr(first(item, item_span)?)?),
                Rule::law_default_off => law.off_by_default = true,
                Rule::define => law.defines.push(self.define(item)?),
                Rule::rule => law.rules.push(self.rule(item)?),
                _ => {}
            }
        }
        Ok(law)
    }

    fn rule(&self, pair: Pair<Rule>) -> Res<Rule_> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let id = self.name(next(&mut inner, span)?);
        let title = self.string(next(&mut inner, span)?);
        let mut rule = Rule_ {
            id,
            title,
            cite: None,
            severity: None,
            effective: None,
            until: None,
            text: None,
            explain: None,
            query: None,
            require: None,
            unless: vec![],
            message: None,
            remedy: None,
            span,
        };
        for item in inner {
            let item_span = self.span(&item);
            match item.as_rule() {
                Rule::cite => {
                    let s = first(item, item_span)?;
                    let s_span = self.span(&s);
                    rule.cite = Some((self.string(s), s_span));
                }
                Rule::severity => {
                    rule.severity = Some(match first(item, item_span)?.as_str() {
                        "error" => SeverityLevel::Error,
                        "warning" => SeverityLevel::Warning,
                        _ => SeverityLevel::Review,
                    })
                }
                Rule::rule_effective => rule.effective = Some(self.date(first(item, item_span)?)?),
                Rule::rule_until => rule.until = Some(self.date(first(item, item_span)?)?),
                Rule::legal_text => rule.text = Some(self.string(first(item, item_span)?)),
                Rule::explain => rule.explain = Some(self.string(first(item, item_span)?)),
                Rule::remedy => rule.remedy = Some(self.string(first(item, item_span)?)),
                Rule::message => {
                    let s = first(item, item_span)?;
                    let s_span = self.span(&s);
                    rule.message = Some((self.string(s), s_span));
                }
                Rule::require => rule.require = Some(self.expr(first(item, item_span)?)?),
                Rule::unless => rule.unless.push(self.expr(first(item, item_span)?)?),
                Rule::query => rule.query = Some(self.query(item)?),
                _ => {}
            }
        }
        Ok(rule)
    }

    fn binding(&self, kind: Pair<Rule>, var: Pair<Rule>) -> Res<Binding> {
        Ok(Binding {
            kind: self.kind(kind)?,
            var: self.name(var),
        })
    }

    fn query(&self, pair: Pair<Rule>) -> Res<Query> {
        let span = self.span(&pair);
        let mut inner = pair
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::kw_for | Rule::kw_each));
        let head = next(&mut inner, span)?;
        let clauses = inner.map(|c| self.clause(c)).collect::<Res<Vec<_>>>()?;
        match head.as_rule() {
            Rule::binding => {
                let mut parts = head.into_inner();
                let binding = self.binding(next(&mut parts, span)?, next(&mut parts, span)?)?;
                Ok(Query::Each {
                    binding,
                    clauses,
                    span,
                })
            }
            _ => {
                // path p from KIND s [where e] to KIND t [where e] along KIND g [where e]
                let parts = head.into_inner();
                let mut path_var = None;
                let mut sections: Vec<PathSection> = vec![];
                for part in parts {
                    match part.as_rule() {
                        Rule::kw_path | Rule::kw_where => {}
                        Rule::name if path_var.is_none() => path_var = Some(self.name(part)),
                        Rule::kw_from | Rule::kw_to | Rule::kw_along => {
                            sections.push((None, None, None))
                        }
                        Rule::kind => {
                            if let Some(last) = sections.last_mut() {
                                last.0 = Some(part);
                            }
                        }
                        Rule::name => {
                            if let Some(last) = sections.last_mut() {
                                last.1 = Some(part);
                            }
                        }
                        Rule::expr => {
                            if let Some(last) = sections.last_mut() {
                                last.2 = Some(self.expr(part)?);
                            }
                        }
                        _ => {}
                    }
                }
                let mut bound = Vec::new();
                for (kind, var, filter) in sections {
                    let (Some(kind), Some(var)) = (kind, var) else {
                        return Err(LangError::new(
                            "incomplete path query",
                            span,
                            "a part of this path query is missing".into(),
                        ));
                    };
                    bound.push((self.binding(kind, var)?, filter));
                }
                let mut bound = bound.into_iter();
                let (
                    Some(path_var),
                    Some((source, source_where)),
                    Some((target, target_where)),
                    Some((step, step_where)),
                ) = (path_var, bound.next(), bound.next(), bound.next())
                else {
                    return Err(LangError::new(
                        "incomplete path query",
                        span,
                        "a part of this path query is missing".into(),
                    ));
                };
                Ok(Query::Path {
                    path_var,
                    source,
                    source_where,
                    target,
                    target_where,
                    step,
                    step_where,
                    clauses,
                    span,
                })
            }
        }
    }

    fn clause(&self, pair: Pair<Rule>) -> Res<Clause> {
        let span = self.span(&pair);
        let which = pair.as_rule();
        let mut inner = pair
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::kw_where | Rule::kw_let));
        match which {
            Rule::where_clause => Ok(Clause::Where(self.expr(next(&mut inner, span)?)?)),
            _ => {
                let name = self.name(next(&mut inner, span)?);
                Ok(Clause::Let(name, self.expr(next(&mut inner, span)?)?))
            }
        }
    }

    fn expr(&self, pair: Pair<Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let which = pair.as_rule();
        match which {
            Rule::expr => self.expr(first(pair, span)?),
            Rule::or_expr | Rule::and_expr => {
                let mut parts: Vec<Expr> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::kw_or | Rule::kw_and))
                    .map(|p| self.expr(p))
                    .collect::<Res<_>>()?;
                if parts.len() == 1 {
                    return parts
                        .pop()
                        .ok_or_else(|| LangError::new("empty", span, String::new()));
                }
                let kind = if which == Rule::or_expr {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Ok(Expr { kind, span })
            }
            Rule::not_expr => {
                let mut inner = pair.into_inner();
                let head = next(&mut inner, span)?;
                if head.as_rule() == Rule::kw_not {
                    let operand = self.expr(next(&mut inner, span)?)?;
                    Ok(Expr {
                        kind: ExprKind::Not(Box::new(operand)),
                        span,
                    })
                } else {
                    self.expr(head)
                }
            }
            Rule::test => {
                let mut inner = pair.into_inner();
                let left = self.expr(next(&mut inner, span)?)?;
                let Some(tail) = inner.next() else {
                    return Ok(left);
                };
                self.test_tail(left, tail, span)
            }
            Rule::sum_expr => {
                let mut inner = pair.into_inner();
                let head = self.expr(next(&mut inner, span)?)?;
                let mut rest = Vec::new();
                while let Some(op) = inner.next() {
                    let op = match op.as_str() {
                        "+" => AddOp::Plus,
                        "-" => AddOp::Minus,
                        _ => AddOp::Union,
                    };
                    rest.push((op, self.expr(next(&mut inner, span)?)?));
                }
                if rest.is_empty() {
                    return Ok(head);
                }
                Ok(Expr {
                    kind: ExprKind::Arith(Box::new(head), rest),
                    span,
                })
            }
            Rule::number => Ok(Expr {
                kind: ExprKind::Number(self.number(pair)?),
                span,
            }),
            Rule::date => Ok(Expr {
                kind: ExprKind::Date(self.date(pair)?),
                span,
            }),
            Rule::string => Ok(Expr {
                kind: ExprKind::Text(self.string(pair)),
                span,
            }),
            Rule::as_of => Ok(Expr {
                kind: ExprKind::AsOf,
                span,
            }),
            Rule::duration => {
                let mut inner = pair.into_inner();
                let n = self.number(next(&mut inner, span)?)?;
                let unit = match next(&mut inner, span)?.as_str() {
                    u if u.starts_with("working") => DurationUnit::WorkingDays,
                    u if u.starts_with("day") => DurationUnit::Days,
                    u if u.starts_with("month") => DurationUnit::Months,
                    _ => DurationUnit::Years,
                };
                Ok(Expr {
                    kind: ExprKind::Duration(n, unit),
                    span,
                })
            }
            Rule::list => Ok(Expr {
                kind: ExprKind::List(
                    pair.into_inner()
                        .map(|p| self.expr(p))
                        .collect::<Res<_>>()?,
                ),
                span,
            }),
            Rule::path => Ok(Expr {
                kind: ExprKind::Path(pair.into_inner().map(|p| self.name(p)).collect()),
                span,
            }),
            Rule::call => {
                let mut inner = pair.into_inner();
                let name = self.name(next(&mut inner, span)?);
                let arg = self.expr(next(&mut inner, span)?)?;
                Ok(Expr {
                    kind: ExprKind::Call(name, Box::new(arg)),
                    span,
                })
            }
            Rule::aggregate => self.aggregate(first(pair, span)?),
            _ => Err(LangError::new(
                "unexpected expression",
                span,
                format!("cannot read `{}` here", pair.as_str()),
            )),
        }
    }

    fn aggregate(&self, pair: Pair<Rule>) -> Res<Expr> {
        let span = self.span(&pair);
        let op = match pair.as_rule() {
            Rule::count => AggregateOp::Count,
            Rule::count_distinct => AggregateOp::CountDistinct,
            Rule::sum => AggregateOp::Sum,
            Rule::exists => AggregateOp::Exists,
            _ => AggregateOp::NoneExists,
        };
        let mut value = None;
        let mut kind = None;
        let mut var = None;
        let mut filter = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::sum_expr => value = Some(Box::new(self.expr(part)?)),
                Rule::kind => kind = Some(part),
                Rule::name => var = Some(part),
                Rule::expr => filter = Some(Box::new(self.expr(part)?)),
                _ => {}
            }
        }
        let (Some(kind), Some(var)) = (kind, var) else {
            return Err(LangError::new(
                "incomplete aggregate",
                span,
                "expected `KIND name`".into(),
            ));
        };
        let binding = self.binding(kind, var)?;
        Ok(Expr {
            kind: ExprKind::Aggregate {
                op,
                value,
                binding,
                filter,
            },
            span,
        })
    }

    fn test_tail(&self, left: Expr, tail: Pair<Rule>, span: Span) -> Res<Expr> {
        let which = tail.as_rule();
        let tail_span = self.span(&tail);
        let mut inner = tail.into_inner().filter(|p| {
            !matches!(
                p.as_rule(),
                Rule::kw_in
                    | Rule::kw_not
                    | Rule::kw_has
                    | Rule::kw_all
                    | Rule::kw_is
                    | Rule::kw_leaves
                    | Rule::kw_enters
                    | Rule::kw_active
            )
        });
        let left = Box::new(left);
        let kind = match which {
            Rule::cmp_test => {
                let op = match next(&mut inner, tail_span)?.as_str() {
                    "=" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                ExprKind::Compare(op, left, Box::new(self.expr(next(&mut inner, tail_span)?)?))
            }
            Rule::in_test | Rule::not_in_test => ExprKind::In {
                value: left,
                set: Box::new(self.expr(next(&mut inner, tail_span)?)?),
                negated: which == Rule::not_in_test,
            },
            Rule::has_test | Rule::has_all => ExprKind::Has {
                value: left,
                set: Box::new(self.expr(next(&mut inner, tail_span)?)?),
                all: which == Rule::has_all,
            },
            Rule::is_test => ExprKind::Is(
                left,
                match next(&mut inner, tail_span)?.as_str() {
                    "missing" => IsWhat::Missing,
                    "present" => IsWhat::Present,
                    "true" => IsWhat::True,
                    _ => IsWhat::False,
                },
            ),
            Rule::leaves_test => {
                ExprKind::Leaves(left, Box::new(self.expr(next(&mut inner, tail_span)?)?))
            }
            Rule::enters_test => {
                ExprKind::Enters(left, Box::new(self.expr(next(&mut inner, tail_span)?)?))
            }
            Rule::active_test => ExprKind::Active(left, {
                let when = next(&mut inner, tail_span)?.as_str().to_string();
                if when.contains("previous") {
                    ActiveWhen::SincePreviousYear
                } else if when.contains("year") {
                    ActiveWhen::AsOfYear
                } else {
                    ActiveWhen::AsOfDate
                }
            }),
            _ => {
                return Err(LangError::new(
                    "unexpected test",
                    tail_span,
                    "not understood".into(),
                ))
            }
        };
        Ok(Expr { kind, span })
    }
}

/// The AST's rule type is named `Rule`, as is pest's generated enum; keep both readable.
use super::ast::Rule as Rule_;

fn next<'a>(iter: &mut impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> Res<Pair<'a, Rule>> {
    iter.next().ok_or_else(|| {
        LangError::new(
            "incomplete statement",
            span,
            "something is missing here".into(),
        )
    })
}

fn first(pair: Pair<Rule>, span: Span) -> Res<Pair<Rule>> {
    pair.into_inner().next().ok_or_else(|| {
        LangError::new(
            "incomplete statement",
            span,
            "something is missing here".into(),
        )
    })
}

/// What `fmt` needs to know of a rule file's structure beyond its tokens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LayoutKind {
    /// A statement that begins a line of its own: a file item, a law item, a rule item.
    Statement,
    /// A category of a `taxonomy` block: begins a line when written on one, never split off.
    Category,
    /// A `where` or `let` clause of a `for each`, indented one step under it.
    Clause,
    /// A law or rule block: its braces close and open lines.
    Block,
    /// A rule id or a law's short name: one word even with `-` or `.` inside.
    Word,
}

/// One construct of [`LayoutKind`] with its byte range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LayoutMark {
    pub kind: LayoutKind,
    pub start: usize,
    pub end: usize,
}

/// The layout marks of a rule file, in source order; the same errors as [`parse_policy`]
/// when it does not parse.
pub fn layout(file: FileId, text: &str) -> Result<Vec<LayoutMark>, LangError> {
    check_nesting(file, text)?;
    let pairs = PolicyParser::parse(Rule::file, text).map_err(|e| parse_error(file, text, e))?;
    let mut marks = Vec::new();
    let mut stack: Vec<Pair<Rule>> = pairs.collect();
    stack.reverse();
    while let Some(pair) = stack.pop() {
        let span = pair.as_span();
        let kind = match pair.as_rule() {
            Rule::law | Rule::rule => Some(LayoutKind::Block),
            Rule::import
            | Rule::taxonomy
            | Rule::countries
            | Rule::group
            | Rule::vocabulary
            | Rule::define
            | Rule::law_version
            | Rule::law_effective
            | Rule::law_until
            | Rule::law_source
            | Rule::law_applies
            | Rule::law_default_off
            | Rule::cite
            | Rule::severity
            | Rule::rule_effective
            | Rule::rule_until
            | Rule::legal_text
            | Rule::explain
            | Rule::message
            | Rule::remedy
            | Rule::require
            | Rule::unless
            | Rule::query => Some(LayoutKind::Statement),
            Rule::category_node => Some(LayoutKind::Category),
            Rule::where_clause | Rule::let_clause => Some(LayoutKind::Clause),
            Rule::rule_id | Rule::law_name => Some(LayoutKind::Word),
            _ => None,
        };
        if let Some(kind) = kind {
            marks.push(LayoutMark {
                kind,
                start: span.start(),
                end: span.end(),
            });
        }
        // Expressions hold no statements: only descend where marks can be.
        if matches!(
            pair.as_rule(),
            Rule::file
                | Rule::law
                | Rule::rule
                | Rule::query
                | Rule::taxonomy
                | Rule::category_node
        ) {
            let mut children: Vec<Pair<Rule>> = pair.into_inner().collect();
            children.reverse();
            stack.extend(children);
        }
    }
    marks.sort_by_key(|m| (m.start, m.kind == LayoutKind::Statement));
    Ok(marks)
}

#[cfg(test)]
mod lexical_tests {
    use super::{Lexical, LexicalScanner};

    #[test]
    fn tells_code_from_texts_and_comments() {
        let text = "rule X \"a \\\" # (\" # note (\nwhere (";
        let at = |needle: &str| LexicalScanner::at(text, text.find(needle).unwrap());
        assert_eq!(at("rule"), Lexical::Code);
        assert_eq!(at("a \\"), Lexical::Text);
        assert_eq!(
            at("# ("),
            Lexical::Text,
            "a # inside a quoted text is not a comment"
        );
        assert_eq!(at("note"), Lexical::Comment);
        assert_eq!(
            at("where"),
            Lexical::Code,
            "a comment ends at the line's end"
        );
    }
}
