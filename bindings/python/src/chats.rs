//! Chats on `Domain` (the facade's `api/chats.rs`), each with an awaitable `_async` twin:
//! create and remove channels and rooms, read one or all, members, name and topic, post as a
//! user or as the host, history. Inputs and outputs are dicts in the facade's serde forms;
//! stored chat events arrive as `chat_changed` events on the domain's subscription.

use pyo3::prelude::*;
use tandem::api::{ChatHistoryQuery, ErrorCode, NewChat, UserId};

use crate::convert::{input, input_or_default, output};
use crate::domain::{none, Domain};

fn chat_spec(chat: &Bound<'_, PyAny>) -> PyResult<NewChat> {
    input(chat, "chat", ErrorCode::InvalidArgument)
}

fn user_arg(user: &Bound<'_, PyAny>) -> PyResult<UserId> {
    input(user, "user id", ErrorCode::InvalidArgument)
}

fn user_list(users: &Bound<'_, PyAny>) -> PyResult<Vec<UserId>> {
    input(users, "user ids", ErrorCode::InvalidArgument)
}

pub(crate) fn opt_user(user: Option<&Bound<'_, PyAny>>) -> PyResult<Option<UserId>> {
    user.filter(|u| !u.is_none()).map(user_arg).transpose()
}

fn history_query(query: Option<&Bound<'_, PyAny>>) -> PyResult<ChatHistoryQuery> {
    input_or_default(query, "chat history query", ErrorCode::InvalidArgument)
}

#[pymethods]
impl Domain {
    /// Creates a channel or room from a dict (`kind` `"channel"` or `"room"`; `id`, `private`,
    /// `name`, `topic`, `members` optional); returns its id.
    fn create_chat(&self, py: Python<'_>, chat: &Bound<'_, PyAny>) -> PyResult<String> {
        let chat = chat_spec(chat)?;
        self.block(py, async move |d| d.create_chat(chat).await)
    }

    /// Awaitable [`Domain::create_chat`].
    fn create_chat_async<'py>(
        &self,
        py: Python<'py>,
        chat: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let chat = chat_spec(chat)?;
        self.spawn(
            py,
            move |d| async move { d.create_chat(chat).await },
            |py, id| output(py, &id),
        )
    }

    /// The direct chat (a dict) of exactly these users, created when there is none.
    fn direct_chat<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let users = user_list(users)?;
        let chat = self.block(py, async move |d| d.direct_chat(&users).await)?;
        output(py, &chat)
    }

    /// Awaitable [`Domain::direct_chat`].
    fn direct_chat_async<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let users = user_list(users)?;
        self.spawn(
            py,
            move |d| async move { d.direct_chat(&users).await },
            |py, c| output(py, &c),
        )
    }

    /// Removes a chat with its events; its members are told.
    fn remove_chat(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        self.block(py, async move |d| d.remove_chat(id).await)
    }

    /// Awaitable [`Domain::remove_chat`].
    fn remove_chat_async<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(py, move |d| async move { d.remove_chat(&id).await }, none)
    }

    /// A chat as a dict, or `None` when it does not exist.
    fn chat<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let found = self.block(py, async move |d| d.chat(id).await)?;
        output(py, &found)
    }

    /// Awaitable [`Domain::chat`].
    fn chat_async<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.chat(&id).await },
            |py, c| output(py, &c),
        )
    }

    /// Every chat of the domain, by id.
    fn chats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let found = self.block(py, async move |d| d.chats().await)?;
        output(py, &found)
    }

    /// Awaitable [`Domain::chats`].
    fn chats_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.chats().await },
            |py, c| output(py, &c),
        )
    }

    /// Adds a user to a channel.
    fn add_chat_member(&self, py: Python<'_>, id: &str, user: &Bound<'_, PyAny>) -> PyResult<()> {
        let user = user_arg(user)?;
        self.block(py, async move |d| d.add_chat_member(id, &user).await)
    }

    /// Awaitable [`Domain::add_chat_member`].
    fn add_chat_member_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = user_arg(user)?;
        self.spawn(
            py,
            move |d| async move { d.add_chat_member(&id, &user).await },
            none,
        )
    }

    /// Removes a user from a channel.
    fn remove_chat_member(
        &self,
        py: Python<'_>,
        id: &str,
        user: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let user = user_arg(user)?;
        self.block(py, async move |d| d.remove_chat_member(id, &user).await)
    }

    /// Awaitable [`Domain::remove_chat_member`].
    fn remove_chat_member_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        user: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = user_arg(user)?;
        self.spawn(
            py,
            move |d| async move { d.remove_chat_member(&id, &user).await },
            none,
        )
    }

    /// Renames a chat.
    fn set_chat_name(&self, py: Python<'_>, id: &str, name: &str) -> PyResult<()> {
        self.block(py, async move |d| d.set_chat_name(id, name).await)
    }

    /// Awaitable [`Domain::set_chat_name`].
    fn set_chat_name_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        name: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_chat_name(&id, &name).await },
            none,
        )
    }

    /// Sets a chat's topic.
    fn set_chat_topic(&self, py: Python<'_>, id: &str, topic: &str) -> PyResult<()> {
        self.block(py, async move |d| d.set_chat_topic(id, topic).await)
    }

    /// Awaitable [`Domain::set_chat_topic`].
    fn set_chat_topic_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        topic: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.spawn(
            py,
            move |d| async move { d.set_chat_topic(&id, &topic).await },
            none,
        )
    }

    /// Posts a message as `user` (who must be a member), or as the host when `user` is
    /// `None`; returns `{"number", "timestamp_ms"}`.
    #[pyo3(signature = (id, text, user=None))]
    fn post_chat_message<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        text: &str,
        user: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = opt_user(user)?;
        let posted = self.block(py, async move |d| {
            d.post_chat_message(id, user.as_ref(), text).await
        })?;
        output(py, &posted)
    }

    /// Awaitable [`Domain::post_chat_message`].
    #[pyo3(signature = (id, text, user=None))]
    fn post_chat_message_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        text: String,
        user: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = opt_user(user)?;
        self.spawn(
            py,
            move |d| async move { d.post_chat_message(&id, user.as_ref(), &text).await },
            |py, p| output(py, &p),
        )
    }

    /// A page of a chat's events, `{"events", "offset", "total"}`. `query` (newest first and
    /// 50 when `None`) takes `kinds`, `text`, `start`, `forward`, `offset`, `limit`.
    #[pyo3(signature = (id, query=None))]
    fn chat_history<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        query: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = history_query(query)?;
        let page = self.block(py, async move |d| d.chat_history(id, query).await)?;
        output(py, &page)
    }

    /// Awaitable [`Domain::chat_history`].
    #[pyo3(signature = (id, query=None))]
    fn chat_history_async<'py>(
        &self,
        py: Python<'py>,
        id: String,
        query: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = history_query(query)?;
        self.spawn(
            py,
            move |d| async move { d.chat_history(&id, query).await },
            |py, p| output(py, &p),
        )
    }
}
