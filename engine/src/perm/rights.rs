//! Model and collection rights and the order in which they are resolved.
//!
//! For user `u` on model `m` in collection `c` the first match wins:
//! 1. `u` is a convergence user (the host, the admin console): everything;
//! 2. `u`'s own entry on `m`;
//! 3. `u`'s own entry on `c` (its `create` flag does not apply to a model);
//! 4. `m`'s world permissions if `m` overrides its collection's, else `c`'s world permissions.
//!
//! There are no group-based model permissions.

use serde::{Deserialize, Serialize};

/// What a user may do with a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelRights {
    /// Open it, read its data and history, see who has it open.
    pub read: bool,
    /// Submit operations.
    pub write: bool,
    /// Delete it.
    pub remove: bool,
    /// Read and change its permissions.
    pub manage: bool,
}

impl ModelRights {
    /// Every right.
    pub const ALL: ModelRights = ModelRights {
        read: true,
        write: true,
        remove: true,
        manage: true,
    };
    /// No right.
    pub const NONE: ModelRights = ModelRights {
        read: false,
        write: false,
        remove: false,
        manage: false,
    };

    /// The permission strings (`read`, `write`, `remove`, `manage`) held.
    pub fn to_strings(self) -> Vec<String> {
        [
            ("manage", self.manage),
            ("read", self.read),
            ("remove", self.remove),
            ("write", self.write),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(p, _)| p.to_string())
        .collect()
    }

    /// The rights named in `strings` (other strings are ignored).
    pub fn from_strings<S: AsRef<str>>(strings: &[S]) -> Self {
        let has = |p: &str| strings.iter().any(|s| s.as_ref() == p);
        ModelRights {
            read: has("read"),
            write: has("write"),
            remove: has("remove"),
            manage: has("manage"),
        }
    }
}

/// What a user may do with a collection: the model rights it grants on every model in it,
/// plus creating models in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectionRights {
    /// Create models in it.
    pub create: bool,
    /// Read its models.
    pub read: bool,
    /// Edit its models.
    pub write: bool,
    /// Delete its models.
    pub remove: bool,
    /// Manage its models' permissions.
    pub manage: bool,
}

impl CollectionRights {
    /// Every right.
    pub const ALL: CollectionRights = CollectionRights {
        create: true,
        read: true,
        write: true,
        remove: true,
        manage: true,
    };

    /// The model rights it grants.
    pub fn model(self) -> ModelRights {
        ModelRights {
            read: self.read,
            write: self.write,
            remove: self.remove,
            manage: self.manage,
        }
    }

    /// The permission strings held (`create` plus the model ones).
    pub fn to_strings(self) -> Vec<String> {
        let mut out = self.model().to_strings();
        if self.create {
            out.push("create".into());
        }
        out.sort();
        out
    }

    /// The rights named in `strings` (other strings are ignored).
    pub fn from_strings<S: AsRef<str>>(strings: &[S]) -> Self {
        let m = ModelRights::from_strings(strings);
        CollectionRights {
            create: strings.iter().any(|s| s.as_ref() == "create"),
            read: m.read,
            write: m.write,
            remove: m.remove,
            manage: m.manage,
        }
    }
}

/// Everything that decides one user's rights on one model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelAcl {
    /// The user is a convergence user.
    pub convergence: bool,
    /// The user's own entry on the model.
    pub model_user: Option<ModelRights>,
    /// The user's own entry on the collection.
    pub collection_user: Option<CollectionRights>,
    /// Whether the model's world permissions override the collection's.
    pub override_world: bool,
    /// The model's world permissions.
    pub model_world: ModelRights,
    /// The collection's world permissions.
    pub collection_world: CollectionRights,
}

/// The user's rights on the model, in the order the module documents.
pub fn resolve(acl: &ModelAcl) -> ModelRights {
    if acl.convergence {
        return ModelRights::ALL;
    }
    if let Some(r) = acl.model_user {
        return r;
    }
    if let Some(r) = acl.collection_user {
        return r.model();
    }
    if acl.override_world {
        acl.model_world
    } else {
        acl.collection_world.model()
    }
}

/// Whether the user may create a model in an existing collection: convergence users may;
/// otherwise the user's own collection entry decides, failing that the collection's world.
pub fn may_create(
    convergence: bool,
    collection_user: Option<CollectionRights>,
    world: CollectionRights,
) -> bool {
    convergence || collection_user.unwrap_or(world).create
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R: ModelRights = ModelRights {
        read: true,
        write: false,
        remove: false,
        manage: false,
    };
    const RW: ModelRights = ModelRights {
        read: true,
        write: true,
        remove: false,
        manage: false,
    };

    fn coll(m: ModelRights, create: bool) -> CollectionRights {
        CollectionRights {
            create,
            read: m.read,
            write: m.write,
            remove: m.remove,
            manage: m.manage,
        }
    }

    #[test]
    fn each_level_wins_over_the_ones_below_it() {
        let none = ModelRights::NONE;
        // (convergence, model user, collection user, override, model world, collection world) -> expected
        type Row = (
            bool,
            Option<ModelRights>,
            Option<ModelRights>,
            bool,
            ModelRights,
            ModelRights,
            ModelRights,
        );
        let table: &[Row] = &[
            // Convergence users hold everything whatever the entries say.
            (
                true,
                Some(none),
                Some(none),
                true,
                none,
                none,
                ModelRights::ALL,
            ),
            // The model-user entry wins, even when it grants less than the levels below.
            (
                false,
                Some(R),
                Some(RW),
                true,
                ModelRights::ALL,
                ModelRights::ALL,
                R,
            ),
            (false, Some(none), None, false, none, ModelRights::ALL, none),
            // Without one, the collection-user entry.
            (false, None, Some(R), true, RW, ModelRights::ALL, R),
            (false, None, Some(none), false, none, ModelRights::ALL, none),
            // Without either, the model world if it overrides ...
            (false, None, None, true, R, ModelRights::ALL, R),
            (false, None, None, true, none, ModelRights::ALL, none),
            // ... else the collection world (the model world is then ignored).
            (false, None, None, false, ModelRights::ALL, R, R),
            (false, None, None, false, ModelRights::ALL, none, none),
        ];
        for (i, &(convergence, mu, cu, over, mw, cw, expected)) in table.iter().enumerate() {
            let acl = ModelAcl {
                convergence,
                model_user: mu,
                collection_user: cu.map(|m| coll(m, true)),
                override_world: over,
                model_world: mw,
                collection_world: coll(cw, true),
            };
            assert_eq!(resolve(&acl), expected, "row {i}: {acl:?}");
        }
    }

    #[test]
    fn create_comes_from_the_collection_user_entry_or_else_its_world() {
        let world_yes = coll(ModelRights::NONE, true);
        let world_no = coll(ModelRights::ALL, false);
        assert!(may_create(true, Some(world_no), world_no));
        assert!(may_create(false, None, world_yes));
        assert!(!may_create(false, None, world_no));
        assert!(may_create(false, Some(world_yes), world_no));
        // An entry without create refuses even when the world may.
        assert!(!may_create(false, Some(world_no), world_yes));
    }

    #[test]
    fn strings_round_trip() {
        for bits in 0u8..32 {
            let c = CollectionRights {
                create: bits & 1 != 0,
                read: bits & 2 != 0,
                write: bits & 4 != 0,
                remove: bits & 8 != 0,
                manage: bits & 16 != 0,
            };
            assert_eq!(CollectionRights::from_strings(&c.to_strings()), c);
            assert_eq!(
                ModelRights::from_strings(&c.model().to_strings()),
                c.model()
            );
        }
    }

    fn rights() -> impl Strategy<Value = ModelRights> {
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(read, write, remove, manage)| ModelRights {
                read,
                write,
                remove,
                manage,
            },
        )
    }

    /// The naive reading of the reference: each flag on its own, levels tried in order.
    fn naive(acl: &ModelAcl, flag: fn(&ModelRights) -> bool) -> bool {
        let levels: [Option<ModelRights>; 4] = [
            acl.convergence.then_some(ModelRights::ALL),
            acl.model_user,
            acl.collection_user.map(|c| c.model()),
            Some(if acl.override_world {
                acl.model_world
            } else {
                acl.collection_world.model()
            }),
        ];
        levels.iter().flatten().next().is_some_and(flag)
    }

    proptest! {
        #[test]
        fn resolution_equals_the_naive_reading(
            convergence in any::<bool>(),
            mu in proptest::option::of(rights()),
            cu in proptest::option::of((rights(), any::<bool>())),
            over in any::<bool>(),
            mw in rights(),
            cw in (rights(), any::<bool>()),
        ) {
            let acl = ModelAcl {
                convergence,
                model_user: mu,
                collection_user: cu.map(|(m, c)| coll(m, c)),
                override_world: over,
                model_world: mw,
                collection_world: coll(cw.0, cw.1),
            };
            let got = resolve(&acl);
            prop_assert_eq!(got.read, naive(&acl, |r| r.read));
            prop_assert_eq!(got.write, naive(&acl, |r| r.write));
            prop_assert_eq!(got.remove, naive(&acl, |r| r.remove));
            prop_assert_eq!(got.manage, naive(&acl, |r| r.manage));
        }
    }
}
