//! The shared facade scenario (`tests/conformance/scenario.json`), run through the Rust facade.
//! The C, Node, Python and Kotlin tests run the same file through their bindings.

use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};
use tandem::api::{changes_from_json, Engine, EngineConfig, Error, ErrorCode, NewUser, UserId};

fn s<'a>(args: &'a Json, k: &str) -> &'a str {
    args[k].as_str().unwrap_or_default()
}

/// A facade input type from a step's argument (as the bindings read their native objects).
fn arg<T: DeserializeOwned>(args: &Json, k: &str) -> Result<T, Error> {
    serde_json::from_value(args[k].clone())
        .map_err(|e| Error::new(ErrorCode::InvalidArgument, format!("{k}: {e}")))
}

fn out<T: serde::Serialize>(v: T) -> Option<Json> {
    Some(serde_json::to_value(v).expect("serializable"))
}

/// Whether `got` matches `want` as the scenario's `like` says: an object names some of the
/// result's fields, an array has its length and matching elements, anything else is equal.
fn like(got: &Json, want: &Json) -> bool {
    match (got, want) {
        (Json::Object(g), Json::Object(w)) => {
            w.iter().all(|(k, v)| g.get(k).is_some_and(|x| like(x, v)))
        }
        (Json::Array(g), Json::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(x, v)| like(x, v))
        }
        _ => got == want,
    }
}

/// A JWT's shape: three non-empty dot-separated base64url parts.
fn is_jwt(v: &Json) -> bool {
    let parts: Vec<&str> = v.as_str().unwrap_or_default().split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

async fn call(engine: &Engine, name: &str, a: &Json) -> Result<Option<Json>, Error> {
    let domain = || engine.domain(s(a, "namespace"), s(a, "domain"));
    Ok(match name {
        "create_domain" => {
            engine
                .create_domain(s(a, "namespace"), s(a, "domain"))
                .await?;
            None
        }
        "domains" => Some(json!(engine
            .domains()?
            .into_iter()
            .map(|(n, d)| vec![n, d])
            .collect::<Vec<_>>())),
        "create_collection" => {
            domain()?.create_collection(s(a, "collection")).await?;
            None
        }
        "collections" => Some(json!(domain()?.collections()?)),
        "create_user" => {
            domain()?
                .create_user(NewUser {
                    username: s(a, "username").into(),
                    password: a["password"].as_str().map(str::to_string),
                    ..NewUser::default()
                })
                .await?;
            None
        }
        "users" => Some(json!(domain()?
            .users()?
            .into_iter()
            .map(|u| u.username)
            .collect::<Vec<_>>())),
        "set_password" => {
            domain()?
                .set_password(s(a, "username"), s(a, "password"))
                .await?;
            None
        }
        "create_model" => {
            let m = domain()?
                .create_model(s(a, "collection"), a["model_id"].as_str(), &a["data"])
                .await?;
            Some(json!(m.id()))
        }
        "apply" => {
            let m = domain()?.model(s(a, "model_id"))?;
            Some(json!(m.apply(changes_from_json(&a["changes"])?).await?))
        }
        "model_json" => {
            let m = domain()?.model(s(a, "model_id"))?;
            Some(match a["version"].as_u64() {
                Some(v) => m.json_at(v)?,
                None => m.json().await?,
            })
        }
        "delete_model" => {
            domain()?.model(s(a, "model_id"))?.delete().await?;
            None
        }
        "undo" => {
            let m = domain()?.model(s(a, "model_id"))?;
            let scope = arg(a, "scope")?;
            out(if a["redo"].as_bool() == Some(true) {
                m.redo(scope).await?
            } else {
                m.undo(scope).await?
            })
        }
        "user" => out(domain()?.user(s(a, "username"))?),
        "update_user" => out(domain()?
            .update_user(s(a, "username"), arg(a, "profile")?)
            .await?),
        "set_user_disabled" => {
            let disabled = a["disabled"].as_bool().unwrap_or_default();
            domain()?
                .set_user_disabled(s(a, "username"), disabled)
                .await?;
            None
        }
        "create_group" => out(domain()?
            .create_group(s(a, "group"), s(a, "description"))
            .await?),
        "set_group_description" => {
            domain()?
                .set_group_description(s(a, "group"), s(a, "description"))
                .await?;
            None
        }
        "delete_group" => {
            domain()?.delete_group(s(a, "group")).await?;
            None
        }
        "group" => out(domain()?.group(s(a, "group"))?),
        "groups" => out(domain()?.groups()?),
        "add_group_member" => {
            let user: UserId = arg(a, "user")?;
            domain()?.add_group_member(s(a, "group"), &user).await?;
            None
        }
        "remove_group_member" => {
            let user: UserId = arg(a, "user")?;
            domain()?.remove_group_member(s(a, "group"), &user).await?;
            None
        }
        "user_groups" => out(domain()?.user_groups(&arg(a, "user")?)?),
        "presence" => {
            let users: Vec<UserId> = arg(a, "users")?;
            out(domain()?.presence(&users).await?)
        }
        "collection_permissions" => out(domain()?.collection_permissions(s(a, "collection"))?),
        "set_collection_world" => {
            let world = arg(a, "world")?;
            domain()?
                .set_collection_world(s(a, "collection"), world)
                .await?;
            None
        }
        "set_collection_user" => {
            let (user, rights): (UserId, _) = (arg(a, "user")?, arg(a, "rights")?);
            domain()?
                .set_collection_user(s(a, "collection"), &user, rights)
                .await?;
            None
        }
        "permissions" => out(domain()?.permissions(&arg(a, "target")?)?),
        "change_permissions" => {
            let (target, change) = (arg(a, "target")?, arg(a, "change")?);
            domain()?.change_permissions(&target, &change).await?;
            None
        }
        "resolve_permissions" => {
            let (target, user) = (arg(a, "target")?, arg(a, "user")?);
            out(domain()?.resolve_permissions(&target, &user)?)
        }
        "model_permissions" => out(domain()?.model(s(a, "model_id"))?.permissions()?),
        "set_model_permissions" => {
            let m = domain()?.model(s(a, "model_id"))?;
            m.set_permissions(arg(a, "change")?).await?;
            None
        }
        "rights_of" => out(domain()?
            .model(s(a, "model_id"))?
            .rights_of(&arg(a, "user")?)?),
        "settings" => out(domain()?.settings()?),
        "set_settings" => {
            domain()?.set_settings(arg(a, "settings")?).await?;
            None
        }
        "set_state" => {
            domain()?.set_state(arg(a, "state")?).await?;
            None
        }
        "admin_token" => {
            let ttl = a["ttl_secs"].as_u64().unwrap_or_default();
            out(domain()?.admin_token(s(a, "username"), ttl).await?)
        }
        "create_activity" => {
            let rows = arg(a, "permissions")?;
            domain()?
                .create_activity(s(a, "type"), s(a, "id"), rows)
                .await?;
            None
        }
        "delete_activity" => {
            domain()?.delete_activity(s(a, "type"), s(a, "id")).await?;
            None
        }
        "activity_exists" => out(domain()?.activity_exists(s(a, "type"), s(a, "id"))?),
        "activity_participants" => out(domain()?
            .activity_participants(s(a, "type"), s(a, "id"))
            .await?),
        "create_chat" => out(domain()?.create_chat(arg(a, "chat")?).await?),
        "direct_chat" => {
            let users: Vec<UserId> = arg(a, "users")?;
            out(domain()?.direct_chat(&users).await?)
        }
        "remove_chat" => {
            domain()?.remove_chat(s(a, "id")).await?;
            None
        }
        "chat" => out(domain()?.chat(s(a, "id")).await?),
        "chats" => out(domain()?.chats().await?),
        "add_chat_member" => {
            let user: UserId = arg(a, "user")?;
            domain()?.add_chat_member(s(a, "id"), &user).await?;
            None
        }
        "remove_chat_member" => {
            let user: UserId = arg(a, "user")?;
            domain()?.remove_chat_member(s(a, "id"), &user).await?;
            None
        }
        "set_chat_name" => {
            domain()?.set_chat_name(s(a, "id"), s(a, "name")).await?;
            None
        }
        "set_chat_topic" => {
            domain()?.set_chat_topic(s(a, "id"), s(a, "topic")).await?;
            None
        }
        "post_chat_message" => {
            let user: Option<UserId> = arg(a, "user")?;
            out(domain()?
                .post_chat_message(s(a, "id"), user.as_ref(), s(a, "text"))
                .await?)
        }
        "chat_history" => out(domain()?.chat_history(s(a, "id"), arg(a, "query")?).await?),
        "query" => {
            let user: Option<UserId> = arg(a, "user")?;
            let d = domain()?;
            out(match user {
                Some(u) => d.query_as(&u, s(a, "query"))?,
                None => d.query(s(a, "query"))?,
            })
        }
        "shutdown" => {
            engine.shutdown().await;
            None
        }
        other => panic!("unknown call {other}"),
    })
}

#[tokio::test]
async fn the_shared_scenario_passes_through_the_rust_facade() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/scenario.json"
    );
    let scenario: Json =
        serde_json::from_str(&std::fs::read_to_string(path).expect("scenario file")).expect("JSON");
    let engine = Engine::open(EngineConfig::default()).expect("engine");
    let steps = scenario["steps"].as_array().expect("steps");
    assert!(steps.len() > 20);
    for (i, step) in steps.iter().enumerate() {
        let name = step["call"].as_str().expect("call");
        let got = call(&engine, name, &step["args"]).await;
        let expect = &step["expect"];
        match (expect.get("error"), got) {
            (Some(code), Err(e)) => assert_eq!(e.code.as_str(), code, "step {i} {name}: {e}"),
            (Some(code), Ok(v)) => panic!("step {i} {name}: expected error {code}, got {v:?}"),
            (None, Err(e)) => panic!("step {i} {name}: unexpected error {e:?}"),
            (None, Ok(v)) => {
                if let Some(want) = expect.get("result") {
                    assert_eq!(v.as_ref(), Some(want), "step {i} {name}");
                }
                if let Some(want) = expect.get("like") {
                    let got = v.clone().unwrap_or_default();
                    assert!(
                        like(&got, want),
                        "step {i} {name}: {got} is not like {want}"
                    );
                }
                if let Some(shape) = expect.get("shape") {
                    assert_eq!(shape, "jwt", "step {i} {name}: unknown shape");
                    let got = v.clone().unwrap_or_default();
                    assert!(is_jwt(&got), "step {i} {name}: {got} is no JWT");
                }
            }
        }
    }
}
