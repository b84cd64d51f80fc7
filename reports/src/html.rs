//! A self-contained HTML page: inline CSS, inline SVG, no scripts, no external fetches.

use std::fmt::Write;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px 32px; color: #222; max-width: 1340px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.note { color: #555; font-size: 13px; margin: 4px 0 10px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: white; font-weight: bold; }
.verdict.pass { background: #31a354; }
.verdict.fail { background: #d7301f; }
pre.repro { background: #f3f3f3; border: 1px solid #ddd; padding: 8px 10px; white-space: pre-wrap; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
td.link { white-space: nowrap; }
td.none { color: #888; font-style: italic; }
.tables { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.charts { display: grid; grid-template-columns: repeat(2, 640px); gap: 12px; }
.charts svg, .chart svg { border: 1px solid #eee; }
.diagram { overflow-x: auto; }
"#;

pub fn page(title: &str, body: &str) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        escape(title)
    );
    html
}

/// A two-column table of (name, value) rows; values are escaped.
pub fn key_value_table(caption: &str, rows: &[(String, String)]) -> String {
    let mut html = format!("<table><tr><th colspan=\"2\">{}</th></tr>", escape(caption));
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"2\" class=\"none\">none</td></tr>");
    }
    for (key, value) in rows {
        let class = if value.parse::<f64>().is_ok() {
            " class=\"number\""
        } else {
            ""
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td{class}>{}</td></tr>",
            escape(key),
            escape(value)
        );
    }
    html.push_str("</table>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
