//! Static checking and compilation: syntax trees of all loaded rule files → [`Program`].
//! Resolves every name (variables, attributes, categories, country groups, vocabulary
//! values, definitions), checks types, and analyses aggregates so that the engine can
//! evaluate them through hash indexes. Errors carry spans and "did you mean" hints.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::ast::{self, *};
use super::diag::LangError;
use super::ir::{self, *};
use super::schema::{field_type, fields};
use crate::findings::Severity;
use crate::source::SourceMap;
use crate::vocab::{did_you_mean, Vocabulary};

type Res<T> = Result<T, LangError>;

/// Compiles parsed files (imports already resolved and included) into one program.
/// Returns every error found, not only the first.
pub fn compile(
    sources: SourceMap,
    files: &[PolicyFile],
) -> Result<Program, (SourceMap, Vec<LangError>)> {
    let mut checker = Checker {
        bundled_files: sources
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name.starts_with("<bundled>/"))
            .map(|(i, _)| crate::source::FileId(i as u32))
            .collect(),
        ..Checker::default()
    };
    checker.texts = sources.files.iter().map(|f| f.text.clone()).collect();
    checker.collect(files);
    let mut program = Program::default();
    checker.build_vocabulary(&mut program);
    checker.compile_laws(&mut program);
    checker.warn_unused();
    if checker.errors.is_empty() {
        program.sources = sources;
        program.warnings = checker.warnings;
        program.country_sets = checker.country_sets;
        program.category_sets = checker.category_sets;
        Ok(program)
    } else {
        Err((sources, checker.errors))
    }
}

#[derive(Default)]
struct Checker<'a> {
    taxonomy_nodes: Vec<&'a CategoryNode>,
    countries: Vec<&'a Name>,
    groups: BTreeMap<String, &'a GroupDecl>,
    vocabularies: Vec<&'a VocabularyDecl>,
    global_defines: BTreeMap<String, &'a Define>,
    laws: Vec<&'a Law>,
    taxonomy: Taxonomy,
    vocab: Vocabulary,
    country_sets: Vec<ir::CountrySet>,
    category_sets: Vec<ir::CategorySet>,
    group_set_ids: HashMap<String, CountrySetId>,
    define_category_sets: HashMap<(Option<String>, String), CategorySetId>,
    used_defines: HashSet<(Option<String>, String)>,
    errors: Vec<LangError>,
    warnings: Vec<LangError>,
    bundled_files: HashSet<crate::source::FileId>,
    /// The text of each file, to quote conditions in warnings.
    texts: Vec<crate::source::SourceText>,
}

/// A variable in scope.
#[derive(Clone)]
struct Var {
    name: String,
    slot: Slot,
    ty: Ty,
}

/// What is being compiled: one rule (or a law's scope condition).
struct Frame<'a> {
    law: Option<&'a Law>,
    scope: Vec<Var>,
    slots: usize,
    aggregates: Vec<Aggregate>,
    aggregate_free: Vec<BTreeSet<Slot>>,
    expanding: Vec<String>,
}

impl<'a> Frame<'a> {
    fn new(law: Option<&'a Law>) -> Self {
        Frame {
            law,
            scope: vec![],
            slots: 0,
            aggregates: vec![],
            aggregate_free: vec![],
            expanding: vec![],
        }
    }

    fn bind(&mut self, name: &str, ty: Ty) -> Slot {
        let slot = self.slots;
        self.slots += 1;
        self.scope.push(Var {
            name: name.to_string(),
            slot,
            ty,
        });
        slot
    }

    fn lookup(&self, name: &str) -> Option<&Var> {
        self.scope.iter().rev().find(|v| v.name == name)
    }
}

fn kind_of(name: EntityKindName) -> Kind {
    match name {
        EntityKindName::System => Kind::System,
        EntityKindName::Flow => Kind::Flow,
        EntityKindName::Organization => Kind::Organization,
        EntityKindName::Contract => Kind::Contract,
        EntityKindName::Assessment => Kind::Assessment,
        EntityKindName::Collection => Kind::Collection,
    }
}

fn bare_name(expr: &Expr) -> Option<&Name> {
    match &expr.kind {
        ExprKind::Path(names) if names.len() == 1 => names.first(),
        _ => None,
    }
}

fn dotted(names: &[Name]) -> String {
    names
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

impl<'a> Checker<'a> {
    fn collect(&mut self, files: &'a [PolicyFile]) {
        let mut seen_defines: HashMap<String, Span> = HashMap::new();
        for file in files {
            for item in &file.items {
                match item {
                    Item::Import(_) => {}
                    Item::Taxonomy(nodes) => self.taxonomy_nodes.extend(nodes.iter()),
                    Item::Countries(codes) => self.countries.extend(codes.iter()),
                    Item::Group(group) => {
                        if let Some(previous) = self.groups.insert(group.name.text.clone(), group) {
                            self.errors.push(
                                LangError::new(
                                    "group defined twice",
                                    group.name.span,
                                    format!("`{}` is already defined", group.name.text),
                                )
                                .with_related(previous.name.span, "first defined here"),
                            );
                        }
                    }
                    Item::Vocabulary(v) => self.vocabularies.push(v),
                    Item::Define(d) => {
                        if let Some(first) = seen_defines.insert(d.name.text.clone(), d.name.span) {
                            self.errors.push(
                                LangError::new(
                                    "definition given twice",
                                    d.name.span,
                                    format!("`{}` is already defined", d.name.text),
                                )
                                .with_related(first, "first defined here"),
                            );
                        }
                        self.global_defines.insert(d.name.text.clone(), d);
                    }
                    Item::Law(law) => {
                        // A pack with the name of an earlier one replaces it (user packs are
                        // loaded after the bundled ones).
                        self.laws.retain(|l| l.name.text != law.name.text);
                        self.laws.push(law);
                    }
                }
            }
        }
    }

    fn build_vocabulary(&mut self, program: &mut Program) {
        fn walk(
            node: &CategoryNode,
            prefix: &str,
            parent: Option<usize>,
            tax: &mut Taxonomy,
            errors: &mut Vec<LangError>,
        ) {
            let path = if prefix.is_empty() {
                node.name.text.clone()
            } else {
                format!("{prefix}.{}", node.name.text)
            };
            if tax.index.contains_key(&path) {
                errors.push(LangError::new(
                    "category declared twice",
                    node.name.span,
                    format!("`{path}` is already in the taxonomy"),
                ));
                return;
            }
            let id = tax.paths.len();
            tax.paths.push(path.clone());
            tax.parent.push(parent);
            tax.index.insert(path.clone(), id);
            for child in &node.children {
                walk(child, &path, Some(id), tax, errors);
            }
        }
        let nodes = std::mem::take(&mut self.taxonomy_nodes);
        for node in &nodes {
            walk(node, "", None, &mut self.taxonomy, &mut self.errors);
        }
        self.vocab.categories = self.taxonomy.paths.iter().cloned().collect();
        for code in &self.countries {
            self.vocab.countries.insert(code.text.clone());
        }
        self.vocab.groups = self.groups.keys().cloned().collect();
        // Declarations (`=`) first, then extensions (`+=`), whatever the file order.
        let mut declared: HashMap<String, Span> = HashMap::new();
        for decl in self.vocabularies.iter().filter(|d| !d.extends) {
            if let Some(first) = declared.insert(decl.name.text.clone(), decl.name.span) {
                self.errors.push(
                    LangError::new(
                        "vocabulary declared twice",
                        decl.name.span,
                        format!("`{}` already has values", decl.name.text),
                    )
                    .with_related(first, "first declared here")
                    .with_help("packs extend a vocabulary with `+=`; they never replace it"),
                );
            }
            let values = self.vocab.enums.entry(decl.name.text.clone()).or_default();
            values.extend(decl.values.iter().map(|v| v.text.clone()));
        }
        for decl in self.vocabularies.iter().filter(|d| d.extends) {
            let Some(values) = self.vocab.enums.get_mut(&decl.name.text) else {
                let mut e = LangError::new(
                    "unknown vocabulary",
                    decl.name.span,
                    format!("no vocabulary `{}` to extend", decl.name.text),
                );
                if let Some(s) = did_you_mean(&decl.name.text, declared.keys().map(String::as_str))
                {
                    e = e.with_help(format!("did you mean `{s}`?"));
                }
                self.errors.push(e);
                continue;
            };
            values.extend(decl.values.iter().map(|v| v.text.clone()));
        }
        // Check group members are known countries (or groups).
        let groups: Vec<&GroupDecl> = self.groups.values().copied().collect();
        for group in groups {
            for term in &group.terms {
                match term {
                    GroupTerm::Group(name) if !self.groups.contains_key(&name.text) => {
                        self.errors.push(self.unknown_group(name))
                    }
                    GroupTerm::List(entries) => {
                        for entry in entries {
                            if !self.vocab.countries.is_empty()
                                && !self.vocab.is_country(&entry.code.text)
                            {
                                self.errors.push(self.unknown_country(&entry.code));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        program.taxonomy = self.taxonomy.clone();
        program.vocab = self.vocab.clone();
    }

    fn unknown_group(&self, name: &Name) -> LangError {
        let mut e = LangError::new(
            "unknown country group",
            name.span,
            format!("no group or country `{}`", name.text),
        );
        if let Some(s) = did_you_mean(&name.text, self.groups.keys().map(String::as_str)) {
            e = e.with_help(format!("did you mean `{s}`?"));
        }
        e
    }

    fn unknown_country(&self, name: &Name) -> LangError {
        let candidates = self
            .vocab
            .countries
            .iter()
            .chain(self.groups.keys())
            .map(String::as_str);
        let mut e = LangError::new(
            "unknown country",
            name.span,
            format!("`{}` is neither a country code nor a group", name.text),
        );
        if let Some(s) = did_you_mean(&name.text, candidates) {
            e = e.with_help(format!("did you mean `{s}`?"));
        } else {
            e = e.with_help("countries are ISO 3166-1 alpha-2 codes (CN, DE, US); groups are declared with `group`");
        }
        e
    }

    // ------------------------------------------------------------------ country sets

    fn group_set(&mut self, name: &Name, stack: &mut Vec<String>) -> Res<CountrySetId> {
        if let Some(&id) = self.group_set_ids.get(&name.text) {
            return Ok(id);
        }
        let Some(&decl) = self.groups.get(&name.text) else {
            return Err(self.unknown_group(name));
        };
        if stack.contains(&name.text) {
            return Err(LangError::new(
                "group defined in terms of itself",
                name.span,
                format!("`{}` includes itself", name.text),
            ));
        }
        stack.push(name.text.clone());
        let mut entries = Vec::new();
        for term in &decl.terms {
            match term {
                GroupTerm::Group(inner) => {
                    let id = self.group_set(inner, stack)?;
                    entries.extend(
                        self.country_sets
                            .get(id)
                            .map(|s| s.entries.clone())
                            .unwrap_or_default(),
                    );
                }
                GroupTerm::List(list) => entries.extend(list.iter().map(|e| CountryEntry {
                    code: e.code.text.clone(),
                    from: e.from,
                    until: e.until,
                })),
            }
        }
        stack.pop();
        let id = self.country_sets.len();
        self.country_sets.push(ir::CountrySet {
            name: name.text.clone(),
            entries,
        });
        self.group_set_ids.insert(name.text.clone(), id);
        Ok(id)
    }

    /// Compiles `CN`, `EU`, `[CN, HK]`, `EEA + [CH]` or a definition naming one of those.
    fn country_set(&mut self, frame: &mut Frame<'a>, expr: &Expr) -> Res<CountrySetId> {
        let mut entries = Vec::new();
        let mut label = Vec::new();
        self.country_terms(frame, expr, &mut entries, &mut label)?;
        if let Some(name) = bare_name(expr) {
            if let Some(&id) = self.group_set_ids.get(&name.text) {
                return Ok(id);
            }
        }
        let id = self.country_sets.len();
        self.country_sets.push(ir::CountrySet {
            name: label.join(" + "),
            entries,
        });
        Ok(id)
    }

    fn country_terms(
        &mut self,
        frame: &mut Frame<'a>,
        expr: &Expr,
        out: &mut Vec<CountryEntry>,
        label: &mut Vec<String>,
    ) -> Res<()> {
        match (&expr.kind, bare_name(expr)) {
            (_, Some(name)) => {
                if self.groups.contains_key(&name.text) {
                    let id = self.group_set(name, &mut vec![])?;
                    out.extend(
                        self.country_sets
                            .get(id)
                            .map(|s| s.entries.clone())
                            .unwrap_or_default(),
                    );
                    label.push(name.text.clone());
                    Ok(())
                } else if self.vocab.is_country(&name.text) {
                    out.push(CountryEntry {
                        code: name.text.clone(),
                        from: None,
                        until: None,
                    });
                    label.push(name.text.clone());
                    Ok(())
                } else if let Some((law, define)) = self.find_define(frame.law, &name.text) {
                    if define.param.is_some() {
                        return Err(LangError::new(
                            "definition needs an argument",
                            name.span,
                            format!("`{}` takes a parameter", name.text),
                        ));
                    }
                    self.used_defines.insert((law, name.text.clone()));
                    self.country_terms(frame, &define.body, out, label)
                } else {
                    Err(self.unknown_country(name))
                }
            }
            (ExprKind::List(items), _) => {
                for item in items {
                    self.country_terms(frame, item, out, label)?;
                }
                Ok(())
            }
            (ExprKind::Arith(head, rest), _) => {
                self.country_terms(frame, head, out, label)?;
                for (op, term) in rest {
                    if *op == AddOp::Minus {
                        return Err(LangError::new(
                            "cannot subtract here",
                            term.span,
                            "country sets are united with `+`".into(),
                        ));
                    }
                    self.country_terms(frame, term, out, label)?;
                }
                Ok(())
            }
            _ => Err(LangError::new(
                "expected countries",
                expr.span,
                "expected a country, a group or a list of them".into(),
            )
            .with_help("for example `CN`, `EEA`, `[HK, MO, TW]`, or `EU + EU_ADEQUATE`")),
        }
    }

    // ------------------------------------------------------------------ category sets

    fn category_set(&mut self, frame: &mut Frame<'a>, expr: &Expr) -> Res<CategorySetId> {
        if let Some(name) = bare_name(expr) {
            if let Some((law, define)) = self.find_define(frame.law, &name.text) {
                let key = (law.clone(), name.text.clone());
                self.used_defines.insert(key.clone());
                if let Some(&id) = self.define_category_sets.get(&key) {
                    return Ok(id);
                }
                if frame.expanding.contains(&name.text) {
                    return Err(LangError::new(
                        "definition refers to itself",
                        name.span,
                        format!("`{}` uses itself", name.text),
                    ));
                }
                frame.expanding.push(name.text.clone());
                let mut members = Vec::new();
                let result = self.category_terms(frame, &define.body, &mut members);
                frame.expanding.pop();
                result?;
                let id = self.push_category_set(name.text.clone(), members);
                self.define_category_sets.insert(key, id);
                return Ok(id);
            }
        }
        let mut members = Vec::new();
        self.category_terms(frame, expr, &mut members)?;
        let label = members
            .iter()
            .filter_map(|&m| self.taxonomy.paths.get(m).cloned())
            .collect::<Vec<_>>()
            .join(" | ");
        Ok(self.push_category_set(label, members))
    }

    fn push_category_set(&mut self, name: String, mut members: Vec<usize>) -> CategorySetId {
        members.sort_unstable();
        members.dedup();
        let covers = (0..self.taxonomy.paths.len())
            .map(|c| members.iter().any(|&m| self.taxonomy.is_under(c, m)))
            .collect();
        let id = self.category_sets.len();
        self.category_sets.push(ir::CategorySet {
            name,
            members,
            covers,
        });
        id
    }

    fn category_terms(
        &mut self,
        frame: &mut Frame<'a>,
        expr: &Expr,
        out: &mut Vec<usize>,
    ) -> Res<()> {
        match &expr.kind {
            ExprKind::Path(names) => {
                let path = dotted(names);
                if let Some(&id) = self.taxonomy.index.get(&path) {
                    out.push(id);
                    return Ok(());
                }
                // A definition, possibly qualified by its law: `PIPL.sensitive`.
                let (law, name) = match names.as_slice() {
                    [only] => (frame.law.map(|l| l.name.text.clone()), only),
                    [law, name] => (Some(law.text.clone()), name),
                    _ => return Err(self.unknown_category(&path, expr.span)),
                };
                let found = match names.len() {
                    1 => self.find_define(frame.law, &name.text),
                    _ => self.find_define_in(law.as_deref(), &name.text),
                };
                if found.is_some() {
                    let inner = Expr {
                        kind: ExprKind::Path(vec![name.clone()]),
                        span: expr.span,
                    };
                    let saved = frame.law;
                    if names.len() == 2 {
                        frame.law = self
                            .laws
                            .iter()
                            .copied()
                            .find(|l| Some(&l.name.text) == law.as_ref());
                    }
                    let id = self.category_set(frame, &inner);
                    frame.law = saved;
                    let id = id?;
                    out.extend(
                        self.category_sets
                            .get(id)
                            .map(|s| s.members.clone())
                            .unwrap_or_default(),
                    );
                    Ok(())
                } else {
                    Err(self.unknown_category(&path, expr.span))
                }
            }
            ExprKind::List(items) => {
                for item in items {
                    self.category_terms(frame, item, out)?;
                }
                Ok(())
            }
            ExprKind::Arith(head, rest) => {
                self.category_terms(frame, head, out)?;
                for (op, term) in rest {
                    if *op == AddOp::Minus {
                        return Err(LangError::new(
                            "cannot subtract here",
                            term.span,
                            "categories are united with `|`".into(),
                        ));
                    }
                    self.category_terms(frame, term, out)?;
                }
                Ok(())
            }
            _ => Err(LangError::new(
                "expected data categories",
                expr.span,
                "expected a category or a set of categories".into(),
            )
            .with_help("for example `biometric`, `health | genetic`, or a name from `define`")),
        }
    }

    fn unknown_category(&self, path: &str, span: Span) -> LangError {
        let mut e = LangError::new(
            "unknown data category",
            span,
            format!("`{path}` is not in the taxonomy"),
        );
        let defines = self.global_defines.keys().map(String::as_str);
        if let Some(s) = did_you_mean(
            path,
            self.taxonomy
                .paths
                .iter()
                .map(String::as_str)
                .chain(defines),
        ) {
            e = e.with_help(format!("did you mean `{s}`?"));
        } else {
            e = e.with_help("categories are declared in policies/taxonomy.policy");
        }
        e
    }

    // ------------------------------------------------------------------ definitions

    fn find_define(
        &self,
        law: Option<&'a Law>,
        name: &str,
    ) -> Option<(Option<String>, &'a Define)> {
        if let Some(law) = law {
            if let Some(d) = law.defines.iter().find(|d| d.name.text == name) {
                return Some((Some(law.name.text.clone()), d));
            }
        }
        self.global_defines.get(name).map(|d| (None, *d))
    }

    fn find_define_in(
        &self,
        law: Option<&str>,
        name: &str,
    ) -> Option<(Option<String>, &'a Define)> {
        let law = self
            .laws
            .iter()
            .copied()
            .find(|l| Some(l.name.text.as_str()) == law)?;
        law.defines
            .iter()
            .find(|d| d.name.text == name)
            .map(|d| (Some(law.name.text.clone()), d))
    }

    fn warn_unused(&mut self) {
        let mut unused = Vec::new();
        for (name, define) in &self.global_defines {
            // The bundled library's shared definitions (`personal`, `quasi_identifiers`) are
            // there for any pack to use; not every selection of packs uses each.
            if self.bundled_files.contains(&define.span.file)
                && !self.used_defines.contains(&(None, name.clone()))
            {
                continue;
            }
            if !self.used_defines.contains(&(None, name.clone())) {
                unused.push(define.name.clone());
            }
        }
        for law in &self.laws {
            for define in &law.defines {
                if !self
                    .used_defines
                    .contains(&(Some(law.name.text.clone()), define.name.text.clone()))
                {
                    unused.push(define.name.clone());
                }
            }
        }
        for name in unused {
            self.warnings.push(
                LangError::warning(
                    "unused definition",
                    name.span,
                    format!("`{}` is never used", name.text),
                )
                .with_help("remove it, or use it in a rule"),
            );
        }
    }

    // ------------------------------------------------------------------ laws and rules

    fn compile_laws(&mut self, program: &mut Program) {
        let mut rule_ids: HashMap<String, Span> = HashMap::new();
        let laws = self.laws.clone();
        for law in laws {
            let applies = match &law.applies {
                None => None,
                Some(expr) => {
                    let mut frame = Frame::new(Some(law));
                    match self.condition(&mut frame, expr) {
                        Ok(ex) => Some((ex, frame.slots, frame.aggregates)),
                        Err(e) => {
                            self.errors.push(e);
                            None
                        }
                    }
                }
            };
            let mut rules = Vec::new();
            for rule in &law.rules {
                if let Some(first) = rule_ids.insert(rule.id.text.clone(), rule.id.span) {
                    self.errors.push(
                        LangError::new(
                            "rule id used twice",
                            rule.id.span,
                            format!("`{}` is already a rule", rule.id.text),
                        )
                        .with_related(first, "first used here")
                        .with_help("rule ids are stable identifiers: give each rule its own"),
                    );
                    continue;
                }
                match self.rule(law, rule) {
                    Ok(r) => rules.push(r),
                    Err(e) => self.errors.push(e),
                }
            }
            program.laws.push(LawIr {
                name: law.name.text.clone(),
                title: law.title.clone(),
                version: law.version.clone(),
                effective: law.effective,
                until: law.until,
                source: law.source.clone(),
                on_by_default: !law.off_by_default,
                applies,
                rules,
                span: law.span,
            });
        }
    }

    fn rule(&mut self, law: &'a Law, rule: &'a ast::Rule) -> Res<RuleIr> {
        let mut frame = Frame::new(Some(law));
        let Some((cite, _)) = &rule.cite else {
            return Err(LangError::new(
                "rule without citation",
                rule.id.span,
                format!("`{}` cites no article", rule.id.text),
            )
            .with_help("add `cite \"Art. N(p)\"`: every rule cites the article it encodes"));
        };
        let Some(query_ast) = &rule.query else {
            return Err(LangError::new("rule without subjects", rule.id.span, format!("`{}` says nothing about what it checks", rule.id.text))
                .with_help("add `for each flow f where ...` (or system, organization, contract, assessment, collection, path)"));
        };
        let query = match query_ast {
            ast::Query::Each {
                binding, clauses, ..
            } => {
                let kind = kind_of(binding.kind);
                let var = frame.bind(&binding.var.text, Ty::Entity(kind));
                let clauses = self.clauses(&mut frame, clauses)?;
                ir::Query::Each { kind, var, clauses }
            }
            ast::Query::Path {
                path_var,
                source,
                source_where,
                target,
                target_where,
                step,
                step_where,
                clauses,
                ..
            } => {
                for (binding, wanted) in [
                    (source, EntityKindName::System),
                    (target, EntityKindName::System),
                    (step, EntityKindName::Flow),
                ] {
                    if binding.kind != wanted {
                        return Err(LangError::new(
                            "wrong kind in path query",
                            binding.var.span,
                            format!("paths go from system to system along flows; this is a {}", binding.kind.singular()),
                        )
                        .with_help("write `for each path p from system s ... to system t ... along flows g ...`"));
                    }
                }
                // Each filter sees only its own variable: a condition relating source and
                // target would need one search per source, which city-scale graphs forbid.
                let filter = |this: &mut Self,
                              frame: &mut Frame<'a>,
                              binding: &Binding,
                              ty: Ty,
                              expr: &Option<Expr>|
                 -> Res<(Slot, Option<Ex>)> {
                    let saved = std::mem::take(&mut frame.scope);
                    let slot = frame.bind(&binding.var.text, ty);
                    let compiled = expr.as_ref().map(|e| this.condition(frame, e));
                    let var = frame.scope.pop();
                    frame.scope = saved;
                    if let Some(var) = var {
                        frame.scope.push(var);
                    }
                    Ok((slot, compiled.transpose()?))
                };
                let (source_slot, source_where) = filter(
                    self,
                    &mut frame,
                    source,
                    Ty::Entity(Kind::System),
                    source_where,
                )?;
                let (target_slot, target_where) = filter(
                    self,
                    &mut frame,
                    target,
                    Ty::Entity(Kind::System),
                    target_where,
                )?;
                let (step_slot, step_where) =
                    filter(self, &mut frame, step, Ty::Entity(Kind::Flow), step_where)?;
                // The step variable is not bound after the search.
                frame.scope.retain(|v| v.slot != step_slot);
                let path_slot = frame.bind(&path_var.text, Ty::Entity(Kind::Path));
                let clauses = self.clauses(&mut frame, clauses)?;
                ir::Query::Path {
                    path_var: path_slot,
                    source: source_slot,
                    source_where,
                    target: target_slot,
                    target_where,
                    step: step_slot,
                    step_where,
                    clauses,
                }
            }
        };
        let require = rule
            .require
            .as_ref()
            .map(|e| self.condition(&mut frame, e))
            .transpose()?;
        let unless = rule
            .unless
            .iter()
            .map(|e| self.condition(&mut frame, e))
            .collect::<Res<Vec<_>>>()?;
        let message = match &rule.message {
            Some((text, span)) => Some(self.template(&mut frame, text, *span)?),
            None => None,
        };
        let citation = if cite.starts_with(&law.name.text) || cite.is_empty() {
            if cite.is_empty() {
                law.name.text.clone()
            } else {
                cite.clone()
            }
        } else {
            format!("{} {}", law.name.text, cite)
        };
        let severity = match rule.severity {
            Some(SeverityLevel::Warning) => Severity::Warning,
            Some(SeverityLevel::Review) => Severity::Review,
            _ => Severity::Error,
        };
        if let (Some(from), Some(until)) =
            (rule.effective.or(law.effective), rule.until.or(law.until))
        {
            if until <= from {
                return Err(LangError::new(
                    "rule never in force",
                    rule.id.span,
                    format!("in force from {from} until {until}"),
                ));
            }
        }
        Ok(RuleIr {
            id: rule.id.text.clone(),
            title: rule.title.clone(),
            law: law.name.text.clone(),
            citation,
            severity,
            effective: rule.effective.or(law.effective),
            until: rule.until.or(law.until),
            text: rule.text.clone(),
            explain: rule.explain.clone(),
            remedy: rule.remedy.clone().unwrap_or_default(),
            message,
            query,
            require,
            unless,
            slots: frame.slots,
            aggregates: frame.aggregates,
            span: rule.span,
        })
    }

    fn clauses(&mut self, frame: &mut Frame<'a>, clauses: &[ast::Clause]) -> Res<Vec<ir::Clause>> {
        let mut out = Vec::new();
        let mut wheres: Vec<(Span, Ex)> = Vec::new();
        for clause in clauses {
            match clause {
                ast::Clause::Where(e) => {
                    let ex = self.condition(frame, e)?;
                    // The `where` clauses hold together: look for a contradiction across them.
                    match (&e.kind, &ex) {
                        (ExprKind::And(parts), Ex::And(compiled))
                            if parts.len() == compiled.len() =>
                        {
                            wheres
                                .extend(parts.iter().map(|p| p.span).zip(compiled.iter().cloned()))
                        }
                        _ => wheres.push((e.span, ex.clone())),
                    }
                    out.push(ir::Clause::Where(ex))
                }
                ast::Clause::Let(name, e) => {
                    let (ex, ty) = self.value(frame, e)?;
                    let slot = frame.bind(&name.text, ty);
                    out.push(ir::Clause::Let(slot, ex));
                }
            }
        }
        self.warn_contradiction(wheres.iter().map(|(s, e)| (*s, e)).collect());
        Ok(out)
    }

    /// The source text of a span, on one line.
    fn quote(&self, span: Span) -> String {
        let text = self
            .texts
            .get(span.file.0 as usize)
            .and_then(|t| t.get(span.start as usize..span.end as usize))
            .unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A span without the whitespace (and comments) the grammar lets trail an expression.
    fn trimmed(&self, span: Span) -> Span {
        let text = self
            .texts
            .get(span.file.0 as usize)
            .and_then(|t| t.get(span.start as usize..span.end as usize))
            .unwrap_or("");
        let kept = text.trim_end().len();
        Span {
            // `kept` is at most the span's length, so this stays within the span.
            end: span.start.saturating_add(kept as u32),
            ..span
        }
    }

    /// Warns about the first two conjuncts that can never hold together (once per place).
    fn warn_contradiction(&mut self, conjuncts: Vec<(Span, &Ex)>) {
        let exs: Vec<&Ex> = conjuncts.iter().map(|(_, e)| *e).collect();
        let sets = &self.country_sets;
        let same_set = |a: usize, b: usize| {
            a == b
                || matches!((sets.get(a), sets.get(b)), (Some(x), Some(y)) if x.entries == y.entries)
        };
        let Some((i, j)) = super::contradiction::find(&exs, &same_set) else {
            return;
        };
        let (Some(&(first, _)), Some(&(second, _))) = (conjuncts.get(i), conjuncts.get(j)) else {
            return;
        };
        let (first, second) = (self.trimmed(first), self.trimmed(second));
        let warning =
            super::contradiction::warning(first, second, &self.quote(first), &self.quote(second));
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// `{f.to.location}` placeholders in a message.
    fn template(
        &mut self,
        frame: &mut Frame<'a>,
        text: &str,
        span: Span,
    ) -> Res<Vec<TemplatePart>> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some((text, after)) = rest.split_once('{') {
            if !text.is_empty() {
                parts.push(TemplatePart::Text(text.to_string()));
            }
            let Some((inside, after)) = after.split_once('}') else {
                return Err(LangError::new(
                    "unclosed `{` in message",
                    span,
                    "a placeholder is not closed".into(),
                ));
            };
            let names: Vec<Name> = inside
                .trim()
                .split('.')
                .map(|t| Name {
                    text: t.trim().to_string(),
                    span,
                })
                .collect();
            let expr = Expr {
                kind: ExprKind::Path(names),
                span,
            };
            let (ex, _) = self.value(frame, &expr)?;
            parts.push(TemplatePart::Value(ex));
            rest = after;
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Text(rest.to_string()));
        }
        Ok(parts)
    }

    // ------------------------------------------------------------------ expressions

    fn condition(&mut self, frame: &mut Frame<'a>, expr: &Expr) -> Res<Ex> {
        let (ex, ty) = self.value(frame, expr)?;
        if ty != Ty::Bool {
            return Err(LangError::new(
                "not a condition",
                expr.span,
                format!("this is {}, not a yes/no condition", ty.describe()),
            )
            .with_help(
                "compare it (`= ...`, `in [...]`, `has ...`) or test it (`is present`, `is true`)",
            ));
        }
        Ok(ex)
    }

    fn value(&mut self, frame: &mut Frame<'a>, expr: &Expr) -> Res<(Ex, Ty)> {
        match &expr.kind {
            ExprKind::Or(parts) | ExprKind::And(parts) => {
                let compiled = parts
                    .iter()
                    .map(|p| self.condition(frame, p))
                    .collect::<Res<Vec<_>>>()?;
                if matches!(expr.kind, ExprKind::And(_)) {
                    self.warn_contradiction(
                        parts.iter().map(|p| p.span).zip(compiled.iter()).collect(),
                    );
                }
                let ex = if matches!(expr.kind, ExprKind::Or(_)) {
                    Ex::Or(compiled)
                } else {
                    Ex::And(compiled)
                };
                Ok((ex, Ty::Bool))
            }
            ExprKind::Not(inner) => {
                Ok((Ex::Not(Box::new(self.condition(frame, inner)?)), Ty::Bool))
            }
            ExprKind::Compare(op, left, right) => self.compare(frame, *op, left, right),
            ExprKind::In {
                value,
                set,
                negated,
            } => self.in_test(frame, value, set, *negated),
            ExprKind::Has { value, set, all } => self.has_test(frame, value, set, *all),
            ExprKind::Is(inner, what) => {
                let (ex, ty) = self.value(frame, inner)?;
                if matches!(what, IsWhat::True | IsWhat::False) && ty != Ty::Bool {
                    return Err(LangError::new(
                        "not a yes/no fact",
                        inner.span,
                        format!("this is {}", ty.describe()),
                    )
                    .with_help(
                        "`is true` and `is false` test yes/no facts; use `is present` for others",
                    ));
                }
                Ok((Ex::Is(Box::new(ex), *what), Ty::Bool))
            }
            ExprKind::Leaves(flow, set) | ExprKind::Enters(flow, set) => {
                let (ex, ty) = self.value(frame, flow)?;
                if ty != Ty::Entity(Kind::Flow) {
                    return Err(LangError::new(
                        "not a flow",
                        flow.span,
                        format!("this is {}; only flows leave or enter", ty.describe()),
                    ));
                }
                let id = self.country_set(frame, set)?;
                let ex = if matches!(expr.kind, ExprKind::Leaves(..)) {
                    Ex::Leaves(Box::new(ex), id)
                } else {
                    Ex::Enters(Box::new(ex), id)
                };
                Ok((ex, Ty::Bool))
            }
            ExprKind::Active(flow, when) => {
                let (ex, ty) = self.value(frame, flow)?;
                if ty != Ty::Entity(Kind::Flow) {
                    return Err(LangError::new(
                        "not a flow",
                        flow.span,
                        format!("this is {}; only flows have active dates", ty.describe()),
                    ));
                }
                Ok((Ex::Active(Box::new(ex), *when), Ty::Bool))
            }
            ExprKind::Arith(head, rest) => {
                let (mut ex, mut ty) = self.value(frame, head)?;
                for (op, term) in rest {
                    let (rex, rty) = self.value(frame, term)?;
                    let result = match (op, &ty, &rty) {
                        (AddOp::Plus | AddOp::Minus, Ty::Number, Ty::Number) => Ty::Number,
                        (AddOp::Plus | AddOp::Minus, Ty::Date, Ty::Duration) => Ty::Date,
                        (AddOp::Minus, Ty::Date, Ty::Date) => Ty::Number,
                        (AddOp::Plus, Ty::Duration, Ty::Duration) => Ty::Duration,
                        _ => {
                            return Err(LangError::new(
                                "cannot combine these",
                                term.span,
                                format!("cannot {} {} and {}", match op { AddOp::Minus => "subtract", _ => "add" }, ty.describe(), rty.describe()),
                            )
                            .with_help(match (&ty, &rty) {
                                (Ty::Date, Ty::Number) => "say what the number counts: `c.since + 30 days`, `+ 10 working days`, `+ 6 months`".to_string(),
                                (Ty::Date, Ty::Date) => "subtract dates (`a - b`, a number of days); adding two dates has no meaning".to_string(),
                                _ => "numbers add to numbers, durations to dates (`c.since + 10 working days`); `|` unites categories after `has`".to_string(),
                            }))
                        }
                    };
                    ex = Ex::Arith(Box::new(ex), *op, Box::new(rex));
                    ty = result;
                }
                Ok((ex, ty))
            }
            ExprKind::Number(n) => Ok((Ex::Const(Const::Number(*n)), Ty::Number)),
            ExprKind::Date(d) => Ok((Ex::Const(Const::Date(*d)), Ty::Date)),
            ExprKind::Duration(n, unit) => {
                let mut d = ir::Duration {
                    days: 0,
                    months: 0,
                    working_days: 0,
                };
                match unit {
                    DurationUnit::Days => d.days = *n,
                    DurationUnit::WorkingDays => d.working_days = *n,
                    DurationUnit::Months => d.months = *n,
                    DurationUnit::Years => d.months = n.saturating_mul(12),
                }
                Ok((Ex::Const(Const::Duration(d)), Ty::Duration))
            }
            ExprKind::Text(t) => Ok((Ex::Const(Const::Text(t.clone())), Ty::Text(None))),
            ExprKind::AsOf => Ok((Ex::AsOf, Ty::Date)),
            ExprKind::List(_) => Err(LangError::new(
                "list out of place",
                expr.span,
                "a list can only follow `in` or `has`".into(),
            )),
            ExprKind::Path(names) => self.path(frame, names, expr.span),
            ExprKind::Call(name, arg) => self.call(frame, name, arg),
            ExprKind::Aggregate {
                op,
                value,
                binding,
                filter,
            } => self.aggregate(
                frame,
                *op,
                value.as_deref(),
                binding,
                filter.as_deref(),
                expr.span,
            ),
        }
    }

    fn path(&mut self, frame: &mut Frame<'a>, names: &[Name], span: Span) -> Res<(Ex, Ty)> {
        let Some((first, attributes)) = names.split_first() else {
            return Err(LangError::new("empty name", span, String::new()));
        };
        if let Some(var) = frame.lookup(&first.text).cloned() {
            let mut ex = Ex::Var(var.slot);
            let mut ty = var.ty.clone();
            for name in attributes {
                let Ty::Entity(kind) = ty else {
                    return Err(LangError::new(
                        "no attributes here",
                        name.span,
                        format!("{} has no attribute `{}`", ty.describe(), name.text),
                    ));
                };
                let table = fields(kind);
                let Some((_, field)) = table.iter().find(|(n, _)| *n == name.text) else {
                    let mut e = LangError::new(
                        "unknown attribute",
                        name.span,
                        format!("a {} has no attribute `{}`", kind.as_str(), name.text),
                    );
                    let help = match did_you_mean(&name.text, table.iter().map(|(n, _)| *n)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "a {} has: {}",
                            kind.as_str(),
                            table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                        ),
                    };
                    e = e.with_help(help);
                    return Err(e);
                };
                ex = Ex::Field(Box::new(ex), *field);
                ty = field_type(*field);
            }
            return Ok((ex, ty));
        }
        if names.len() == 1 {
            match first.text.as_str() {
                "true" => return Ok((Ex::Const(Const::Bool(true)), Ty::Bool)),
                "false" => return Ok((Ex::Const(Const::Bool(false)), Ty::Bool)),
                _ => {}
            }
            if let Some((law, define)) = self.find_define(frame.law, &first.text) {
                if define.param.is_some() {
                    return Err(LangError::new(
                        "definition needs an argument",
                        first.span,
                        format!("write `{}(...)`", first.text),
                    ));
                }
                self.used_defines.insert((law, first.text.clone()));
                if frame.expanding.contains(&first.text) {
                    return Err(LangError::new(
                        "definition refers to itself",
                        first.span,
                        format!("`{}` uses itself", first.text),
                    ));
                }
                frame.expanding.push(first.text.clone());
                let result = self.value(frame, &define.body);
                frame.expanding.pop();
                return result;
            }
        }
        let text = dotted(names);
        let mut candidates: Vec<&str> = frame.scope.iter().map(|v| v.name.as_str()).collect();
        candidates.extend(self.global_defines.keys().map(String::as_str));
        if let Some(law) = frame.law {
            candidates.extend(law.defines.iter().map(|d| d.name.text.as_str()));
        }
        let mut e = LangError::new(
            "unknown name",
            first.span,
            format!("`{text}` is not a variable or definition here"),
        );
        e = match did_you_mean(&first.text, candidates) {
            Some(s) => e.with_help(format!("did you mean `{s}`?")),
            None => e.with_help("names a rule can use: the variables of its `for each`, `let` names and definitions"),
        };
        Err(e)
    }

    fn call(&mut self, frame: &mut Frame<'a>, name: &Name, arg: &Expr) -> Res<(Ex, Ty)> {
        let Some((law, define)) = self.find_define(frame.law, &name.text) else {
            let mut candidates: Vec<&str> =
                self.global_defines.keys().map(String::as_str).collect();
            if let Some(law) = frame.law {
                candidates.extend(law.defines.iter().map(|d| d.name.text.as_str()));
            }
            let mut e = LangError::new(
                "unknown definition",
                name.span,
                format!("no definition `{}`", name.text),
            );
            if let Some(s) = did_you_mean(&name.text, candidates) {
                e = e.with_help(format!("did you mean `{s}`?"));
            }
            return Err(e);
        };
        let Some((kind, param)) = &define.param else {
            return Err(LangError::new(
                "definition takes no argument",
                name.span,
                format!("write `{}` without parentheses", name.text),
            ));
        };
        self.used_defines.insert((law, name.text.clone()));
        let (arg_ex, arg_ty) = self.value(frame, arg)?;
        let wanted = Ty::Entity(kind_of(*kind));
        if arg_ty != wanted {
            return Err(LangError::new(
                "wrong argument",
                arg.span,
                format!(
                    "`{}` takes {}, this is {}",
                    name.text,
                    wanted.describe(),
                    arg_ty.describe()
                ),
            ));
        }
        if frame.expanding.contains(&name.text) {
            return Err(LangError::new(
                "definition refers to itself",
                name.span,
                format!("`{}` uses itself", name.text),
            ));
        }
        // The body sees only its parameter (and definitions), never the caller's variables.
        let saved = std::mem::take(&mut frame.scope);
        let slot = frame.bind(&param.text, wanted);
        frame.expanding.push(name.text.clone());
        let body = self.value(frame, &define.body);
        frame.expanding.pop();
        frame.scope = saved;
        let (body_ex, body_ty) = body?;
        Ok((Ex::Let(slot, Box::new(arg_ex), Box::new(body_ex)), body_ty))
    }

    /// A bare name on the other side of a comparison with a vocabulary value or a country.
    fn literal_for(&mut self, frame: &Frame<'a>, ty: &Ty, expr: &Expr) -> Option<Res<Ex>> {
        let name = bare_name(expr)?;
        if frame.lookup(&name.text).is_some() || self.find_define(frame.law, &name.text).is_some() {
            return None;
        }
        match ty {
            Ty::Text(Some(vocab)) => Some(self.vocab_value(vocab, name)),
            Ty::Country => Some(if self.vocab.is_country(&name.text) {
                Ok(Ex::Const(Const::Text(name.text.clone())))
            } else {
                Err(self.unknown_country(name))
            }),
            _ => None,
        }
    }

    fn vocab_value(&self, vocab: &str, name: &Name) -> Res<Ex> {
        let values = self.vocab.enum_values(vocab);
        if values.is_some_and(|v| v.contains(&name.text)) {
            return Ok(Ex::Const(Const::Text(name.text.clone())));
        }
        let mut e = LangError::new(
            "unknown value",
            name.span,
            format!(
                "`{}` is not a {vocab} value, so this can never hold",
                name.text
            ),
        );
        let help = match values.and_then(|v| did_you_mean(&name.text, v.iter().map(String::as_str)))
        {
            Some(s) => format!("did you mean `{s}`?"),
            None => match values {
                Some(v) => format!(
                    "{vocab} values: {}",
                    v.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                None => format!("no vocabulary `{vocab}` is declared"),
            },
        };
        e = e.with_help(help);
        Err(e)
    }

    fn compare(
        &mut self,
        frame: &mut Frame<'a>,
        op: CmpOp,
        left: &Expr,
        right: &Expr,
    ) -> Res<(Ex, Ty)> {
        // Resolve the side that is a variable path first, so a bare name on the other side
        // can be read as a vocabulary value or a country code.
        let left_is_literal = bare_name(left).is_some_and(|n| {
            frame.lookup(&n.text).is_none()
                && self.find_define(frame.law, &n.text).is_none()
                && n.text != "true"
                && n.text != "false"
        });
        let (first, second, swapped) = if left_is_literal {
            (right, left, true)
        } else {
            (left, right, false)
        };
        let (fex, fty) = self.value(frame, first)?;
        if matches!(fty, Ty::Categories | Ty::List(_)) {
            let span = self.trimmed(Span {
                file: left.span.file,
                start: left.span.start,
                end: right.span.end,
            });
            return Err(LangError::new(
                "cannot compare these",
                span,
                format!("`{}` is {}: it is tested with `has`, not compared with `{}`", self.quote(first.span), fty.describe(), op.as_str()),
            )
            .with_help(if fty == Ty::Categories {
                "test data categories with `has`: `f.data has biometric`, `f.data has all [health, genetic]`"
            } else {
                "test a list with `has`: `c.clauses has audit`, `c.clauses has all [audit, deletion]`"
            }));
        }
        let (sex, sty) = match self.literal_for(frame, &fty, second) {
            Some(result) => (result?, fty.clone()),
            None => self.value(frame, second)?,
        };
        let comparable = match (&fty, &sty) {
            (Ty::Text(_), Ty::Text(_))
            | (Ty::Country, Ty::Country)
            | (Ty::Country, Ty::Text(None))
            | (Ty::Text(None), Ty::Country) => {
                matches!(op, CmpOp::Eq | CmpOp::Ne)
            }
            (Ty::Entity(a), Ty::Entity(b)) => a == b && matches!(op, CmpOp::Eq | CmpOp::Ne),
            (Ty::Bool, Ty::Bool) => matches!(op, CmpOp::Eq | CmpOp::Ne),
            (Ty::Number, Ty::Number) | (Ty::Date, Ty::Date) | (Ty::Duration, Ty::Duration) => true,
            _ => false,
        };
        if !comparable {
            let span = Span {
                file: left.span.file,
                start: left.span.start,
                end: right.span.end,
            };
            // In plain words: what each side is, and what would work.
            let (lty, rty) = if swapped { (&sty, &fty) } else { (&fty, &sty) };
            let quote = |e: &Expr| self.quote(e.span);
            let mut label = format!(
                "cannot compare {} with {} using `{}`",
                fty.describe(),
                sty.describe(),
                op.as_str()
            );
            if lty != rty {
                label.push_str(&format!(
                    ": `{}` is {}, `{}` is {}",
                    quote(left),
                    lty.describe(),
                    quote(right),
                    rty.describe()
                ));
            }
            let mut e = LangError::new("cannot compare these", span, label);
            let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            e = e.with_help(match (&fty, &sty) {
                (Ty::Date, Ty::Number) | (Ty::Number, Ty::Date) => "a date compares with a date: write `as-of - 90 days`, or compare a number of days".to_string(),
                (Ty::Date, Ty::Duration) | (Ty::Duration, Ty::Date) => {
                    "a duration is a length of time, not a day: compare a date with `as-of - 90 days`, or a duration with a duration".to_string()
                }
                (Ty::Categories, _) | (_, Ty::Categories) => "test data categories with `has`: `f.data has biometric`".to_string(),
                (Ty::List(_), _) | (_, Ty::List(_)) => "test a list with `has`: `c.clauses has audit`".to_string(),
                (Ty::Bool, _) | (_, Ty::Bool) => "test a yes/no fact with `is true` or `is false`: `f.encrypted is true`".to_string(),
                (Ty::Number, Ty::Text(None)) | (Ty::Text(None), Ty::Number) => "write numbers without quotes: `f.individuals > 1000`".to_string(),
                (Ty::Entity(_), _) | (_, Ty::Entity(_)) => "compare an attribute of it (`f.to.location`, `o.id`), or two entities of the same kind".to_string(),
                _ if fty == sty && ordering => format!(
                    "`<`, `<=`, `>` and `>=` order numbers, dates and durations; {} values are only equal (`=`) or different (`!=`)",
                    fty.describe().trim_start_matches("a ").trim_start_matches("an ")
                ),
                _ => "both sides must be of the same kind; `<` and `>` need numbers, dates or durations".to_string(),
            });
            return Err(e);
        }
        let (mut l, mut r) = if swapped { (sex, fex) } else { (fex, sex) };
        if fty == Ty::Country || sty == Ty::Country {
            l = Ex::CountryOf(Box::new(l));
            r = Ex::CountryOf(Box::new(r));
        }
        Ok((Ex::Compare(op, Box::new(l), Box::new(r)), Ty::Bool))
    }

    fn in_test(
        &mut self,
        frame: &mut Frame<'a>,
        value: &Expr,
        set: &Expr,
        negated: bool,
    ) -> Res<(Ex, Ty)> {
        let (vex, vty) = self.value(frame, value)?;
        match &vty {
            Ty::Country => {
                let id = self.country_set(frame, set)?;
                Ok((Ex::InCountries(Box::new(vex), id, negated), Ty::Bool))
            }
            _ => {
                let items: Vec<&Expr> = match &set.kind {
                    ExprKind::List(items) => items.iter().collect(),
                    _ => {
                        return Err(LangError::new(
                            "expected a list",
                            set.span,
                            format!(
                                "after `in` comes a list like [a, b] of {} values",
                                vty.describe()
                            ),
                        )
                        .with_help("write the values in brackets: `in [separate, written]`"))
                    }
                };
                let mut compiled = Vec::new();
                for item in items {
                    let ex = match self.literal_for(frame, &vty, item) {
                        Some(r) => r?,
                        None => {
                            let (ex, ty) = self.value(frame, item)?;
                            let ok = ty == vty || matches!((&ty, &vty), (Ty::Text(_), Ty::Text(_)));
                            if !ok {
                                return Err(LangError::new(
                                    "wrong kind of value",
                                    item.span,
                                    format!("expected {}, found {}", vty.describe(), ty.describe()),
                                ));
                            }
                            ex
                        }
                    };
                    compiled.push(ex);
                }
                Ok((Ex::InList(Box::new(vex), compiled, negated), Ty::Bool))
            }
        }
    }

    fn has_test(
        &mut self,
        frame: &mut Frame<'a>,
        value: &Expr,
        set: &Expr,
        all: bool,
    ) -> Res<(Ex, Ty)> {
        let (vex, vty) = self.value(frame, value)?;
        match &vty {
            Ty::Categories => {
                let id = self.category_set(frame, set)?;
                Ok((Ex::HasCategories(Box::new(vex), id, all), Ty::Bool))
            }
            Ty::List(inner) if **inner == Ty::Country => {
                let id = self.country_set(frame, set)?;
                let label = bare_name(set).map(|n| n.text.clone()).unwrap_or_default();
                Ok((Ex::HasCountry(Box::new(vex), id, label), Ty::Bool))
            }
            Ty::List(inner) => {
                let items: Vec<&Expr> = match &set.kind {
                    ExprKind::List(items) => items.iter().collect(),
                    _ => vec![set],
                };
                let mut compiled = Vec::new();
                for item in items {
                    let ex = match self.literal_for(frame, inner, item) {
                        Some(r) => r?,
                        None => {
                            let (ex, ty) = self.value(frame, item)?;
                            let ok = ty == **inner
                                || matches!((&ty, &**inner), (Ty::Entity(_), Ty::AnyEntity) | (Ty::Text(_), Ty::Text(_)));
                            if !ok {
                                return Err(LangError::new("wrong kind of value", item.span, format!("this list holds {}, not {}", inner.describe(), ty.describe())));
                            }
                            ex
                        }
                    };
                    compiled.push(ex);
                }
                if all || compiled.len() > 1 {
                    if !all {
                        return Err(LangError::new("ambiguous `has`", set.span, "a list after `has` needs `has all` (or one value)".into())
                            .with_help("write `has all [a, b]` for every value, or `has a or ... has b` for any"));
                    }
                    Ok((Ex::HasAll(Box::new(vex), compiled), Ty::Bool))
                } else {
                    let one = compiled.pop().ok_or_else(|| LangError::new("empty list", set.span, "nothing to look for".into()))?;
                    Ok((Ex::HasValue(Box::new(vex), Box::new(one)), Ty::Bool))
                }
            }
            _ => Err(LangError::new("`has` needs a list", value.span, format!("this is {}", vty.describe()))
                .with_help("`has` tests data categories (`f.data has health`) or lists (`c.clauses has audit`)")),
        }
    }

    fn aggregate(
        &mut self,
        frame: &mut Frame<'a>,
        op: AggregateOp,
        value: Option<&Expr>,
        binding: &Binding,
        filter: Option<&Expr>,
        span: Span,
    ) -> Res<(Ex, Ty)> {
        let kind = kind_of(binding.kind);
        let outer_slots: BTreeSet<Slot> = frame.scope.iter().map(|v| v.slot).collect();
        let var = frame.bind(&binding.var.text, Ty::Entity(kind));
        let result = (|| -> Res<(Option<Ex>, Vec<Ex>, Ty)> {
            let value_ex = match value {
                Some(v) => {
                    let (ex, ty) = self.value(frame, v)?;
                    if op == AggregateOp::Sum && ty != Ty::Number {
                        return Err(LangError::new(
                            "cannot sum this",
                            v.span,
                            format!("this is {}, not a number", ty.describe()),
                        ));
                    }
                    Some(ex)
                }
                None => None,
            };
            let mut conjuncts = Vec::new();
            if let Some(f) = filter {
                match self.condition(frame, f)? {
                    Ex::And(parts) => conjuncts.extend(parts),
                    other => conjuncts.push(other),
                }
            }
            let ty = match op {
                AggregateOp::Exists | AggregateOp::NoneExists => Ty::Bool,
                _ => Ty::Number,
            };
            Ok((value_ex, conjuncts, ty))
        })();
        frame.scope.retain(|v| v.slot != var);
        let (value_ex, conjuncts, ty) = result?;

        let free_of = |ex: &Ex, frame: &Frame| -> BTreeSet<Slot> {
            let mut set = BTreeSet::new();
            free_slots(ex, &frame.aggregate_free, &mut set);
            set
        };
        let uses_outer = |set: &BTreeSet<Slot>| set.iter().any(|s| outer_slots.contains(s));
        let mut local = Vec::new();
        let mut correlated = Vec::new();
        let mut join = None;
        for conjunct in conjuncts {
            let free = free_of(&conjunct, frame);
            if !uses_outer(&free) {
                local.push(conjunct);
                continue;
            }
            if join.is_none() {
                if let Some(j) = as_join(&conjunct, var, &|e| free_of(e, frame), &|s| uses_outer(s))
                {
                    join = Some(j);
                    continue;
                }
            }
            correlated.push(conjunct);
        }
        if let Some(v) = &value_ex {
            if uses_outer(&free_of(v, frame)) {
                return Err(LangError::new(
                    "aggregate value uses an outer variable",
                    span,
                    "the summed or counted value may use only the aggregate's own variable".into(),
                ));
            }
        }
        if join.is_none() && !correlated.is_empty() {
            return Err(LangError::new(
                "aggregate needs a link to its rule",
                span,
                format!("this {} refers to the rule's variables without an equality that links them", match op {
                    AggregateOp::Sum => "sum",
                    AggregateOp::Exists | AggregateOp::NoneExists => "test",
                    _ => "count",
                }),
            )
            .with_help("link it with an equality on the aggregate's own variable, such as `g.from.operator = f.from.operator` or `a.covers has f`, so it can be answered from an index instead of a scan"));
        }
        let whole_year = local.iter().any(|c| {
            matches!(c, Ex::Active(inner, ActiveWhen::AsOfYear | ActiveWhen::SincePreviousYear) if **inner == Ex::Var(var))
        });
        let mut free = BTreeSet::new();
        for c in local.iter().chain(correlated.iter()) {
            free_slots(c, &frame.aggregate_free, &mut free);
        }
        if let Some(j) = &join {
            free_slots(&j.outer, &frame.aggregate_free, &mut free);
        }
        free.remove(&var);
        let constant = join.is_none();
        let id = frame.aggregates.len();
        frame.aggregates.push(Aggregate {
            op,
            kind,
            var,
            value: value_ex,
            local,
            join,
            correlated,
            constant,
            whole_year,
            span,
        });
        frame.aggregate_free.push(free);
        Ok((Ex::Aggregate(id), ty))
    }
}

/// `inner = outer`, `outer = inner` or `inner_list has outer`, with `inner` using only the
/// aggregate's variable and `outer` only outer variables.
fn as_join(
    conjunct: &Ex,
    var: Slot,
    free: &dyn Fn(&Ex) -> BTreeSet<Slot>,
    uses_outer: &dyn Fn(&BTreeSet<Slot>) -> bool,
) -> Option<Join> {
    let only_inner = |e: &Ex| {
        let f = free(e);
        f.contains(&var) && !uses_outer(&f)
    };
    let only_outer = |e: &Ex| !free(e).contains(&var);
    let join = |inner: &Ex, inner_is_list: bool, outer: &Ex, outer_is_list: bool| {
        Some(Join {
            inner: inner.clone(),
            inner_is_list,
            outer: outer.clone(),
            outer_is_list,
        })
    };
    match conjunct {
        Ex::Compare(CmpOp::Eq, a, b) if only_inner(a) && only_outer(b) => join(a, false, b, false),
        Ex::Compare(CmpOp::Eq, a, b) if only_inner(b) && only_outer(a) => join(b, false, a, false),
        Ex::HasValue(list, item) if only_inner(list) && only_outer(item) => {
            join(list, true, item, false)
        }
        Ex::HasValue(list, item) if only_outer(list) && only_inner(item) => {
            join(item, false, list, true)
        }
        _ => None,
    }
}

/// The slots an expression reads that it does not bind itself.
pub fn free_slots(ex: &Ex, aggregate_free: &[BTreeSet<Slot>], out: &mut BTreeSet<Slot>) {
    match ex {
        Ex::Const(_) | Ex::AsOf => {}
        Ex::Var(s) => {
            out.insert(*s);
        }
        Ex::Field(e, _)
        | Ex::Not(e)
        | Ex::Is(e, _)
        | Ex::Active(e, _)
        | Ex::Leaves(e, _)
        | Ex::Enters(e, _)
        | Ex::InCountries(e, _, _)
        | Ex::HasCategories(e, _, _)
        | Ex::HasCountry(e, _, _)
        | Ex::CountryOf(e) => free_slots(e, aggregate_free, out),
        Ex::And(v) | Ex::Or(v) => v.iter().for_each(|e| free_slots(e, aggregate_free, out)),
        Ex::Compare(_, a, b) | Ex::HasValue(a, b) | Ex::Arith(a, _, b) => {
            free_slots(a, aggregate_free, out);
            free_slots(b, aggregate_free, out);
        }
        Ex::InList(a, v, _) | Ex::HasAll(a, v) => {
            free_slots(a, aggregate_free, out);
            v.iter().for_each(|e| free_slots(e, aggregate_free, out));
        }
        Ex::Let(slot, arg, body) => {
            free_slots(arg, aggregate_free, out);
            let mut inner = BTreeSet::new();
            free_slots(body, aggregate_free, &mut inner);
            inner.remove(slot);
            out.extend(inner);
        }
        Ex::Aggregate(id) => {
            if let Some(f) = aggregate_free.get(*id) {
                out.extend(f.iter().copied());
            }
        }
    }
}
