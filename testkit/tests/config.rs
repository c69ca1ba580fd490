//! Configuration from the environment, as a deployed function reads it. Its own test binary:
//! it sets process environment variables.

use hitpoints::config::{dynamodb_client, read, required, MissingVar};
use local::dynamodb::create_events_table;

#[tokio::test]
async fn the_standard_endpoint_variable_points_a_function_at_a_local_server() {
    let db = hitpoints_testkit::test_db().await;
    for (key, value) in [
        ("AWS_ENDPOINT_URL_DYNAMODB", db.endpoint.as_str()),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("HITPOINTS_TEST_TABLE_VAR", "  "),
    ] {
        std::env::set_var(key, value);
    }
    let client = dynamodb_client().expect("a client from the environment");
    assert!(create_events_table(&client, "through-aws-config", false)
        .await
        .expect("a table on the local server"));
    let listed = db.client.list_tables().send().await.expect("list");
    assert!(listed
        .table_names()
        .iter()
        .any(|t| t == "through-aws-config"));

    // Region and credentials come from the variables Lambda sets; without them, no client.
    std::env::remove_var("AWS_ACCESS_KEY_ID");
    assert!(matches!(
        dynamodb_client(),
        Err(MissingVar("AWS_ACCESS_KEY_ID"))
    ));
    std::env::set_var("AWS_ACCESS_KEY_ID", "local");
    std::env::remove_var("AWS_REGION");
    std::env::remove_var("AWS_DEFAULT_REGION");
    assert!(matches!(dynamodb_client(), Err(MissingVar("AWS_REGION"))));
    std::env::set_var("AWS_DEFAULT_REGION", "eu-west-1");
    assert!(
        dynamodb_client().is_ok(),
        "AWS_DEFAULT_REGION stands in for AWS_REGION"
    );
    std::env::set_var("AWS_REGION", "eu-west-1");

    // A required variable that is missing or blank stops a function at start-up, by name.
    assert!(matches!(
        required("HITPOINTS_TEST_TABLE_VAR"),
        Err(MissingVar("HITPOINTS_TEST_TABLE_VAR"))
    ));
    assert!(matches!(
        required("HITPOINTS_TEST_UNSET_VAR"),
        Err(MissingVar(_))
    ));
    std::env::set_var("HITPOINTS_TEST_TABLE_VAR", "events");
    assert_eq!(required("HITPOINTS_TEST_TABLE_VAR").expect("set"), "events");
    // A function's constant of variables: all read in order, or the first missing one named.
    assert!(matches!(
        read(["HITPOINTS_TEST_TABLE_VAR", "HITPOINTS_TEST_UNSET_VAR"]),
        Err(MissingVar("HITPOINTS_TEST_UNSET_VAR"))
    ));
    std::env::set_var("HITPOINTS_TEST_OTHER_VAR", "snapshots");
    assert_eq!(
        read(["HITPOINTS_TEST_TABLE_VAR", "HITPOINTS_TEST_OTHER_VAR"]).expect("both set"),
        ["events".to_owned(), "snapshots".to_owned()]
    );
}
