//! The API's contract as an OpenAPI 3.1 document, generated from the route table and the wire
//! types. The document is checked in as `openapi.json` at the repository's root (a test fails
//! when it is stale) and served from that file at `GET /openapi.json`, so a Lambda carries its
//! bytes, not the code that builds it.

use axum::http::{Method, StatusCode};
use hitpoints::domain::{Direction, ExpectedVersion, NewEvent, RecordedEvent};
use serde_json::{json, Value};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, Paths,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    AllOfBuilder, Components, ComponentsBuilder, Object, ObjectBuilder, Schema, Type,
};
use utoipa::openapi::{OpenApi, OpenApiBuilder, Ref, RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::access::Guard;
use crate::commands::{
    CommandAnswer, CreateRulesBody, DamageBody, DeathSaveBody, DefencesChangeBody, HealingBody,
    HitDiceBody, ManyAnswer, ManyDamageBody, MaxHpBody, RestBody, ReviveBody, RulesBody,
    StabilizeBody, TempHpBody, UndoBody,
};
use crate::routes::{Endpoint, ROUTES};
use crate::wire::{
    AppendRequest, AppendedBody, AssignBody, CampaignBody, CampaignsBody, CharacterBody,
    CharacterParams, ConflictBody, CreateCampaignBody, CreatePlainBody, ErrorCode, FeedBody,
    FeedEvent, FeedParams, InviteBody, JoinBody, ListParams, MemberBody, MembersBody, MoveBody,
    PageBody, PartyBody, PartyMember, ReadParams, RoleName, Source,
};

/// The document as served: `openapi.json` as checked in, without its indentation (build.rs).
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// The document, generated from the route table and the wire types.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    for route in &ROUTES {
        let method = match route.method {
            Method::POST => HttpMethod::Post,
            Method::PUT => HttpMethod::Put,
            Method::DELETE => HttpMethod::Delete,
            _ => HttpMethod::Get,
        };
        paths.add_path_operation(route.path, vec![method], operation(route.endpoint));
    }
    let info = InfoBuilder::new()
        .title("hitpoints")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "An event store for a Dungeons & Dragons character's hit points. Every change is an \
             event in the character's stream; current HP is the fold of the stream. JSON in and \
             out; a JSON body is read whatever its Content-Type says, and a trailing slash \
             reaches the same route. Errors are {\"error\", \"message\"}; the statuses 408, 414, \
             431 and 503 server_busy come from the local run's HTTP server only. Who may do \
             what: a signed-in person (Authorization: Bearer with an access token of the \
             stack's Cognito user pool) creates campaigns, is the DM of those and a player in \
             those whose invite they redeemed; the DM does everything in a campaign, a player \
             reads it and runs damage, healing, temp-hp, death-saves and rests on the characters \
             assigned to them. The listings of everything (GET /characters, GET /events, every \
             campaign) and the default campaign are for operators: IAM (SigV4-signed) requests \
             to the stack's operator API. No identity is a 401; a member without the right a \
             403; anyone else a 404 with the same body as an id that does not exist. Deployed, \
             API Gateway answers a missing or invalid token itself: 401 {\"message\"}.",
        ))
        .license(Some(LicenseBuilder::new().name("MIT").build()))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components()))
        .build()
}

/// The document as served: what `openapi.json` must hold.
pub fn to_json() -> String {
    let mut text = document()
        .to_pretty_json()
        .expect("the document serializes as JSON");
    text.push('\n');
    text
}

fn components() -> Components {
    let mut components = ComponentsBuilder::new();
    for (name, schema) in [
        (NewEvent::name(), NewEvent::schema()),
        (RecordedEvent::name(), RecordedEvent::schema()),
        (ExpectedVersion::name(), ExpectedVersion::schema()),
        (Direction::name(), Direction::schema()),
        (AppendRequest::name(), AppendRequest::schema()),
        (AppendedBody::name(), AppendedBody::schema()),
        (PageBody::name(), PageBody::schema()),
        (Source::name(), Source::schema()),
        (CharacterBody::name(), CharacterBody::schema()),
        (PartyBody::name(), PartyBody::schema()),
        (PartyMember::name(), PartyMember::schema()),
        (CreatePlainBody::name(), CreatePlainBody::schema()),
        (CampaignBody::name(), CampaignBody::schema()),
        (CreateCampaignBody::name(), CreateCampaignBody::schema()),
        (CampaignsBody::name(), CampaignsBody::schema()),
        (MoveBody::name(), MoveBody::schema()),
        (RoleName::name(), RoleName::schema()),
        (InviteBody::name(), InviteBody::schema()),
        (JoinBody::name(), JoinBody::schema()),
        (AssignBody::name(), AssignBody::schema()),
        (MemberBody::name(), MemberBody::schema()),
        (MembersBody::name(), MembersBody::schema()),
        (FeedBody::name(), FeedBody::schema()),
        (FeedEvent::name(), FeedEvent::schema()),
        ("ErrorBody".into(), error_body_schema()),
        (ConflictBody::name(), ConflictBody::schema()),
        (ErrorCode::name(), ErrorCode::schema()),
    ] {
        components = components.schema(name, schema);
    }
    // The rules' bodies and answers, with every schema they refer to.
    let mut rules = Vec::new();
    macro_rules! with_refs {
        ($($t:ty),*) => {$(
            rules.push((<$t>::name().into_owned(), <$t>::schema()));
            <$t>::schemas(&mut rules);
        )*};
    }
    with_refs!(
        CreateRulesBody,
        DamageBody,
        HealingBody,
        TempHpBody,
        MaxHpBody,
        DeathSaveBody,
        StabilizeBody,
        ReviveBody,
        RestBody,
        RulesBody,
        DefencesChangeBody,
        HitDiceBody,
        UndoBody,
        ManyDamageBody,
        CommandAnswer,
        ManyAnswer,
        RecordedEvent,
        CharacterBody,
        PartyMember
    );
    for (name, schema) in rules {
        components = components.schema(name, schema);
    }
    // Each error code's example once, and the error responses operations share, referred to
    // from the operations: the document stays small enough to serve from a Lambda's binary.
    for code in all_error_codes() {
        components = components.example(
            example_name(code),
            ExampleBuilder::new()
                .value(Some(error_example(code)))
                .build(),
        );
    }
    for (name, status, codes) in SHARED_ERRORS {
        components = components.response(*name, error_response(*status, codes));
    }
    for (name, why) in BODILESS {
        components = components.response(*name, ResponseBuilder::new().description(*why).build());
    }
    components.build()
}

/// Error responses more than one operation gives, each under its name in the components.
const SHARED_ERRORS: &[(&str, StatusCode, &[ErrorCode])] = &[
    (
        "RequestTimeout",
        StatusCode::REQUEST_TIMEOUT,
        &[ErrorCode::RequestTimeout],
    ),
    (
        "StoreFailure",
        StatusCode::INTERNAL_SERVER_ERROR,
        &[ErrorCode::StoreError, ErrorCode::CorruptItem],
    ),
    (
        "Unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
        &[
            ErrorCode::ServerBusy,
            ErrorCode::Throttled,
            ErrorCode::StoreUnreachable,
            ErrorCode::TransactionConflict,
        ],
    ),
    (
        "ServerBusy",
        StatusCode::SERVICE_UNAVAILABLE,
        &[ErrorCode::ServerBusy],
    ),
];

/// The local run's HTTP server's own answers, without a body: `(name, status, why)`.
const BODILESS: &[(&str, &str)] = &[
    (
        "UriTooLong",
        "The local run only: a URL too long for its HTTP server (hyper's own answer, no body)",
    ),
    (
        "HeadersTooLarge",
        "The local run only: headers too large for its HTTP server (hyper's own answer, no body)",
    ),
];

/// Every error code, in the order the `ErrorCode` schema lists them.
fn all_error_codes() -> Vec<ErrorCode> {
    let RefOr::T(Schema::Object(codes)) = ErrorCode::schema() else {
        return Vec::new();
    };
    codes
        .enum_values
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// An error code's name among the components' examples: `InvalidLimit`.
fn example_name(code: ErrorCode) -> String {
    format!("{code:?}")
}

fn response_ref(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
}

/// What the route table does not say about an operation.
struct Doc {
    id: &'static str,
    summary: &'static str,
    description: &'static str,
    /// What the path's `{id}` names, if it has one.
    path_id: PathId,
    params: Vec<Parameter>,
    body: Option<RefOr<Schema>>,
    /// Success statuses: status, description, body schema.
    success: Vec<(StatusCode, &'static str, RefOr<Schema>)>,
    /// The error codes of this operation besides those of every operation.
    errors: &'static [ErrorCode],
}

/// What a path's `{id}` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathId {
    None,
    Character,
    Campaign,
}

/// The `{sub}` of a member's path.
fn sub_param() -> Parameter {
    ParameterBuilder::new()
        .name("sub")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The member's identity: their token's sub claim"))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(hitpoints::campaign::members::MAX_SUB_CHARS))
                .build(),
        ))
        .example(Some(json!("0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f")))
        .build()
}

/// Codes any operation can answer: its query, and the local run's HTTP server.
const EVERY_OPERATION: &[ErrorCode] = &[
    // The local run reads every request's body before routing it: one that breaks off is a 400.
    ErrorCode::InvalidBody,
    ErrorCode::UnknownParameter,
    ErrorCode::RequestTimeout,
    ErrorCode::BodyTooLarge,
    ErrorCode::ServerBusy,
];

/// Codes of any operation that reaches DynamoDB.
const STORE: &[ErrorCode] = &[
    ErrorCode::StoreError,
    ErrorCode::CorruptItem,
    ErrorCode::Throttled,
    ErrorCode::StoreUnreachable,
    ErrorCode::TransactionConflict,
];

fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// Codes every command on a character can answer, besides its own.
macro_rules! command_errors {
    ($($code:ident),*) => {
        &[
            ErrorCode::InvalidId,
            ErrorCode::RouteNotFound,
            ErrorCode::MissingBody,
            ErrorCode::MalformedJson,
            ErrorCode::InvalidBody,
            ErrorCode::InvalidExpectedVersion,
            ErrorCode::StreamNotFound,
            ErrorCode::VersionConflict,
            ErrorCode::EventTooLarge,
            ErrorCode::InvalidEvent,
            ErrorCode::RulesNotEnabled,
            $(ErrorCode::$code),*
        ]
    };
}

/// What a create answers: the plain body's events, or a body with max_hp's command answer.
fn created_body() -> RefOr<Schema> {
    RefOr::T(Schema::OneOf(
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(schema_ref::<AppendedBody>())
            .item(schema_ref::<CommandAnswer>())
            .build(),
    ))
}

/// A command on a character: 201 written, 200 a replay or a dry run.
fn command_doc(
    id: &'static str,
    summary: &'static str,
    description: &'static str,
    body: RefOr<Schema>,
    errors: &'static [ErrorCode],
) -> Doc {
    Doc {
        id,
        summary,
        description,
        path_id: PathId::Character,
        params: Vec::new(),
        body: Some(body),
        success: vec![
            (
                StatusCode::CREATED,
                "Written: the event and the character's state after it",
                schema_ref::<CommandAnswer>(),
            ),
            (
                StatusCode::OK,
                "A replay of a command stored before (same event_id and body), or a dry run: \
                 nothing written",
                schema_ref::<CommandAnswer>(),
            ),
        ],
        errors,
    }
}

fn doc(endpoint: Endpoint) -> Doc {
    use ErrorCode as E;
    match endpoint {
        Endpoint::Damage => command_doc(
            "damage",
            "Damage a character: one hit, after its save and defences",
            "amount and type, or parts [{amount, type}] of different types. Per part: halved \
             (a successful save, rounded down), then resistance (half, rounded down), then \
             vulnerability (double); immunity makes it 0. Temporary HP absorb it first. At 0 HP \
             a hit is a death-save failure (two if critical), or death if it is at least the \
             maximum; dropping to 0 with damage left over of at least the maximum is death. The \
             answer states the concentration save's DC.",
            schema_ref::<DamageBody>(),
            command_errors!(InvalidAmount, UnknownDamageType, CharacterDead),
        ),
        Endpoint::Healing => command_doc(
            "healing",
            "Heal a character, up to its maximum",
            "The excess is lost; temporary HP are not restored. Any HP regained at 0 brings the \
             character up and resets its death saves.",
            schema_ref::<HealingBody>(),
            command_errors!(InvalidAmount, CharacterDead),
        ),
        Endpoint::TempHp => command_doc(
            "tempHp",
            "Give temporary HP",
            "They do not stack: the character keeps the higher amount unless replace is true. \
             They may exceed the maximum; a long rest ends them.",
            schema_ref::<TempHpBody>(),
            command_errors!(InvalidAmount, CharacterDead),
        ),
        Endpoint::MaxHp => command_doc(
            "maxHp",
            "Change a character's maximum HP",
            "until long_rest (e.g. a wraith's drain) or permanent (e.g. a level). Current HP is \
             capped at the new maximum; raise_current raises it by the same amount; a maximum \
             of 0 kills. Under 5e-2024 a long rest restores every reduction.",
            schema_ref::<MaxHpBody>(),
            command_errors!(InvalidAmount, CharacterDead),
        ),
        Endpoint::DeathSaves => command_doc(
            "deathSave",
            "Roll a death save for a dying character",
            "roll + bonus >= 10 succeeds; a natural 1 is two failures; a natural 20 regains 1 \
             HP. Three successes: stable; three failures: dead.",
            schema_ref::<DeathSaveBody>(),
            command_errors!(InvalidRoll, NotDying, CharacterDead),
        ),
        Endpoint::Stabilize => command_doc(
            "stabilize",
            "Stabilize a dying character",
            "The body may be empty. The character stays at 0 HP and rolls no more death saves.",
            schema_ref::<StabilizeBody>(),
            command_errors!(NotDying, CharacterDead),
        ),
        Endpoint::Revive => command_doc(
            "revive",
            "Bring a dead character back",
            "At hp (at most its maximum), up, death saves reset. The only command a dead \
             character takes.",
            schema_ref::<ReviveBody>(),
            command_errors!(InvalidAmount, NotDead, NoMaximum),
        ),
        Endpoint::Rests => command_doc(
            "rest",
            "A short or a long rest",
            "Short: spend hit dice, each regaining roll + Constitution modifier (at least 0 \
             under 5e-2014, 1 under 5e-2024; 5e-2024 needs 1 HP). Long (needs 1 HP): HP to the \
             maximum, temporary HP gone, hit dice back (5e-2014: half, at least one; 5e-2024: \
             all).",
            schema_ref::<RestBody>(),
            command_errors!(InvalidRoll, NoHitDice, RestNeedsHp, CharacterDead),
        ),
        Endpoint::Rules => command_doc(
            "enableRules",
            "Turn the rules on for a character created without them",
            "Its HP so far is clamped into 0..=max_hp, and the clamp is recorded. Until then \
             every rules command is 422 rules_not_enabled.",
            schema_ref::<RulesBody>(),
            command_errors!(
                InvalidAmount,
                UnknownDamageType,
                InvalidHitDice,
                RulesEnabledAlready
            ),
        ),
        Endpoint::Defences => command_doc(
            "changeDefences",
            "Change a character's resistances, vulnerabilities and immunities",
            "They apply to every later hit that does not override them.",
            schema_ref::<DefencesChangeBody>(),
            command_errors!(UnknownDamageType, CharacterDead),
        ),
        Endpoint::HitDice => command_doc(
            "changeHitDice",
            "Change a character's hit dice",
            "A die added (a new level) arrives unspent; the dice left are capped at the new pool.",
            schema_ref::<HitDiceBody>(),
            command_errors!(InvalidHitDice, CharacterDead),
        ),
        Endpoint::Undo => command_doc(
            "undo",
            "Undo a character's latest command",
            "Appends an undone event that restores the state before that command; nothing is \
             deleted. 409 undo_not_latest when it is not the latest event, undo_death when it \
             killed the character.",
            schema_ref::<UndoBody>(),
            command_errors!(UndoNotLatest, UndoDeath, UndoRules, UndoMove),
        ),
        Endpoint::DamageMany => Doc {
            id: "damageMany",
            summary: "One hit on many targets (a fireball): one event each, all or nothing",
            description: "The same roll on each target, with its own save and defences, written \
                          in one transaction; every event carries the hit's correlation_id. At \
                          most 100 targets.",
            path_id: PathId::None,
            params: Vec::new(),
            body: Some(schema_ref::<ManyDamageBody>()),
            success: vec![
                (
                    StatusCode::CREATED,
                    "Written: each target's event and state",
                    schema_ref::<ManyAnswer>(),
                ),
                (
                    StatusCode::OK,
                    "A replay of the same hit (same event_id), or a dry run: nothing written",
                    schema_ref::<ManyAnswer>(),
                ),
            ],
            errors: &[
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::InvalidExpectedVersion,
                E::StreamNotFound,
                E::VersionConflict,
                E::InvalidEvent,
                E::EventsTooLarge,
                E::InvalidAmount,
                E::UnknownDamageType,
                E::TooManyTargets,
                E::RulesNotEnabled,
                E::CharacterDead,
            ],
        },
        Endpoint::CreateCharacter => Doc {
            id: "createCharacter",
            summary: "Create a character: a new stream whose first event is the body",
            description: "201 with Location: /characters/{id}. With an event_id, the character's \
                          id is derived from it, so a retry returns the same character with 200 \
                          instead of creating a second one.",
            path_id: PathId::None,
            params: Vec::new(),
            body: Some(RefOr::T(Schema::OneOf(
                utoipa::openapi::schema::OneOfBuilder::new()
                    .item(schema_ref::<CreatePlainBody>())
                    .item(schema_ref::<CreateRulesBody>())
                    .build(),
            ))),
            success: vec![
                (
                    StatusCode::CREATED,
                    "Created: the character and its first event (a body with max_hp: the \
                     command's answer, the event and the state)",
                    created_body(),
                ),
                (
                    StatusCode::OK,
                    "A replay: this event_id created the character before, nothing written; \
                     or a dry run of a body with max_hp",
                    created_body(),
                ),
            ],
            errors: &[
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::VersionConflict,
                E::EventTooLarge,
                E::InvalidEvent,
                E::InvalidAmount,
                E::UnknownDamageType,
                E::InvalidHitDice,
                E::UnknownCampaign,
            ],
        },
        Endpoint::AppendEvents => Doc {
            id: "appendEvents",
            summary: "Append 1 to 100 events to a character's stream, all or nothing",
            description: "expected_version: \"any\" (default), \"no_stream\", or n (the stream's \
                          last version must be n). 201 written; 200 a replay of events already \
                          stored (same event_ids); 409 a conflict.",
            path_id: PathId::Character,
            params: Vec::new(),
            body: Some(schema_ref::<AppendRequest>()),
            success: vec![
                (
                    StatusCode::CREATED,
                    "Written: the events as stored",
                    schema_ref::<AppendedBody>(),
                ),
                (
                    StatusCode::OK,
                    "A replay of events already stored; nothing written",
                    schema_ref::<AppendedBody>(),
                ),
            ],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::InvalidExpectedVersion,
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::VersionConflict,
                E::TooManyEvents,
                E::EventTooLarge,
                E::EventsTooLarge,
                E::InvalidEvent,
                E::InvalidAmount,
                E::CharacterDead,
            ],
        },
        Endpoint::ReadEvents => Doc {
            id: "readEvents",
            summary: "A page of a character's stream",
            description: "Consistent reads in version order (or backward). A page also stops at \
                          2.5 MB of events, with a next_cursor. A stream with no events is 404.",
            path_id: PathId::Character,
            params: ReadParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(StatusCode::OK, "A page of events", schema_ref::<PageBody>())],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::InvalidParameter,
                E::InvalidFromVersion,
                E::InvalidLimit,
                E::InvalidDirection,
                E::InvalidCursor,
                E::StreamNotFound,
            ],
        },
        Endpoint::GetCharacter => Doc {
            id: "getCharacter",
            summary: "A character's state: name, HP, last version",
            description: "From the snapshot table (one read, possibly behind by the projector's \
                          delay), or the fold of the events when there is no snapshot yet or \
                          with consistent=true; at_version and as_of fold a prefix of the \
                          stream. At most one of consistent, at_version and as_of.",
            path_id: PathId::Character,
            params: CharacterParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "The character's state",
                schema_ref::<CharacterBody>(),
            )],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::InvalidParameter,
                E::InvalidConsistent,
                E::InvalidAtVersion,
                E::InvalidAsOf,
                E::ConflictingParameters,
                E::StreamNotFound,
                E::VersionNotFound,
                E::NoEventAsOf,
            ],
        },
        Endpoint::ListCharacters => Doc {
            id: "listCharacters",
            summary: "Every character of every campaign, with its state and latest event",
            description: "The operator's listing: a Scan of the snapshot table, in its order \
                          (stable from page to page, meaningless). A campaign's party is \
                          GET /campaigns/{id}/characters. To a signed-in person: 404 \
                          route_not_found.",
            path_id: PathId::None,
            params: ListParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "A page of the party",
                schema_ref::<PartyBody>(),
            )],
            errors: &[
                E::InvalidParameter,
                E::InvalidLimit,
                E::InvalidCursor,
                E::RouteNotFound,
            ],
        },
        Endpoint::ReadFeed => Doc {
            id: "readFeed",
            summary: "The default campaign's feed (the one feed before campaigns), in one order",
            description: "Every event of the default campaign's characters (positions and \
                          checkpoints as before campaigns); a campaign's feed is \
                          GET /campaigns/{id}/events. next is what to pass as after to continue. \
                          wait (forward only) holds the request until an event newer than after \
                          arrives, up to that many seconds (or the function's own bound, \
                          3 s as deployed, answered as a wait that ran out). The operators': \
                          to a signed-in person, 404 route_not_found.",
            path_id: PathId::None,
            params: FeedParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "A page of the feed",
                schema_ref::<FeedBody>(),
            )],
            errors: &[
                E::RouteNotFound,
                E::InvalidParameter,
                E::InvalidPosition,
                E::InvalidLimit,
                E::InvalidWait,
                E::InvalidDirection,
            ],
        },
        Endpoint::CreateCampaign => Doc {
            id: "createCampaign",
            summary: "Create a campaign: a gaming group's party and feed",
            description: "201 with Location: /campaigns/{id}. A new character under the rules \
                          in it takes its ruleset unless the character's body names one. A \
                          signed-in person who creates a campaign is its DM (role dm).",
            path_id: PathId::None,
            params: Vec::new(),
            body: Some(schema_ref::<CreateCampaignBody>()),
            success: vec![(
                StatusCode::CREATED,
                "Created: the campaign",
                schema_ref::<CampaignBody>(),
            )],
            errors: &[
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::InvalidCampaign,
            ],
        },
        Endpoint::ListCampaigns => Doc {
            id: "listCampaigns",
            summary: "Every campaign (an operator's), or the caller's campaigns (a person's)",
            description: "To an operator: every campaign, the default campaign first, then the \
                          campaigns table's Scan order (stable from page to page). To a \
                          signed-in person: the campaigns they belong to, each with their role \
                          (and a player's assigned characters), in one page (a cursor is a 400).",
            path_id: PathId::None,
            params: ListParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "A page of campaigns",
                schema_ref::<CampaignsBody>(),
            )],
            errors: &[E::InvalidParameter, E::InvalidLimit, E::InvalidCursor],
        },
        Endpoint::Invite => Doc {
            id: "inviteToCampaign",
            summary: "A new invite code for the campaign (the DM's)",
            description: "201 with the code the DM shares; the code before stops working. A \
                          signed-in person redeems it with POST /campaigns/{id}/members. One \
                          UpdateItem of the campaign. The default campaign has no members: 422 \
                          invalid_campaign.",
            path_id: PathId::Campaign,
            params: Vec::new(),
            body: None,
            success: vec![(
                StatusCode::CREATED,
                "The campaign's invite code",
                schema_ref::<InviteBody>(),
            )],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::CampaignNotFound,
                E::InvalidCampaign,
            ],
        },
        Endpoint::JoinCampaign => Doc {
            id: "joinCampaign",
            summary: "Redeem an invite code: the signed-in person becomes a player",
            description: "201 a player now (no characters until the DM assigns them); 200 a \
                          member already, with the role they have. A wrong code is the same 404 \
                          as a campaign that does not exist. For a signed-in person only: an \
                          operator's request is a 403.",
            path_id: PathId::Campaign,
            params: Vec::new(),
            body: Some(schema_ref::<JoinBody>()),
            success: vec![
                (
                    StatusCode::CREATED,
                    "Joined as a player",
                    schema_ref::<MemberBody>(),
                ),
                (
                    StatusCode::OK,
                    "A member already",
                    schema_ref::<MemberBody>(),
                ),
            ],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::CampaignNotFound,
            ],
        },
        Endpoint::ListMembers => Doc {
            id: "listMembers",
            summary: "The campaign's members, the DM first (the DM's)",
            description: "One Query of the memberships table's index by campaign (eventually \
                          consistent).",
            path_id: PathId::Campaign,
            params: Vec::new(),
            body: None,
            success: vec![(StatusCode::OK, "The members", schema_ref::<MembersBody>())],
            errors: &[E::InvalidId, E::RouteNotFound, E::CampaignNotFound],
        },
        Endpoint::AssignMember => Doc {
            id: "assignCharacters",
            summary: "Set the characters a player runs the player commands on (the DM's)",
            description: "Replaces the player's characters; each must be in this campaign (422 \
                          not_in_campaign otherwise). 404 member_not_found for a sub that is not a player of \
                          the campaign (the DM cannot be assigned characters: the DM may act \
                          on all).",
            path_id: PathId::Campaign,
            params: vec![sub_param()],
            body: Some(schema_ref::<AssignBody>()),
            success: vec![(StatusCode::OK, "The player", schema_ref::<MemberBody>())],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::CampaignNotFound,
                E::MemberNotFound,
                E::NotInCampaign,
            ],
        },
        Endpoint::RemoveMember => Doc {
            id: "removeMember",
            summary: "Remove a player from the campaign (the DM's)",
            description: "204; the player's next request is refused (the role is read \
                          consistently on every request). The DM cannot be removed: 404 \
                          member_not_found, as for a sub that is no player.",
            path_id: PathId::Campaign,
            params: vec![sub_param()],
            body: None,
            success: vec![(
                StatusCode::NO_CONTENT,
                "Removed (no body)",
                RefOr::T(Schema::Object(Object::new())),
            )],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::CampaignNotFound,
                E::MemberNotFound,
            ],
        },
        Endpoint::GetCampaign => Doc {
            id: "getCampaign",
            summary: "A campaign",
            description: "404 campaign_not_found for an id that names none.",
            path_id: PathId::Campaign,
            params: Vec::new(),
            body: None,
            success: vec![(StatusCode::OK, "The campaign", schema_ref::<CampaignBody>())],
            errors: &[E::InvalidId, E::RouteNotFound, E::CampaignNotFound],
        },
        Endpoint::CampaignCharacters => Doc {
            id: "campaignCharacters",
            summary: "A campaign's party: its characters with their state and latest event",
            description: "One Query of the snapshot table's index by campaign per page, in the \
                          order of the characters' ids: a character keeps its place whatever \
                          it changes, so paging neither repeats nor skips one. Each page shows \
                          its characters as the projector last wrote them (eventually \
                          consistent); for one consistent party, read the campaign's feed head \
                          first (GET /campaigns/{id}/events?direction=backward&limit=1), then \
                          the pages, then apply the feed from that position.",
            path_id: PathId::Campaign,
            params: ListParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "A page of the campaign's party",
                schema_ref::<PartyBody>(),
            )],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::InvalidParameter,
                E::InvalidLimit,
                E::InvalidCursor,
                E::CampaignNotFound,
            ],
        },
        Endpoint::CampaignEvents => Doc {
            id: "campaignEvents",
            summary: "A campaign's feed: every event of its characters, in one order",
            description: "As GET /events, for one campaign: each event once, each character's \
                          in version order; a move is the last entry of the old campaign's \
                          feed and the first of the new one's. next is what to pass as after \
                          to continue; wait (forward only) holds the request until an event \
                          arrives, up to that many seconds.",
            path_id: PathId::Campaign,
            params: FeedParams::into_params(|| Some(ParameterIn::Query)),
            body: None,
            success: vec![(
                StatusCode::OK,
                "A page of the campaign's feed",
                schema_ref::<FeedBody>(),
            )],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::InvalidParameter,
                E::InvalidPosition,
                E::InvalidLimit,
                E::InvalidWait,
                E::InvalidDirection,
                E::CampaignNotFound,
            ],
        },
        Endpoint::MoveCharacter => Doc {
            id: "moveCharacter",
            summary: "Move a character to another campaign",
            description: "One event of its own (event_type moved, campaign_id the new campaign, \
                          moved_from the old), which changes nothing else; history is not \
                          copied. 201 written; 200 with no events when the character is in \
                          that campaign already. 422 unknown_campaign for a campaign that does \
                          not exist.",
            path_id: PathId::Character,
            params: Vec::new(),
            body: Some(schema_ref::<MoveBody>()),
            success: vec![
                (
                    StatusCode::CREATED,
                    "Moved: the move's event",
                    schema_ref::<AppendedBody>(),
                ),
                (
                    StatusCode::OK,
                    "In that campaign already: nothing written",
                    schema_ref::<AppendedBody>(),
                ),
            ],
            errors: &[
                E::InvalidId,
                E::RouteNotFound,
                E::MissingBody,
                E::MalformedJson,
                E::InvalidBody,
                E::InvalidExpectedVersion,
                E::StreamNotFound,
                E::VersionConflict,
                E::InvalidEvent,
                E::UnknownCampaign,
            ],
        },
        Endpoint::OpenApi => Doc {
            id: "openApi",
            summary: "This document",
            description: "The API's contract as OpenAPI 3.1.",
            path_id: PathId::None,
            params: Vec::new(),
            body: None,
            success: vec![(
                StatusCode::OK,
                "The OpenAPI document",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .build()
                    .into(),
            )],
            errors: &[],
        },
    }
}

fn operation(endpoint: Endpoint) -> Operation {
    let doc = doc(endpoint);
    let mut parameters = Vec::new();
    let path_id = match doc.path_id {
        PathId::None => None,
        PathId::Character => Some((
            "The character's id: a uuid",
            "eb3cefea-4c14-53d1-92ec-d92459133c76",
        )),
        PathId::Campaign => Some((
            "The campaign's id: a uuid (the default campaign's is the nil uuid)",
            "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c",
        )),
    };
    if let Some((description, example)) = path_id {
        parameters.push(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(uuid_schema()))
                .example(Some(json!(example)))
                .build(),
        );
    }
    parameters.extend(doc.params);
    let feed = matches!(endpoint, Endpoint::ReadFeed | Endpoint::CampaignEvents);
    if feed {
        parameters.push(
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The ETag of the forward answer that reached the feed's head: a forward \
                     read after that head (after = its next) is a 304 with no body while \
                     nothing was added (one read of the head, no entries read; with wait, after \
                     the wait). How an open screen polls cheaply.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .example(Some(json!("\"42\"")))
                .build(),
        );
    }
    let mut operation = OperationBuilder::new()
        .operation_id(Some(doc.id))
        .summary(Some(doc.summary))
        .description(Some(doc.description))
        .parameters(Some(parameters));
    if let Some(body) = doc.body {
        operation = operation.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body)).build(),
                )
                .build(),
        ));
    }
    let mut responses = ResponsesBuilder::new();
    for (status, description, schema) in doc.success {
        if status == StatusCode::NO_CONTENT {
            let response = ResponseBuilder::new().description(description).build();
            responses = responses.response(status.as_str(), response);
            continue;
        }
        let mut response = ResponseBuilder::new().description(description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema))
                .example(success_example(endpoint, status))
                .build(),
        );
        if endpoint == Endpoint::ReadFeed {
            // Where a reader goes on from: `next` is the `after` of the next page.
            response = response.link(
                "NextPage",
                LinkBuilder::new()
                    .operation_id("readFeed")
                    .parameter("after", "$response.body#/next")
                    .build(),
            );
        }
        if feed {
            response = response.header("ETag", etag_header());
        }
        if endpoint == Endpoint::CampaignEvents {
            response = response.link(
                "NextPage",
                LinkBuilder::new()
                    .operation_id("campaignEvents")
                    .parameter("id", "$request.path.id")
                    .parameter("after", "$response.body#/next")
                    .build(),
            );
        }
        if endpoint == Endpoint::CreateCampaign {
            response = with_links(response, CAMPAIGN_LINKS).header(
                "Location",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .description(Some("/campaigns/{id}: the campaign"))
                    .build(),
            );
        }
        if endpoint == Endpoint::CreateCharacter {
            // The links from a 201 only: a 200 may be a dry run, which created nothing.
            if status == StatusCode::CREATED {
                response = with_links(response, CHARACTER_LINKS);
            }
            response = response.header(
                "Location",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                    .description(Some(
                        "/characters/{id}: the character (not on a dry run, which creates none)",
                    ))
                    .build(),
            );
        }
        responses = responses.response(status.as_str(), response.build());
    }
    if feed {
        responses = responses.response(
            "304",
            ResponseBuilder::new()
                .description(
                    "Nothing was added after the feed head that If-None-Match names, which is \
                     after (no body)",
                )
                .header("ETag", etag_header())
                .build(),
        );
    }
    let store = endpoint != Endpoint::OpenApi;
    let guard = endpoint.guard();
    let access: &[ErrorCode] = match guard {
        Guard::Public => &[],
        Guard::Operate | Guard::ReadCharacter | Guard::ReadCampaign | Guard::CreateCampaign => {
            &[ErrorCode::Unauthenticated]
        }
        _ if endpoint == Endpoint::ListCampaigns => &[ErrorCode::Unauthenticated],
        _ => &[ErrorCode::Unauthenticated, ErrorCode::Forbidden],
    };
    let codes: Vec<ErrorCode> = doc
        .errors
        .iter()
        .chain(access)
        .chain(EVERY_OPERATION)
        .chain(if store { STORE } else { &[] })
        .fold(Vec::new(), |mut codes, code| {
            if !codes.contains(code) {
                codes.push(*code);
            }
            codes
        });
    let mut statuses: Vec<StatusCode> = codes.iter().map(|c| c.status()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let here: Vec<ErrorCode> = codes
            .iter()
            .copied()
            .filter(|c| c.status() == status)
            .collect();
        let shared = SHARED_ERRORS.iter().find(|(_, s, codes)| {
            *s == status && codes.len() == here.len() && codes.iter().all(|c| here.contains(c))
        });
        responses = match shared {
            Some((name, _, _)) => responses.response(status.as_str(), response_ref(name)),
            None => responses.response(status.as_str(), error_response(status, &here)),
        };
    }
    for (status, (name, _)) in ["414", "431"].into_iter().zip(BODILESS) {
        responses = responses.response(status, response_ref(name));
    }
    operation.responses(responses.build()).build()
}

/// The error body: `error` and `message`, and what a 409 and a 503 add. Each response narrows
/// `error` to the codes it can carry.
fn error_body_schema() -> RefOr<Schema> {
    let conflict = ConflictBody::schema();
    let mut body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Every error: {\"error\", \"message\"}; a 409 adds the conflict's fields, a 503 \
             retry_after_seconds.",
        ))
        .property("error", schema_ref::<ErrorCode>())
        .property(
            "message",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What is wrong, in words")),
        )
        .property(
            "retry_after_seconds",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .description(Some(
                    "On a 503: seconds to wait before a retry (also in Retry-After)",
                )),
        )
        .required("error")
        .required("message");
    if let RefOr::T(Schema::Object(conflict)) = conflict {
        for (name, property) in conflict.properties {
            body = body.property(name, property);
        }
    }
    body.into()
}

/// A feed answer's `ETag`: the campaign's feed head it was read at.
fn etag_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
        .description(Some(
            "On a forward page that reaches the campaign's feed head: that head, quoted. Send \
             it back as If-None-Match with after = next",
        ))
        .build()
}

/// A uuid in its hyphenated form, the only one the API takes.
fn uuid_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Uuid,
        )))
        .pattern(Some(
            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        ))
        .build()
}

/// The routes that take the id a create answers with, so a client (or a fuzzer) can follow it.
fn with_links(response: ResponseBuilder, links: &[(&str, &str)]) -> ResponseBuilder {
    links
        .iter()
        .fold(response, |response, (name, operation_id)| {
            response.link(
                *name,
                LinkBuilder::new()
                    .operation_id(*operation_id)
                    .parameter("id", "$response.body#/id")
                    .build(),
            )
        })
}

/// The operations on a character's `{id}`, which a create's 201 links to.
const CHARACTER_LINKS: &[(&str, &str)] = &[
    ("GetCharacter", "getCharacter"),
    ("ReadEvents", "readEvents"),
    ("AppendEvents", "appendEvents"),
    ("Damage", "damage"),
    ("Healing", "healing"),
    ("TempHp", "tempHp"),
    ("MaxHp", "maxHp"),
    ("DeathSave", "deathSave"),
    ("Stabilize", "stabilize"),
    ("Revive", "revive"),
    ("Rest", "rest"),
    ("EnableRules", "enableRules"),
    ("ChangeDefences", "changeDefences"),
    ("ChangeHitDice", "changeHitDice"),
    ("Undo", "undo"),
    ("MoveCharacter", "moveCharacter"),
];

/// The operations on a campaign's `{id}`, which a campaign's 201 links to.
const CAMPAIGN_LINKS: &[(&str, &str)] = &[
    ("GetCampaign", "getCampaign"),
    ("CampaignCharacters", "campaignCharacters"),
    ("CampaignEvents", "campaignEvents"),
    ("Invite", "inviteToCampaign"),
    ("Join", "joinCampaign"),
    ("Members", "listMembers"),
    ("AssignCharacters", "assignCharacters"),
    ("RemoveMember", "removeMember"),
];

/// An error response: the error body with `error` one of `codes`, an example of each.
fn error_response(status: StatusCode, codes: &[ErrorCode]) -> Response {
    let names: Vec<Value> = codes.iter().map(|c| json!(c)).collect();
    let mut required = vec!["error", "message"];
    // A version conflict has the conflict's fields; an undo's 409 need not.
    if status == StatusCode::CONFLICT && codes == [ErrorCode::VersionConflict] {
        required.extend([
            "expected_version",
            "current_version",
            "partial_replay",
            "event_ids_reused",
        ]);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        required.push("retry_after_seconds");
    }
    let mut narrowed = ObjectBuilder::new().schema_type(Type::Object).property(
        "error",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names)),
    );
    for field in required {
        narrowed = narrowed.required(field);
    }
    let schema: RefOr<Schema> = AllOfBuilder::new()
        .item(RefOr::Ref(Ref::from_schema_name("ErrorBody")))
        .item(narrowed)
        .into();
    let content = ContentBuilder::new()
        .schema(Some(schema))
        .examples_from_iter(codes.iter().map(|code| {
            let name = example_name(*code);
            let reference = Ref::new(format!("#/components/examples/{name}"));
            (name, RefOr::Ref(reference))
        }))
        .build();
    let mut description = status.canonical_reason().unwrap_or("Error").to_owned();
    if status == StatusCode::BAD_REQUEST {
        description.push_str(
            " (the local run's HTTP server also answers a malformed HTTP request with a 400 of \
             its own, without a body)",
        );
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(Type::Integer).build(),
                ))
                .description(Some("Seconds to wait before a retry"))
                .build(),
        );
    }
    response.build()
}

/// The example body of an error with `code`.
fn error_example(code: ErrorCode) -> Value {
    let mut body = json!({"error": code, "message": sample_message(code)});
    if code == ErrorCode::VersionConflict {
        body["expected_version"] = json!(1);
        body["current_version"] = json!(2);
        body["partial_replay"] = json!(false);
        body["event_ids_reused"] = json!(false);
    }
    if code.status() == StatusCode::SERVICE_UNAVAILABLE {
        body["retry_after_seconds"] = json!(1);
    }
    body
}

fn sample_message(code: ErrorCode) -> &'static str {
    use ErrorCode as E;
    match code {
        E::MissingBody => "the request needs a JSON body",
        E::InvalidAmount => "amount must be a whole number from 0 to 1000000",
        E::InvalidRoll => "a death save's roll is a d20: 1 to 20, not 21",
        E::UnknownDamageType => "\"sonic\" is not a damage type: acid, bludgeoning, cold, fire, force, lightning, necrotic, piercing, poison, psychic, radiant, slashing or thunder",
        E::InvalidHitDice => "hit dice are written like 3d10+2d8: each term a count from 1 to 1000 and a d4, d6, d8, d10, d12 or d20",
        E::TooManyTargets => "a hit has at most 100 targets",
        E::RulesNotEnabled => "this character has no rules: POST /characters/{id}/rules turns them on",
        E::RulesEnabledAlready => "this character's rules are on already",
        E::CharacterDead => "the character is dead: only revive changes a dead character",
        E::NotDying => "the character is not dying: death saves and stabilize are for a character unconscious at 0 HP",
        E::NotDead => "the character is not dead: revive is for a dead character",
        E::RestNeedsHp => "a character needs at least 1 HP to benefit from this rest",
        E::NoHitDice => "no d10 hit die is left to spend",
        E::NoMaximum => "a dead character whose maximum was lowered to 0 for good cannot be revived",
        E::UndoNotLatest => "only the character's latest event can be undone",
        E::UndoDeath => "an event that killed the character cannot be undone: revive it",
        E::UndoRules => "the event that turned the rules on cannot be undone",
        E::UndoMove => "a move between campaigns is not undone: move the character back",
        E::MalformedJson => "the JSON body cannot be read: EOF while parsing an object at line 1 column 20",
        E::InvalidBody => "the JSON body cannot be read: hp_change: invalid type: string \"5\", expected a whole number",
        E::InvalidId => "\"abc\" is not a character id: ids are uuids such as 6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10",
        E::InvalidCursor => "the cursor is not valid for this stream: it was made for another character",
        E::InvalidPosition => "not a position of the feed: use a position or a next the feed handed out",
        E::ConflictingParameters => "give at most one of consistent, at_version and as_of",
        E::InvalidParameter => "a query parameter is given more than once or is not valid: duplicate field `limit`",
        E::UnknownParameter => "query parameter not known here: unknown field `colour`",
        E::RouteNotFound => "no route for /characters//events",
        E::StreamNotFound => "no events for character eb3cefea-4c14-53d1-92ec-d92459133c76",
        E::VersionNotFound => "version 7 is past the last version of the stream",
        E::NoEventAsOf => "no event of the stream was recorded by then",
        E::MethodNotAllowed => "DELETE is not allowed here; use GET",
        E::RequestTimeout => "the request body did not arrive in time",
        E::VersionConflict => "the stream is not at the expected version",
        E::BodyTooLarge => "the request body is over 1048576 bytes, the most accepted",
        E::TooManyEvents => "101 events in one append; at most 100 are allowed",
        E::EventTooLarge => "event 0: the stored item would take 409856 bytes; DynamoDB allows 409600",
        E::EventsTooLarge => "the events would take 4194560 bytes; one DynamoDB transaction allows 4194304",
        E::InvalidEvent => "event 0: character_name is empty",
        E::InvalidCampaign => "name is empty",
        E::UnknownCampaign => "campaign_id 3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c names no campaign: create it first with POST /campaigns",
        E::CampaignNotFound => "campaign 3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c does not exist",
        E::NotInCampaign => "character 6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10 is not in this campaign",
        E::Unauthenticated => "sign in first: this request needs a verified identity (a bearer token)",
        E::Forbidden => "your role in this campaign does not allow this",
        E::MemberNotFound => "this campaign has no player with that sub",
        E::StoreError => "DynamoDB refused the request",
        E::CorruptItem => "a stored item does not decode",
        E::Throttled => "DynamoDB throttled the request; retry after 1 s",
        E::StoreUnreachable => "DynamoDB could not be reached; retry after 1 s",
        E::TransactionConflict => "other transactions are writing the same items; retry after 1 s",
        E::ServerBusy => "the server has as many connections as it takes; retry after 1 s",
        // A field that does not parse: what it must be, as the server says it.
        other => other.expectation(),
    }
}

/// The example body of a success (the one place the responses' examples are written).
fn success_example(endpoint: Endpoint, status: StatusCode) -> Option<Value> {
    let id = "eb3cefea-4c14-53d1-92ec-d92459133c76";
    let campaign = "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c";
    let event = |version: u64, hp: i64, note: &str| {
        json!({"version": version, "character_name": "Nuru", "hp_change": hp, "note": note,
               "event_id": "0f8b2c4e-5d6a-4b7c-8e9f-a0b1c2d3e4f5",
               "recorded_at": "2026-11-29T20:15:04.25Z", "snapshot": false})
    };
    Some(match endpoint {
        Endpoint::CreateCharacter => json!({"id": id, "events": [event(0, 8, "Init")]}),
        Endpoint::AppendEvents => json!({"id": id, "events": [
            event(1, -2, "Slashing damage from goblin"), event(2, -3, "bludgeoning damage from bugbear")]}),
        Endpoint::ReadEvents => json!({"id": id, "events": [event(0, 8, "Init"),
            event(1, -2, "Slashing damage from goblin")], "next_cursor": null}),
        Endpoint::GetCharacter => json!({"id": id, "character_name": "Nuru", "hp": 3, "version": 2,
            "campaign_id": campaign, "source": "snapshot"}),
        Endpoint::ListCharacters | Endpoint::CampaignCharacters => json!({"characters": [{"id": id,
            "character_name": "Nuru", "hp": 3, "version": 2, "last_hp_change": -3,
            "last_note": "bludgeoning damage from bugbear", "last_recorded_at": "2026-11-29T20:15:04.25Z",
            "campaign_id": campaign}], "next_cursor": null}),
        Endpoint::CreateCampaign | Endpoint::GetCampaign => json!({"id": campaign,
            "name": "Curse of Strahd", "dm_name": "Ana", "ruleset": "5e-2024"}),
        Endpoint::ListCampaigns => json!({"campaigns": [{"id": "00000000-0000-0000-0000-000000000000",
            "name": "Default campaign", "dm_name": "", "ruleset": "5e-2024"}, {"id": campaign,
            "name": "Curse of Strahd", "dm_name": "Ana", "ruleset": "5e-2024"}], "next_cursor": null}),
        Endpoint::ReadFeed | Endpoint::CampaignEvents => {
            let mut entry = event(0, 8, "Init");
            entry["position"] = json!("00000000000000000001");
            entry["id"] = json!(id);
            json!({"events": [entry], "next": "00000000000000000001"})
        }
        Endpoint::Damage => json!({"id": id, "event": {"version": 3, "character_name": "Nuru",
            "hp_change": -7, "note": "7 damage taken (14 fire, resisted)", "event_id":
            "0f8b2c4e-5d6a-4b7c-8e9f-a0b1c2d3e4f5", "recorded_at": "2026-11-29T20:15:04.25Z",
            "snapshot": false, "event_type": "damaged",
            "command": {"kind": "damage", "parts": [{"amount": 14, "type": "fire"}]},
            "outcome": {"type": "damaged", "parts": [{"amount": 14, "type": "fire", "taken": 7,
            "resisted": true}], "taken": 7, "hp_lost": 7, "concentration_dc": 10}},
            "state": {"character_name": "Nuru", "hp": 20, "version": 3, "max_hp": 27,
            "temp_hp": 0, "status": "up", "death_saves": {"successes": 0, "failures": 0},
            "ruleset": "5e-2024", "defences": {"resistances": ["fire"]}, "hit_dice": "3d10",
            "hit_dice_left": "3d10", "con_modifier": 2}, "concentration_dc": 10}),
        _ => return None,
    })
    .filter(|_| status.is_success())
}
