//! template.yaml checked against the code: binaries, environment, routes, permissions, and the
//! stream source's values (which neither cfn-lint nor `sam validate` checks).

use std::collections::{BTreeMap, BTreeSet};

use hitpoints::config::{
    CAMPAIGNS_TABLE_VAR, EVENTS_TABLE_VAR, FEED_MAX_WAIT_VAR, FEED_TABLE_VAR,
    MEMBERSHIPS_TABLE_VAR, SIGN_IN_CLIENT_ID_VAR, SIGN_IN_DOMAIN_VAR, SNAPSHOTS_TABLE_VAR,
};
use hitpoints_http::screen::{FILES, SIGN_IN_PATH};
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
        &[
            (
                "EventsTable",
                &[
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                ],
            ),
            // GetItem: a campaign named checked, an invite code read when redeemed; PutItem: a
            // campaign created (with the DM's membership, one transaction); UpdateItem: a new
            // invite code.
            (
                "CampaignsTable",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
            ),
            // GetItem: a person's role; PutItem: the DM's membership in the campaign's
            // transaction, a redeemed invite; UpdateItem: characters assigned; DeleteItem: a
            // player removed.
            (
                "MembershipsTable",
                &[
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
            ),
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
            // The campaigns: one by id, a page of them (an operator's), or a person's campaigns
            // by BatchGetItem.
            (
                "CampaignsTable",
                &["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Scan"],
            ),
            // A person's role in a campaign (GetItem), a person's campaigns (Query).
            ("MembershipsTable", &["dynamodb:GetItem", "dynamodb:Query"]),
            // A campaign's members: a Query of the memberships' index by campaign.
            (
                "${MembershipsTable.Arn}/index/ByCampaign",
                &["dynamodb:Query"],
            ),
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

/// Each function's `REQUIRED_VARS`, the constant its `main` reads at start-up, and the variables
/// it reads when they are set (`OPTIONAL_VARS`, the query function's only).
const VARIABLES: &[(&str, &[&str], &[&str])] = &[
    ("append", &append::REQUIRED_VARS, &[]),
    ("query", &query::REQUIRED_VARS, &query::OPTIONAL_VARS),
    ("hp-projector", &hp_projector::REQUIRED_VARS, &[]),
    ("feed-indexer", &feed_indexer::REQUIRED_VARS, &[]),
    ("repair", &repair::REQUIRED_VARS, &[]),
];

/// Each table's variable, and the table it names.
const TABLE_VARS: &[(&str, &str)] = &[
    (EVENTS_TABLE_VAR, "EventsTable"),
    (SNAPSHOTS_TABLE_VAR, "SnapshotsTable"),
    (FEED_TABLE_VAR, "FeedTable"),
    (CAMPAIGNS_TABLE_VAR, "CampaignsTable"),
    (MEMBERSHIPS_TABLE_VAR, "MembershipsTable"),
];

#[test]
fn every_variable_the_code_reads_is_set() {
    let functions = functions(&template());
    assert_eq!(
        functions.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = VARIABLES.iter().map(|(n, _, _)| *n).collect();
            names.sort_unstable();
            names
        },
        "every function's variables are checked"
    );
    for (binary, required, optional) in VARIABLES {
        let read: BTreeSet<String> = required
            .iter()
            .chain(optional.iter())
            .map(|v| v.to_string())
            .collect();
        assert!(!required.is_empty(), "{binary} reads its table names");
        let variables = &functions[*binary]["Environment"]["Variables"];
        let set: BTreeSet<String> = variables
            .as_mapping()
            .map(|m| m.keys().map(text).collect())
            .unwrap_or_default();
        assert_eq!(
            set, read,
            "{binary}: the variables set are those the code reads"
        );
        // A table's name is a !Ref of that table.
        for (var, table) in TABLE_VARS {
            if set.contains(*var) {
                assert_eq!(
                    reference(&variables[*var], "Ref"),
                    *table,
                    "{binary}: {var}"
                );
            }
        }
    }
}

/// The operator API: the route table, one SAM event per route on the function that serves it,
/// every one with the API's IAM authorization (the contract too).
#[test]
fn the_operator_api_has_the_codes_routes_all_behind_iam() {
    let template = template();
    let functions = functions(&template);
    for (binary, function) in [("append", Function::Append), ("query", Function::Query)] {
        let events = functions[binary]["Events"].as_mapping().expect("Events");
        let mut in_template: BTreeSet<(String, String)> = BTreeSet::new();
        for (name, event) in events {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let name = text(name);
            let p = &event["Properties"];
            assert_eq!(reference(&p["ApiId"], "Ref"), "HttpApi", "{binary}: {name}");
            // No override: the API's default authorizer, IAM.
            assert!(p.get("Auth").is_none(), "{binary}: {name} has its own Auth");
            let added = in_template.insert((text(&p["Method"]), text(&p["Path"])));
            assert!(added, "{binary}: {name} repeats a route");
        }
        let in_code: BTreeSet<(String, String)> = ROUTES
            .iter()
            .filter(|r| r.function == function)
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        assert!(!in_code.is_empty(), "{binary} serves routes");
        assert_eq!(in_template, in_code, "{binary}");
    }
    // Only the append and query functions are behind an API.
    for (binary, properties) in &functions {
        if binary != "append" && binary != "query" {
            let apis = properties["Events"]
                .as_mapping()
                .map_or(0, |e| e.values().filter(|e| e["Type"] == "HttpApi").count());
            assert_eq!(apis, 0, "{binary}");
        }
    }
    let api = &template["Resources"]["HttpApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    assert_eq!(api["Properties"]["Auth"]["DefaultAuthorizer"], "AWS_IAM");
    assert_eq!(api["Properties"]["Auth"]["EnableIamAuthorizer"], true);
    assert!(
        api["Properties"].get("StageName").is_none(),
        "the $default stage: no stage prefix"
    );
    assert!(
        api["Properties"].get("CorsConfiguration").is_none(),
        "no CORS"
    );
}

/// Where the people API's URL is written: the app client's callback and sign-out, the output.
const PEOPLE_URL: &str = "https://${PeopleApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/";

/// The people API (plain ApiGatewayV2 resources): the screen's files, its sign-in configuration
/// and the contract without authorization; everything else through one catch-all route per
/// method, each behind the JWT authorizer, to the function that serves that method.
#[test]
fn the_people_api_has_the_screen_open_and_everything_else_behind_the_jwt_authorizer() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let of_type = |type_: &str| -> Vec<(String, &Value)> {
        resources
            .iter()
            .filter(|(_, r)| r["Type"] == type_)
            .map(|(name, r)| (text(name), &r["Properties"]))
            .collect()
    };

    let api = &template["Resources"]["PeopleApi"];
    assert_eq!(api["Type"], "AWS::ApiGatewayV2::Api");
    assert_eq!(api["Properties"]["ProtocolType"], "HTTP");
    assert_eq!(
        reference(&api["Properties"]["Name"], "Sub"),
        "${AWS::StackName}-people"
    );
    // The screen is on this API's origin: its calls need no CORS.
    assert!(
        api["Properties"].get("CorsConfiguration").is_none(),
        "no CORS"
    );
    // No import of an OpenAPI body: the routes below are all there is.
    assert!(api["Properties"].get("Body").is_none());
    assert!(
        api["Properties"].get("Target").is_none(),
        "no quick-create route"
    );

    let stages = of_type("AWS::ApiGatewayV2::Stage");
    assert_eq!(stages.len(), 1, "one stage");
    let (_, stage) = &stages[0];
    assert_eq!(reference(&stage["ApiId"], "Ref"), "PeopleApi");
    assert_eq!(stage["StageName"], "$default", "no stage prefix");
    assert_eq!(stage["AutoDeploy"], true);

    // Each integration's function, by binary name.
    let binary_of: BTreeMap<String, String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| {
            (
                text(name),
                text(&r["Metadata"]["BuildProperties"]["Binary"]),
            )
        })
        .collect();
    let mut integrations: BTreeMap<String, String> = BTreeMap::new();
    for (name, p) in of_type("AWS::ApiGatewayV2::Integration") {
        assert_eq!(reference(&p["ApiId"], "Ref"), "PeopleApi", "{name}");
        assert_eq!(p["IntegrationType"], "AWS_PROXY", "{name}");
        assert_eq!(p["PayloadFormatVersion"], "2.0", "{name}");
        let function = reference(&p["IntegrationUri"], "GetAtt");
        let function = function.strip_suffix(".Arn").expect("a function's ARN");
        integrations.insert(name, binary_of[function].clone());
    }
    assert_eq!(
        integrations.values().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from(["append".to_owned(), "query".to_owned()])
    );

    // API Gateway may invoke each function for any route of this API.
    let mut invokable: BTreeSet<String> = BTreeSet::new();
    for (name, p) in of_type("AWS::Lambda::Permission") {
        assert_eq!(p["Action"], "lambda:InvokeFunction", "{name}");
        assert_eq!(p["Principal"], "apigateway.amazonaws.com", "{name}");
        assert_eq!(
            reference(&p["SourceArn"], "Sub"),
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${PeopleApi}/*",
            "{name}"
        );
        invokable.insert(binary_of[&reference(&p["FunctionName"], "Ref")].clone());
    }
    assert_eq!(
        invokable,
        BTreeSet::from(["append".to_owned(), "query".to_owned()])
    );

    // Route key -> (authorization, the function it reaches).
    let mut routes: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, p) in of_type("AWS::ApiGatewayV2::Route") {
        assert_eq!(reference(&p["ApiId"], "Ref"), "PeopleApi", "{name}");
        let authorization = text(&p["AuthorizationType"]);
        match authorization.as_str() {
            "JWT" => assert_eq!(
                reference(&p["AuthorizerId"], "Ref"),
                "PeopleAuthorizer",
                "{name}"
            ),
            "NONE" => assert!(p.get("AuthorizerId").is_none(), "{name}"),
            other => panic!("{name}: authorization {other}"),
        }
        let target = reference(&p["Target"], "Sub");
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{name}: target {target}"));
        let function = integrations
            .get(integration)
            .unwrap_or_else(|| panic!("{name}: no integration {integration}"));
        let key = text(&p["RouteKey"]);
        let previous = routes.insert(key.clone(), (authorization, function.clone()));
        assert!(previous.is_none(), "{key} twice");
    }

    // Without authorization: the screen's files, its sign-in configuration, the contract.
    let mut open: BTreeMap<String, (String, String)> = FILES
        .iter()
        .map(|(path, _, _)| path.to_string())
        .chain([SIGN_IN_PATH.to_owned(), "/openapi.json".to_owned()])
        .map(|path| {
            (
                format!("GET {path}"),
                ("NONE".to_owned(), "query".to_owned()),
            )
        })
        .collect();
    assert!(open.contains_key("GET /"), "the screen");
    // Behind the authorizer: one catch-all per method of the route table, to the function that
    // serves that method.
    let mut expected = BTreeMap::new();
    for route in &ROUTES {
        let binary = match route.function {
            Function::Append => "append",
            Function::Query => "query",
            Function::All => panic!("{}: a route of no one function", route.path),
        };
        let key = format!("{} /{{proxy+}}", route.method);
        let previous = expected.insert(key.clone(), ("JWT".to_owned(), binary.to_owned()));
        assert!(
            previous.is_none_or(|p| p.1 == binary),
            "{key}: served by two functions"
        );
        // The catch-all reaches it: a path under the root, which no open route shadows but
        // the contract.
        assert!(route.path.len() > 1, "{}", route.path);
        if route.path != "/openapi.json" {
            assert!(
                !open.contains_key(&format!("{} {}", route.method, route.path)),
                "{} {} is open",
                route.method,
                route.path
            );
        }
    }
    assert_eq!(
        expected.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "DELETE /{proxy+}",
            "GET /{proxy+}",
            "POST /{proxy+}",
            "PUT /{proxy+}"
        ]
    );
    open.extend(expected);
    assert_eq!(routes, open);
}

/// People sign in with the user pool: the authorizer takes its tokens for the screen's client
/// only, the client is public with the code flow back to the people API, and the query function
/// tells the screen where to sign in.
#[test]
fn people_sign_in_with_the_user_pool() {
    let template = template();
    let resources = &template["Resources"];

    let authorizer = &resources["PeopleAuthorizer"];
    assert_eq!(authorizer["Type"], "AWS::ApiGatewayV2::Authorizer");
    let a = &authorizer["Properties"];
    assert_eq!(reference(&a["ApiId"], "Ref"), "PeopleApi");
    assert_eq!(a["AuthorizerType"], "JWT");
    assert_eq!(
        strings(&a["IdentitySource"]),
        vec!["$request.header.Authorization"]
    );
    assert_eq!(
        reference(&a["JwtConfiguration"]["Issuer"], "Sub"),
        "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    );
    let audience = a["JwtConfiguration"]["Audience"]
        .as_sequence()
        .expect("an audience list");
    assert_eq!(audience.len(), 1);
    assert_eq!(reference(&audience[0], "Ref"), "UserPoolClient");

    let pool = &resources["UserPool"];
    assert_eq!(pool["Type"], "AWS::Cognito::UserPool");
    let p = &pool["Properties"];
    assert_eq!(strings(&p["UsernameAttributes"]), vec!["email"]);
    assert_eq!(strings(&p["AutoVerifiedAttributes"]), vec!["email"]);
    assert_eq!(
        p["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], false,
        "people sign themselves up"
    );
    let length = p["Policies"]["PasswordPolicy"]["MinimumLength"]
        .as_u64()
        .expect("a password length");
    assert!(length >= 8, "{length}");

    let domain = &resources["UserPoolDomain"];
    assert_eq!(domain["Type"], "AWS::Cognito::UserPoolDomain");
    assert_eq!(
        reference(&domain["Properties"]["UserPoolId"], "Ref"),
        "UserPool"
    );
    // Unique per stack, and a prefix Cognito takes: the stack id's uuid in it.
    let stack_id = concat!(
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/",
        "hitpoints-prod-with-a-long-name/6f1b3c2e-9a4d-11ef-8c2b-0a1b2c3d4e5f"
    );
    let prefix = evaluate(&domain["Properties"]["Domain"], stack_id);
    assert_eq!(prefix, "hitpoints-6f1b3c2e-9a4d-11ef-8c2b-0a1b2c3d4e5f");
    assert!(prefix.len() <= 63, "{prefix}");
    assert!(
        prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !prefix.starts_with('-')
            && !prefix.ends_with('-'),
        "{prefix}"
    );

    let client = &resources["UserPoolClient"];
    assert_eq!(client["Type"], "AWS::Cognito::UserPoolClient");
    let c = &client["Properties"];
    assert_eq!(reference(&c["UserPoolId"], "Ref"), "UserPool");
    assert_eq!(c["GenerateSecret"], false, "a page keeps no secret");
    assert_eq!(c["AllowedOAuthFlowsUserPoolClient"], true);
    assert_eq!(
        strings(&c["AllowedOAuthFlows"]),
        vec!["code"],
        "the code flow (with PKCE), no implicit flow"
    );
    assert_eq!(
        strings(&c["AllowedOAuthScopes"]),
        vec!["openid", "email", "profile"]
    );
    assert_eq!(strings(&c["SupportedIdentityProviders"]), vec!["COGNITO"]);
    for urls in ["CallbackURLs", "LogoutURLs"] {
        let urls = c[urls].as_sequence().expect(urls);
        assert_eq!(urls.len(), 1);
        assert_eq!(reference(&urls[0], "Sub"), PEOPLE_URL);
    }
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(
        strings(&c["ExplicitAuthFlows"]),
        vec!["ALLOW_REFRESH_TOKEN_AUTH"],
        "no password sign-in but the hosted pages'"
    );
    for token in ["AccessToken", "IdToken"] {
        assert_eq!(c[format!("{token}Validity").as_str()], 1, "{token}");
        assert_eq!(c["TokenValidityUnits"][token], "hours", "{token}");
    }

    // The query function's /sign-in.json: the pool's hosted pages and the screen's client.
    let query = &functions(&template)["query"]["Environment"]["Variables"];
    let sign_in_domain = "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com";
    assert_eq!(reference(&query[SIGN_IN_DOMAIN_VAR], "Sub"), sign_in_domain);
    assert_eq!(
        reference(&query[SIGN_IN_CLIENT_ID_VAR], "Ref"),
        "UserPoolClient"
    );

    // The outputs: the two APIs, the pool, its client, its sign-in pages.
    let outputs = &template["Outputs"];
    assert_eq!(reference(&outputs["ScreenUrl"]["Value"], "Sub"), PEOPLE_URL);
    assert_eq!(
        reference(&outputs["OperatorApiUrl"]["Value"], "Sub"),
        "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
    );
    assert_eq!(
        reference(&outputs["UserPoolId"]["Value"], "Ref"),
        "UserPool"
    );
    assert_eq!(
        reference(&outputs["UserPoolClientId"]["Value"], "Ref"),
        "UserPoolClient"
    );
    assert_eq!(
        reference(&outputs["SignInDomain"]["Value"], "Sub"),
        sign_in_domain
    );
}

/// Who is the DM or a player of which campaign: a person's campaigns by the table's key, a
/// campaign's members by its index. Source data, as the campaigns are: retained.
#[test]
fn the_memberships_table_has_the_codes_keys_and_index() {
    let template = template();
    let table = &template["Resources"]["MembershipsTable"];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    let attributes: BTreeMap<String, String> = p["AttributeDefinitions"]
        .as_sequence()
        .expect("attributes")
        .iter()
        .map(|a| (text(&a["AttributeName"]), text(&a["AttributeType"])))
        .collect();
    assert_eq!(
        attributes,
        BTreeMap::from([
            ("CampaignId".to_owned(), "S".to_owned()),
            ("Sub".to_owned(), "S".to_owned())
        ])
    );
    assert_eq!(
        keys(&p["KeySchema"]),
        vec![
            ("Sub".into(), "HASH".into()),
            ("CampaignId".into(), "RANGE".into())
        ]
    );
    let indexes = p["GlobalSecondaryIndexes"].as_sequence().expect("indexes");
    assert_eq!(indexes.len(), 1);
    let index = &indexes[0];
    assert_eq!(
        index["IndexName"],
        hitpoints::campaign::members::BY_CAMPAIGN_INDEX
    );
    assert_eq!(
        keys(&index["KeySchema"]),
        vec![
            ("CampaignId".into(), "HASH".into()),
            ("Sub".into(), "RANGE".into())
        ]
    );
    assert_eq!(index["Projection"]["ProjectionType"], "ALL");
}

/// A waiting feed read holds a query function: it waits 3 s at most here, and a parameter can
/// reserve (and so cap) the function's concurrency.
#[test]
fn the_long_poll_is_bounded() {
    let template = template();
    let functions = functions(&template);
    let query = &functions["query"];
    let wait: u64 = text(&query["Environment"]["Variables"][FEED_MAX_WAIT_VAR])
        .parse()
        .expect("whole seconds");
    assert_eq!(wait, 3);
    assert!(wait <= hitpoints::feed::MAX_WAIT_SECONDS);
    assert!(wait < query["Timeout"].as_u64().expect("a timeout"));

    // The people API's open routes reach the query function: each route throttled.
    let settings = &template["Resources"]["PeopleStage"]["Properties"]["DefaultRouteSettings"];
    assert_eq!(
        reference(&settings["ThrottlingRateLimit"], "Ref"),
        "PeopleRateLimit"
    );
    assert_eq!(
        reference(&settings["ThrottlingBurstLimit"], "Ref"),
        "PeopleBurstLimit"
    );
    for name in ["PeopleRateLimit", "PeopleBurstLimit"] {
        let parameter = &template["Parameters"][name];
        assert_eq!(parameter["Type"], "Number", "{name}");
        assert!(
            parameter["Default"].as_u64().is_some_and(|d| d >= 1),
            "{name}"
        );
    }

    let parameter = &template["Parameters"]["QueryConcurrency"];
    assert_eq!(parameter["Type"], "Number");
    assert_eq!(parameter["Default"], 0, "none reserved by default");
    assert_eq!(parameter["MinValue"], 0);
    // HasQueryConcurrency: !Not [!Equals [!Ref QueryConcurrency, "0"]]
    let not = reference_value(&template["Conditions"]["HasQueryConcurrency"], "Not");
    let not = not.as_sequence().expect("!Not's list");
    assert_eq!(not.len(), 1);
    let equals = reference_value(&not[0], "Equals")
        .as_sequence()
        .expect("!Equals' list");
    assert_eq!(equals.len(), 2);
    assert_eq!(reference(&equals[0], "Ref"), "QueryConcurrency");
    assert_eq!(text(&equals[1]), "0");
    // !If [HasQueryConcurrency, !Ref QueryConcurrency, !Ref AWS::NoValue]
    let reserved = reference_value(&query["ReservedConcurrentExecutions"], "If")
        .as_sequence()
        .expect("!If's list");
    assert_eq!(reserved.len(), 3);
    assert_eq!(text(&reserved[0]), "HasQueryConcurrency");
    assert_eq!(reference(&reserved[1], "Ref"), "QueryConcurrency");
    assert_eq!(reference(&reserved[2], "Ref"), "AWS::NoValue");
    // No other function takes from the account's unreserved pool.
    for (binary, properties) in &functions {
        if binary != "query" {
            assert!(
                properties.get("ReservedConcurrentExecutions").is_none(),
                "{binary}"
            );
        }
    }
}

/// The text of `value`, which must be the intrinsic `tag` (`Ref`, `Sub`, `GetAtt`) of a scalar.
fn reference(value: &Value, tag: &str) -> String {
    text(reference_value(value, tag))
}

/// What the intrinsic `tag` holds; `value` must be that intrinsic.
fn reference_value<'a>(value: &'a Value, tag: &str) -> &'a Value {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => &tagged.value,
        other => panic!("not !{tag}: {other:?}"),
    }
}

/// (attribute, key type) of a key schema, in order.
fn keys(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_sequence()
        .expect("keys")
        .iter()
        .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
        .collect()
}

/// A string built with !Join, !Select, !Split and !Ref AWS::StackId, as CloudFormation would
/// for this stack id.
fn evaluate(value: &Value, stack_id: &str) -> String {
    fn list(value: &Value, stack_id: &str) -> Vec<String> {
        match value {
            Value::Sequence(items) => items.iter().map(|i| evaluate(i, stack_id)).collect(),
            Value::Tagged(t) if t.tag == "Split" => {
                let args = t.value.as_sequence().expect("!Split's list");
                let separator = evaluate(&args[0], stack_id);
                evaluate(&args[1], stack_id)
                    .split(separator.as_str())
                    .map(str::to_owned)
                    .collect()
            }
            other => panic!("not a list: {other:?}"),
        }
    }
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(t) if t.tag == "Ref" => {
            assert_eq!(text(&t.value), "AWS::StackId");
            stack_id.to_owned()
        }
        Value::Tagged(t) if t.tag == "Join" => {
            let args = t.value.as_sequence().expect("!Join's list");
            list(&args[1], stack_id).join(&evaluate(&args[0], stack_id))
        }
        Value::Tagged(t) if t.tag == "Select" => {
            let args = t.value.as_sequence().expect("!Select's list");
            let index = args[0].as_u64().expect("an index") as usize;
            list(&args[1], stack_id)[index].clone()
        }
        other => panic!("cannot evaluate {other:?}"),
    }
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
