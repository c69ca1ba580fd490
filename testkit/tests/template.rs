//! template.yaml checked against the code: binaries, environment, routes, permissions, and the
//! stream source's values (which neither cfn-lint nor `sam validate` checks).

use std::collections::{BTreeMap, BTreeSet};

use hitpoints_http::screen::FILES;
use hitpoints_http::{Function, ROUTES};
use serde_yaml_ng::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The DynamoDB and SQS actions each function's role needs, and why. The test fails when the
/// template grants anything else, or misses any of these.
/// (resource, actions) pairs of one function.
type Grants = &'static [(&'static str, &'static [&'static str])];

const PERMISSIONS: &[(&str, Grants)] = &[
    (
        "append",
        // Query: last version and replay checks; PutItem: a new stream's first event and each
        // Put of a transaction; ConditionCheckItem: the transaction's check of version n.
        // GetItem + PutItem on the campaigns: a campaign created, a campaign named checked.
        &[
            (
                "EventsTable",
                &[
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                ],
            ),
            ("CampaignsTable", &["dynamodb:GetItem", "dynamodb:PutItem"]),
        ],
    ),
    (
        "query",
        // Query: stream reads and the folds; GetItem: the snapshot; Scan: the party;
        // GetItem + Query on the feed: its head, then its entries.
        &[
            ("EventsTable", &["dynamodb:Query"]),
            ("SnapshotsTable", &["dynamodb:GetItem", "dynamodb:Scan"]),
            ("FeedTable", &["dynamodb:GetItem", "dynamodb:Query"]),
            // A campaign's party: a Query of the snapshot table's index by campaign.
            (
                "${SnapshotsTable.Arn}/index/ByCampaign",
                &["dynamodb:Query"],
            ),
            // The campaigns: one by id, or a page of them.
            ("CampaignsTable", &["dynamodb:GetItem", "dynamodb:Scan"]),
        ],
    ),
    (
        "hp-projector",
        &[
            // Query: filling gaps; GetItem + UpdateItem: the conditional snapshot write.
            ("EventsTable", &["dynamodb:Query"]),
            (
                "SnapshotsTable",
                &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            ),
            // The event source mapping, with the function's role: reading the stream...
            (
                "EventsTable.StreamArn",
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
            ),
            // ...and sending what it gives up on to the on-failure destination.
            ("ProjectorFailureQueue", &["sqs:SendMessage"]),
        ],
    ),
    (
        "feed-indexer",
        &[
            // Query: filling gaps; GetItem: the head and the markers; PutItem + UpdateItem:
            // the transaction's entries, markers and head.
            ("EventsTable", &["dynamodb:Query"]),
            (
                "FeedTable",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
            ),
            (
                "EventsTable.StreamArn",
                &[
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
            ),
            ("IndexerFailureQueue", &["sqs:SendMessage"]),
        ],
    ),
    (
        "repair",
        &[
            // Scan: the run's pages; Query: a character's whole stream.
            ("EventsTable", &["dynamodb:Query", "dynamodb:Scan"]),
            // The indexer's reads and transactions, and the checkpoint item.
            (
                "FeedTable",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
            ),
            // The snapshot, and its compare-and-set rewrite.
            ("SnapshotsTable", &["dynamodb:GetItem", "dynamodb:PutItem"]),
        ],
    ),
];

fn template() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).expect("template.yaml");
    serde_yaml_ng::from_str(&text).expect("template.yaml is YAML")
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        // !Ref X, !GetAtt X.Y: the logical name they point at.
        Value::Tagged(tagged) => text(&tagged.value),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// The template's functions by binary name.
fn functions(template: &Value) -> BTreeMap<String, Value> {
    let mut functions = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"] == "AWS::Serverless::Function" {
            assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda");
            let binary = text(&resource["Metadata"]["BuildProperties"]["Binary"]);
            let duplicate = functions.insert(binary.clone(), resource["Properties"].clone());
            assert!(duplicate.is_none(), "binary {binary} is built twice");
        }
    }
    functions
}

#[test]
fn every_function_is_a_workspace_binary_built_for_lambda() {
    let template = template();
    let functions = functions(&template);
    let mut crates = BTreeSet::new();
    for entry in std::fs::read_dir(format!("{ROOT}/functions")).expect("functions/") {
        let manifest = std::fs::read_to_string(entry.expect("entry").path().join("Cargo.toml"))
            .expect("Cargo.toml");
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("a package name");
        crates.insert(name.to_owned());
    }
    assert_eq!(functions.keys().cloned().collect::<BTreeSet<_>>(), crates);
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(strings(&globals["Architectures"]), vec!["arm64"]);
    assert_eq!(globals["Tracing"], "Active");
    for (binary, properties) in &functions {
        let timeout = properties["Timeout"].as_u64().expect("a timeout");
        assert!((1..=900).contains(&timeout), "{binary}");
        assert!(
            properties["LoggingConfig"]["LogGroup"].is_tagged(),
            "{binary} has its own log group"
        );
    }
}

trait Tagged {
    fn is_tagged(&self) -> bool;
}
impl Tagged for Value {
    fn is_tagged(&self) -> bool {
        matches!(self, Value::Tagged(_))
    }
}

/// Each function's `REQUIRED_VARS`, the constant its `main` reads at start-up.
const REQUIRED_VARS: &[(&str, &[&str])] = &[
    ("append", &append::REQUIRED_VARS),
    ("query", &query::REQUIRED_VARS),
    ("hp-projector", &hp_projector::REQUIRED_VARS),
    ("feed-indexer", &feed_indexer::REQUIRED_VARS),
    ("repair", &repair::REQUIRED_VARS),
];

#[test]
fn every_variable_the_code_reads_is_set() {
    let functions = functions(&template());
    assert_eq!(
        functions.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = REQUIRED_VARS.iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            names
        },
        "every function's variables are checked"
    );
    for (binary, required) in REQUIRED_VARS {
        let read: BTreeSet<String> = required.iter().map(|v| v.to_string()).collect();
        assert!(!read.is_empty(), "{binary} reads its table names");
        let set: BTreeSet<String> = functions[*binary]["Environment"]["Variables"]
            .as_mapping()
            .map(|m| m.keys().map(text).collect())
            .unwrap_or_default();
        assert_eq!(
            set, read,
            "{binary}: the variables set are those the code reads"
        );
    }
}

#[test]
fn the_api_routes_are_the_codes_routes() {
    let template = template();
    for (binary, function) in [("append", Function::Append), ("query", Function::Query)] {
        let properties = &functions(&template)[binary];
        let in_template: BTreeSet<(String, String)> = properties["Events"]
            .as_mapping()
            .expect("Events")
            .values()
            .filter(|e| e["Type"] == "HttpApi")
            .map(|e| {
                (
                    text(&e["Properties"]["Method"]),
                    text(&e["Properties"]["Path"]),
                )
            })
            .collect();
        let mut in_code: BTreeSet<(String, String)> = ROUTES
            .iter()
            .filter(|r| r.function == function)
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        // The query function also serves the screen's files.
        if function == Function::Query {
            in_code.extend(
                FILES
                    .iter()
                    .map(|(path, _, _)| ("GET".to_owned(), path.to_string())),
            );
        }
        assert_eq!(in_template, in_code, "{binary}");
        // The screen's files and the contract without authorisation; every other route with
        // the API's.
        for event in properties["Events"].as_mapping().expect("Events").values() {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let path = text(&event["Properties"]["Path"]);
            let auth = &event["Properties"]["Auth"]["Authorizer"];
            // The screen's files and the contract hold no data.
            if path == "/openapi.json" || FILES.iter().any(|(file, _, _)| *file == path) {
                assert_eq!(auth, "NONE", "{path}");
            } else {
                assert!(auth.is_null(), "{path}: the API's default authorizer");
            }
        }
    }
    let api = &template["Resources"]["HttpApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    assert_eq!(api["Properties"]["Auth"]["DefaultAuthorizer"], "AWS_IAM");
    assert!(
        api["Properties"].get("StageName").is_none(),
        "the $default stage: no stage prefix"
    );
}

#[test]
fn no_policy_grants_more_than_the_code_uses() {
    let functions = functions(&template());
    for (binary, expected) in PERMISSIONS {
        let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for policy in functions[*binary]["Policies"]
            .as_sequence()
            .expect("Policies")
        {
            for statement in policy["Statement"].as_sequence().expect("statements") {
                assert_eq!(statement["Effect"], "Allow");
                let actions = strings(&statement["Action"]);
                let resources = strings(&statement["Resource"]);
                for resource in &resources {
                    assert!(!resource.contains('*'), "{binary}: resource {resource}");
                    let resource = resource.trim_end_matches(".Arn").to_owned();
                    for action in &actions {
                        assert!(!action.contains('*'), "{binary}: action {action}");
                        granted
                            .entry(resource.clone())
                            .or_default()
                            .insert(action.clone());
                    }
                }
            }
        }
        let expected: BTreeMap<String, BTreeSet<String>> = expected
            .iter()
            .map(|(resource, actions)| {
                (
                    resource.to_string(),
                    actions.iter().map(|a| a.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(granted, expected, "{binary}");
    }
}

#[test]
fn the_stream_sources_have_values_lambda_accepts() {
    let template = template();
    for (binary, queue) in [
        ("hp-projector", "ProjectorFailureQueue.Arn"),
        ("feed-indexer", "IndexerFailureQueue.Arn"),
    ] {
        stream_source(&functions(&template)[binary], queue);
    }
    // Two readers of the stream, as AWS advises at most per shard.
    let readers = functions(&template)
        .values()
        .filter(|f| f["Events"]["EventsStream"]["Type"] == "DynamoDB")
        .count();
    assert_eq!(readers, 2);
    let feed = &template["Resources"]["FeedTable"]["Properties"];
    let keys: Vec<(String, String)> = feed["KeySchema"]
        .as_sequence()
        .expect("keys")
        .iter()
        .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("Key".into(), "HASH".into()),
            ("Position".into(), "RANGE".into())
        ]
    );
    // The query function waits up to 10 s on GET /events?wait=: its timeout covers that.
    let query = &functions(&template)["query"];
    assert!(query["Timeout"].as_u64().expect("timeout") > 10);
    events_table(&template);
}

fn stream_source(function: &Value, failure_queue: &str) {
    let source = &function["Events"]["EventsStream"];
    assert_eq!(source["Type"], "DynamoDB");
    let p = &source["Properties"];
    assert!(["TRIM_HORIZON", "LATEST"].contains(&text(&p["StartingPosition"]).as_str()));
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec!["ReportBatchItemFailures"]
    );
    let batch = p["BatchSize"].as_u64().expect("BatchSize");
    assert!((1..=10_000).contains(&batch));
    let window = p["MaximumBatchingWindowInSeconds"]
        .as_u64()
        .expect("window");
    assert!(window <= 300);
    assert_eq!(p["BisectBatchOnFunctionError"], true);
    let retries = p["MaximumRetryAttempts"]
        .as_i64()
        .expect("a bounded retry count");
    assert!((0..=10_000).contains(&retries));
    let age = p["MaximumRecordAgeInSeconds"].as_i64().expect("age");
    assert!(age == -1 || (60..=604_800).contains(&age));
    let parallel = p["ParallelizationFactor"].as_u64().expect("factor");
    assert!((1..=10).contains(&parallel));
    assert_eq!(text(&p["Stream"]), "EventsTable.StreamArn");
    assert_eq!(
        text(&p["DestinationConfig"]["OnFailure"]["Destination"]),
        failure_queue
    );
}

fn events_table(template: &Value) {
    let events = &template["Resources"]["EventsTable"];
    assert_eq!(events["DeletionPolicy"], "Retain");
    let table = &events["Properties"];
    assert!(["NEW_IMAGE", "NEW_AND_OLD_IMAGES"]
        .contains(&text(&table["StreamSpecification"]["StreamViewType"]).as_str()));
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    let keys: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .expect("keys")
        .iter()
        .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("Id".into(), "HASH".into()),
            ("Version".into(), "RANGE".into())
        ]
    );
}

/// The alarms' topic, and an alarm on each thing that needs a person: each on-failure queue
/// not empty, each stream consumer's iterator age past the parameter, each function's errors
/// and throttles, the scheduled repair's failures. Every alarm tells the topic.
#[test]
fn the_alarms_watch_what_needs_a_person_and_tell_the_topic() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    assert_eq!(
        template["Resources"]["AlarmTopic"]["Type"],
        "AWS::SNS::Topic"
    );
    let subscription = &template["Resources"]["AlarmEmailSubscription"];
    assert_eq!(subscription["Type"], "AWS::SNS::Subscription");
    assert_eq!(subscription["Condition"], "HasAlarmEmail");
    assert_eq!(subscription["Properties"]["Protocol"], "email");
    assert_eq!(text(&subscription["Properties"]["Endpoint"]), "AlarmEmail");
    assert_eq!(template["Parameters"]["AlarmEmail"]["Default"], "");
    // An hour by default, under the stream's 24 hours.
    let age = &template["Parameters"]["IteratorAgeAlarmSeconds"];
    assert_eq!(age["Default"], 3600);
    assert!(age["MaxValue"].as_u64().expect("a bound") < 86_400);

    // (namespace, metric, dimension value) of every alarm.
    let mut watched: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (name, resource) in resources {
        if resource["Type"] != "AWS::CloudWatch::Alarm" {
            continue;
        }
        let name = text(name);
        let p = &resource["Properties"];
        assert_eq!(strings(&p["AlarmActions"]), vec!["AlarmTopic"], "{name}");
        assert_eq!(strings(&p["OKActions"]), vec!["AlarmTopic"], "{name}");
        assert_eq!(p["TreatMissingData"], "notBreaching", "{name}");
        assert!(p["EvaluationPeriods"].as_u64().is_some_and(|n| n >= 1));
        let dimensions = p["Dimensions"].as_sequence().expect("dimensions");
        assert_eq!(dimensions.len(), 1, "{name}");
        watched.insert((
            text(&p["Namespace"]),
            text(&p["MetricName"]),
            text(&dimensions[0]["Value"]),
        ));
        if text(&p["MetricName"]) == "IteratorAge" {
            assert_eq!(
                text(&p["Threshold"]),
                "${IteratorAgeAlarmSeconds}000",
                "{name}: the parameter, in milliseconds"
            );
        }
    }
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut want = |namespace: &str, metric: &str, on: &str| {
        expected.insert((namespace.into(), metric.into(), on.into()));
    };
    for queue in [
        "IndexerFailureQueue.QueueName",
        "ProjectorFailureQueue.QueueName",
    ] {
        want("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue);
    }
    for consumer in ["HpProjectorFunction", "FeedIndexerFunction"] {
        want("AWS/Lambda", "IteratorAge", consumer);
    }
    let mut logical_names = 0;
    for (name, resource) in resources {
        if resource["Type"] == "AWS::Serverless::Function" {
            logical_names += 1;
            want("AWS/Lambda", "Errors", &text(name));
            want("AWS/Lambda", "Throttles", &text(name));
        }
    }
    assert_eq!(logical_names, 5);
    want("hitpoints", "RepairFailures", "RepairFunction");
    // The functions' metrics are log lines without a level: Lambda keeps them at INFO only.
    assert_eq!(
        template["Globals"]["Function"]["LoggingConfig"]["ApplicationLogLevel"],
        "INFO"
    );
    assert_eq!(watched, expected);
    assert_eq!(hitpoints::metrics::NAMESPACE, "hitpoints");
}

/// The scheduled repair: its schedule a parameter (daily by default), the resumption's every 15
/// minutes with the input the handler reads, the whole of a Lambda's time, no retry of a
/// missed tick.
#[test]
fn the_repair_runs_on_a_schedule_and_resumes() {
    let template = template();
    let repair = &functions(&template)["repair"];
    let run = &repair["Events"]["Run"];
    assert_eq!(run["Type"], "Schedule");
    assert_eq!(text(&run["Properties"]["Schedule"]), "RepairSchedule");
    assert_eq!(
        template["Parameters"]["RepairSchedule"]["Default"],
        "rate(1 day)"
    );
    let resume = &repair["Events"]["Resume"];
    assert_eq!(resume["Type"], "Schedule");
    assert_eq!(resume["Properties"]["Schedule"], "rate(15 minutes)");
    let input: serde_json::Value =
        serde_json::from_str(&text(&resume["Properties"]["Input"])).expect("JSON input");
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/events/eventbridge-resume.json"))
            .expect("the sample"),
    )
    .expect("JSON");
    assert_eq!(input, sample, "the sample is what the resumption sends");
    assert_eq!(repair["Timeout"], 900);
    assert_eq!(repair["EventInvokeConfig"]["MaximumRetryAttempts"], 0);
    // Its reserve leaves time inside the timeout.
    assert!(repair::RESERVE.as_secs() < 900);
}
