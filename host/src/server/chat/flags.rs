//! `serve chat`'s flags, the connection flags it refuses, and the [`ChatListen`] they
//! build.

use clap::Args;
use socklab_core::Duration;
use socklab_core::service::CHAT;

use super::{
    CAPACITY, ChatListen, ChatService, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MEMBERS_PER_IP,
    DEFAULT_MEMBER_TIMEOUT,
};

/// `serve chat --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve chat                          UDP 127.0.0.1:9093, up to 1000 members
  socklab serve chat --host 0.0.0.0 -v        the whole network, one log line per datagram
  socklab chat --nick ann                     join it (type lines; /who, /quit)";

/// Flags of the chat service (§6).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Chat options")]
pub struct ChatFlags {
    /// Drop a member that sent nothing for this many seconds (clients PING every 20).
    #[arg(long, value_name = "S", default_value_t = DEFAULT_MEMBER_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub member_timeout: u64,
    /// Most members at once; a JOIN over it gets `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_MEMBERS,
          value_parser = clap::value_parser!(u32).range(1..=CAPACITY as i64))]
    pub max_members: u32,
    /// Most members from one IP address (an IPv6 client by its /64) at once; a JOIN
    /// over it gets `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_MEMBERS_PER_IP,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_members_per_ip: u32,
}

impl ChatFlags {
    /// The chat on `port`, or §0's.
    pub fn listen(&self, port: Option<u16>) -> ChatListen {
        ChatListen {
            service: ChatService {
                member_timeout: Duration::from_secs(self.member_timeout),
                max_members: self.max_members as usize,
                max_members_per_ip: self.max_members_per_ip as usize,
            },
            port: port.unwrap_or(CHAT.port),
        }
    }
}

/// Connection flags `serve chat` refuses with a reason rather than ignore: UDP has no
/// connections. Hidden, so help lists only what applies.
#[derive(Debug, Clone, Args)]
pub struct NotForChat {
    #[arg(long, value_name = "N", hide = true)]
    max_conns: Option<String>,
    #[arg(long, value_name = "S", hide = true)]
    idle_timeout: Option<String>,
    #[arg(long, value_name = "N", hide = true)]
    threads: Option<String>,
    #[arg(long, value_name = "S", hide = true)]
    drain_timeout: Option<String>,
}

impl NotForChat {
    /// Why the first refused flag given does not apply, if any was given.
    pub fn reason(&self) -> Option<&'static str> {
        let given = |f: &Option<String>| f.is_some();
        if given(&self.max_conns) {
            Some(
                "--max-conns does not apply to chat: UDP has no connections (--max-members limits the room)",
            )
        } else if given(&self.idle_timeout) {
            Some(
                "--idle-timeout does not apply to chat: UDP has no connections (--member-timeout drops silent members)",
            )
        } else if given(&self.threads) {
            Some("--threads does not apply to chat: one thread serves its one UDP socket")
        } else if given(&self.drain_timeout) {
            Some("--drain-timeout does not apply to chat: a datagram has nothing to drain")
        } else {
            None
        }
    }
}
