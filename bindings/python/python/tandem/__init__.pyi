"""Typed interface of the tandem package (see __init__.py)."""

from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypedDict,
    Union,
)

from typing_extensions import NotRequired, Self

#: A JSON-like Python value: what models hold.
Json = Any

class WebhookConfig(TypedDict, total=False):
    """How webhook deliveries are made (``[engine.webhooks]``)."""

    #: How long one attempt may take.
    timeout_ms: int
    #: The wait after the first failed attempt; it doubles after each further failure.
    retry_initial_ms: int
    #: The longest wait between attempts.
    retry_max_ms: int
    #: Attempts before a delivery is given up (marked failed).
    max_attempts: int
    #: Finished deliveries kept per webhook.
    keep_deliveries: int
    #: Webhooks a domain may have.
    max_per_domain: int

class EngineConfig(TypedDict, total=False):
    data_dir: Optional[str]
    store: Dict[str, Any]
    models: Dict[str, Any]
    worker_threads: int
    auth: Dict[str, Any]
    limits: Dict[str, Any]
    webhooks: WebhookConfig

class NetConfig(TypedDict, total=False):
    max_frame_bytes: int
    rate_limit_per_sec: int
    rate_burst: int
    rate_limit_max_throttle_ms: int
    write_timeout_ms: int
    max_queued_messages: int
    max_connections: int
    static_dir: Optional[str]
    #: Largest REST request body in bytes (a larger one is answered 413).
    max_rest_body_bytes: int
    #: When set, /metrics needs ``Authorization: Bearer <token>``.
    metrics_token: Optional[str]

DomainState = Literal["online", "maintenance", "offline"]

class DomainSettings(TypedDict, total=False):
    display_name: str
    anonymous_auth: bool
    collection_auto_create: bool
    #: Which logins the domain accepts: "maintenance" allows only admin-key logins.
    state: DomainState
    reconnect_token_minutes: int
    #: What everyone may do with a collection created on demand: any of "create", "read",
    #: "write", "remove", "manage" (default: all).
    default_collection_world: List[str]
    #: When the domain's models take snapshots (absent: the engine's rule).
    snapshot_policy: Optional[SnapshotPolicy]
    #: Policies of single collections, by collection id, in place of the domain's.
    collection_snapshot_policies: Dict[str, SnapshotPolicy]

class SnapshotPolicy(TypedDict, total=False):
    """The original server's snapshot rule: taken iff enabled, past the minimums where
    limited, and over a maximum that triggers."""
    enabled: bool
    trigger_by_version: bool
    max_version_interval: int
    limited_by_version: bool
    min_version_interval: int
    trigger_by_time: bool
    max_time_interval_ms: int
    limited_by_time: bool
    min_time_interval_ms: int

class NewUser(TypedDict):
    username: str
    password: NotRequired[Optional[str]]
    display_name: NotRequired[str]
    first_name: NotRequired[str]
    last_name: NotRequired[str]
    email: NotRequired[str]

class User(TypedDict):
    username: str
    display_name: str
    first_name: str
    last_name: str
    email: str
    disabled: bool
    has_password: bool
    created_ms: int
    last_login_ms: int

class NewJwtKey(TypedDict):
    id: str
    public_key_pem: str
    description: NotRequired[str]
    enabled: NotRequired[bool]

class JwtKey(TypedDict):
    id: str
    description: str
    public_key_pem: str
    enabled: bool
    updated_ms: int

class UserId(TypedDict):
    kind: Literal["normal", "convergence", "anonymous"]
    name: str

class UserProfile(TypedDict, total=False):
    """Keys given replace the stored values; absent ones stay."""

    display_name: Optional[str]
    first_name: Optional[str]
    last_name: Optional[str]
    email: Optional[str]

class Group(TypedDict):
    id: str
    description: str
    members: List[UserId]

class UserPresence(TypedDict):
    user: UserId
    available: bool
    state: Dict[str, Any]

class ModelRights(TypedDict, total=False):
    """What a user may do with a model (outputs hold every key; absent input keys are False)."""

    read: bool
    write: bool
    remove: bool
    manage: bool

class CollectionRights(ModelRights, total=False):
    """The model rights a collection grants on its models, plus creating models in it."""

    create: bool

class ModelPermissions(TypedDict):
    override_world: bool
    world: ModelRights
    users: List[Tuple[UserId, ModelRights]]

class ModelPermissionsChange(TypedDict, total=False):
    """A change to a model's permissions; absent keys stay as they are."""

    override_world: Optional[bool]
    world: Optional[ModelRights]
    replace_users: bool
    set_users: Sequence[Tuple[UserId, ModelRights]]
    remove_users: Sequence[UserId]

class CollectionPermissions(TypedDict):
    world: CollectionRights
    users: List[Tuple[UserId, CollectionRights]]

class GlobalTarget(TypedDict):
    kind: Literal["global"]

class ChatTarget(TypedDict):
    kind: Literal["chat"]
    id: str

class ActivityTarget(TypedDict):
    kind: Literal["activity"]
    type: str
    id: str

#: What generic permission rows apply to: every chat and activity, one chat, one activity.
Target = Union[GlobalTarget, ChatTarget, ActivityTarget]

class TargetPermissions(TypedDict, total=False):
    """Permission strings per grantee (outputs hold every key)."""

    world: List[str]
    users: Sequence[Tuple[UserId, List[str]]]
    groups: Sequence[Tuple[str, List[str]]]

class SetPermissions(TypedDict, total=False):
    world: Optional[List[str]]
    users: Sequence[Tuple[UserId, List[str]]]
    replace_users: bool
    groups: Sequence[Tuple[str, List[str]]]
    replace_groups: bool

class AddPermissions(TypedDict):
    add: TargetPermissions

class RemovePermissions(TypedDict):
    remove: TargetPermissions

class ReplacePermissions(TypedDict):
    set: SetPermissions

PermissionChange = Union[AddPermissions, RemovePermissions, ReplacePermissions]

class ModelInfo(TypedDict):
    id: str
    collection: str
    version: int
    created_ms: int
    modified_ms: int

class QueryResult(TypedDict):
    collection: str
    id: str
    created_ms: int
    modified_ms: int
    version: int
    data: Dict[str, Any]

class QueryPage(TypedDict):
    models: List[QueryResult]
    offset: int
    total: int

class _HistoryEntryBase(TypedDict):
    version: int
    timestamp_ms: int
    session: str
    user: UserId
    operation: Dict[str, Any]

class HistoryEntry(_HistoryEntryBase, total=False):
    #: The versions an undo (or redo) undoes; absent for an ordinary change.
    undoes: List[int]

#: Which operations an undo or redo takes: ``{"version": 5}``, ``{"last_of": user}``,
#: ``{"last_of_session": "s1"}`` or ``{"since": {"user": user, "version": 3}}``.
UndoScope = Dict[str, Any]

class UndoOutcome(TypedDict, total=False):
    #: ``"undone"``, ``"partial"``, ``"conflict"``, ``"nothing_to_undo"`` or ``"not_undoable"``.
    outcome: str
    version: int
    undid: List[int]
    skipped: List[Dict[str, Any]]
    versions: List[int]
    reason: str

#: What an ``activity_changed`` event reports.
ActivityChangeKind = Literal["joined", "left", "state_changed", "deleted"]

class ActivityParticipant(TypedDict):
    """A visible participant of an activity: its session, user and state there."""

    session: str
    user: UserId
    state: Dict[str, Any]

class ActivityChangedEvent(TypedDict):
    """The keys of an event whose ``type`` is ``activity_changed``."""

    type: Literal["activity_changed"]
    namespace: str
    domain: str
    activity_type: str
    activity_id: str
    kind: ActivityChangeKind
    #: None for a deletion.
    session: Optional[str]
    #: None for a deletion.
    user: Optional[UserId]
    #: The session's whole state in the activity after the change.
    state: Dict[str, Any]

ChatKind = Literal["channel", "room", "direct"]

class NewChat(TypedDict, total=False):
    """A channel or room to create; only ``kind`` is required."""

    id: Optional[str]
    kind: ChatKind
    private: bool
    name: str
    topic: str
    members: List[UserId]

class ChatMember(TypedDict):
    user: UserId
    max_seen_event: int

class ChatInfo(TypedDict):
    id: str
    kind: ChatKind
    private: bool
    name: str
    topic: str
    created_ms: int
    last_event_number: int
    last_event_ms: int
    members: List[ChatMember]

#: A chat event: ``number``, ``timestamp_ms``, ``user`` and ``kind`` (created, message,
#: user_joined, user_left, user_added, user_removed, name_changed, topic_changed) with the
#: kind's keys (``text`` for a message, ``added``/``removed``, ``name``, ``topic``, ``members``).
ChatEvent = Dict[str, Any]

class ChatHistoryQuery(TypedDict, total=False):
    """Which events to read: newest first and 50 unless told."""

    kinds: List[str]
    text: Optional[str]
    start: Optional[int]
    forward: bool
    offset: int
    limit: int

class ChatHistory(TypedDict):
    events: List[ChatEvent]
    offset: int
    total: int

class PostedMessage(TypedDict):
    number: int
    timestamp_ms: int

class ActivityInfo(TypedDict):
    """An activity as listed."""

    activity_type: str
    id: str
    created_ms: int
    #: Whether it goes away with its last participant.
    ephemeral: bool

class ConnectedSession(TypedDict):
    """A session connected to a domain now."""

    id: str
    user: UserId
    connected_ms: int
    #: The client's address, None when unknown.
    address: Optional[str]
    #: The client's name and version, as it reported them.
    client: str

#: The events a webhook may receive.
WebhookEvent = Literal["model.created", "model.deleted", "model.last_session_left", "chat.message"]

class NewWebhook(TypedDict):
    """A webhook to register: where deliveries are posted (http:// or https://) and which events."""

    url: str
    events: List[WebhookEvent]

class Webhook(TypedDict):
    id: str
    url: str
    events: List[WebhookEvent]
    created_ms: int

class RegisteredWebhook(Webhook):
    """A webhook just registered, with the HMAC-SHA256 key of its signatures (shown only now)."""

    secret: str

class WebhookDelivery(TypedDict):
    """One event's delivery to a webhook (docs/webhooks.md)."""

    #: ``<webhook>.<number>``, as the ``Tandem-Delivery`` header gives it.
    id: str
    number: int
    event: WebhookEvent
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    #: The HTTP status of the last attempt, if the receiver answered.
    last_status: Optional[int]
    #: Why the last attempt failed, if it did.
    last_error: Optional[str]
    created_ms: int
    last_attempt_ms: Optional[int]
    #: The body posted (JSON text).
    payload: str

class Admin(TypedDict):
    """A server administrator as listed (never the password)."""

    username: str
    created_ms: int
    updated_ms: int

class AdminToken(TypedDict):
    """A logged-in administrator's bearer token and when it stops being accepted."""

    token: str
    expires_ms: int

class ApiKey(TypedDict):
    """An API key as listed (never its secret)."""

    id: str
    name: str
    read_only: bool
    created_ms: int

class NewApiKey(TypedDict):
    """A new API key: its listing, and its token for ``Authorization: Bearer``, shown this once."""

    key: ApiKey
    token: str

#: An event: ``type`` is operation_applied, model_opened, model_closed, last_session_left,
#: model_created, model_deleted, user_connected, user_disconnected, presence_changed, activity_changed or
#: chat_changed; the other keys depend on it (namespace, domain, model, version, session, user, timestamp_ms,
#: operation; model_created and model_deleted have namespace, domain, model and collection; activity_changed
#: has the keys of ``ActivityChangedEvent``; chat_changed has chat_id and ``change``: "event" with ``event``,
#: "marked_seen" with ``user`` and ``number``, or "removed").
Event = Dict[str, Any]

#: A change: {"op": "set"|"insert"|"remove"|"move"|"splice"|"add", "path": [...], ...}.
Change = Dict[str, Any]

class TandemError(Exception):
    code: int
    name: str
    message: str

class InvalidArgumentError(TandemError): ...
class NotFoundError(TandemError): ...
class AlreadyExistsError(TandemError): ...
class InvalidOperationError(TandemError): ...
class ConflictError(TandemError): ...
class StorageError(TandemError): ...
class FormatVersionError(TandemError): ...
class UnavailableError(TandemError): ...
class ConfigError(TandemError): ...
class InternalError(TandemError): ...
class UnauthenticatedError(TandemError): ...
class PermissionDeniedError(TandemError): ...

ERRORS: Dict[int, Type[TandemError]]

class Subscription:
    def next(self, timeout: Optional[float] = None) -> Optional[Event]: ...
    def next_async(self) -> Awaitable[Optional[Event]]: ...
    def try_next(self) -> Optional[Event]: ...
    def __iter__(self) -> Iterator[Event]: ...
    def __next__(self) -> Event: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[Event]: ...
    def on_event(self, callback: Callable[[Event], object]) -> None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...

class Model:
    @property
    def id(self) -> str: ...
    @property
    def domain(self) -> Domain: ...
    def info(self) -> ModelInfo: ...
    def json(self) -> Json: ...
    def json_async(self) -> Awaitable[Json]: ...
    def json_at(self, version: int) -> Json: ...
    def apply(self, changes: Union[Change, List[Change]], user: Optional[UserId] = None) -> int: ...
    def apply_async(self, changes: Union[Change, List[Change]], user: Optional[UserId] = None) -> Awaitable[int]: ...
    def history(self, first: int, last: int) -> List[HistoryEntry]: ...
    def undo(self, scope: UndoScope, by: Optional[UserId] = None) -> UndoOutcome: ...
    def undo_async(self, scope: UndoScope, by: Optional[UserId] = None) -> Awaitable[UndoOutcome]: ...
    def redo(self, scope: UndoScope, by: Optional[UserId] = None) -> UndoOutcome: ...
    def redo_async(self, scope: UndoScope, by: Optional[UserId] = None) -> Awaitable[UndoOutcome]: ...
    def version_at(self, time_ms: int) -> int: ...
    def delete(self) -> None: ...
    def delete_async(self) -> Awaitable[None]: ...
    def permissions(self) -> ModelPermissions: ...
    def set_permissions(self, change: ModelPermissionsChange) -> None: ...
    def set_permissions_async(self, change: ModelPermissionsChange) -> Awaitable[None]: ...
    def rights_of(self, user: UserId) -> ModelRights: ...
    def subscribe(self) -> Subscription: ...

class Domain:
    @property
    def namespace(self) -> str: ...
    @property
    def id(self) -> str: ...
    def settings(self) -> DomainSettings: ...
    def set_settings(self, settings: DomainSettings) -> None: ...
    def set_settings_async(self, settings: DomainSettings) -> Awaitable[None]: ...
    def set_anonymous_auth(self, allowed: bool) -> None: ...
    def set_anonymous_auth_async(self, allowed: bool) -> Awaitable[None]: ...
    def create_collection(self, id: str) -> None: ...
    def create_collection_async(self, id: str) -> Awaitable[None]: ...
    def collections(self) -> List[str]: ...
    def delete_collection(self, id: str) -> None: ...
    def delete_collection_async(self, id: str) -> Awaitable[None]: ...
    def create_model(self, collection: str, data: Dict[str, Json], id: Optional[str] = None) -> Model: ...
    def create_model_async(
        self, collection: str, data: Dict[str, Json], id: Optional[str] = None
    ) -> Awaitable[Model]: ...
    def models(self, collection: Optional[str] = None) -> List[ModelInfo]: ...
    def model(self, id: str) -> Model: ...
    def query(self, query: str, user: Optional[UserId] = None) -> QueryPage: ...
    def query_async(self, query: str, user: Optional[UserId] = None) -> Awaitable[QueryPage]: ...
    def create_user(self, user: NewUser) -> User: ...
    def create_user_async(self, user: NewUser) -> Awaitable[User]: ...
    def set_password(self, username: str, password: str) -> None: ...
    def set_password_async(self, username: str, password: str) -> Awaitable[None]: ...
    def users(self) -> List[User]: ...
    def delete_user(self, username: str) -> None: ...
    def delete_user_async(self, username: str) -> Awaitable[None]: ...
    def add_jwt_key(self, key: NewJwtKey) -> JwtKey: ...
    def add_jwt_key_async(self, key: NewJwtKey) -> Awaitable[JwtKey]: ...
    def jwt_keys(self) -> List[JwtKey]: ...
    def remove_jwt_key(self, id: str) -> None: ...
    def remove_jwt_key_async(self, id: str) -> Awaitable[None]: ...
    def user(self, username: str) -> User: ...
    def update_user(self, username: str, profile: UserProfile) -> User: ...
    def update_user_async(self, username: str, profile: UserProfile) -> Awaitable[User]: ...
    def set_user_disabled(self, username: str, disabled: bool) -> None: ...
    def set_user_disabled_async(self, username: str, disabled: bool) -> Awaitable[None]: ...
    def create_group(self, id: str, description: str = "") -> Group: ...
    def create_group_async(self, id: str, description: str = "") -> Awaitable[Group]: ...
    def set_group_description(self, id: str, description: str) -> None: ...
    def set_group_description_async(self, id: str, description: str) -> Awaitable[None]: ...
    def delete_group(self, id: str) -> None: ...
    def delete_group_async(self, id: str) -> Awaitable[None]: ...
    def group(self, id: str) -> Group: ...
    def groups(self) -> List[Group]: ...
    def presence(self, users: List[UserId]) -> List[UserPresence]: ...
    def presence_async(self, users: List[UserId]) -> Awaitable[List[UserPresence]]: ...
    def add_group_member(self, group: str, user: UserId) -> None: ...
    def add_group_member_async(self, group: str, user: UserId) -> Awaitable[None]: ...
    def remove_group_member(self, group: str, user: UserId) -> None: ...
    def remove_group_member_async(self, group: str, user: UserId) -> Awaitable[None]: ...
    def user_groups(self, user: UserId) -> List[str]: ...
    def collection_permissions(self, id: str) -> CollectionPermissions: ...
    def set_collection_world(self, id: str, world: CollectionRights) -> None: ...
    def set_collection_world_async(self, id: str, world: CollectionRights) -> Awaitable[None]: ...
    def set_collection_user(self, id: str, user: UserId, rights: Optional[CollectionRights]) -> None: ...
    def set_collection_user_async(
        self, id: str, user: UserId, rights: Optional[CollectionRights]
    ) -> Awaitable[None]: ...
    def set_state(self, state: DomainState) -> None: ...
    def set_state_async(self, state: DomainState) -> Awaitable[None]: ...
    def admin_token(self, username: str, ttl_secs: int) -> str: ...
    def admin_token_async(self, username: str, ttl_secs: int) -> Awaitable[str]: ...
    def permissions(self, target: Target) -> TargetPermissions: ...
    def change_permissions(self, target: Target, change: PermissionChange) -> None: ...
    def change_permissions_async(self, target: Target, change: PermissionChange) -> Awaitable[None]: ...
    def resolve_permissions(self, target: Target, user: UserId) -> List[str]: ...
    def create_activity(
        self, activity_type: str, id: str, permissions: Optional[TargetPermissions] = None
    ) -> None: ...
    def create_activity_async(
        self, activity_type: str, id: str, permissions: Optional[TargetPermissions] = None
    ) -> Awaitable[None]: ...
    def delete_activity(self, activity_type: str, id: str) -> None: ...
    def delete_activity_async(self, activity_type: str, id: str) -> Awaitable[None]: ...
    def activity_exists(self, activity_type: str, id: str) -> bool: ...
    def activity_participants(self, activity_type: str, id: str) -> List[ActivityParticipant]: ...
    def activity_participants_async(self, activity_type: str, id: str) -> Awaitable[List[ActivityParticipant]]: ...
    def activities(self) -> List[ActivityInfo]: ...
    def sessions(self) -> List[ConnectedSession]: ...
    def disconnect_session(self, id: str) -> None: ...
    def add_webhook(self, webhook: NewWebhook) -> RegisteredWebhook: ...
    def add_webhook_async(self, webhook: NewWebhook) -> Awaitable[RegisteredWebhook]: ...
    def webhooks(self) -> List[Webhook]: ...
    def remove_webhook(self, id: str) -> None: ...
    def remove_webhook_async(self, id: str) -> Awaitable[None]: ...
    def webhook_deliveries(self, id: str) -> List[WebhookDelivery]: ...
    def create_api_key(self, name: str, read_only: bool = False) -> NewApiKey: ...
    def create_api_key_async(self, name: str, read_only: bool = False) -> Awaitable[NewApiKey]: ...
    def api_keys(self) -> List[ApiKey]: ...
    def revoke_api_key(self, id: str) -> None: ...
    def revoke_api_key_async(self, id: str) -> Awaitable[None]: ...
    def verify_api_key(self, token: str) -> ApiKey: ...
    def create_chat(self, chat: NewChat) -> str: ...
    def create_chat_async(self, chat: NewChat) -> Awaitable[str]: ...
    def direct_chat(self, users: List[UserId]) -> ChatInfo: ...
    def direct_chat_async(self, users: List[UserId]) -> Awaitable[ChatInfo]: ...
    def remove_chat(self, id: str) -> None: ...
    def remove_chat_async(self, id: str) -> Awaitable[None]: ...
    def chat(self, id: str) -> Optional[ChatInfo]: ...
    def chat_async(self, id: str) -> Awaitable[Optional[ChatInfo]]: ...
    def chats(self) -> List[ChatInfo]: ...
    def chats_async(self) -> Awaitable[List[ChatInfo]]: ...
    def add_chat_member(self, id: str, user: UserId) -> None: ...
    def add_chat_member_async(self, id: str, user: UserId) -> Awaitable[None]: ...
    def remove_chat_member(self, id: str, user: UserId) -> None: ...
    def remove_chat_member_async(self, id: str, user: UserId) -> Awaitable[None]: ...
    def set_chat_name(self, id: str, name: str) -> None: ...
    def set_chat_name_async(self, id: str, name: str) -> Awaitable[None]: ...
    def set_chat_topic(self, id: str, topic: str) -> None: ...
    def set_chat_topic_async(self, id: str, topic: str) -> Awaitable[None]: ...
    def post_chat_message(self, id: str, text: str, user: Optional[UserId] = None) -> PostedMessage: ...
    def post_chat_message_async(
        self, id: str, text: str, user: Optional[UserId] = None
    ) -> Awaitable[PostedMessage]: ...
    def chat_history(self, id: str, query: Optional[ChatHistoryQuery] = None) -> ChatHistory: ...
    def chat_history_async(
        self, id: str, query: Optional[ChatHistoryQuery] = None
    ) -> Awaitable[ChatHistory]: ...
    def subscribe(self) -> Subscription: ...

class Engine:
    @staticmethod
    def open(config: Optional[EngineConfig] = None) -> Engine: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None: ...
    def create_domain(self, namespace: str, id: str, settings: Optional[DomainSettings] = None) -> Domain: ...
    def create_domain_async(
        self, namespace: str, id: str, settings: Optional[DomainSettings] = None
    ) -> Awaitable[Domain]: ...
    def domain(self, namespace: str, id: str) -> Domain: ...
    def domains(self) -> List[Tuple[str, str]]: ...
    def delete_domain(self, namespace: str, id: str) -> None: ...
    def delete_domain_async(self, namespace: str, id: str) -> Awaitable[None]: ...
    def subscribe(self) -> Subscription: ...
    def add_admin(self, username: str, password: str) -> Admin: ...
    def add_admin_async(self, username: str, password: str) -> Awaitable[Admin]: ...
    def set_admin_password(self, username: str, password: str) -> None: ...
    def set_admin_password_async(self, username: str, password: str) -> Awaitable[None]: ...
    def remove_admin(self, username: str) -> None: ...
    def remove_admin_async(self, username: str) -> Awaitable[None]: ...
    def admins(self) -> List[Admin]: ...
    def admin_login(self, username: str, password: str) -> AdminToken: ...
    def admin_login_async(self, username: str, password: str) -> Awaitable[AdminToken]: ...
    def verify_admin_token(self, token: str) -> Admin: ...
    def listen(self, address: str = "127.0.0.1:0", config: Optional[NetConfig] = None) -> str: ...
    def stop_listening(self) -> bool: ...
    def shutdown(self) -> None: ...
    @property
    def is_shut_down(self) -> bool: ...
    @property
    def config(self) -> Dict[str, Any]: ...

__all__: List[str]
