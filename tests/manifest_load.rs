//! The manifest loader: SPEC §1 example, JSON, multi-file graphs, and broken / hostile input.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lexflow::manifest::model::{EntityRef, ManifestSet};
use lexflow::manifest::testing::base_vocabulary;
use lexflow::manifest::{
    load_paths, load_paths_sized, load_sources, FlowGraph, LoadError, LoadErrorKind, LoadErrors,
};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/manifests")
        .join(path)
}

fn load_ok(files: &[(&str, &str)]) -> ManifestSet {
    let files = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    match load_sources(files, &base_vocabulary()) {
        Ok((set, _)) => set,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

fn load_err(files: &[(&str, &str)]) -> LoadErrors {
    let files = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    match load_sources(files, &base_vocabulary()) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors,
    }
}

/// Exactly one error, of this kind.
fn one_error(files: &[(&str, &str)], kind: LoadErrorKind) -> LoadError {
    let errors = load_err(files);
    let all: Vec<&LoadError> = errors.iter().collect();
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    assert_eq!(all[0].kind, kind, "{:#?}", all[0]);
    all[0].clone()
}

fn at(error: &LoadError, file: &str, line: u32, column: u32) {
    assert_eq!(
        (error.file.as_str(), error.line(), error.column()),
        (file, line, column),
        "{error:#?}"
    );
}

/// The miette rendering of every error, without colours.
fn render(errors: &LoadErrors) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(200);
    let mut out = String::new();
    for error in errors {
        handler.render_report(&mut out, error).unwrap();
    }
    out
}

const BASE: &str = "\
lexflow: 1
organizations:
  - id: city
    country: CN
    kind: public_authority
systems:
  - id: cams
    kind: camera
    operator: city
    location: CN
    collects:
      - data: [biometric.facial]
        purpose: public_security
  - id: db
    kind: database
    operator: city
    location: CN
flows:
  - id: cams-to-db
    from: cams
    to: db
    data: [biometric.facial]
";

#[test]
fn spec_example_loads_with_every_field() {
    let (set, report) = load_paths(&[data("longgang.yaml")], &base_vocabulary()).unwrap();
    assert_eq!(report.loaded.len(), 1);
    assert!(report.loaded[0].ends_with("tests/data/manifests/longgang.yaml"));
    assert_eq!(set.manifests.len(), 1);
    assert_eq!(set.manifests[0].version, 1);
    assert_eq!(
        set.manifests[0].name.as_deref(),
        Some("Longgang safe-city video analytics")
    );
    assert_eq!(set.organizations.len(), 3);
    assert_eq!(set.systems.len(), 3);
    assert_eq!(set.flows.len(), 2);
    assert_eq!(set.contracts.len(), 2);
    assert_eq!(set.assessments.len(), 1);

    let psb = &set.organizations[0];
    assert_eq!(psb.id, "longgang-psb");
    assert_eq!(
        psb.name.as_deref(),
        Some("Longgang District Public Security Bureau")
    );
    assert_eq!((&*psb.country, &*psb.kind), ("CN", "state_organ"));
    assert_eq!(psb.ciio, Some(true));
    assert_eq!((psb.loc.line, psb.loc.column), (4, 5));
    let acme = &set.organizations[2];
    assert_eq!(acme.representative_in, Some(vec!["CN".into()]));
    assert_eq!(&*acme.country, "SG");

    let cams = &set.systems[0];
    assert_eq!(cams.id, "street-cameras");
    assert_eq!((cams.loc.line, cams.loc.column), (19, 5));
    assert_eq!(&*cams.kind, "camera");
    assert_eq!(set.org(cams.operator).unwrap().id, "longgang-psb");
    assert_eq!(
        cams.processor.map(|p| set.org(p).unwrap().id.as_str()),
        Some("hikvision")
    );
    assert_eq!(&*cams.location, "CN");
    assert_eq!(cams.public_space, Some(true));
    assert_eq!(cams.signage, Some(true));
    assert_eq!(cams.retention_days, Some(90));
    assert_eq!(
        cams.security.as_deref(),
        Some(
            &[
                "encryption_at_rest".into(),
                "access_control".into(),
                "audit_log".into()
            ][..]
        )
    );
    let c = &cams.collects[0];
    assert_eq!(texts(&c.data), ["biometric.facial", "location.precise"]);
    assert_eq!(c.subjects.as_deref(), Some("public"));
    assert_eq!(c.individuals, Some(2_400_000));
    assert_eq!(c.purpose.as_deref(), Some("public_security"));
    assert_eq!(c.legal_basis.as_deref(), Some("public_task"));
    assert_eq!(c.consent.as_deref(), Some("none"));
    assert_eq!(c.notice, Some(true));
    assert_eq!((c.loc.line, c.loc.column), (27, 9));
    let backup = &set.systems[2];
    assert_eq!(set.org(backup.processor.unwrap()).unwrap().id, "acme-cloud");

    let f = &set.flows[1];
    assert_eq!(&*f.id, "analytics-to-backup");
    assert_eq!((f.loc.line, f.loc.column), (54, 5));
    assert_eq!(set.system(f.from).unwrap().id, "face-analytics");
    assert_eq!(set.system(f.to).unwrap().id, "sg-backup");
    assert_eq!(texts(&f.data), ["biometric.facial"]);
    assert_eq!(f.purpose.as_deref(), Some("backup"));
    assert_eq!(f.individuals, Some(2_400_000));
    assert_eq!(f.encrypted, Some(true));
    let t = f.transfer.as_ref().unwrap();
    assert_eq!(t.mechanism.as_deref(), Some("cac_standard_contract"));
    assert_eq!(set.contract(t.contract.unwrap()).unwrap().id, "scc-acme");
    assert_eq!(
        t.since.map(|d| d.to_string()).as_deref(),
        Some("2025-03-01")
    );
    // SPEC default: same operator on both ends → processor.
    assert_eq!(f.recipient_role(&set), "processor");

    let dpa = &set.contracts[0];
    assert_eq!(
        dpa.parties
            .iter()
            .map(|p| set.org(*p).unwrap().id.as_str())
            .collect::<Vec<_>>(),
        vec!["longgang-psb", "hikvision"]
    );
    assert_eq!(&*dpa.kind, "processing_agreement");
    assert_eq!(dpa.clauses.as_ref().map(Vec::len), Some(6));
    let scc = &set.contracts[1];
    assert_eq!(
        scc.filed.map(|d| d.to_string()).as_deref(),
        Some("2025-03-10")
    );

    let pipia = &set.assessments[0];
    assert_eq!((pipia.id.as_str(), &*pipia.kind), ("pipia-2025", "pipia"));
    assert_eq!(
        pipia
            .covers
            .iter()
            .map(|e| set.id_and_loc(*e).unwrap().0)
            .collect::<Vec<_>>(),
        vec!["street-cameras", "analytics-to-backup"]
    );
    assert_eq!(
        pipia.date.map(|d| d.to_string()).as_deref(),
        Some("2025-01-10")
    );

    // Positions carry byte offsets into the source text.
    let text = &set.sources.files[0].text;
    assert!(text[f.loc.offset as usize..].starts_with("id: analytics-to-backup"));
}

#[test]
fn every_optional_field_loads() {
    let (set, _) = load_paths(&[data("all-fields.yaml")], &base_vocabulary()).unwrap();
    let city = &set.organizations[0];
    assert_eq!(city.representative_in, Some(vec!["EU".into(), "CN".into()]));
    assert_eq!(city.employees, Some(12000));
    assert_eq!(
        city.dpf_certified_since.map(|d| d.to_string()).as_deref(),
        Some("2024-01-02")
    );
    assert_eq!(city.ciio_designated_by.as_deref(), Some("none"));
    assert_eq!(city.important_data_notified, Some(true));
    let kiosk = &set.systems[0];
    assert_eq!(&*kiosk.location, "DE-BE");
    assert_eq!(kiosk.automated_decision.as_deref(), Some("partly"));
    assert_eq!(kiosk.log_retention_days, Some(365));
    let c = &kiosk.collects[0];
    assert_eq!(c.subjects_in, Some(vec!["EEA".into()]));
    assert_eq!(c.youngest_age, Some(16));
    assert_eq!(
        c.special_condition.as_deref(),
        Some("substantial_public_interest")
    );
    let f = &set.flows[0];
    assert_eq!(
        f.details().recipient_role.as_deref(),
        Some("joint_controller")
    );
    assert_eq!(
        f.details().end.map(|d| d.to_string()).as_deref(),
        Some("2027-12-31")
    );
    assert_eq!(f.details().pseudonymized, Some(true));
    let e = f.exemption.as_ref().unwrap();
    assert_eq!(
        (&*e.basis, e.evidence.as_deref()),
        ("gdpr_49_1_a", Some("explicit consent screen v3"))
    );
    assert_eq!(
        f.transfer
            .as_ref()
            .unwrap()
            .until
            .map(|d| d.to_string())
            .as_deref(),
        Some("2028-01-01")
    );
    // An assessment without id is named `<kind>-<n>` (n counts the file's assessments).
    assert_eq!(set.assessments[0].id, "dpia-1");
    assert_eq!(set.assessments[1].id, "tia-1");
    assert!(matches!(
        set.assessments[1].covers[2],
        EntityRef::Organization(_)
    ));
    assert!(matches!(
        set.assessments[1].covers[1],
        EntityRef::Contract(_)
    ));
}

#[test]
fn json_equivalent_loads_the_same() {
    let vocab = base_vocabulary();
    let (yaml, _) = load_paths(&[data("longgang.yaml")], &vocab).unwrap();
    let (json, report) = load_paths(&[data("longgang.json")], &vocab).unwrap();
    assert_eq!(report.loaded.len(), 1);
    assert_eq!(
        format!(
            "{:?}",
            yaml.flows[1]
                .transfer
                .as_ref()
                .map(|t| (&t.mechanism, t.contract, t.since))
        ),
        format!(
            "{:?}",
            json.flows[1]
                .transfer
                .as_ref()
                .map(|t| (&t.mechanism, t.contract, t.since))
        )
    );
    assert_eq!(json.systems.len(), 3);
    assert_eq!(json.systems[0].collects[0].individuals, Some(2_400_000));
    let ids = |s: &ManifestSet| {
        s.flows
            .iter()
            .map(|f| (f.id.clone(), f.from, f.to))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&yaml), ids(&json));
    // JSON positions point at the object's `{`.
    let f = &json.flows[0];
    let text = &json.sources.files[0].text;
    assert!(
        text[f.loc.offset as usize..].starts_with("{\n      \"id\": \"cams-to-analytics\""),
        "{:?}",
        f.loc
    );
}

#[test]
fn the_manifests_size_is_told_before_they_are_read() {
    // Every file with a manifest's extension counts, read as a candidate: ci.yml, which is
    // no manifest, and broken-other.yaml, which does not parse, too; README.md does not. A
    // file named on its own counts as well.
    let folder = data("multi");
    let single = data("longgang.yaml");
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    let expected: u64 = walkdir::WalkDir::new(&folder)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| {
            e.file_type().is_file()
                && matches!(
                    e.path().extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .map(|e| size(e.path()))
        .sum::<u64>()
        + size(&single);
    let told = std::cell::Cell::new(None);
    let loaded = load_paths_sized(&[folder, single], &base_vocabulary(), &|bytes| {
        told.set(Some(bytes))
    });
    assert!(loaded.is_ok());
    assert_eq!(told.get(), Some(expected));
}

#[test]
fn folder_walk_builds_one_graph_across_files() {
    let folder = data("multi");
    let (set, report) = load_paths(std::slice::from_ref(&folder), &base_vocabulary()).unwrap();
    let prefix = folder.display().to_string();
    assert_eq!(
        report.loaded,
        vec![
            format!("{prefix}/city.yaml"),
            format!("{prefix}/vendor/vendor.json")
        ]
    );
    // ci.yml is no manifest; broken-other.yaml does not parse and does not look like one.
    assert_eq!(
        report.skipped,
        vec![
            format!("{prefix}/broken-other.yaml"),
            format!("{prefix}/ci.yml")
        ]
    );
    assert_eq!(report.other_files, 1);
    // The vendor's flow starts at a system declared in the city's file.
    let f = set.flows.iter().find(|f| &*f.id == "db-to-vendor").unwrap();
    assert_eq!(set.system(f.from).unwrap().id, "city-db");
    assert_eq!(
        set.sources.name(set.system(f.from).unwrap().loc.file),
        format!("{prefix}/city.yaml")
    );
    assert_eq!(
        set.sources.name(f.loc.file),
        format!("{prefix}/vendor/vendor.json")
    );
    assert_eq!(
        set.contract(f.transfer.as_ref().unwrap().contract.unwrap())
            .unwrap()
            .id,
        "dpa"
    );
    // Different operators → controller by default.
    assert_eq!(f.recipient_role(&set), "controller");
    let vendor_sys = &set.systems[2];
    assert_eq!(set.org(vendor_sys.processor.unwrap()).unwrap().id, "city");

    let graph = FlowGraph::build(&set);
    assert_eq!(graph.graph.node_count(), 3);
    assert_eq!(graph.graph.edge_count(), 3);
    // gate ⇄ city-db is a cycle: fine.
    assert!(petgraph::algo::is_cyclic_directed(&graph.graph));
    let db = lexflow::manifest::model::SysIdx(1);
    let out: Vec<&str> = graph
        .flows_out(db)
        .iter()
        .map(|f| set.flow(*f).unwrap().id.as_ref())
        .collect();
    assert_eq!(out, vec!["db-to-gate", "db-to-vendor"]);
    let inn: Vec<&str> = graph
        .flows_in(db)
        .iter()
        .map(|f| set.flow(*f).unwrap().id.as_ref())
        .collect();
    assert_eq!(inn, vec!["gate-to-db"]);
    let city = lexflow::manifest::model::OrgIdx(0);
    assert_eq!(graph.systems_by_operator(city).len(), 2);
    assert_eq!(graph.systems_by_processor(city).len(), 1);
    assert_eq!(graph.contracts_by_party(city).len(), 1);
    let node = graph.node(db).unwrap();
    assert_eq!(graph.system(node), Some(db));
    let edge = graph.edge(lexflow::manifest::model::FlowIdx(2)).unwrap();
    assert_eq!(
        graph.graph.edge_endpoints(edge),
        Some((
            node,
            graph.node(lexflow::manifest::model::SysIdx(2)).unwrap()
        ))
    );
}

#[test]
fn assessments_indexed_by_what_they_cover() {
    let (set, _) = load_paths(&[data("longgang.yaml")], &base_vocabulary()).unwrap();
    let graph = FlowGraph::build(&set);
    let cams = EntityRef::System(lexflow::manifest::model::SysIdx(0));
    assert_eq!(graph.assessments_by_covered(cams).len(), 1);
    let backup = EntityRef::System(lexflow::manifest::model::SysIdx(2));
    assert!(graph.assessments_by_covered(backup).is_empty());
}

// ---------------------------------------------------------------------------------------
// Broken manifests: message, file, line, column, help.

#[test]
fn unknown_field_suggests_the_nearest() {
    let text = BASE.replace(
        "    kind: public_authority\n",
        "    kind: public_authority\n    ciioo: true\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownField);
    at(&e, "city.yaml", 6, 5);
    assert_eq!(e.message, "unknown field `ciioo` in organization `city`");
    assert_eq!(e.help.as_deref(), Some("did you mean `ciio`?"));
    assert_eq!(
        e.to_string(),
        "city.yaml:6:5: unknown field `ciioo` in organization `city`"
    );
}

#[test]
fn unknown_category_suggests_the_nearest() {
    let text = BASE.replace(
        "    data: [biometric.facial]\n",
        "    data: [biometric.facal]\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownCategory);
    at(&e, "city.yaml", 22, 12);
    assert_eq!(e.message, "unknown data category `biometric.facal`");
    assert_eq!(e.help.as_deref(), Some("did you mean `biometric.facial`?"));
}

#[test]
fn dangling_reference_suggests_the_nearest_id() {
    let text = BASE.replace("    to: db\n", "    to: dbb\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::DanglingReference);
    at(&e, "city.yaml", 21, 9);
    assert_eq!(
        e.message,
        "`to` names `dbb`, which is not declared in any manifest of this run"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `db`?"));
}

#[test]
fn reference_to_the_wrong_kind_is_dangling() {
    let text = BASE.replace("    to: db\n", "    to: city\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::DanglingReference);
    at(&e, "city.yaml", 21, 9);
    assert_eq!(
        e.message,
        "`to` must name a system, but `city` is an organization"
    );
    assert!(
        e.help
            .as_deref()
            .unwrap()
            .contains("`city` is declared at city.yaml:3:5"),
        "{e:?}"
    );
}

#[test]
fn duplicate_id_across_two_files_names_both_places() {
    let other = "lexflow: 1\n# the vendor\nsystems:\n  - id: db\n    kind: database\n    operator: city\n    location: SG\n";
    let e = one_error(
        &[("city.yaml", BASE), ("vendor.yaml", other)],
        LoadErrorKind::DuplicateId,
    );
    at(&e, "vendor.yaml", 4, 9);
    assert_eq!(e.message, "duplicate id `db`");
    assert!(
        e.help
            .as_deref()
            .unwrap()
            .starts_with("`db` is first declared as a system at city.yaml:14:5"),
        "{e:?}"
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    let text = BASE.replace(
        "    location: CN\n    collects:",
        "    location: CN\n    retention_days: ninety\n    collects:",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::WrongType);
    at(&e, "city.yaml", 11, 21);
    assert_eq!(
        e.message,
        "`retention_days` of system `cams` must be a whole number (0 or more), found the text `ninety`"
    );
    let text = BASE.replace(
        "    data: [biometric.facial]\n",
        "    data: biometric.facial\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::WrongType);
    at(&e, "city.yaml", 22, 11);
    assert_eq!(
        e.help.as_deref(),
        Some("write a list: `[biometric.facial]`")
    );
}

#[test]
fn missing_required_field_points_at_the_entity() {
    let text = BASE.replace(
        "  - id: db\n    kind: database\n    operator: city\n    location: CN\n",
        "  - id: db\n    kind: database\n    operator: city\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::MissingField);
    at(&e, "city.yaml", 14, 5);
    assert_eq!(
        e.message,
        "missing required field `location` in system `db`"
    );
    assert_eq!(e.help.as_deref(), Some("add `location:` to system `db`"));
}

#[test]
fn missing_lexflow_key_in_a_named_file() {
    let text = BASE.replace("lexflow: 1\n", "");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::MissingField);
    at(&e, "city.yaml", 1, 1);
    assert_eq!(
        e.message,
        "missing required field `lexflow` in the manifest"
    );
}

#[test]
fn unsupported_version() {
    let text = BASE.replace("lexflow: 1\n", "lexflow: 2\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnsupportedVersion);
    at(&e, "city.yaml", 1, 10);
    assert_eq!(e.message, "unsupported manifest format version `2`");
}

#[test]
fn bad_date() {
    let text = format!("{BASE}    start: 2025-02-30\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::BadDate);
    at(&e, "city.yaml", 23, 12);
    assert_eq!(
        e.message,
        "`start` of flow `cams-to-db`: `2025-02-30` is not a date"
    );
    assert_eq!(e.label, "expected YYYY-MM-DD");
}

#[test]
fn unknown_enum_value_suggests_the_nearest() {
    let text = BASE.replace(
        "        purpose: public_security\n",
        "        purpose: public_securty\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownValue);
    at(&e, "city.yaml", 13, 18);
    assert_eq!(
        e.message,
        "unknown purpose `public_securty` (not in the `purpose` vocabulary)"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `public_security`?"));
}

#[test]
fn unknown_country() {
    let text = BASE.replace("    country: CN\n", "    country: cn\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownCountry);
    at(&e, "city.yaml", 4, 14);
    assert_eq!(e.message, "unknown country `cn` in `country`");
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `CN`? (codes are upper case)")
    );
    // Groups are allowed where people or representatives are, not as a system's location.
    let text = BASE.replace(
        "    location: CN\n    collects:",
        "    location: EU\n    collects:",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownCountry);
    at(&e, "city.yaml", 10, 15);
    let text = BASE.replace(
        "        purpose: public_security\n",
        "        purpose: public_security\n        subjects_in: [EU, XX]\n",
    );
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::UnknownCountry);
    at(&e, "city.yaml", 14, 27);
}

#[test]
fn invalid_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    let mut bytes = b"lexflow: 1\nname: Stra".to_vec();
    bytes.push(0xDF); // ß in Latin-1
    bytes.extend_from_slice(b"e\n");
    std::fs::write(&path, bytes).unwrap();
    let errors = load_paths(std::slice::from_ref(&path), &base_vocabulary()).unwrap_err();
    let e = errors.iter().next().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(e.kind, LoadErrorKind::InvalidUtf8);
    at(e, &path.display().to_string(), 2, 11);
    assert_eq!(
        e.message,
        "file is not valid UTF-8: byte 0xDF at byte offset 21"
    );
}

#[test]
fn all_errors_of_a_run_are_collected() {
    let text = BASE
        .replace("    ciio: true\n", "")
        .replace("    kind: camera\n", "    kind: camra\n")
        .replace("    to: db\n", "    to: nowhere\n");
    let other =
        "lexflow: 1\nflows:\n  - id: x\n    from: cams\n    to: db\n    data: [health.medicl]\n";
    let errors = load_err(&[("city.yaml", &text), ("other.yaml", other)]);
    let kinds: Vec<(String, LoadErrorKind)> = errors
        .iter()
        .map(|e| (format!("{}:{}", e.file, e.line()), e.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("city.yaml:8".to_string(), LoadErrorKind::UnknownValue),
            ("city.yaml:21".to_string(), LoadErrorKind::DanglingReference),
            ("other.yaml:6".to_string(), LoadErrorKind::UnknownCategory),
        ]
    );
    let rendered = render(&errors);
    // The header names the place; the message does not repeat it.
    assert!(rendered.contains("× unknown kind `camra`"), "{rendered}");
    assert!(rendered.contains("city.yaml:8:11"), "{rendered}");
    assert!(rendered.contains("did you mean `camera`?"), "{rendered}");
    assert!(rendered.contains("other.yaml:6:12"), "{rendered}");
    assert!(
        rendered.contains("lexflow::manifest::unknown_category"),
        "{rendered}"
    );
    // The whole set is one diagnostic with the others related.
    use miette::Diagnostic;
    assert_eq!(errors.related().unwrap().count(), 3);
    assert_eq!(errors.to_string(), "3 problems in the manifests");
}

#[test]
fn default_assessment_ids_can_collide_and_say_so() {
    let a = format!("{BASE}assessments:\n  - kind: dpia\n    covers: [cams]\n");
    let b = "lexflow: 1\nassessments:\n  - kind: dpia\n    covers: [db]\n";
    let e = one_error(&[("a.yaml", &a), ("b.yaml", b)], LoadErrorKind::DuplicateId);
    at(&e, "b.yaml", 3, 5);
    assert_eq!(e.message, "duplicate id `dpia-1`");
    assert!(e
        .help
        .as_deref()
        .unwrap()
        .contains("give it an explicit `id`"));
}

// ---------------------------------------------------------------------------------------
// Hostile input: each refused quickly with a clear error.

fn refused_quickly(name: &str, text: &str) -> LoadError {
    let start = Instant::now();
    let errors = load_err(&[(name, text)]);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let first = errors.iter().next().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    first
}

#[test]
fn alias_bomb_is_refused() {
    let mut text = String::from("lexflow: 1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    let e = refused_quickly("bomb.yaml", &text);
    assert_eq!(e.kind, LoadErrorKind::Limit, "{e:#?}");
    assert_eq!(e.file, "bomb.yaml");
    assert_eq!(
        e.message,
        "aliases expand past the safety limit (an alias bomb?)"
    );
    assert!(e.line() >= 2, "{e:#?}");
}

#[test]
fn deep_nesting_is_refused() {
    let flow = format!(
        "lexflow: 1\nname: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let e = refused_quickly("deep.yaml", &flow);
    assert_eq!(e.kind, LoadErrorKind::Limit, "{e:#?}");
    assert_eq!(e.line(), 2);
    assert_eq!(e.message, "nesting is deeper than 64 levels");
    let mut block = String::from("lexflow: 1\nname:\n");
    for depth in 0..10_000 {
        block.push_str(&" ".repeat(depth + 1));
        block.push_str("- \n");
    }
    let e = refused_quickly("deep-block.yaml", &block);
    assert_eq!(e.kind, LoadErrorKind::Limit, "{e:#?}");
    let json = format!(
        "{{\"lexflow\": 1, \"name\": {}{}}}",
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let e = refused_quickly("deep.json", &json);
    assert_eq!(e.kind, LoadErrorKind::Limit, "{e:#?}");
}

#[test]
fn duplicate_keys_are_refused() {
    let text = BASE.replace("    kind: camera\n", "    kind: camera\n    kind: sensor\n");
    let e = refused_quickly("dup.yaml", &text);
    assert_eq!(e.kind, LoadErrorKind::DuplicateKey);
    at(&e, "dup.yaml", 9, 5);
    assert_eq!(e.message, "duplicate mapping key: kind");
}

#[test]
fn syntax_error_has_a_position() {
    let e = refused_quickly("bad.yaml", "lexflow: 1\nflows: [a, b\nname: x\n");
    assert_eq!(e.kind, LoadErrorKind::Syntax, "{e:#?}");
    assert_eq!(e.line(), 3);
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(lexflow::manifest::MAX_FILE_BYTES + 1).unwrap(); // sparse: nothing written
    let start = Instant::now();
    let errors = load_paths(&[path], &base_vocabulary()).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    let e = errors.iter().next().unwrap();
    assert_eq!(e.kind, LoadErrorKind::TooLarge);
    assert!(e.message.contains("limited to 64 MiB"), "{e:#?}");
}

#[test]
fn missing_path_is_an_io_error() {
    let errors =
        load_paths(&[PathBuf::from("/nonexistent/x.yaml")], &base_vocabulary()).unwrap_err();
    let e = errors.iter().next().unwrap();
    assert_eq!(e.kind, LoadErrorKind::Io);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.yaml: cannot read"),
        "{e}"
    );
}

#[test]
fn norway_is_a_country_not_false() {
    let text = BASE.replace("    country: CN\n", "    country: NO\n");
    let set = load_ok(&[("city.yaml", &text)]);
    assert_eq!(&*set.organizations[0].country, "NO");
}

#[test]
fn empty_reference_lists_are_refused_at_the_list() {
    let text = format!(
        "{BASE}contracts:\n  - id: dpa\n    kind: processing_agreement\n    parties: []\nassessments:\n  - kind: dpia\n    covers: []\n"
    );
    let errors = load_err(&[("city.yaml", &text)]);
    let all: Vec<&LoadError> = errors.iter().collect();
    let messages: Vec<&str> = all.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.contains(&"`parties` of contract `dpa` lists no organization"),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"`covers` of assessment `dpia-1` lists nothing"),
        "{messages:#?}"
    );
    assert!(all.iter().all(|e| e.kind == LoadErrorKind::MissingField));
    // A missing list is a missing field, not an empty one.
    let text = format!("{BASE}contracts:\n  - id: dpa\n    kind: processing_agreement\n");
    let e = one_error(&[("city.yaml", &text)], LoadErrorKind::MissingField);
    assert!(e.message.contains("parties"), "{e:#?}");
}

/// Vocabulary values as plain text, for comparisons.
fn texts(terms: &[lexflow::manifest::model::Term]) -> Vec<&str> {
    terms.iter().map(|t| &**t).collect()
}
