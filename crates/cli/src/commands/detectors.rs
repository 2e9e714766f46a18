//! `oddhunt detectors`: what each detector finds and needs.

use super::Status;
use anyhow::Result;
use comfy_table_free::render;

mod comfy_table_free {
    /// A plain aligned listing (no table crate needed for a handful of rows).
    pub fn render(rows: &[[String; 4]]) -> String {
        let mut widths = [0usize; 4];
        for r in rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in rows {
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    out.push_str(c);
                } else {
                    out.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Runs the subcommand.
pub fn run() -> Result<Status> {
    let mut rows = vec![[
        "DETECTOR".to_string(),
        "SCORES".to_string(),
        "READS".to_string(),
        "FINDS".to_string(),
    ]];
    for d in oddhunt_detect::all() {
        let needs = d.needs();
        let kinds = needs
            .kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ");
        let required = needs
            .required
            .iter()
            .map(|f| f.ecs_name())
            .collect::<Vec<_>>()
            .join(", ");
        let optional = needs
            .optional
            .iter()
            .map(|f| f.ecs_name())
            .collect::<Vec<_>>()
            .join(", ");
        let mut reads = if required.is_empty() {
            kinds
        } else {
            format!("{kinds} with {required}")
        };
        if !optional.is_empty() {
            reads.push_str(&format!(" (uses {optional})"));
        }
        rows.push([
            d.name().to_string(),
            d.subject().to_string(),
            reads,
            d.description().to_string(),
        ]);
    }
    print!("{}", render(&rows));
    Ok(Status::Done)
}
