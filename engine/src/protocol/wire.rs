//! The generated wire types: one module per protobuf package of `engine/proto/`.
//!
//! The code is generated at build time (see `build.rs`) from Tandem's own schema. Well-known
//! types map to `prost-types` (`Timestamp`, `Struct`, `Value`, ...) and wrappers to options
//! (`google.protobuf.Int32Value` is an `Option<i32>`: `Some(0)` is a present wrapper). Maps are
//! `BTreeMap`s, so equal messages encode to equal bytes.

/// The Convergence schema. The envelope [`proto::ConvergenceMessage`] lives at the root; each
/// sub-package is a module.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/convergence.rs"));

    /// Package `convergence.core`: handshake, heartbeat, errors, identity data, permissions.
    pub mod core {
        include!(concat!(env!("OUT_DIR"), "/convergence.core.rs"));
    }
    /// Package `convergence.model`: real-time models, data values, operations, references.
    pub mod model {
        include!(concat!(env!("OUT_DIR"), "/convergence.model.rs"));
    }
    /// Package `convergence.identity`: users, groups, the identity cache.
    pub mod identity {
        include!(concat!(env!("OUT_DIR"), "/convergence.identity.rs"));
    }
    /// Package `convergence.activity`: activities and their participant state.
    pub mod activity {
        include!(concat!(env!("OUT_DIR"), "/convergence.activity.rs"));
    }
    /// Package `convergence.presence`: user presence.
    pub mod presence {
        include!(concat!(env!("OUT_DIR"), "/convergence.presence.rs"));
    }
    /// Package `convergence.chat`: chats, their events and history.
    pub mod chat {
        include!(concat!(env!("OUT_DIR"), "/convergence.chat.rs"));
    }
}

/// The compiled schema as an encoded `google.protobuf.FileDescriptorSet` (imports included),
/// for tools and schema checks.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/convergence_fds.bin"));

pub use proto::convergence_message::Body;
pub use proto::ConvergenceMessage;
