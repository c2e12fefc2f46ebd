//! The shared facade scenario (`tests/conformance/scenario.json`), run through the Rust facade.
//! The C, Node, Python and Kotlin tests run the same file through their bindings.

use serde_json::{json, Value as Json};
use tandem::api::{changes_from_json, Engine, EngineConfig, Error, NewUser};

fn s<'a>(args: &'a Json, k: &str) -> &'a str {
    args[k].as_str().unwrap_or_default()
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
            }
        }
    }
}
