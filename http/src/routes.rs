//! The route table and the router built from it: the only place routes are written.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use crate::error::ApiError;
use crate::wire::MAX_BODY_BYTES;
use crate::Api;
use crate::{campaigns, commands, handlers};

/// Which part of the route table a process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// The `append` Lambda: the POST routes.
    Append,
    /// The `query` Lambda: the GET routes.
    Query,
    /// The local run: every route.
    All,
}

impl Function {
    fn serves(self, route: &Route) -> bool {
        self == Function::All || self == route.function
    }
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    CreateCharacter,
    AppendEvents,
    ReadEvents,
    GetCharacter,
    ListCharacters,
    ReadFeed,
    OpenApi,
    Damage,
    Healing,
    TempHp,
    MaxHp,
    DeathSaves,
    Stabilize,
    Revive,
    Rests,
    Rules,
    Defences,
    HitDice,
    Undo,
    DamageMany,
    CreateCampaign,
    ListCampaigns,
    GetCampaign,
    CampaignCharacters,
    CampaignEvents,
    MoveCharacter,
    Invite,
    JoinCampaign,
    ListMembers,
    AssignMember,
    RemoveMember,
}

/// One row of the route table.
#[derive(Debug)]
pub struct Route {
    pub method: Method,
    /// The path as API Gateway and axum write it, e.g. `/characters/{id}/events`.
    pub path: &'static str,
    /// The Lambda that serves it.
    pub function: Function,
    pub(crate) endpoint: Endpoint,
}

/// The route table: every route, and the function that serves it.
pub const ROUTES: [Route; 31] = [
    Route {
        method: Method::POST,
        path: "/characters",
        function: Function::Append,
        endpoint: Endpoint::CreateCharacter,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/events",
        function: Function::Append,
        endpoint: Endpoint::AppendEvents,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/damage",
        function: Function::Append,
        endpoint: Endpoint::Damage,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/healing",
        function: Function::Append,
        endpoint: Endpoint::Healing,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/temp-hp",
        function: Function::Append,
        endpoint: Endpoint::TempHp,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/max-hp",
        function: Function::Append,
        endpoint: Endpoint::MaxHp,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/death-saves",
        function: Function::Append,
        endpoint: Endpoint::DeathSaves,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/stabilize",
        function: Function::Append,
        endpoint: Endpoint::Stabilize,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/revive",
        function: Function::Append,
        endpoint: Endpoint::Revive,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/rests",
        function: Function::Append,
        endpoint: Endpoint::Rests,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/rules",
        function: Function::Append,
        endpoint: Endpoint::Rules,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/defences",
        function: Function::Append,
        endpoint: Endpoint::Defences,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/hit-dice",
        function: Function::Append,
        endpoint: Endpoint::HitDice,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/undo",
        function: Function::Append,
        endpoint: Endpoint::Undo,
    },
    Route {
        method: Method::POST,
        path: "/damage",
        function: Function::Append,
        endpoint: Endpoint::DamageMany,
    },
    Route {
        method: Method::POST,
        path: "/characters/{id}/campaign",
        function: Function::Append,
        endpoint: Endpoint::MoveCharacter,
    },
    Route {
        method: Method::POST,
        path: "/campaigns",
        function: Function::Append,
        endpoint: Endpoint::CreateCampaign,
    },
    Route {
        method: Method::POST,
        path: "/campaigns/{id}/invite",
        function: Function::Append,
        endpoint: Endpoint::Invite,
    },
    Route {
        method: Method::POST,
        path: "/campaigns/{id}/members",
        function: Function::Append,
        endpoint: Endpoint::JoinCampaign,
    },
    Route {
        method: Method::PUT,
        path: "/campaigns/{id}/members/{sub}",
        function: Function::Append,
        endpoint: Endpoint::AssignMember,
    },
    Route {
        method: Method::DELETE,
        path: "/campaigns/{id}/members/{sub}",
        function: Function::Append,
        endpoint: Endpoint::RemoveMember,
    },
    Route {
        method: Method::GET,
        path: "/campaigns/{id}/members",
        function: Function::Query,
        endpoint: Endpoint::ListMembers,
    },
    Route {
        method: Method::GET,
        path: "/characters/{id}/events",
        function: Function::Query,
        endpoint: Endpoint::ReadEvents,
    },
    Route {
        method: Method::GET,
        path: "/characters/{id}",
        function: Function::Query,
        endpoint: Endpoint::GetCharacter,
    },
    Route {
        method: Method::GET,
        path: "/characters",
        function: Function::Query,
        endpoint: Endpoint::ListCharacters,
    },
    Route {
        method: Method::GET,
        path: "/events",
        function: Function::Query,
        endpoint: Endpoint::ReadFeed,
    },
    Route {
        method: Method::GET,
        path: "/campaigns",
        function: Function::Query,
        endpoint: Endpoint::ListCampaigns,
    },
    Route {
        method: Method::GET,
        path: "/campaigns/{id}",
        function: Function::Query,
        endpoint: Endpoint::GetCampaign,
    },
    Route {
        method: Method::GET,
        path: "/campaigns/{id}/characters",
        function: Function::Query,
        endpoint: Endpoint::CampaignCharacters,
    },
    Route {
        method: Method::GET,
        path: "/campaigns/{id}/events",
        function: Function::Query,
        endpoint: Endpoint::CampaignEvents,
    },
    Route {
        method: Method::GET,
        path: "/openapi.json",
        function: Function::Query,
        endpoint: Endpoint::OpenApi,
    },
];

impl Route {
    /// The route's handler behind its guard (see [`crate::access`]).
    fn method_router(&self, api: &Arc<Api>) -> MethodRouter<Arc<Api>> {
        self.handler().route_layer(middleware::from_fn_with_state(
            (api.clone(), self.endpoint),
            crate::access::check,
        ))
    }

    fn handler(&self) -> MethodRouter<Arc<Api>> {
        let filter = match self.method {
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        };
        match self.endpoint {
            Endpoint::CreateCharacter => on(filter, handlers::create_character),
            Endpoint::AppendEvents => on(filter, handlers::append_events),
            Endpoint::ReadEvents => on(filter, handlers::read_events),
            Endpoint::GetCharacter => on(filter, handlers::character),
            Endpoint::ListCharacters => on(filter, handlers::list_characters),
            Endpoint::ReadFeed => on(filter, handlers::read_feed),
            Endpoint::OpenApi => on(filter, handlers::openapi),
            Endpoint::Damage => on(filter, commands::damage),
            Endpoint::Healing => on(filter, commands::healing),
            Endpoint::TempHp => on(filter, commands::temp_hp),
            Endpoint::MaxHp => on(filter, commands::max_hp),
            Endpoint::DeathSaves => on(filter, commands::death_save),
            Endpoint::Stabilize => on(filter, commands::stabilize),
            Endpoint::Revive => on(filter, commands::revive),
            Endpoint::Rests => on(filter, commands::rest),
            Endpoint::Rules => on(filter, commands::rules),
            Endpoint::Defences => on(filter, commands::defences),
            Endpoint::HitDice => on(filter, commands::hit_dice),
            Endpoint::Undo => on(filter, commands::undo),
            Endpoint::DamageMany => on(filter, commands::damage_many),
            Endpoint::CreateCampaign => on(filter, campaigns::create_campaign),
            Endpoint::ListCampaigns => on(filter, campaigns::list_campaigns),
            Endpoint::GetCampaign => on(filter, campaigns::get_campaign),
            Endpoint::CampaignCharacters => on(filter, campaigns::campaign_characters),
            Endpoint::CampaignEvents => on(filter, campaigns::campaign_events),
            Endpoint::MoveCharacter => on(filter, campaigns::move_character),
            Endpoint::Invite => on(filter, campaigns::invite),
            Endpoint::JoinCampaign => on(filter, campaigns::join),
            Endpoint::ListMembers => on(filter, campaigns::members),
            Endpoint::AssignMember => on(filter, campaigns::assign),
            Endpoint::RemoveMember => on(filter, campaigns::remove),
        }
    }
}

/// The routes of `function`, each also with a trailing slash; a known path with another method
/// is a 405 whose `Allow` lists the methods it takes; anything else a 404. Every answer is JSON.
pub(crate) fn router(api: Arc<Api>, function: Function) -> Router {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in ROUTES.iter().filter(|r| function.serves(r)) {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    let mut router = Router::new();
    for path in paths {
        let routes: Vec<&Route> = ROUTES
            .iter()
            .filter(|r| r.path == path && function.serves(r))
            .collect();
        let allow = routes
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let methods = routes
            .iter()
            .fold(MethodRouter::new(), |methods, route| {
                methods.merge(route.method_router(&api))
            })
            .fallback(
                move |method: Method| async move { ApiError::MethodNotAllowed { method, allow } },
            );
        router = router
            .route(path, methods.clone())
            .route(&format!("{path}/"), methods);
    }
    // The screen, where the GET routes are served.
    if function != Function::Append {
        router = router.merge(crate::screen::router(api.sign_in.as_ref()));
    }
    let metrics = api.metrics.clone();
    let router = router
        .fallback(|uri: Uri| async move { ApiError::RouteNotFound(uri.path().to_owned()) })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    let router = match metrics {
        Some(metrics) => router.layer(middleware::from_fn_with_state(
            (metrics, function),
            crate::metrics::record,
        )),
        None => router,
    };
    router
        .layer(middleware::from_fn(crate::access::identify))
        .layer(middleware::from_fn(log_request))
        .with_state(api)
}

/// One log line per request: the route's template (never the path a client sent, which may
/// carry anything), the method and the status.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route = route.as_deref().unwrap_or("(none)"),
        status = response.status().as_u16(),
        "request"
    );
    response
}
