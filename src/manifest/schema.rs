//! A JSON Schema (draft 2020-12) of the manifest format, made from the loader's field tables
//! ([`super::fields`]) and the vocabulary of the loaded policies, for editors: the YAML
//! language server completes and validates manifests with it as they are typed.
//!
//! The schema checks what a single file can check: field names, types, required fields,
//! data categories, country codes and enumerated values. References between entities (an
//! `operator` naming a declared organization) and id uniqueness span files, so only the
//! loader checks them.

use serde_json::{json, Map, Value};

use crate::vocab::Vocabulary;

use super::fields::{Entity, Field, Type, ENTITIES, MANIFEST};
use super::load::SUPPORTED_VERSIONS;

/// The `$schema` of the generated schema.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schema of the manifest format with the vocabulary given.
pub fn manifest_schema(vocab: &Vocabulary) -> Value {
    let mut root = object_schema(&MANIFEST, vocab);
    let mut defs = Map::new();
    for entity in ENTITIES.iter().filter(|e| e.name != MANIFEST.name) {
        defs.insert(
            entity.name.to_string(),
            Value::Object(object_schema(entity, vocab)),
        );
    }
    root.insert("$schema".into(), json!(DRAFT));
    root.insert("title".into(), json!("lexflow manifest"));
    root.insert("$defs".into(), Value::Object(defs));
    Value::Object(root)
}

fn object_schema(entity: &Entity, vocab: &Vocabulary) -> Map<String, Value> {
    let mut properties = Map::new();
    for field in entity.fields {
        properties.insert(field.name.to_string(), field_schema(field, vocab));
    }
    let required: Vec<&str> = entity
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut schema = Map::new();
    schema.insert("description".into(), json!(entity.description));
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

fn field_schema(field: &Field, vocab: &Vocabulary) -> Value {
    let value = value_schema(field.ty, vocab);
    // The loader reads an explicit `null` in an optional field as "not declared".
    let mut schema = match (field.required, value) {
        (false, value) => {
            let mut map = Map::new();
            map.insert("anyOf".into(), json!([value, {"type": "null"}]));
            map
        }
        (true, Value::Object(map)) => map,
        (true, _) => Map::new(),
    };
    let description = match field.ty {
        Type::Enum(v) | Type::EnumList(v) => format!(
            "{} Values: the `{v}` vocabulary of the loaded policies.",
            field.description
        ),
        Type::Ref(target) | Type::RefList(target) => format!(
            "{} Names {} declared in one of the manifests checked together.",
            field.description,
            target.describe()
        ),
        _ => field.description.to_string(),
    };
    schema.insert("description".into(), json!(description));
    Value::Object(schema)
}

fn value_schema(ty: Type, vocab: &Vocabulary) -> Value {
    match ty {
        Type::Version => json!({"type": "integer", "enum": SUPPORTED_VERSIONS}),
        Type::Text => json!({"type": "string"}),
        Type::Id | Type::Ref(_) => non_empty_text(),
        Type::RefList(_) => json!({"type": "array", "minItems": 1, "items": non_empty_text()}),
        Type::Bool => json!({"type": "boolean"}),
        Type::Count => json!({"type": "integer", "minimum": 0}),
        Type::Date => json!({
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "format": "date"
        }),
        Type::Enum(name) => enum_schema(vocab, name),
        Type::EnumList(name) => json!({"type": "array", "items": enum_schema(vocab, name)}),
        Type::Categories => json!({
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": vocab.categories}
        }),
        Type::Location => location_schema(vocab, false),
        Type::Locations => json!({"type": "array", "items": location_schema(vocab, true)}),
        Type::Object(entity) => json!({"$ref": format!("#/$defs/{}", entity.name)}),
        Type::List(entity) => json!({
            "type": "array",
            "items": {"$ref": format!("#/$defs/{}", entity.name)}
        }),
    }
}

fn non_empty_text() -> Value {
    json!({"type": "string", "pattern": "\\S"})
}

/// The values of a vocabulary; free text when the policies define no such vocabulary (the
/// loader does not check it then either).
fn enum_schema(vocab: &Vocabulary, name: &str) -> Value {
    match vocab.enum_values(name) {
        Some(values) => json!({"type": "string", "enum": values}),
        None => json!({"type": "string"}),
    }
}

/// A country code, a subdivision of a known country (`CN-GD`, as
/// [`Vocabulary::is_location`] accepts) and, where `groups`, a country group.
fn location_schema(vocab: &Vocabulary, groups: bool) -> Value {
    let mut codes: Vec<&str> = vocab.countries.iter().map(String::as_str).collect();
    if groups {
        codes.extend(vocab.groups.iter().map(String::as_str));
    }
    if vocab.countries.is_empty() {
        // No country list loaded: the loader refuses every code, and so does the schema.
        return json!({"type": "string", "enum": codes});
    }
    let countries: Vec<&str> = vocab.countries.iter().map(String::as_str).collect();
    let subdivision = format!("^({})-[A-Z0-9]{{1,3}}$", countries.join("|"));
    json!({
        "type": "string",
        "anyOf": [
            {"enum": codes},
            {"pattern": subdivision}
        ]
    })
}
