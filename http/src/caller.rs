//! Who is calling, as API Gateway verified it before the request reached the function: its JWT
//! authorizer's claims (a signed-in person: the `sub` claim; claims arrive as strings, and roles
//! never come from them), or its IAM authorizer (an operator: the principal's ARN). Nothing the
//! client sends (a header, a parameter) says who it is.

use hitpoints::access::Caller;
use lambda_http::request::RequestContext;

/// The caller of a request with this context (`None`: not from API Gateway, so nobody).
pub fn from_lambda(context: Option<&RequestContext>) -> Caller {
    let Some(RequestContext::ApiGatewayV2(context)) = context else {
        return Caller::Anonymous;
    };
    let Some(authorizer) = &context.authorizer else {
        return Caller::Anonymous;
    };
    if let Some(jwt) = &authorizer.jwt {
        return match jwt.claims.get("sub").filter(|sub| !sub.trim().is_empty()) {
            Some(sub) => Caller::Person { sub: sub.clone() },
            None => Caller::Anonymous,
        };
    }
    match authorizer
        .iam
        .as_ref()
        .and_then(|iam| iam.user_arn.clone())
        .filter(|arn| !arn.trim().is_empty())
    {
        Some(principal) => Caller::Operator { principal },
        None => Caller::Anonymous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
    use serde_json::{json, Value};

    /// An HTTP API payload 2.0 event with `authorizer` in its request context, and a header a
    /// client could send to pretend.
    fn caller_of(authorizer: Option<Value>) -> Caller {
        let mut event: Value =
            serde_json::from_str(include_str!("../../events/apigw-get-character.json"))
                .expect("a sample");
        event["headers"]["x-user-sub"] = json!("someone-else");
        event["headers"]["authorization"] = json!("Bearer forged");
        match authorizer {
            Some(authorizer) => event["requestContext"]["authorizer"] = authorizer,
            None => {
                if let Some(context) = event["requestContext"].as_object_mut() {
                    context.remove("authorizer");
                }
            }
        }
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event");
        from_lambda(request.request_context_ref())
    }

    #[test]
    fn the_caller_is_what_api_gateway_verified_and_nothing_else() {
        // Cognito's access token, as the JWT authorizer passes its claims: all strings.
        let person = caller_of(Some(json!({"jwt": {
            "claims": {"sub": "7d2f6c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6", "client_id": "abc",
                       "cognito:groups": "[admins]", "exp": "1796000000"},
            "scopes": ["openid"]
        }})));
        assert_eq!(
            person,
            Caller::Person {
                sub: "7d2f6c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6".into()
            }
        );
        // A token without a subject is nobody (a group claim makes no one an operator).
        assert_eq!(
            caller_of(Some(
                json!({"jwt": {"claims": {"cognito:groups": "admins", "sub": " "}}})
            )),
            Caller::Anonymous
        );
        // SigV4 through the IAM authorizer: an operator.
        let arn = "arn:aws:iam::123456789012:user/ops";
        assert_eq!(
            caller_of(Some(
                json!({"iam": {"accountId": "123456789012", "userArn": arn,
                "callerId": "AIDAEXAMPLE", "accessKey": "AKIAEXAMPLE"}})
            )),
            Caller::Operator {
                principal: arn.into()
            }
        );
        // No authorizer: nobody, whatever the headers say.
        assert_eq!(caller_of(None), Caller::Anonymous);
        assert_eq!(from_lambda(None), Caller::Anonymous);
    }
}
