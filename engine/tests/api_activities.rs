//! Activities through the host facade: create, exists, participants, permissions on an
//! activity (reading and changing a missing one is `NotFound`), delete.

use tandem::api::{
    Engine, EngineConfig, ErrorCode, NewUser, PermissionChange, Target, TargetPermissions, UserId,
};

fn activity(id: &str) -> Target {
    Target::Activity {
        activity_type: "doc".into(),
        id: id.into(),
    }
}

#[tokio::test]
async fn activities_are_created_read_and_deleted_and_missing_ones_are_not_found() {
    let engine = Engine::open(EngineConfig::default()).unwrap();
    let d = engine.create_domain("acme", "docs").await.unwrap();
    d.create_user(NewUser {
        username: "dave".into(),
        ..NewUser::default()
    })
    .await
    .unwrap();
    assert!(!d.activity_exists("doc", "a1").unwrap());

    let rows = TargetPermissions {
        world: vec!["join".into(), "lurk".into()],
        users: vec![(UserId::normal("dave"), vec!["manage".into()])],
        groups: vec![],
    };
    d.create_activity("doc", "a1", rows.clone()).await.unwrap();
    assert!(d.activity_exists("doc", "a1").unwrap());
    assert_eq!(d.activity_participants("doc", "a1").await.unwrap(), vec![]);
    assert_eq!(d.permissions(&activity("a1")).unwrap(), rows);

    let remove = PermissionChange::Remove(TargetPermissions {
        world: vec!["lurk".into()],
        ..TargetPermissions::default()
    });
    d.change_permissions(&activity("a1"), &remove)
        .await
        .unwrap();
    assert_eq!(d.permissions(&activity("a1")).unwrap().world, vec!["join"]);

    d.delete_activity("doc", "a1").await.unwrap();
    assert!(!d.activity_exists("doc", "a1").unwrap());

    // A missing activity: reading its rows agrees with changing them.
    let err = d.permissions(&activity("a1")).err().unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = d.change_permissions(&activity("a1"), &remove).await.err();
    assert_eq!(err.unwrap().code, ErrorCode::NotFound);
    let err = d.delete_activity("doc", "a1").await.err().unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = d.activity_participants("doc", "a1").await.err().unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);
}
