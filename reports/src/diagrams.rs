//! Hand-written SVG: the per-node role timeline with fault windows, and the space-time
//! (Lamport) diagram of the events around a violation.

use std::collections::BTreeMap;
use std::fmt::Write;

use sim_core::result::DeclaredRole;

use crate::html::escape;
use crate::trace::{FaultWindow, Trace};

/// A crashed node's colour, whatever the protocol.
const CRASHED: &str = "#525252";
/// A Byzantine node's colour, whatever the protocol.
const BYZANTINE: &str = "#e6550d";
/// A role the run did not declare (an old result file).
const UNDECLARED: &str = "#d9d9d9";

/// Role colours, from the roles a run's protocol declares (`result.json` `roles`); sim-core
/// and reports name no protocol's roles.
#[derive(Clone, Debug, Default)]
pub struct Palette {
    roles: Vec<DeclaredRole>,
    /// The run had Byzantine nodes: the legend names their colour.
    byzantine: bool,
}

impl Palette {
    pub fn new(roles: &[DeclaredRole]) -> Palette {
        Palette {
            roles: roles.to_vec(),
            byzantine: false,
        }
    }

    /// The palette of a run with Byzantine nodes (`result.json` `byzantine`).
    pub fn with_byzantine(mut self, byzantine: bool) -> Palette {
        self.byzantine = byzantine;
        self
    }

    pub fn colour(&self, role: &str) -> &str {
        if role == "crashed" {
            return CRASHED;
        }
        if role == "byzantine" {
            return BYZANTINE;
        }
        self.roles
            .iter()
            .find(|declared| declared.name == role)
            .map_or(UNDECLARED, |declared| declared.colour.as_str())
    }

    /// The legend: every declared role, then `crashed`.
    fn legend(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.roles.iter().map(|role| role.name.as_str()).collect();
        names.push("crashed");
        if self.byzantine {
            names.push("byzantine");
        }
        names
    }
}

/// A stable colour per message kind, in order of first appearance.
fn kind_colors(trace: &Trace) -> BTreeMap<String, &'static str> {
    const PALETTE: [&str; 8] = [
        "#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#2ca02c",
    ];
    let mut colors = BTreeMap::new();
    for message in &trace.messages {
        let next = PALETTE[colors.len() % PALETTE.len()];
        colors.entry(message.kind.clone()).or_insert(next);
    }
    colors
}

/// Tick step (µs) giving at most about `ticks_max` ticks over `span_us`.
fn tick_step_us(span_us: u64, ticks_max: u64) -> u64 {
    // 1, 2, 5, 10, 20, 50, ... milliseconds.
    let mut power = 1_000u64;
    loop {
        for mantissa in [1, 2, 5] {
            let step = mantissa * power;
            if span_us / step <= ticks_max {
                return step;
            }
        }
        power *= 10;
    }
}

fn seconds(us: u64) -> String {
    let text = format!("{:.3}", us as f64 / 1e6);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

/// The role timeline: one lane per node, coloured by role, faults shaded; network-wide
/// faults in rows below, each labelled. A red line marks the failure, if any; a yellow
/// band under the axis marks `window_us`, the time the space-time diagram covers.
pub fn role_timeline(
    trace: &Trace,
    palette: &Palette,
    failure: Option<(u64, &str)>,
    window_us: Option<(u64, u64)>,
) -> String {
    const WIDTH: f64 = 1300.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const LANE: f64 = 22.0;
    const GAP: f64 = 6.0;
    const FAULT_ROW: f64 = 16.0;
    let span_us = trace.end_time_us.max(1);
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |t: u64| LEFT + t as f64 / span_us as f64 * plot_width;
    let windows = trace.fault_windows();
    let (node_faults, network_faults): (Vec<&FaultWindow>, Vec<&FaultWindow>) =
        windows.iter().partition(|w| w.node.is_some());
    // Greedy rows so that network-wide fault bars (and their labels) never overlap.
    let mut row_ends: Vec<f64> = Vec::new();
    let mut placed = Vec::new();
    for window in &network_faults {
        // A label runs right from the bar's start, or ends at the right edge.
        let label_width = 6.5 * window.label.len() as f64 + 8.0;
        let start = x(window.start_us).min(WIDTH - RIGHT - label_width);
        let end = x(window.end_us).max(start + label_width);
        let row = match row_ends.iter().position(|&row_end| row_end <= start) {
            Some(row) => row,
            None => {
                row_ends.push(0.0);
                row_ends.len() - 1
            }
        };
        row_ends[row] = end + 4.0;
        placed.push((row, *window));
    }
    let lanes_height = trace.nodes as f64 * (LANE + GAP);
    let faults_top = 20.0 + lanes_height + 8.0;
    let axis_y = faults_top + row_ends.len() as f64 * (FAULT_ROW + 3.0) + 6.0;
    let legend_y = axis_y + 42.0;
    let height = legend_y + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str(r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#e31a1c" stroke-width="2" stroke-opacity="0.55"/></pattern></defs>"##);
    for node in 0..trace.nodes {
        let y = 20.0 + node as f64 * (LANE + GAP);
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" font-weight="bold">n{node}</text>"#,
            LEFT - 8.0,
            y + LANE / 2.0 + 4.0
        );
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{y}" width="{plot_width}" height="{LANE}" fill="#f7f7f7"/>"##
        );
    }
    for span in trace.role_spans() {
        let y = 20.0 + span.node as f64 * (LANE + GAP);
        let (start, end) = (x(span.start_us), x(span.end_us));
        let _ = write!(
            svg,
            r#"<rect x="{start:.1}" y="{y}" width="{:.1}" height="{LANE}" fill="{}"><title>n{} {} {}–{}</title></rect>"#,
            (end - start).max(0.5),
            palette.colour(&span.role),
            span.node,
            span.role,
            seconds(span.start_us),
            seconds(span.end_us)
        );
    }
    for window in &node_faults {
        let node = window.node.expect("partitioned on node");
        if node >= trace.nodes {
            continue;
        }
        let y = 20.0 + node as f64 * (LANE + GAP);
        let (start, end) = (x(window.start_us), x(window.end_us));
        let _ = write!(
            svg,
            r##"<rect class="fault" x="{start:.1}" y="{y}" width="{:.1}" height="{LANE}" fill="url(#hatch)" stroke="#e31a1c" stroke-width="1"><title>{} {}–{}</title></rect>"##,
            (end - start).max(1.5),
            escape(&window.label),
            seconds(window.start_us),
            seconds(window.end_us)
        );
        // Name the fault inside its box when it fits.
        if end - start > 6.0 * window.action.len() as f64 + 8.0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#67000d" paint-order="stroke" stroke="#fff" stroke-width="3">{}</text>"##,
                start + 4.0,
                y + LANE / 2.0 + 4.0,
                escape(&window.action)
            );
        }
    }
    for (row, window) in &placed {
        let y = faults_top + *row as f64 * (FAULT_ROW + 3.0);
        let (start, end) = (x(window.start_us), x(window.end_us));
        let _ = write!(
            svg,
            r##"<rect class="fault" x="{start:.1}" y="{y}" width="{:.1}" height="{FAULT_ROW}" fill="#fcbba1" stroke="#e31a1c" stroke-width="0.8"><title>{} {}–{}</title></rect>"##,
            (end - start).max(1.5),
            escape(&window.label),
            seconds(window.start_us),
            seconds(window.end_us)
        );
        let label_width = 6.5 * window.label.len() as f64 + 8.0;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" fill="#67000d">{}</text>"##,
            start.min(WIDTH - RIGHT - label_width) + 3.0,
            y + FAULT_ROW - 4.0,
            escape(&window.label)
        );
    }
    if !placed.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="10">network</text>"#,
            LEFT - 8.0,
            faults_top + FAULT_ROW - 4.0
        );
    }
    // Time axis.
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#333"/>"##,
        LEFT + plot_width
    );
    let step = tick_step_us(span_us, 15);
    let mut tick = 0;
    while tick <= span_us {
        let tx = x(tick);
        let _ = write!(
            svg,
            r##"<line x1="{tx:.1}" y1="{axis_y}" x2="{tx:.1}" y2="{}" stroke="#333"/><line x1="{tx:.1}" y1="20" x2="{tx:.1}" y2="{axis_y}" stroke="#000" stroke-opacity="0.08"/><text x="{tx:.1}" y="{}" text-anchor="middle">{}</text>"##,
            axis_y + 5.0,
            axis_y + 17.0,
            seconds(tick)
        );
        tick += step;
    }
    if let Some((start_us, end_us)) = window_us {
        let (start, end) = (x(start_us), x(end_us));
        let _ = write!(
            svg,
            r##"<rect class="window" x="{start:.1}" y="{:.1}" width="{:.1}" height="5" fill="#fec44f"><title>space-time diagram: {}–{}</title></rect>"##,
            axis_y + 20.0,
            (end - start).max(2.0),
            seconds(start_us),
            seconds(end_us)
        );
    }
    if let Some((time_us, verdict)) = failure {
        let fx = x(time_us);
        let _ = write!(
            svg,
            r##"<line class="failure" x1="{fx:.1}" y1="12" x2="{fx:.1}" y2="{axis_y}" stroke="#e31a1c" stroke-width="2"/><text x="{:.1}" y="10" text-anchor="end" fill="#e31a1c" font-weight="bold">{}</text>"##,
            fx - 2.0,
            escape(verdict)
        );
    }
    // Legend.
    let mut lx = LEFT;
    for role in palette.legend() {
        let _ = write!(
            svg,
            r#"<rect x="{lx}" y="{}" width="14" height="12" fill="{}"/><text x="{}" y="{}">{role}</text>"#,
            legend_y - 10.0,
            palette.colour(role),
            lx + 18.0,
            legend_y
        );
        lx += 100.0;
    }
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{}" width="14" height="12" fill="url(#hatch)" stroke="#e31a1c"/><text x="{}" y="{}">fault on a node</text>"##,
        legend_y - 10.0,
        lx + 18.0,
        legend_y
    );
    lx += 130.0;
    let _ = write!(
        svg,
        r##"<rect x="{lx}" y="{}" width="14" height="12" fill="#fcbba1" stroke="#e31a1c"/><text x="{}" y="{}">network-wide fault</text>"##,
        legend_y - 10.0,
        lx + 18.0,
        legend_y
    );
    if window_us.is_some() {
        lx += 150.0;
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{}" width="14" height="5" fill="#fec44f"/><text x="{}" y="{}">time shown in the space-time diagram</text>"##,
            legend_y - 6.0,
            lx + 18.0,
            legend_y
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Rows of the space-time diagram: the trace positions shown, ending at `last`.
pub fn window_positions(trace: &Trace, last: usize, rows_max: usize) -> Vec<usize> {
    assert!(
        last < trace.events.len(),
        "the window ends inside the trace"
    );
    let mut positions: Vec<usize> = (0..=last)
        .rev()
        .filter(|&p| trace.events[p].name != "end")
        .take(rows_max)
        .collect();
    positions.reverse();
    positions
}

fn describe(trace: &Trace, position: usize) -> String {
    let event = &trace.events[position];
    let mut text = event.name.clone();
    if let Some(from) = event.from {
        text.push_str(&format!(" ← {}", trace.lane_label(from)));
    }
    if let Some(fault) = &event.fault {
        let action = fault.get("action").and_then(|a| a.as_str()).unwrap_or("?");
        text.push_str(&format!(" {action}"));
        if let Some(node) = fault.get("node").and_then(|n| n.as_u64()) {
            text.push_str(&format!(" n{node}"));
        }
    }
    if let Some(cause) = &event.cause {
        text.push_str(&format!(" ({cause})"));
    }
    if let Some(role) = &event.role {
        text.push_str(&format!(" → {role}"));
    }
    text
}

fn cross(svg: &mut String, x: f64, y: f64, title: &str) {
    let _ = write!(
        svg,
        r##"<g class="dropped" stroke="#e31a1c" stroke-width="2.2"><title>{}</title><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g>"##,
        escape(title),
        x - 4.5,
        y - 4.5,
        x + 4.5,
        y + 4.5,
        x - 4.5,
        y + 4.5,
        x + 4.5,
        y - 4.5
    );
}

/// The space-time diagram: time flows down, one row per event (in trace order), one
/// lane per node; an arrow per message from its send to its delivery; an X where a
/// message was dropped; the failing event (if any) highlighted in red.
pub fn space_time(
    trace: &Trace,
    palette: &Palette,
    last: usize,
    failing: Option<usize>,
    rows_max: usize,
) -> String {
    const WIDTH: f64 = 1300.0;
    const LOG_WIDTH: f64 = 400.0;
    const ROW: f64 = 17.0;
    const TOP: f64 = 44.0;
    let positions = window_positions(trace, last, rows_max);
    let row_of: BTreeMap<usize, usize> = positions
        .iter()
        .enumerate()
        .map(|(row, &position)| (position, row))
        .collect();
    let first = positions.first().copied().unwrap_or(0);
    let lanes = trace.lanes().max(1) as f64;
    let lane_left = LOG_WIDTH + 40.0;
    let lane_step = if lanes > 1.0 {
        ((WIDTH - lane_left - 40.0) / (lanes - 1.0)).min(200.0)
    } else {
        0.0
    };
    let lane_x = |node: u32| lane_left + node as f64 * lane_step;
    let row_y = |row: usize| TOP + row as f64 * ROW + ROW / 2.0;
    let bottom = TOP + positions.len() as f64 * ROW + 8.0;
    let legend_y = bottom + 24.0;
    let height = legend_y + 16.0;
    let colors = kind_colors(trace);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="spacetime" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    svg.push_str("<defs>");
    for (kind, color) in &colors {
        let _ = write!(
            svg,
            r#"<marker id="arrow-{}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"#,
            escape(kind)
        );
    }
    svg.push_str("</defs>");
    // Failing row first, underneath everything.
    if let Some(row) = failing.and_then(|p| row_of.get(&p)) {
        let _ = write!(
            svg,
            r##"<rect class="failing-row" x="0" y="{:.1}" width="{WIDTH}" height="{ROW}" fill="#fee0d2" stroke="#e31a1c"/>"##,
            row_y(*row) - ROW / 2.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="4" y="{}" font-weight="bold">#i</text><text x="60" y="{}" font-weight="bold">time</text><text x="140" y="{}" font-weight="bold">node: event</text>"##,
        TOP - 8.0,
        TOP - 8.0,
        TOP - 8.0
    );
    for lane in 0..trace.lanes() {
        let lx = lane_x(lane);
        let label = trace.lane_label(lane);
        let _ = write!(
            svg,
            r##"<text x="{lx:.1}" y="{}" text-anchor="middle" font-weight="bold" font-size="13">{label}</text><line x1="{lx:.1}" y1="{TOP}" x2="{lx:.1}" y2="{bottom}" stroke="#999" stroke-width="1.5"/>"##,
            TOP - 8.0
        );
    }
    // Messages (drawn before the dots so that dots stay on top).
    for message in &trace.messages {
        let send_row = row_of.get(&message.send_position).copied();
        let receive_row = message
            .receive_position
            .and_then(|p| row_of.get(&p).copied());
        let color = colors.get(&message.kind).copied().unwrap_or("#333");
        let marker = format!("url(#arrow-{})", escape(&message.kind));
        let (sx, tx) = (lane_x(message.source), lane_x(message.target));
        let title = format!(
            "{} n{} → n{}{}",
            message.kind,
            message.source,
            message.target,
            message
                .dropped
                .as_ref()
                .map(|c| format!(" dropped ({c})"))
                .unwrap_or_default()
        );
        match (send_row, receive_row, &message.dropped) {
            (Some(s), None, Some(cause)) if message.receive_position.is_none() => {
                // Dropped as it was sent: a dashed line that stops short of the
                // target's lane with an X, so it is clear whom it was for.
                let (x1, y1) = (sx, row_y(s));
                let x2 = tx - (tx - sx).signum() * 12.0;
                let y2 = y1 + ROW * 0.9;
                let _ = write!(
                    svg,
                    r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1.2" stroke-dasharray="3,2"/>"#
                );
                cross(&mut svg, x2, y2, &format!("{title}: {cause}"));
            }
            (Some(s), Some(r), dropped) => {
                let (y1, y2) = (row_y(s), row_y(r));
                if dropped.is_some() {
                    let _ = write!(
                        svg,
                        r#"<line x1="{sx:.1}" y1="{y1:.1}" x2="{tx:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1.2" stroke-dasharray="3,2"><title>{}</title></line>"#,
                        escape(&title)
                    );
                    cross(&mut svg, tx, y2, &title);
                } else {
                    let _ = write!(
                        svg,
                        r#"<line class="message" x1="{sx:.1}" y1="{y1:.1}" x2="{tx:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1.3" marker-end="{marker}"><title>{}</title></line>"#,
                        escape(&title)
                    );
                }
            }
            (Some(s), None, None) => {
                // Still in flight when the window ends.
                let (y1, y2) = (row_y(s), bottom);
                let x2 = sx + (tx - sx) * ((y2 - y1) / (y2 - y1 + 6.0 * ROW)).min(1.0);
                let _ = write!(
                    svg,
                    r#"<line x1="{sx:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1" stroke-opacity="0.6" stroke-dasharray="4,3"><title>{} (in flight)</title></line>"#,
                    escape(&title)
                );
            }
            (None, Some(r), dropped) if message.send_position < first => {
                // Sent before the window: enters from the top.
                let y2 = row_y(r);
                let x1 = tx + (sx - tx) * (((y2 - TOP) / (y2 - TOP + 6.0 * ROW)).min(1.0));
                if dropped.is_some() {
                    let _ = write!(
                        svg,
                        r#"<line x1="{x1:.1}" y1="{TOP}" x2="{tx:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1" stroke-dasharray="4,3"/>"#
                    );
                    cross(&mut svg, tx, y2, &title);
                } else {
                    let _ = write!(
                        svg,
                        r#"<line class="message" x1="{x1:.1}" y1="{TOP}" x2="{tx:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1" stroke-opacity="0.7" stroke-dasharray="4,3" marker-end="{marker}"><title>{} (sent earlier)</title></line>"#,
                        escape(&title)
                    );
                }
            }
            _ => {}
        }
    }
    for (row, &position) in positions.iter().enumerate() {
        let event = &trace.events[position];
        let y = row_y(row);
        let is_failing = failing == Some(position);
        let weight = if is_failing { "bold" } else { "normal" };
        let fill = if is_failing { "#a50f15" } else { "#222" };
        let node = event
            .node
            .map(|n| format!("{}: ", trace.lane_label(n)))
            .unwrap_or_else(|| "· ".into());
        let mut text = format!("{node}{}", describe(trace, position));
        if text.chars().count() > 44 {
            text = text.chars().take(43).collect::<String>() + "…";
        }
        let _ = write!(
            svg,
            r#"<text x="4" y="{:.1}" fill="{fill}" font-weight="{weight}">{}</text><text x="60" y="{:.1}" fill="{fill}" font-weight="{weight}">{}</text><text x="140" y="{:.1}" fill="{fill}" font-weight="{weight}">{}</text>"#,
            y + 4.0,
            event.index,
            y + 4.0,
            format_args!("{:.6}s", event.time_us as f64 / 1e6),
            y + 4.0,
            escape(&text)
        );
        match event.node {
            Some(node) if event.name == "crash" => {
                let nx = lane_x(node);
                let _ = write!(
                    svg,
                    r##"<rect x="{:.1}" y="{:.1}" width="12" height="12" fill="#525252"><title>n{node} crashed</title></rect>"##,
                    nx - 6.0,
                    y - 6.0
                );
            }
            Some(node) => {
                let nx = lane_x(node);
                let (radius, color) = if is_failing {
                    (7.0, "#e31a1c")
                } else if event.name == "drop" {
                    (2.5, "#e31a1c")
                } else {
                    (
                        3.5,
                        event
                            .role
                            .as_deref()
                            .map_or("#222", |role| palette.colour(role)),
                    )
                };
                let class = if is_failing { "failing-event" } else { "event" };
                let _ = write!(
                    svg,
                    r##"<circle class="{class}" cx="{nx:.1}" cy="{y:.1}" r="{radius}" fill="{color}" stroke="#222" stroke-width="0.8"><title>#{} {} {}</title></circle>"##,
                    event.index,
                    trace.lane_label(node),
                    escape(&describe(trace, position))
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r##"<line x1="{lane_left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e31a1c" stroke-opacity="0.5" stroke-dasharray="6,4"/>"##,
                    lane_x(trace.lanes().saturating_sub(1)).max(lane_left + 10.0)
                );
            }
        }
    }
    let mut lx = 4.0;
    for (kind, color) in &colors {
        let _ = write!(
            svg,
            r#"<line x1="{lx}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{color}" stroke-width="2" marker-end="url(#arrow-{})"/><text x="{}" y="{legend_y}">{}</text>"#,
            legend_y - 4.0,
            lx + 24.0,
            legend_y - 4.0,
            escape(kind),
            lx + 30.0,
            escape(kind)
        );
        lx += 40.0 + 7.0 * kind.len() as f64;
    }
    cross(&mut svg, lx + 6.0, legend_y - 4.0, "dropped");
    let _ = write!(
        svg,
        r#"<text x="{}" y="{legend_y}">dropped</text>"#,
        lx + 16.0
    );
    if palette.byzantine {
        // A Byzantine node's events wear its colour: say so beside the message kinds.
        let bx = lx + 80.0;
        let _ = write!(
            svg,
            r##"<g class="legend-byzantine"><circle cx="{bx:.1}" cy="{:.1}" r="3.5" fill="{BYZANTINE}" stroke="#222" stroke-width="0.8"/><text x="{:.1}" y="{legend_y}">event of a Byzantine node</text></g>"##,
            legend_y - 4.0,
            bx + 8.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::tests_support::SMALL;

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step_us(10_000_000, 15), 1_000_000);
        assert_eq!(tick_step_us(7_600_000, 15), 500_000);
        assert_eq!(tick_step_us(2_000, 15), 1_000);
        assert_eq!(tick_step_us(60_000_000, 15), 5_000_000);
    }

    #[test]
    fn timeline_has_lanes_roles_and_faults() {
        let trace = Trace::parse(SMALL).unwrap();
        let palette = Palette::new(&[DeclaredRole {
            name: "leader".to_string(),
            colour: "#123456".to_string(),
            leader: true,
        }]);
        let svg = role_timeline(&trace, &palette, Some((400, "violation")), Some((0, 100)));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">n2</text>"));
        assert!(svg.contains("#123456"), "the declared role's colour");
        assert!(
            svg.contains(">leader</text>"),
            "the declared role in the legend"
        );
        assert!(
            !svg.contains(">candidate</text>"),
            "no undeclared role in the legend"
        );
        assert!(svg.contains(r#"class="fault""#));
        assert!(svg.contains(r#"class="failure""#));
        assert!(svg.contains(r#"class="window""#));
    }

    #[test]
    fn space_time_highlights_the_failing_event_and_marks_drops() {
        let trace = Trace::parse(SMALL).unwrap();
        let failing = trace.failing_position().unwrap();
        let svg = space_time(&trace, &Palette::default(), failing, Some(failing), 60);
        assert!(svg.contains(r#"class="failing-row""#));
        assert_eq!(svg.matches(r#"class="failing-event""#).count(), 1);
        assert!(svg.contains(r#"class="message""#), "the delivered ping");
        assert!(svg.contains(r#"class="dropped""#), "the lost ping");
    }
}
