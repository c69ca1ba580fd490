//! CloudWatch's Embedded Metric Format, as its specification states it ("Specification:
//! Embedded metric format", Amazon CloudWatch User Guide): a checker for the lines a function
//! writes, so a test fails on any document CloudWatch would not turn into metrics.

use std::collections::HashSet;

use serde_json::Value;

/// The units CloudWatch accepts (`MetricDatum.Unit`).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks each line as one EMF document and returns them parsed. Panics, saying which rule,
/// on the first line that breaks one.
#[track_caller]
pub fn emf_documents(lines: &[String]) -> Vec<Value> {
    lines.iter().map(|line| emf_document(line)).collect()
}

#[track_caller]
fn emf_document(line: &str) -> Value {
    // A log event's message: one JSON object, nothing before or after it, on one line.
    assert!(!line.contains('\n'), "an EMF document spans lines: {line}");
    let root: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("an EMF line is not one JSON value ({e}): {line}"));
    let object = root
        .as_object()
        .unwrap_or_else(|| panic!("an EMF document is not an object: {line}"));
    assert!(line.len() <= 1_000_000, "an EMF document over 1 MB");
    let aws = object
        .get("_aws")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no top-level _aws object: {line}"));
    for key in aws.keys() {
        assert!(
            key == "Timestamp" || key == "CloudWatchMetrics" || key == "LogGroupName",
            "_aws has a member the specification does not define ({key}): {line}"
        );
    }
    // Timestamp: a number, milliseconds since the epoch (after 2020, before 2100).
    let timestamp = aws
        .get("Timestamp")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("_aws.Timestamp is not a whole number: {line}"));
    assert!(
        (1_577_836_800_000..4_102_444_800_000).contains(&timestamp),
        "_aws.Timestamp is not in milliseconds since the epoch: {line}"
    );
    let directives = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("_aws.CloudWatchMetrics is not an array: {line}"));
    assert!(!directives.is_empty(), "no metric directive: {line}");
    for directive in directives {
        let directive = directive
            .as_object()
            .unwrap_or_else(|| panic!("a MetricDirective is not an object: {line}"));
        for key in directive.keys() {
            assert!(
                ["Namespace", "Dimensions", "Metrics"].contains(&key.as_str()),
                "a MetricDirective has a member the specification does not define ({key})"
            );
        }
        let namespace = directive
            .get("Namespace")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("Namespace is not a string: {line}"));
        assert!(
            (1..=1024).contains(&namespace.len()) && !namespace.starts_with(':'),
            "Namespace: 1 to 1024 characters: {line}"
        );
        let sets = directive
            .get("Dimensions")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("Dimensions is not an array: {line}"));
        for set in sets {
            let set = set
                .as_array()
                .unwrap_or_else(|| panic!("a DimensionSet is not an array: {line}"));
            assert!(set.len() <= 30, "a DimensionSet of more than 30 dimensions");
            for dimension in set {
                let name = dimension
                    .as_str()
                    .unwrap_or_else(|| panic!("a dimension is not a string: {line}"));
                let value = object.get(name).and_then(Value::as_str).unwrap_or_else(|| {
                    panic!("dimension {name} has no string member at the root: {line}")
                });
                assert!(
                    (1..=1024).contains(&value.len()),
                    "dimension {name}'s value: 1 to 1024 characters"
                );
            }
        }
        let metrics = directive
            .get("Metrics")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("Metrics is not an array: {line}"));
        assert!(
            (1..=100).contains(&metrics.len()),
            "a directive holds 1 to 100 metrics: {line}"
        );
        let mut names = HashSet::new();
        for metric in metrics {
            let name = metric
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("a MetricDefinition's Name is not a string: {line}"));
            assert!((1..=1024).contains(&name.len()));
            assert!(
                names.insert(name),
                "metric {name} defined twice in one directive"
            );
            if let Some(unit) = metric.get("Unit") {
                let unit = unit.as_str().unwrap_or_default();
                assert!(UNITS.contains(&unit), "metric {name}: no such unit {unit}");
            }
            if let Some(resolution) = metric.get("StorageResolution") {
                assert!(
                    resolution == 1 || resolution == 60,
                    "StorageResolution is 1 or 60"
                );
            }
            // A number, or an array of at most 100 numbers.
            match object.get(name) {
                Some(Value::Number(_)) => {}
                Some(Value::Array(values)) => assert!(
                    values.len() <= 100 && values.iter().all(Value::is_number),
                    "metric {name}: an array of at most 100 numbers"
                ),
                _ => panic!("metric {name} has no number at the root: {line}"),
            }
        }
    }
    root
}

/// The value one document gives `metric` for `function` (and `outcome`, when given), summed
/// over the documents.
pub fn emf_value(documents: &[Value], function: &str, metric: &str, outcome: Option<&str>) -> f64 {
    documents
        .iter()
        .filter(|d| d["Function"] == function)
        .filter(|d| outcome.is_none_or(|o| d["Outcome"] == o))
        .filter_map(|d| d[metric].as_f64())
        .sum()
}
