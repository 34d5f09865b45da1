# The benchmark subset (benches/subset.policy) in idiomatic Rego v1, over the graph given as
# input: {"organizations": [...], "systems": [...], "flows": [...]} in the manifest's shape
# (src/gen/rego.rs builds it from the loaded manifests; only flows active on the as-of date).
# Country groups and the taxonomy's roots are written out here as of 2026 (regorus has no
# dated lists). `violations` is the set of {"rule", "subject"} the parity test compares.
package lexflow.subset

personal_roots := {
	"contact", "identifier", "location", "biometric", "image", "audio", "health", "genetic",
	"financial", "behavior", "demographic", "ethnicity", "religion", "political", "trade_union",
	"sex_life", "criminal", "employment", "education",
}

special_roots := {"health", "genetic", "biometric", "ethnicity", "religion", "political", "trade_union", "sex_life"}

cac_routes := {"cac_security_assessment", "cac_standard_contract", "cac_certification"}

eea := {
	"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
	"LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}

eu_adequate := {"AD", "AR", "CA", "CH", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "UY", "GB", "BR"}

orgs := {o.id: o | some o in input.organizations}

systems := {s.id: s | some s in input.systems}

country(location) := split(location, "-")[0]

has_personal(data) if {
	some c in data
	split(c, ".")[0] in personal_roots
}

has_special(data) if {
	some c in data
	split(c, ".")[0] in special_roots
}

leaves_cn(f) if {
	country(systems[f.from].location) == "CN"
	country(systems[f.to].location) != "CN"
}

cac_route(f) if f.transfer.mechanism in cac_routes

from_eea(f) if country(systems[f.from].location) in eea

# PIPL Art. 38(1)
flow_violations contains {"rule": "SUB-PIPL-38", "subject": f.id} if {
	some f in input.flows
	leaves_cn(f)
	has_personal(f.data)
	not cac_route(f)
}

# PIPL Art. 39
flow_violations contains {"rule": "SUB-PIPL-39", "subject": f.id} if {
	some f in input.flows
	leaves_cn(f)
	has_personal(f.data)
	f.legal_basis == "consent"
	not f.consent == "separate"
}

# PIPL Art. 40
flow_violations contains {"rule": "SUB-PIPL-40", "subject": f.id} if {
	some f in input.flows
	leaves_cn(f)
	has_personal(f.data)
	orgs[systems[f.from].operator].ciio == true
	not f.transfer.mechanism == "cac_security_assessment"
}

# GDPR Art. 9(1)
flow_violations contains {"rule": "SUB-GDPR-9", "subject": f.id} if {
	some f in input.flows
	from_eea(f)
	has_special(f.data)
	not f.special_condition
}

# GDPR Art. 44
flow_violations contains {"rule": "SUB-GDPR-44", "subject": f.id} if {
	some f in input.flows
	from_eea(f)
	dest := country(systems[f.to].location)
	not dest in eea
	not dest in eu_adequate
	has_personal(f.data)
	not f.transfer.mechanism
}

# PIPL Art. 38(1), onward: personal information collected in China reaches a system abroad
# through any chain of flows. A step carries personal data and is not a covered exit.
covered_exit(f) if {
	leaves_cn(f)
	cac_route(f)
}

step(f) if {
	has_personal(f.data)
	not covered_exit(f)
}

# Adjacency, grouped in one pass over the flows; every system is a key, as graph.reachable
# only visits nodes that are keys of the graph.
out_edges[from] contains to if {
	some f in input.flows
	step(f)
	from := f.from
	to := f.to
}

edges := {s.id: object.get(out_edges, s.id, set()) | some s in input.systems}

cn_collectors contains s.id if {
	some s in input.systems
	country(s.location) == "CN"
	some c in s.collects
	has_personal(c.data)
}

# Idiomatic: what each collecting system's data reaches (graph.reachable per source).
path_violations contains {"rule": "SUB-PIPL-38-PATH", "subject": t} if {
	some s in cn_collectors
	some t in graph.reachable(edges, [s])
	country(systems[t].location) != "CN"
}

# Tuned: one multi-source call (loses which source reached which target).
path_violations_multi_source contains {"rule": "SUB-PIPL-38-PATH", "subject": t} if {
	some t in graph.reachable(edges, cn_collectors)
	country(systems[t].location) != "CN"
}

violations := flow_violations | path_violations

violations_tuned := flow_violations | path_violations_multi_source
