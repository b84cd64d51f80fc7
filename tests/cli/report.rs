//! `quorumlab report`: a failing run and a sweep rendered to HTML (and, where chromium
//! is installed, to a PNG by a headless browser); ShiViz export; bad directories.

use std::path::Path;
use std::process::Command;

use crate::{failing_run, quorumlab, stderr, temp_dir};

#[test]
fn a_failing_run_renders_every_section() {
    let run = failing_run("run");
    let html_path = run.join("elsewhere.html");
    let shiviz_path = run.join("trace.shiviz");
    let output = quorumlab(&[
        "report",
        run.to_str().unwrap(),
        "--out",
        html_path.to_str().unwrap(),
        "--shiviz",
        shiviz_path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("leader_completeness"));
    assert!(html
        .contains("quorumlab run scenarios/raft/nemesis.toml --seed 4 --mutant vote-ignores-log"));
    for caption in [
        "client latency CDF",
        "client latency over time",
        "throughput",
        "messages sent by kind",
    ] {
        assert!(
            html.contains(caption),
            "the report has the chart `{caption}`"
        );
    }
    assert!(html.contains(r#"<svg class="timeline""#));
    assert!(html.contains(r#"<svg class="spacetime""#));
    assert_eq!(html.matches(r#"class="failing-event""#).count(), 1);
    assert!(html.contains(r#"class="message""#));
    assert!(html.contains(r#"class="dropped""#));
    assert!(!html.contains("<script"), "no JavaScript");
    for fetch in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(fetch), "nothing fetched: `{fetch}`");
    }
    let log = std::fs::read_to_string(&shiviz_path).unwrap();
    assert!(log.starts_with(reports::SHIVIZ_REGEX));
    assert!(log.lines().count() > 1000);

    // `run --report` writes the same page into the run directory.
    let reported = temp_dir("report-run-flag");
    let output = quorumlab(&[
        "run",
        "scenarios/raft/nemesis.toml",
        "--seed",
        "3",
        "--trace",
        "--report",
        "--out",
        reported.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let passing = std::fs::read_to_string(reported.join("report.html")).unwrap();
    assert!(passing.contains("the last 70 events"));
    assert!(!passing.contains(r#"class="failing-event""#));
    let _ = std::fs::remove_dir_all(&run);
    let _ = std::fs::remove_dir_all(&reported);
}

#[test]
fn a_sweep_report_links_per_seed_reports() {
    let out = temp_dir("report-sweep");
    let output = quorumlab(&[
        "sweep",
        "scenarios/raft/nemesis.toml",
        "--seeds",
        "1..6",
        "--jobs",
        "2",
        "--mutant",
        "vote-ignores-log",
        "--report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("leader_completeness"));
    assert!(html.contains("seeds/s"));
    assert!(html.contains("faults fired by kind"));
    assert!(html.contains("--mutant vote-ignores-log"));
    assert!(html.contains(r#"<a href="nemesis/seed-4/report.html">report</a>"#));
    assert!(out.join("nemesis/seed-4/report.html").is_file());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn neither_a_run_nor_a_sweep_exits_two_naming_the_path() {
    let dir = temp_dir("report-empty");
    std::fs::create_dir_all(&dir).unwrap();
    let output = quorumlab(&["report", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(dir.to_str().unwrap()));
    assert!(stderr(&output).contains("neither a run directory"));
    let help = String::from_utf8_lossy(&quorumlab(&["report", "--help"]).stdout).into_owned();
    assert!(help.contains("Examples:"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Render the report in a headless browser, if there is one, and check the screenshot.
fn screenshot(html: &Path, png: &Path) -> Option<u64> {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        quorumlab::require::skip_or_fail("chromium", "there is no /usr/bin/chromium");
        return None;
    }
    let profile = temp_dir("report-chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,2400",
            &format!("file://{}", html.display()),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    // A browser that hangs must fail the test, not stall CI: poll for at most about
    // two minutes (counted in polls, since nothing here reads the wall clock).
    const POLLS_MAX: u32 = 1200;
    let mut polls = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium is waited on") {
            break status;
        }
        polls += 1;
        if polls > POLLS_MAX {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish after {POLLS_MAX} polls of 100 ms");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium exited with {status}");
    Some(
        std::fs::metadata(png)
            .expect("chromium wrote the screenshot")
            .len(),
    )
}

#[test]
fn a_headless_browser_renders_the_report() {
    let run = failing_run("browser");
    let output = quorumlab(&["report", run.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let png = run.join("report.png");
    if let Some(bytes) = screenshot(&run.join("report.html"), &png) {
        // A blank 1400x2400 page compresses to a few kilobytes; charts do not.
        assert!(bytes > 50_000, "the screenshot has {bytes} bytes");
    }
    let _ = std::fs::remove_dir_all(&run);
}

/// A run with a Byzantine node: the role timeline gives its lane the Byzantine colour
/// and names it in the legend, the space-time diagram colours its events and says so in
/// its legend, and `result.json` and a sweep's `summary.json` count the Byzantine nodes
/// and the steps their strategies changed.
#[test]
fn a_byzantine_run_shows_its_byzantine_nodes_and_counts_their_misbehaviours() {
    const BYZANTINE_COLOUR: &str = "#e6550d";
    let out = temp_dir("report-byzantine");
    let output = quorumlab(&[
        "run",
        "scenarios/pbft/tight_n3.toml",
        "--seed",
        "1",
        "--trace",
        "--report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = |class: &str| -> String {
        let start = html
            .find(&format!(r#"<svg class="{class}""#))
            .unwrap_or_else(|| panic!("a {class} diagram"));
        let end = start + html[start..].find("</svg>").expect("closed");
        html[start..end].to_string()
    };
    let timeline = section("timeline");
    assert!(timeline.contains(BYZANTINE_COLOUR), "the Byzantine lane");
    assert!(timeline.contains(">byzantine<"), "the timeline's legend");
    let spacetime = section("spacetime");
    assert!(spacetime.contains(r#"class="legend-byzantine""#));
    assert!(
        spacetime.matches(BYZANTINE_COLOUR).count() > 1,
        "events of the Byzantine primary, and the legend"
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["faults_fired"]["byzantine"], 1);
    assert!(result["faults_fired"]["byzantine_steps"].as_u64() >= Some(1));

    let sweep = temp_dir("report-byzantine-sweep");
    let output = quorumlab(&[
        "sweep",
        "scenarios/pbft/tight_n3.toml",
        "--seeds",
        "1..4",
        "--out",
        sweep.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sweep.join("summary.json")).unwrap())
            .unwrap();
    let counts = &summary["fault_counts"];
    assert_eq!(counts["byzantine"], 4, "{summary}");
    assert!(counts["byzantine_steps"].as_u64() >= Some(4), "{summary}");
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&sweep);
}
