//! The loaded graph as the JSON input document a Rego policy reads (`benches/rego/`), for the
//! side-by-side with regorus. Built from the [`ManifestSet`] the loader produced, so both
//! engines judge exactly the same graph: ids instead of indexes, the manifest's field names,
//! and only the flows active on the as-of date (the ones lexflow's quantifiers range over).

use serde_json::{json, Map, Value};

use crate::date::Date;
use crate::manifest::model::ManifestSet;

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v);
    }
}

/// `{"organizations": [...], "systems": [...], "flows": [...]}` in the manifest's shape.
pub fn input(set: &ManifestSet, as_of: Date) -> Value {
    let organizations: Vec<Value> = set
        .organizations
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("id".into(), json!(o.id));
            m.insert("country".into(), json!(o.country));
            m.insert("kind".into(), json!(o.kind));
            put(&mut m, "ciio", o.ciio.map(Value::Bool));
            put(&mut m, "dpf_certified", o.dpf_certified.map(Value::Bool));
            Value::Object(m)
        })
        .collect();
    let systems: Vec<Value> = set
        .systems
        .iter()
        .map(|s| {
            let collects: Vec<Value> = s
                .collects
                .iter()
                .map(|c| json!({ "data": c.data }))
                .collect();
            json!({
                "id": s.id,
                "kind": s.kind,
                "operator": set.org(s.operator).map(|o| o.id.as_str()),
                "location": s.location,
                "collects": collects,
            })
        })
        .collect();
    let flows: Vec<Value> = set
        .flows
        .iter()
        .filter(|f| f.is_active(as_of, as_of))
        .map(|f| {
            let mut m = Map::new();
            m.insert("id".into(), json!(f.id));
            m.insert(
                "from".into(),
                json!(set.system(f.from).map(|x| x.id.as_str())),
            );
            m.insert("to".into(), json!(set.system(f.to).map(|x| x.id.as_str())));
            m.insert("data".into(), json!(f.data));
            put(
                &mut m,
                "legal_basis",
                f.legal_basis.as_ref().map(|v| json!(v)),
            );
            put(&mut m, "consent", f.consent.as_ref().map(|v| json!(v)));
            put(
                &mut m,
                "special_condition",
                f.special_condition.as_ref().map(|v| json!(v)),
            );
            if let Some(t) = &f.transfer {
                let mut tm = Map::new();
                put(&mut tm, "mechanism", t.mechanism.as_ref().map(|v| json!(v)));
                m.insert("transfer".into(), Value::Object(tm));
            }
            Value::Object(m)
        })
        .collect();
    json!({ "organizations": organizations, "systems": systems, "flows": flows })
}
