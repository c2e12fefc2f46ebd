//! The delivery task of one domain: the connected sessions of each user, so that an event of a
//! channel or direct chat reaches every session of every member without the session having
//! opened the chat; and the directory of direct chats (member set -> id), so that one member
//! set gets exactly one direct chat.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::owner::DIRECT_PREFIX;
use super::{
    ChatDelivery, ChatError, ChatKey, ChatService, ChatSink, Command as ChatCommand, NewChat,
};
use crate::perm::Actor;
use crate::router::hand_over;
use crate::store::{ChatKind, DomainKey, UserId};

/// How long a task without sessions waits for another command before it stops.
const IDLE: Duration = Duration::from_secs(30);

/// Messages to a domain's delivery task.
pub(super) enum Command {
    Connect {
        session: String,
        user: UserId,
        sink: ChatSink,
    },
    Disconnect {
        session: String,
    },
    /// Send `delivery` to every session of `users`.
    Deliver {
        users: Vec<UserId>,
        delivery: ChatDelivery,
    },
    /// Answers once every delivery sent before it has been handed to the sessions.
    Flush(oneshot::Sender<()>),
    /// The id of the direct chat of `members`, created when there is none.
    Direct {
        creator: Actor,
        members: BTreeSet<UserId>,
        reply: oneshot::Sender<Result<String, ChatError>>,
    },
}

pub(super) struct Delivery {
    domain: DomainKey,
    service: ChatService,
    sessions: HashMap<UserId, Vec<(String, ChatSink)>>,
    users: HashMap<String, UserId>,
    /// Member set -> id, and the next number, once a direct chat was asked for.
    directory: Option<(HashMap<BTreeSet<UserId>, String>, u64)>,
}

impl Delivery {
    pub(super) fn new(domain: DomainKey, service: ChatService) -> Self {
        Delivery {
            domain,
            service,
            sessions: HashMap::new(),
            users: HashMap::new(),
            directory: None,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let deliveries = &self.service.inner.deliveries;
            let idle = self.users.is_empty();
            let Some(command) = deliveries.next(&self.domain, &mut rx, idle, IDLE).await else {
                break;
            };
            self.handle(command).await;
        }
        hand_over(&mut rx, |command| {
            self.service.send_delivery(&self.domain, command)
        });
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Connect {
                session,
                user,
                sink,
            } => {
                self.users.insert(session.clone(), user.clone());
                self.sessions.entry(user).or_default().push((session, sink));
            }
            Command::Disconnect { session } => {
                if let Some(user) = self.users.remove(&session) {
                    if let Some(list) = self.sessions.get_mut(&user) {
                        list.retain(|(s, _)| *s != session);
                        if list.is_empty() {
                            self.sessions.remove(&user);
                        }
                    }
                }
            }
            Command::Deliver { users, delivery } => {
                for u in &users {
                    for (_, sink) in self.sessions.get(u).into_iter().flatten() {
                        let _ = sink.send(delivery.clone());
                    }
                }
            }
            Command::Flush(done) => {
                let _ = done.send(());
            }
            Command::Direct {
                creator,
                members,
                reply,
            } => {
                let result = self.direct(creator, members).await;
                let _ = reply.send(result);
            }
        }
    }

    /// Loads the directory of direct chats from the store the first time it is needed.
    fn directory(&mut self) -> Result<&mut (HashMap<BTreeSet<UserId>, String>, u64), ChatError> {
        if self.directory.is_none() {
            let mut map = HashMap::new();
            let mut next = 1;
            for r in self.service.inner.store.chats(&self.domain)? {
                if r.kind != ChatKind::Direct {
                    continue;
                }
                if let Some(n) =
                    r.id.strip_prefix(DIRECT_PREFIX)
                        .and_then(|n| n.parse::<u64>().ok())
                {
                    next = next.max(n + 1);
                }
                map.insert(r.members.into_iter().map(|m| m.user).collect(), r.id);
            }
            self.directory = Some((map, next));
        }
        match self.directory.as_mut() {
            Some(d) => Ok(d),
            None => Err(ChatError::Stopped),
        }
    }

    async fn direct(
        &mut self,
        creator: Actor,
        members: BTreeSet<UserId>,
    ) -> Result<String, ChatError> {
        let (map, next) = self.directory()?;
        if let Some(id) = map.get(&members) {
            return Ok(id.clone());
        }
        let id = format!("{DIRECT_PREFIX}{next}");
        *next += 1;
        let chat = NewChat {
            id: Some(id.clone()),
            kind: ChatKind::Direct,
            private: true,
            name: String::new(),
            topic: String::new(),
            members: members.iter().cloned().collect(),
        };
        let key = ChatKey::new(self.domain.clone(), id.clone());
        let (reply, rx) = oneshot::channel();
        self.service.send(
            &key,
            ChatCommand::Create {
                actor: creator,
                chat,
                reply,
            },
        );
        match rx.await.unwrap_or(Err(ChatError::Stopped)) {
            Ok(()) => {}
            Err(e) => {
                warn!(error = %e, "direct chat not created");
                return Err(e);
            }
        }
        if let Some((map, _)) = self.directory.as_mut() {
            map.insert(members, id.clone());
        }
        Ok(id)
    }
}
