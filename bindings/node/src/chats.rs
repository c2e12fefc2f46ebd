//! Chats on `NativeDomain` (the facade's `api/chats.rs`): create and remove channels and
//! rooms, read one or all, members, name and topic, post as a user or as the host, history.
//! Inputs and outputs are plain JS objects in the facade's serde forms; stored chat events
//! arrive as `chat_changed` events on the domain's subscription.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use tandem::api::{ChatHistoryQuery, NewChat, UserId};

use crate::{input, output, settle, NativeDomain};

#[napi]
impl NativeDomain {
    /// Creates a channel or room (`NewChat`); resolves to its id.
    #[napi]
    pub fn create_chat<'e>(&self, env: &'e Env, chat: Value) -> Result<PromiseRaw<'e, String>> {
        settle(
            env,
            self.spawn(|d| async move {
                let chat: NewChat = input(Some(chat), "chat")?;
                d.create_chat(chat).await
            }),
        )
    }

    /// The direct chat (`ChatInfo`) of exactly these users (`UserId[]`), created when none.
    #[napi]
    pub fn direct_chat<'e>(&self, env: &'e Env, users: Value) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let users: Vec<UserId> = input(Some(users), "user ids")?;
                output(&d.direct_chat(&users).await?)
            }),
        )
    }

    /// Removes a chat with its events.
    #[napi]
    pub fn remove_chat<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, ()>> {
        settle(env, self.spawn(|d| async move { d.remove_chat(&id).await }))
    }

    /// A chat (`ChatInfo`), or null when it does not exist.
    #[napi]
    pub fn chat<'e>(&self, env: &'e Env, id: String) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.chat(&id).await?) }),
        )
    }

    /// Every chat of the domain (`ChatInfo[]`).
    #[napi]
    pub fn chats<'e>(&self, env: &'e Env) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move { output(&d.chats().await?) }),
        )
    }

    /// Adds (`add` true) or removes a user (`UserId`) to or from a channel.
    #[napi]
    pub fn change_chat_member<'e>(
        &self,
        env: &'e Env,
        id: String,
        user: Value,
        add: bool,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: UserId = input(Some(user), "user id")?;
                if add {
                    d.add_chat_member(&id, &user).await
                } else {
                    d.remove_chat_member(&id, &user).await
                }
            }),
        )
    }

    /// Sets a chat's name (`topic` false) or topic.
    #[napi]
    pub fn set_chat_text<'e>(
        &self,
        env: &'e Env,
        id: String,
        value: String,
        topic: bool,
    ) -> Result<PromiseRaw<'e, ()>> {
        settle(
            env,
            self.spawn(|d| async move {
                if topic {
                    d.set_chat_topic(&id, &value).await
                } else {
                    d.set_chat_name(&id, &value).await
                }
            }),
        )
    }

    /// Posts a message as a user (`UserId`), or as the host when `user` is null; resolves to
    /// `{ number, timestamp_ms }`.
    #[napi]
    pub fn post_chat_message<'e>(
        &self,
        env: &'e Env,
        id: String,
        text: String,
        user: Option<Value>,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let user: Option<UserId> = match user {
                    Some(Value::Null) | None => None,
                    Some(u) => Some(input(Some(u), "user id")?),
                };
                output(&d.post_chat_message(&id, user.as_ref(), &text).await?)
            }),
        )
    }

    /// A page of a chat's events (`ChatHistoryQuery` in, `ChatHistory` out).
    #[napi]
    pub fn chat_history<'e>(
        &self,
        env: &'e Env,
        id: String,
        query: Option<Value>,
    ) -> Result<PromiseRaw<'e, Value>> {
        settle(
            env,
            self.spawn(|d| async move {
                let query: ChatHistoryQuery = input(query, "chat history query")?;
                output(&d.chat_history(&id, query).await?)
            }),
        )
    }
}
