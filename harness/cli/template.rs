//! `jcstar evidence-template`: an inventory skeleton listing every evidence field of the
//! profile for each device, keeping what is already declared, so a lab fills it in once.

use std::fmt::Write;

use crate::inventory::InventoryEntry;
use jcstar_model::device::EvidenceValue;
use jcstar_model::profile::Profile;

/// Renders the skeleton for `entries` as inventory TOML.
pub fn render(entries: &[InventoryEntry], profile: &Profile) -> String {
    let mut out = String::from(
        "# jcstar inventory with every evidence field of the profile.\n\
         # Fill in each commented field (remove the leading '# '); a field left commented stays\n\
         # \"inconclusive\" in reports, naming what the vendor must supply.\n\
         # Operator credentials are not copied here (no secrets on screen): keep them in your\n\
         # inventory's [[device.credential]] tables, with the vendor's declared lockout window\n\
         # as lockout_window_s = SECONDS (S1.1-04 waits that long for a locked login to recover).\n",
    );
    for entry in entries {
        render_device(&mut out, entry, profile);
    }
    out
}

fn render_device(out: &mut String, entry: &InventoryEntry, profile: &Profile) {
    let _ = writeln!(out, "\n[[device]]");
    let _ = writeln!(out, "name = {}", quote(&entry.name));
    let _ = writeln!(out, "address = {}", quote(&entry.address));
    match &entry.model {
        Some(model) => {
            let _ = writeln!(out, "model = {}", quote(model));
        }
        None => out.push_str(
            "# model = \"\"            # compared with what the device shows (S1.1-10)\n",
        ),
    }
    match &entry.services {
        Some(services) => {
            let list: Vec<String> = services.iter().map(|s| quote(&s.to_string())).collect();
            let _ = writeln!(out, "services = [{}]", list.join(", "));
        }
        None => out
            .push_str("# services = [\"443/tcp\"]  # the services the vendor declares (S1.1-13)\n"),
    }
    out.push_str("\n[device.evidence]\n");
    let mut written = std::collections::BTreeSet::new();
    for criterion in &profile.criteria {
        for field in criterion
            .evidence
            .iter()
            .chain(&criterion.optional_evidence)
        {
            if !written.insert(field.as_str()) {
                continue;
            }
            match entry.evidence.get(field) {
                Some(value) => {
                    let _ = writeln!(out, "{field} = {}  # {}", toml_value(value), criterion.id);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "# {field} = {}  # {} {}",
                        placeholder(field),
                        criterion.id,
                        criterion.title
                    );
                }
            }
        }
    }
}

fn placeholder(field: &str) -> &'static str {
    match field {
        "software_components" => "[\"name version\"]",
        "support_end_date" => "2030-12-31",
        _ => "\"\"",
    }
}

fn toml_value(value: &EvidenceValue) -> String {
    match value {
        EvidenceValue::Text(text) => quote(text),
        EvidenceValue::List(items) => {
            let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
            format!("[{}]", quoted.join(", "))
        }
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory;
    use std::path::Path;

    #[test]
    fn skeleton_lists_every_field_keeps_values_and_parses_back() {
        let profile = Profile::builtin();
        let text = "[[device]]\nname = \"cam \\\"1\\\"\"\naddress = \"192.0.2.1\"\nservices = [\"80/tcp\"]\n\
                    [device.evidence]\nvdp_url = \"https://v.example/vdp\"\n\
                    [[device]]\nname = \"bare\"\naddress = \"192.0.2.2\"\n";
        let entries = inventory::parse(text, Path::new("in.toml"), &profile).expect("valid");
        let skeleton = render(&entries, &profile);
        for field in profile.evidence_fields() {
            assert!(skeleton.contains(field), "{field} missing from\n{skeleton}");
        }
        assert!(skeleton.contains("vdp_url = \"https://v.example/vdp\""));
        let reparsed =
            inventory::parse(&skeleton, Path::new("skeleton.toml"), &profile).expect("parses");
        assert_eq!(reparsed.len(), 2);
        assert_eq!(reparsed[0].name, "cam \"1\"");
        assert_eq!(reparsed[0].evidence.len(), 1);
        assert!(reparsed[1].services.is_none());
        let filled = skeleton.replace(
            "# support_end_date = 2030-12-31",
            "support_end_date = 2030-12-31",
        );
        let filled = inventory::parse(&filled, Path::new("f.toml"), &profile).expect("parses");
        assert_eq!(filled[0].evidence.len(), 2);
    }
}
