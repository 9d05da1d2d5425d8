//! What a session is told before it starts: credentials, transfer type,
//! data-connection policy, timeouts and limits.

use std::fmt;
use std::time::Duration;

use crate::path::{ArgumentError, check_argument};
use crate::reply::ReplyLimits;

/// How a [`Session`](crate::Session) behaves.
///
/// ```
/// use std::time::Duration;
/// use swarmget_ftp_client::{Config, Credentials, TransferType};
///
/// let mut config = Config::default(); // anonymous, binary, EPSV first
/// config.credentials = Credentials::new("alice", "s3cret").unwrap();
/// config.transfer_type = TransferType::Ascii;
/// config.reply_timeout = Duration::from_secs(30);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Who to log in as; anonymous by default.
    pub credentials: Credentials,
    /// Sent with `TYPE` after login (`--ftp-type`; binary by default).
    pub transfer_type: TransferType,
    /// Whether passive mode tries `EPSV` before `PASV` (default `true`).
    /// After one `5xx` answer to `EPSV` the session uses `PASV` only.
    pub try_epsv: bool,
    /// What to do when a `227` reply names another host than the control
    /// connection's peer.
    pub pasv_address: PasvAddressPolicy,
    /// How long to wait for a reply (aria2's `--timeout`, 60 s by default).
    /// A transfer in progress is not timed here: the caller watches the data
    /// connection; the clock restarts when it reports the data finished.
    pub reply_timeout: Duration,
    /// Bounds on reply size.
    pub limits: ReplyLimits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            credentials: Credentials::anonymous(),
            transfer_type: TransferType::Binary,
            try_epsv: true,
            pasv_address: PasvAddressPolicy::RejectForeign,
            reply_timeout: Duration::from_secs(60),
            limits: ReplyLimits::default(),
        }
    }
}

/// The representation type of transfers (RFC 959 §3.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TransferType {
    /// `TYPE I`: bytes as stored (aria2's default).
    #[default]
    Binary,
    /// `TYPE A`: text with line endings converted by the server.
    Ascii,
}

impl TransferType {
    pub(crate) fn argument(self) -> &'static [u8] {
        match self {
            TransferType::Binary => b"I",
            TransferType::Ascii => b"A",
        }
    }
}

/// Which address to use when a `227` reply to `PASV` names a host other than
/// the control connection's peer.
///
/// Connecting there blindly lets a server aim the client at a third host
/// (the "FTP bounce" family of attacks, RFC 2577), so the default refuses.
/// `EPSV` replies carry only a port and always use the peer's address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PasvAddressPolicy {
    /// Fail the operation with [`PassiveError::ForeignAddress`](crate::PassiveError::ForeignAddress).
    #[default]
    RejectForeign,
    /// Use the peer's address with the offered port, as aria2 and curl do;
    /// this also works with servers behind NAT that announce a private address.
    UsePeerAddress,
    /// Connect wherever the server says.
    TrustReply,
}

/// A user name and password, free of CR, LF and NUL.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// The user aria2 logs in as when given none.
    pub const ANONYMOUS_USER: &'static str = "anonymous";
    /// The password aria2 gives for anonymous logins (the built-in default
    /// behind `--ftp-passwd`).
    pub const ANONYMOUS_PASSWORD: &'static str = "ARIA2USER@";

    /// `anonymous` / `ARIA2USER@`.
    pub fn anonymous() -> Credentials {
        Credentials {
            user: Self::ANONYMOUS_USER.to_owned(),
            password: Self::ANONYMOUS_PASSWORD.to_owned(),
        }
    }

    /// The given user and password; fails if either holds CR, LF or NUL.
    pub fn new(user: &str, password: &str) -> Result<Credentials, ArgumentError> {
        check_argument("user", user.as_bytes())?;
        check_argument("password", password.as_bytes())?;
        Ok(Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// aria2's choice of credentials (`AuthConfigFactory`, without `.netrc`):
    ///
    /// 1. a user in the URL, with the URL's password, or `--ftp-passwd` if
    ///    the URL has none (or an empty password if neither is given);
    /// 2. else `--ftp-user` and `--ftp-passwd` (empty if not given);
    /// 3. else [`anonymous`](Credentials::anonymous).
    ///
    /// Empty strings count as absent users, as in aria2. The URL parts are
    /// the percent-decoded ones from [`FtpUrl`](crate::FtpUrl).
    ///
    /// ```
    /// use swarmget_ftp_client::Credentials;
    /// let c = Credentials::resolve(Some("bob"), None, Some("alice"), Some("pw")).unwrap();
    /// assert_eq!((c.user(), c.password()), ("bob", "pw"));
    /// let c = Credentials::resolve(None, None, None, Some("pw")).unwrap();
    /// assert_eq!((c.user(), c.password()), ("anonymous", "ARIA2USER@"));
    /// ```
    pub fn resolve(
        url_user: Option<&str>,
        url_password: Option<&str>,
        ftp_user: Option<&str>,
        ftp_passwd: Option<&str>,
    ) -> Result<Credentials, ArgumentError> {
        match (
            url_user.filter(|u| !u.is_empty()),
            ftp_user.filter(|u| !u.is_empty()),
        ) {
            (Some(user), _) => {
                Credentials::new(user, url_password.or(ftp_passwd).unwrap_or_default())
            }
            (None, Some(user)) => Credentials::new(user, ftp_passwd.unwrap_or_default()),
            (None, None) => Ok(Credentials::anonymous()),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl Default for Credentials {
    fn default() -> Credentials {
        Credentials::anonymous()
    }
}

/// Shows the user; the password is redacted.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}
