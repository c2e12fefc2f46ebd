//! Frame codec: one WebSocket binary frame <-> one [`Envelope`].
//!
//! Decoding is plain protobuf, with two additions: a frame without a known body is an error
//! (the client never sends one; the error keeps the ids so the caller can still answer), and
//! [`message_class`] tells requests, responses and normal messages apart.
//!
//! Encoding is prost's proto3 encoding (fields in number order, default scalars left out, maps
//! in key order) plus one guarantee prost does not give: **every map entry whose value is a
//! message carries its value (field 2), even when that message is empty.** prost skips map
//! values equal to their default, and the client's protobufjs decoder then throws on the entry
//! and drops the whole frame. The maps concerned are listed in [`EMPTY_VALUE_MAPS`]; maps of
//! `DataValue` and `google.protobuf.Value` are safe because a valid value always has its oneof
//! set, so it is never default.
//!
//! Presence rules worth knowing when reading an [`Envelope`]:
//! - `request_id` / `response_id` are `google.protobuf.Int32Value` wrappers, generated as
//!   `Option<i32>`. A present wrapper is `Some`, whatever it holds: the client's first request
//!   arrives as `0a 02 08 00` and decodes to `request_id: Some(0)`; a server-style empty wrapper
//!   `12 00` decodes to `response_id: Some(0)`. Presence, never the value, makes a request.
//! - Oneof members are written even when their content is default (`ok {}` is `1a 00`,
//!   `Value{null_value: 0}` is `08 00`), because prost keeps them as `Some`.
//! - The client writes default scalars explicitly (`resourceId: 0` as `08 00`). They decode to
//!   the same message as an omitted field, so re-encoding such a frame gives shorter, equal
//!   bytes.

use prost::bytes::Buf;
use prost::encoding::{decode_varint, encode_varint, WireType};
use prost::Message;
use thiserror::Error;

use super::wire::proto::model as pm;
pub use super::wire::Body;
use super::wire::ConvergenceMessage;

/// One protocol message: the envelope of a frame (`requestId`, `responseId`, `body`).
pub type Envelope = ConvergenceMessage;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// The bytes are not a valid protobuf encoding of a `ConvergenceMessage`.
    #[error("malformed frame: {0}")]
    Malformed(#[from] prost::DecodeError),
    /// The frame is valid protobuf but holds no body this schema knows (an empty frame, or an
    /// unknown body number). The ids, if any, are kept so a request can still be answered.
    #[error(
        "frame has no known message body (request id {request_id:?}, response id {response_id:?})"
    )]
    NoBody {
        /// The frame's request id, if present.
        request_id: Option<i32>,
        /// The frame's response id, if present.
        response_id: Option<i32>,
    },
    /// The ids do not fit the body's class (see [`check_ids`]).
    #[error("{body} is a {class:?} message but has request id {request_id:?} and response id {response_id:?}")]
    IdsMismatch {
        /// The body's name in the protocol (`connectionRequest`, ...).
        body: &'static str,
        /// The body's class.
        class: MessageClass,
        /// The frame's request id, if present.
        request_id: Option<i32>,
        /// The frame's response id, if present.
        response_id: Option<i32>,
    },
}

/// Decodes one binary frame.
///
/// Never panics, whatever the bytes. Unknown fields are skipped, as in any protobuf decoder;
/// a frame left without a body is [`CodecError::NoBody`].
pub fn decode(frame: &[u8]) -> Result<Envelope, CodecError> {
    let msg = ConvergenceMessage::decode(frame)?;
    if msg.body.is_none() {
        return Err(CodecError::NoBody {
            request_id: msg.request_id,
            response_id: msg.response_id,
        });
    }
    Ok(msg)
}

/// Encodes one message as the bytes of one binary frame.
///
/// Map entries whose value is an empty message still carry the value (see the module docs).
pub fn encode(msg: &Envelope) -> Vec<u8> {
    let bytes = msg.encode_to_vec();
    let Some(body) = &msg.body else {
        return bytes;
    };
    let tag = body_tag(body);
    match EMPTY_VALUE_MAPS
        .iter()
        .find(|(body_tag, _)| *body_tag == tag)
    {
        Some((_, path)) => {
            let mut full_path = Vec::with_capacity(path.len() + 1);
            full_path.push(tag);
            full_path.extend_from_slice(path);
            // Our own prost output always parses; keep it unchanged should that ever fail.
            with_map_values(&bytes, &full_path).unwrap_or(bytes)
        }
        None => bytes,
    }
}

/// Field number of `remoteOperation` in the envelope.
const REMOTE_OPERATION_TAG: u32 = 113;

/// The part of a `remoteOperation` that is the same for every recipient: the encoded
/// `RemoteOperationMessage` without its `resource_id` (field 1), which each connection numbers
/// itself. [`remote_operation_frame`] completes it for one recipient.
pub fn remote_operation_shared(mut msg: pm::RemoteOperationMessage) -> Vec<u8> {
    msg.resource_id = 0;
    msg.encode_to_vec()
}

/// One recipient's `remoteOperation` frame, from [`remote_operation_shared`]'s bytes: the same
/// bytes as `encode(&normal(Body::RemoteOperation(msg)))` for the message with this
/// `resource_id`. Protobuf writes fields in number order and a message is the concatenation of
/// its fields, so field 1 goes in front of the shared fields 2 to 5, and the envelope (no ids,
/// body only) is the body's key and length in front of that.
pub fn remote_operation_frame(resource_id: i32, shared: &[u8]) -> Vec<u8> {
    let resource_len = if resource_id != 0 {
        prost::encoding::int32::encoded_len(1, &resource_id)
    } else {
        0
    };
    let body_len = resource_len + shared.len();
    let mut out = Vec::with_capacity(
        prost::encoding::key_len(REMOTE_OPERATION_TAG)
            + prost::encoding::encoded_len_varint(body_len as u64)
            + body_len,
    );
    prost::encoding::encode_key(REMOTE_OPERATION_TAG, WireType::LengthDelimited, &mut out);
    encode_varint(body_len as u64, &mut out);
    if resource_id != 0 {
        prost::encoding::int32::encode(1, &resource_id, &mut out);
    }
    out.extend_from_slice(shared);
    out
}

/// A request (carries `requestId`, from either side).
pub fn request(request_id: i32, body: Body) -> Envelope {
    Envelope {
        request_id: Some(request_id),
        response_id: None,
        body: Some(body),
    }
}

/// A reply to the request with this id (carries `responseId`).
pub fn response(response_id: i32, body: Body) -> Envelope {
    Envelope {
        request_id: None,
        response_id: Some(response_id),
        body: Some(body),
    }
}

/// A normal (one-way) message: no ids.
pub fn normal(body: Body) -> Envelope {
    Envelope {
        request_id: None,
        response_id: None,
        body: Some(body),
    }
}

// ---------------------------------------------------------------------------------------------
// Message classes
// ---------------------------------------------------------------------------------------------

/// How a body travels (the protocol reference's message table, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// Carries `requestId` and expects a reply with the same id as `responseId`. Includes the
    /// one server-initiated request, `modelAutoCreateConfigRequest`.
    Request,
    /// Carries `responseId` only. Includes the client's `modelAutoCreateConfigResponse`.
    Response,
    /// One-way: neither id.
    Normal,
    /// `error`: a failed reply when it carries `responseId`, an unsolicited error without ids.
    ResponseOrNormal,
}

/// Checks that the envelope's ids fit its body's class, as the reference server does before
/// dispatching (it closes the socket otherwise): a request has `requestId` and no
/// `responseId`, a response the reverse, a normal message neither. Returns the class.
pub fn check_ids(msg: &Envelope) -> Result<MessageClass, CodecError> {
    let Some(body) = &msg.body else {
        return Err(CodecError::NoBody {
            request_id: msg.request_id,
            response_id: msg.response_id,
        });
    };
    let class = message_class(body);
    let ok = matches!(
        (class, msg.request_id.is_some(), msg.response_id.is_some()),
        (MessageClass::Request, true, false)
            | (MessageClass::Response, false, true)
            | (MessageClass::Normal, false, false)
            | (MessageClass::ResponseOrNormal, false, _)
    );
    if ok {
        Ok(class)
    } else {
        Err(CodecError::IdsMismatch {
            body: body_name(body),
            class,
            request_id: msg.request_id,
            response_id: msg.response_id,
        })
    }
}

/// Declares every body once: its variant, field number in the envelope, protocol name and
/// class. The matches are exhaustive, so a body added to the schema must be added here.
macro_rules! bodies {
    ($($variant:ident = $tag:literal, $name:literal, $class:ident;)*) => {
        /// The class of a body: request, response or normal (§7 of the protocol reference).
        pub fn message_class(body: &Body) -> MessageClass {
            match body {
                $(Body::$variant(_) => MessageClass::$class,)*
            }
        }

        /// The body's field number in the envelope (`ok` is 3, `connectionRequest` 7, ...).
        pub fn body_tag(body: &Body) -> u32 {
            match body {
                $(Body::$variant(_) => $tag,)*
            }
        }

        /// The body's name in the protocol, as the client spells it (`connectionRequest`).
        pub fn body_name(body: &Body) -> &'static str {
            match body {
                $(Body::$variant(_) => $name,)*
            }
        }
    };
}

bodies! {
    Ok = 3, "ok", Response;
    Error = 4, "error", ResponseOrNormal;
    Ping = 5, "ping", Normal;
    Pong = 6, "pong", Normal;
    ConnectionRequest = 7, "connectionRequest", Request;
    ConnectionResponse = 8, "connectionResponse", Response;
    ServerTimeRequest = 20, "serverTimeRequest", Request;
    ServerTimeResponse = 21, "serverTimeResponse", Response;
    OpenRealTimeModelRequest = 100, "openRealTimeModelRequest", Request;
    OpenRealTimeModelResponse = 101, "openRealTimeModelResponse", Response;
    CloseRealTimeModelRequest = 102, "closeRealTimeModelRequest", Request;
    CloseRealTimeModelResponse = 103, "closeRealTimeModelResponse", Response;
    CreateRealTimeModelRequest = 104, "createRealTimeModelRequest", Request;
    CreateRealTimeModelResponse = 105, "createRealTimeModelResponse", Response;
    DeleteRealtimeModelRequest = 106, "deleteRealtimeModelRequest", Request;
    DeleteRealtimeModelResponse = 107, "deleteRealtimeModelResponse", Response;
    ForceCloseRealTimeModel = 108, "forceCloseRealTimeModel", Normal;
    RemoteClientOpenedModel = 109, "remoteClientOpenedModel", Normal;
    RemoteClientClosedModel = 110, "remoteClientClosedModel", Normal;
    ModelAutoCreateConfigRequest = 111, "modelAutoCreateConfigRequest", Request;
    ModelAutoCreateConfigResponse = 112, "modelAutoCreateConfigResponse", Response;
    RemoteOperation = 113, "remoteOperation", Normal;
    OperationSubmission = 114, "operationSubmission", Normal;
    OperationAck = 115, "operationAck", Normal;
    ShareReference = 116, "shareReference", Normal;
    SetReference = 117, "setReference", Normal;
    ClearReference = 118, "clearReference", Normal;
    UnshareReference = 119, "unshareReference", Normal;
    ReferenceShared = 120, "referenceShared", Normal;
    ReferenceSet = 121, "referenceSet", Normal;
    ReferenceCleared = 122, "referenceCleared", Normal;
    ReferenceUnshared = 123, "referenceUnshared", Normal;
    ModelsQueryRequest = 124, "modelsQueryRequest", Request;
    ModelsQueryResponse = 125, "modelsQueryResponse", Response;
    GetModelPermissionsRequest = 126, "getModelPermissionsRequest", Request;
    GetModelPermissionsResponse = 127, "getModelPermissionsResponse", Response;
    SetModelPermissionsRequest = 128, "setModelPermissionsRequest", Request;
    SetModelPermissionsResponse = 129, "setModelPermissionsResponse", Response;
    ModelPermissionsChanged = 130, "modelPermissionsChanged", Normal;
    ModelResyncRequest = 131, "modelResyncRequest", Request;
    ModelResyncResponse = 132, "modelResyncResponse", Response;
    ModelResyncClientComplete = 133, "modelResyncClientComplete", Normal;
    ModelResyncServerComplete = 134, "modelResyncServerComplete", Normal;
    RemoteClientResyncStarted = 135, "remoteClientResyncStarted", Normal;
    RemoteClientResyncCompleted = 136, "remoteClientResyncCompleted", Normal;
    ModelOfflineSubscriptionChange = 137, "modelOfflineSubscriptionChange", Request;
    ModelOfflineUpdated = 138, "modelOfflineUpdated", Normal;
    HistoricalDataRequest = 139, "historicalDataRequest", Request;
    HistoricalDataResponse = 140, "historicalDataResponse", Response;
    HistoricalOperationsRequest = 141, "historicalOperationsRequest", Request;
    HistoricalOperationsResponse = 142, "historicalOperationsResponse", Response;
    ModelGetVersionAtTimeRequest = 143, "modelGetVersionAtTimeRequest", Request;
    ModelGetVersionAtTimeResponse = 144, "modelGetVersionAtTimeResponse", Response;
    IdentityCacheUpdate = 200, "identityCacheUpdate", Normal;
    UsersGetRequest = 201, "usersGetRequest", Request;
    UserSearchRequest = 202, "userSearchRequest", Request;
    UserListResponse = 203, "userListResponse", Response;
    UserGroupsRequest = 204, "userGroupsRequest", Request;
    UserGroupsResponse = 205, "userGroupsResponse", Response;
    UserGroupsForUsersRequest = 206, "userGroupsForUsersRequest", Request;
    UserGroupsForUsersResponse = 207, "userGroupsForUsersResponse", Response;
    ActivityParticipantsRequest = 300, "activityParticipantsRequest", Request;
    ActivityParticipantsResponse = 301, "activityParticipantsResponse", Response;
    ActivityCreateRequest = 302, "activityCreateRequest", Request;
    ActivityDeleteRequest = 304, "activityDeleteRequest", Request;
    ActivityJoinRequest = 306, "activityJoinRequest", Request;
    ActivityJoinResponse = 307, "activityJoinResponse", Response;
    ActivityLeaveRequest = 308, "activityLeaveRequest", Request;
    ActivitySessionJoined = 310, "activitySessionJoined", Normal;
    ActivitySessionLeft = 311, "activitySessionLeft", Normal;
    ActivityUpdateState = 312, "activityUpdateState", Normal;
    ActivityStateUpdated = 313, "activityStateUpdated", Normal;
    ActivityDeleted = 314, "activityDeleted", Normal;
    ActivityForceLeave = 315, "activityForceLeave", Normal;
    PresenceSetState = 400, "presenceSetState", Normal;
    PresenceRemoveState = 401, "presenceRemoveState", Normal;
    PresenceClearState = 402, "presenceClearState", Normal;
    PresenceStateSet = 403, "presenceStateSet", Normal;
    PresenceStateRemoved = 404, "presenceStateRemoved", Normal;
    PresenceStateCleared = 405, "presenceStateCleared", Normal;
    PresenceAvailabilityChanged = 406, "presenceAvailabilityChanged", Normal;
    PresenceRequest = 407, "presenceRequest", Request;
    PresenceResponse = 408, "presenceResponse", Response;
    PresenceSubscribeRequest = 409, "presenceSubscribeRequest", Request;
    PresenceSubscribeResponse = 410, "presenceSubscribeResponse", Response;
    PresenceUnsubscribe = 411, "presenceUnsubscribe", Normal;
    CreateChatRequest = 500, "createChatRequest", Request;
    CreateChatResponse = 501, "createChatResponse", Response;
    RemoveChatRequest = 502, "removeChatRequest", Request;
    RemoveChatResponse = 503, "removeChatResponse", Response;
    ChatRemoved = 504, "chatRemoved", Normal;
    GetChatsRequest = 505, "getChatsRequest", Request;
    GetChatsResponse = 506, "getChatsResponse", Response;
    ChatsExistRequest = 507, "chatsExistRequest", Request;
    ChatsExistResponse = 508, "chatsExistResponse", Response;
    GetDirectChatsRequest = 509, "getDirectChatsRequest", Request;
    GetDirectChatsResponse = 510, "getDirectChatsResponse", Response;
    GetJoinedChatsRequest = 511, "getJoinedChatsRequest", Request;
    GetJoinedChatsResponse = 512, "getJoinedChatsResponse", Response;
    ChatsSearchRequest = 513, "chatsSearchRequest", Request;
    ChatsSearchResponse = 514, "chatsSearchResponse", Response;
    JoinChatRequest = 515, "joinChatRequest", Request;
    JoinChatResponse = 516, "joinChatResponse", Response;
    UserJoinedChat = 517, "userJoinedChat", Normal;
    LeaveChatRequest = 518, "leaveChatRequest", Request;
    LeaveChatResponse = 519, "leaveChatResponse", Response;
    UserLeftChat = 520, "userLeftChat", Normal;
    AddUserToChatRequest = 521, "addUserToChatRequest", Request;
    AddUserToChatResponse = 522, "addUserToChatResponse", Response;
    UserAddedToChat = 523, "userAddedToChat", Normal;
    RemoveUserFromChatRequest = 524, "removeUserFromChatRequest", Request;
    RemoveUserFromChatResponse = 525, "removeUserFromChatResponse", Response;
    UserRemovedFromChat = 526, "userRemovedFromChat", Normal;
    SetChatNameRequest = 527, "setChatNameRequest", Request;
    SetChatNameResponse = 528, "setChatNameResponse", Response;
    ChatNameChanged = 529, "chatNameChanged", Normal;
    SetChatTopicRequest = 530, "setChatTopicRequest", Request;
    SetChatTopicResponse = 531, "setChatTopicResponse", Response;
    ChatTopicChanged = 532, "chatTopicChanged", Normal;
    MarkChatEventsSeenRequest = 533, "markChatEventsSeenRequest", Request;
    MarkChatEventsSeenResponse = 534, "markChatEventsSeenResponse", Response;
    ChatEventsMarkedSeen = 535, "chatEventsMarkedSeen", Normal;
    PublishChatMessageRequest = 536, "publishChatMessageRequest", Request;
    PublishChatMessageResponse = 537, "publishChatMessageResponse", Response;
    RemoteChatMessage = 538, "remoteChatMessage", Normal;
    GetChatHistoryRequest = 539, "getChatHistoryRequest", Request;
    GetChatHistoryResponse = 540, "getChatHistoryResponse", Response;
    ResolvePermissionsForConnectedSessionRequest = 601, "resolvePermissionsForConnectedSessionRequest", Request;
    ResolvePermissionsForConnectedSessionResponse = 602, "resolvePermissionsForConnectedSessionResponse", Response;
    AddPermissionsRequest = 603, "addPermissionsRequest", Request;
    RemovePermissionsRequest = 605, "removePermissionsRequest", Request;
    SetPermissionsRequest = 607, "setPermissionsRequest", Request;
    GetPermissionsRequest = 609, "getPermissionsRequest", Request;
    GetPermissionsResponse = 610, "getPermissionsResponse", Response;
}

// ---------------------------------------------------------------------------------------------
// Map entries with empty message values
// ---------------------------------------------------------------------------------------------

/// Every map whose value is a message that may legitimately be empty, as a path from the body:
/// `(body field number, [singular message fields to descend into..., the map field])`.
///
/// A unit test walks the compiled schema and fails if a `map<_, Message>` other than a
/// `DataValue` or `google.protobuf.Value` map is missing here.
pub const EMPTY_VALUE_MAPS: &[(u32, &[u32])] = &[
    // identityCacheUpdate.sessions: DomainUserIdData (Normal, "" is default)
    (200, &[1]),
    // activityParticipantsResponse.state: ActivityStateData
    (301, &[1]),
    // activityCreateRequest.groupPermissions: PermissionsList
    (302, &[5]),
    // activityJoinRequest.autoCreateData.groupPermissions: PermissionsList
    (306, &[5, 5]),
    // activityJoinResponse.state: ActivityStateData (a participant with empty state)
    (307, &[2]),
    // addPermissionsRequest.group, removePermissionsRequest.group: PermissionsList
    (603, &[4]),
    (605, &[4]),
    // setPermissionsRequest.group.permissions: PermissionsList
    (607, &[4, 1]),
    // getPermissionsResponse.group: PermissionsList (an empty permission list)
    (610, &[2]),
];

/// Re-writes `message` so that every entry of the map at the end of `path` has a field 2.
/// `path` lists length-delimited fields: message fields to descend into, then the map field.
/// Returns `None` if the bytes do not parse (never the case for prost's own output).
fn with_map_values(message: &[u8], path: &[u32]) -> Option<Vec<u8>> {
    let (&field, rest) = path.split_first()?;
    let mut out = Vec::with_capacity(message.len() + 8);
    let mut input = message;
    while !input.is_empty() {
        let start = input;
        let key = decode_varint(&mut input).ok()?;
        let number = u32::try_from(key >> 3).ok()?;
        let wire_type = WireType::try_from(key & 7).ok()?;
        if number == field && wire_type == WireType::LengthDelimited {
            let len = usize::try_from(decode_varint(&mut input).ok()?).ok()?;
            if len > input.len() {
                return None;
            }
            let (payload, tail) = input.split_at(len);
            input = tail;
            let fixed = if rest.is_empty() {
                entry_with_value(payload)?
            } else {
                with_map_values(payload, rest)?
            };
            encode_varint(key, &mut out);
            encode_varint(fixed.len() as u64, &mut out);
            out.extend_from_slice(&fixed);
        } else {
            skip_value(wire_type, &mut input)?;
            out.extend_from_slice(&start[..start.len() - input.len()]);
        }
    }
    Some(out)
}

/// A map entry (`1: key, 2: value`) with an empty value appended when field 2 is missing.
fn entry_with_value(entry: &[u8]) -> Option<Vec<u8>> {
    let mut input = entry;
    while !input.is_empty() {
        let key = decode_varint(&mut input).ok()?;
        let wire_type = WireType::try_from(key & 7).ok()?;
        if key >> 3 == 2 {
            return Some(entry.to_vec());
        }
        skip_value(wire_type, &mut input)?;
    }
    let mut out = Vec::with_capacity(entry.len() + 2);
    out.extend_from_slice(entry);
    out.extend_from_slice(&[0x12, 0x00]);
    Some(out)
}

fn skip_value(wire_type: WireType, input: &mut &[u8]) -> Option<()> {
    let len = match wire_type {
        WireType::Varint => {
            decode_varint(input).ok()?;
            0
        }
        WireType::SixtyFourBit => 8,
        WireType::ThirtyTwoBit => 4,
        WireType::LengthDelimited => usize::try_from(decode_varint(input).ok()?).ok()?,
        WireType::StartGroup | WireType::EndGroup => return None,
    };
    if input.remaining() < len {
        return None;
    }
    input.advance(len);
    Some(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use prost_types::{DescriptorProto, FileDescriptorSet};

    use super::*;
    use crate::protocol::wire::FILE_DESCRIPTOR_SET;

    #[test]
    fn a_remote_operation_frame_is_the_prost_encoding_for_its_recipient() {
        use crate::ot::{DiscreteOp, OpKind, Operation};
        use crate::protocol::convert;
        let ops = [
            Operation::Discrete(DiscreteOp::new(
                "1:5",
                OpKind::StringSplice {
                    index: 3,
                    delete_count: 0,
                    insert: "x\u{e9}\u{1f600}".into(),
                },
            )),
            Operation::Compound(vec![
                DiscreteOp::new(
                    "1:5",
                    OpKind::StringSplice {
                        index: 0,
                        delete_count: 2,
                        insert: crate::ot::JsString::new(),
                    },
                ),
                DiscreteOp::new("0:1", OpKind::NumberAdd { delta: -1.5 }),
            ]),
            // Default-valued fields (empty session, version 0, no-op) are left out alike.
            Operation::Compound(Vec::new()),
        ];
        for (i, op) in ops.iter().enumerate() {
            for resource_id in [0, 1, 127, 128, 300_000, i32::MAX, -1, i32::MIN] {
                let msg = pm::RemoteOperationMessage {
                    resource_id,
                    session_id: if i == 2 { String::new() } else { "s-1a".into() },
                    context_version: [0, 41, 1 << 40][i],
                    timestamp: Some(prost_types::Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 123_000_000,
                    }),
                    operation: Some(convert::operation_to_wire(op)),
                };
                let frame =
                    remote_operation_frame(resource_id, &remote_operation_shared(msg.clone()));
                let envelope = normal(Body::RemoteOperation(msg));
                assert_eq!(frame, encode(&envelope), "op {i}, resource {resource_id}");
                // And it decodes, with the generated types, to the message it stands for.
                assert_eq!(decode(&frame).expect("decodes"), envelope);
            }
        }
    }

    fn schema() -> HashMap<String, DescriptorProto> {
        fn add(prefix: &str, msg: &DescriptorProto, out: &mut HashMap<String, DescriptorProto>) {
            let name = format!("{prefix}.{}", msg.name());
            for nested in &msg.nested_type {
                add(&name, nested, out);
            }
            out.insert(name, msg.clone());
        }
        let fds = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor set");
        let mut out = HashMap::new();
        for file in &fds.file {
            for msg in &file.message_type {
                add(&format!(".{}", file.package()), msg, &mut out);
            }
        }
        out
    }

    fn envelope_fields() -> Vec<prost_types::FieldDescriptorProto> {
        schema()[".convergence.ConvergenceMessage"].field.clone()
    }

    #[test]
    fn body_table_matches_the_schema() {
        let mut seen = 0;
        for field in envelope_fields() {
            if field.oneof_index.is_none() {
                continue;
            }
            // An empty body of this number: tag, length 0.
            let mut frame = Vec::new();
            encode_varint(u64::from(field.number() as u32) << 3 | 2, &mut frame);
            frame.push(0);
            let msg = decode(&frame).expect("every body number decodes");
            let body = msg.body.as_ref().unwrap();
            assert_eq!(body_tag(body), field.number() as u32);
            assert_eq!(body_name(body), field.json_name());
            assert_eq!(encode(&msg), frame, "{}", field.json_name());
            seen += 1;
        }
        assert_eq!(seen, 134);
    }

    #[test]
    fn classes_follow_the_message_table() {
        let mut counts: HashMap<MessageClass, usize> = HashMap::new();
        for field in envelope_fields().iter().filter(|f| f.oneof_index.is_some()) {
            let mut frame = Vec::new();
            encode_varint(u64::from(field.number() as u32) << 3 | 2, &mut frame);
            frame.push(0);
            let body = decode(&frame).unwrap().body.unwrap();
            *counts.entry(message_class(&body)).or_default() += 1;
        }
        assert_eq!(counts[&MessageClass::Request], 47);
        assert_eq!(counts[&MessageClass::Response], 40);
        assert_eq!(counts[&MessageClass::Normal], 46);
        assert_eq!(counts[&MessageClass::ResponseOrNormal], 1);
    }

    /// Every `map<_, Message>` reachable from a body is either a map of values that are never
    /// default (`DataValue`, `google.protobuf.Value`) or listed in `EMPTY_VALUE_MAPS`.
    #[test]
    fn every_map_with_message_values_is_covered() {
        use prost_types::field_descriptor_proto::{Label, Type};
        const NEVER_DEFAULT: &[&str] = &[".convergence.model.DataValue", ".google.protobuf.Value"];
        let schema = schema();
        let covered: BTreeSet<Vec<u32>> = EMPTY_VALUE_MAPS
            .iter()
            .map(|(tag, path)| std::iter::once(*tag).chain(path.iter().copied()).collect())
            .collect();
        let mut found = BTreeSet::new();
        // Depth-first over message fields; `ancestors` stops cycles, so a type reached along
        // several paths is checked along each of them.
        struct Step {
            type_name: String,
            path: Vec<u32>,
            ancestors: Vec<String>,
            under_repeated: bool,
        }
        let mut stack: Vec<Step> = envelope_fields()
            .iter()
            .filter(|f| f.oneof_index.is_some())
            .map(|f| Step {
                type_name: f.type_name().to_owned(),
                path: vec![f.number() as u32],
                ancestors: Vec::new(),
                under_repeated: false,
            })
            .collect();
        while let Some(step) = stack.pop() {
            if NEVER_DEFAULT.contains(&step.type_name.as_str())
                || step.ancestors.contains(&step.type_name)
            {
                continue;
            }
            let Some(msg) = schema.get(&step.type_name) else {
                continue; // well-known types outside the schema
            };
            for field in &msg.field {
                if field.r#type() != Type::Message {
                    continue;
                }
                let mut path = step.path.clone();
                path.push(field.number() as u32);
                let entry = schema.get(field.type_name());
                let is_map =
                    entry.is_some_and(|e| e.options.as_ref().is_some_and(|o| o.map_entry()));
                if is_map {
                    let value = &entry.unwrap().field[1];
                    if value.r#type() == Type::Message
                        && !NEVER_DEFAULT.contains(&value.type_name())
                    {
                        assert!(!step.under_repeated, "map under a repeated field: {path:?}");
                        found.insert(path);
                    }
                } else {
                    let mut ancestors = step.ancestors.clone();
                    ancestors.push(step.type_name.clone());
                    stack.push(Step {
                        type_name: field.type_name().to_owned(),
                        path,
                        ancestors,
                        under_repeated: step.under_repeated || field.label() == Label::Repeated,
                    });
                }
            }
        }
        assert_eq!(found, covered);
    }
}
