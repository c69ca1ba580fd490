//! The local run's tables: a snapshot table made before campaigns (no index by campaign) gets
//! the index when the local run starts on it again, and a campaign's party reads through it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use hitpoints::hp::SnapshotStore;
use hitpoints_testkit::test_db;
use local::dynamodb::create_snapshots_table;
use uuid::Uuid;

#[tokio::test]
async fn a_snapshot_table_from_before_campaigns_gets_its_index() {
    let db = test_db().await;
    let table = format!("old-snapshots-{}", Uuid::new_v4().simple());
    // As the local run created it before campaigns: `Id` only.
    db.client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("Id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("Id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("an old table");
    let campaign = Uuid::new_v4();
    let id = Uuid::new_v4();
    db.client
        .put_item()
        .table_name(&table)
        .item("Id", AttributeValue::S(id.to_string()))
        .item("CharacterName", AttributeValue::S("Nuru".into()))
        .item("HitPoints", AttributeValue::N("3".into()))
        .item("Version", AttributeValue::N("2".into()))
        .item(
            "UpdatedAt",
            AttributeValue::S("2026-11-29T20:00:00Z".into()),
        )
        .item("CampaignId", AttributeValue::S(campaign.to_string()))
        .send()
        .await
        .expect("a snapshot");
    let snapshots = SnapshotStore::new(db.client.clone(), &table);
    assert!(
        snapshots.list_campaign(campaign, 10, None).await.is_err(),
        "no index yet"
    );
    assert!(!create_snapshots_table(&db.client, &table)
        .await
        .expect("the index added"));
    let party = snapshots
        .list_campaign(campaign, 10, None)
        .await
        .expect("the party by the index");
    assert_eq!(
        party
            .snapshots
            .iter()
            .map(|s| s.id.clone())
            .collect::<Vec<_>>(),
        vec![id.to_string()]
    );
    // Again: nothing to add.
    assert!(!create_snapshots_table(&db.client, &table)
        .await
        .expect("idempotent"));
}
