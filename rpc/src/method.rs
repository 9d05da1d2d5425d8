//! aria2's methods as typed calls: [`Method::parse`] checks each parameter's type and
//! range once, so the daemon never looks at raw JSON.
//!
//! GIDs stay text here: aria2 accepts any unique prefix, which only the engine's
//! registry can resolve. Options arrive as `name → value` pairs; aria2 clients send
//! strings, and a list (for `header`, `index-out`) gives one pair per element.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::fault::Fault;

/// `system.listMethods`: exactly aria2 1.36's 36, in its order.
pub const METHODS: &[&str] = &[
    "aria2.addUri",
    "aria2.addTorrent",
    "aria2.getPeers",
    "aria2.addMetalink",
    "aria2.remove",
    "aria2.pause",
    "aria2.forcePause",
    "aria2.pauseAll",
    "aria2.forcePauseAll",
    "aria2.unpause",
    "aria2.unpauseAll",
    "aria2.forceRemove",
    "aria2.changePosition",
    "aria2.tellStatus",
    "aria2.getUris",
    "aria2.getFiles",
    "aria2.getServers",
    "aria2.tellActive",
    "aria2.tellWaiting",
    "aria2.tellStopped",
    "aria2.getOption",
    "aria2.changeUri",
    "aria2.changeOption",
    "aria2.getGlobalOption",
    "aria2.changeGlobalOption",
    "aria2.purgeDownloadResult",
    "aria2.removeDownloadResult",
    "aria2.getVersion",
    "aria2.getSessionInfo",
    "aria2.shutdown",
    "aria2.forceShutdown",
    "aria2.getGlobalStat",
    "aria2.saveSession",
    "system.multicall",
    "system.listMethods",
    "system.listNotifications",
];

/// `system.listNotifications`, in aria2's order.
pub const NOTIFICATIONS: &[&str] = &[
    "aria2.onDownloadStart",
    "aria2.onDownloadPause",
    "aria2.onDownloadStop",
    "aria2.onDownloadComplete",
    "aria2.onDownloadError",
    "aria2.onBtDownloadComplete",
];

/// `changePosition`'s `how`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// `POS_SET`: from the front.
    Set,
    /// `POS_CUR`: from where it is.
    Cur,
    /// `POS_END`: from the back.
    End,
}

/// Option changes, in the order given.
pub type OptionPairs = Vec<(String, String)>;

/// One call, parameters checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the aria2 method of the same name.
pub enum Method {
    AddUri {
        uris: Vec<String>,
        options: OptionPairs,
        position: Option<usize>,
    },
    AddTorrent {
        torrent: Vec<u8>,
        uris: Vec<String>,
        options: OptionPairs,
        position: Option<usize>,
    },
    AddMetalink {
        metalink: Vec<u8>,
        options: OptionPairs,
        position: Option<usize>,
    },
    Remove {
        gid: String,
        force: bool,
    },
    Pause {
        gid: String,
        force: bool,
    },
    PauseAll {
        force: bool,
    },
    Unpause {
        gid: String,
    },
    UnpauseAll,
    ChangePosition {
        gid: String,
        pos: i64,
        how: How,
    },
    TellStatus {
        gid: String,
        keys: Vec<String>,
    },
    GetUris {
        gid: String,
    },
    GetFiles {
        gid: String,
    },
    GetPeers {
        gid: String,
    },
    GetServers {
        gid: String,
    },
    TellActive {
        keys: Vec<String>,
    },
    TellWaiting {
        offset: i64,
        num: usize,
        keys: Vec<String>,
    },
    TellStopped {
        offset: i64,
        num: usize,
        keys: Vec<String>,
    },
    GetOption {
        gid: String,
    },
    ChangeUri {
        gid: String,
        file_index: usize,
        del_uris: Vec<String>,
        add_uris: Vec<String>,
        position: Option<usize>,
    },
    ChangeOption {
        gid: String,
        options: OptionPairs,
    },
    GetGlobalOption,
    ChangeGlobalOption {
        options: OptionPairs,
    },
    PurgeDownloadResult,
    RemoveDownloadResult {
        gid: String,
    },
    GetVersion,
    GetSessionInfo,
    Shutdown {
        force: bool,
    },
    GetGlobalStat,
    SaveSession,
    /// Nested calls, unparsed: each is authorized and parsed on its own.
    Multicall(Vec<Result<(String, Vec<Value>), Fault>>),
    ListMethods,
    ListNotifications,
}

/// Reads positional parameters one by one.
struct Params {
    items: std::vec::IntoIter<Value>,
}

impl Params {
    fn next(&mut self) -> Option<Value> {
        self.items.next()
    }

    fn gid(&mut self) -> Result<String, Fault> {
        match self.next() {
            Some(Value::String(s)) => Ok(s),
            _ => Err(Fault::failed("GID is not provided.")),
        }
    }

    fn strings(&mut self, what: &str) -> Result<Vec<String>, Fault> {
        match self.next() {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(Fault::failed(format!("{what} must be a list of strings"))),
                })
                .collect(),
            Some(_) => Err(Fault::failed(format!("{what} must be a list of strings"))),
        }
    }

    fn options(&mut self) -> Result<OptionPairs, Fault> {
        match self.next() {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(o)) => options(o),
            Some(_) => Err(Fault::failed("options must be a struct")),
        }
    }

    fn position(&mut self) -> Result<Option<usize>, Fault> {
        match self.next() {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match int(&v) {
                Some(n) if n >= 0 => Ok(Some(n as usize)),
                _ => Err(Fault::failed(
                    "Bad position. It must be a number greater or equal to 0.",
                )),
            },
        }
    }

    fn integer(&mut self, what: &str) -> Result<i64, Fault> {
        self.next()
            .as_ref()
            .and_then(int)
            .ok_or_else(|| Fault::failed(format!("{what} must be an integer")))
    }

    fn base64(&mut self, what: &str) -> Result<Vec<u8>, Fault> {
        let Some(Value::String(s)) = self.next() else {
            return Err(Fault::failed(format!("{what} data is not provided.")));
        };
        let clean: String = s.split_ascii_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|_| Fault::failed(format!("{what} data is not valid base64")))
    }

    fn keys(&mut self) -> Result<Vec<String>, Fault> {
        self.strings("keys")
    }
}

/// aria2 takes integers as JSON numbers, or as numeric strings from XML clients.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn options(o: Map<String, Value>) -> Result<OptionPairs, Fault> {
    let mut pairs = Vec::new();
    for (name, value) in o {
        match value {
            Value::String(s) => pairs.push((name, s)),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => pairs.push((name.clone(), s)),
                        _ => {
                            return Err(Fault::failed(format!(
                                "option '{name}' must be a string or a list of strings"
                            )));
                        }
                    }
                }
            }
            _ => {
                return Err(Fault::failed(format!(
                    "option '{name}' must be a string or a list of strings"
                )));
            }
        }
    }
    Ok(pairs)
}

/// Largest `num` honoured for `tellWaiting`/`tellStopped` (the queue is smaller).
const MAX_NUM: i64 = 1 << 20;

impl Method {
    /// Parses a call whose token (if any) has been taken off by
    /// [`authorize`](crate::auth::authorize).
    pub fn parse(name: &str, params: Vec<Value>) -> Result<Method, Fault> {
        let mut p = Params {
            items: params.into_iter(),
        };
        let window = |p: &mut Params| -> Result<(i64, usize), Fault> {
            let offset = p.integer("offset")?;
            let num = p.integer("num")?;
            if num < 0 {
                return Err(Fault::failed("num must be a number greater or equal to 0"));
            }
            Ok((offset, num.min(MAX_NUM) as usize))
        };
        Ok(match name {
            "aria2.addUri" => {
                let uris = p.strings("uris")?;
                if uris.is_empty() {
                    return Err(Fault::failed("URI is not provided."));
                }
                Method::AddUri {
                    uris,
                    options: p.options()?,
                    position: p.position()?,
                }
            }
            "aria2.addTorrent" => Method::AddTorrent {
                torrent: p.base64("Torrent")?,
                uris: p.strings("uris")?,
                options: p.options()?,
                position: p.position()?,
            },
            "aria2.addMetalink" => Method::AddMetalink {
                metalink: p.base64("Metalink")?,
                options: p.options()?,
                position: p.position()?,
            },
            "aria2.remove" | "aria2.forceRemove" => Method::Remove {
                gid: p.gid()?,
                force: name == "aria2.forceRemove",
            },
            "aria2.pause" | "aria2.forcePause" => Method::Pause {
                gid: p.gid()?,
                force: name == "aria2.forcePause",
            },
            "aria2.pauseAll" | "aria2.forcePauseAll" => Method::PauseAll {
                force: name == "aria2.forcePauseAll",
            },
            "aria2.unpause" => Method::Unpause { gid: p.gid()? },
            "aria2.unpauseAll" => Method::UnpauseAll,
            "aria2.changePosition" => {
                let gid = p.gid()?;
                let pos = p.integer("pos")?;
                let how = match p.next() {
                    Some(Value::String(s)) if s == "POS_SET" => How::Set,
                    Some(Value::String(s)) if s == "POS_CUR" => How::Cur,
                    Some(Value::String(s)) if s == "POS_END" => How::End,
                    _ => return Err(Fault::failed("Illegal argument.")),
                };
                Method::ChangePosition { gid, pos, how }
            }
            "aria2.tellStatus" => Method::TellStatus {
                gid: p.gid()?,
                keys: p.keys()?,
            },
            "aria2.getUris" => Method::GetUris { gid: p.gid()? },
            "aria2.getFiles" => Method::GetFiles { gid: p.gid()? },
            "aria2.getPeers" => Method::GetPeers { gid: p.gid()? },
            "aria2.getServers" => Method::GetServers { gid: p.gid()? },
            "aria2.tellActive" => Method::TellActive { keys: p.keys()? },
            "aria2.tellWaiting" => {
                let (offset, num) = window(&mut p)?;
                Method::TellWaiting {
                    offset,
                    num,
                    keys: p.keys()?,
                }
            }
            "aria2.tellStopped" => {
                let (offset, num) = window(&mut p)?;
                Method::TellStopped {
                    offset,
                    num,
                    keys: p.keys()?,
                }
            }
            "aria2.getOption" => Method::GetOption { gid: p.gid()? },
            "aria2.changeUri" => {
                let gid = p.gid()?;
                let index = p.integer("fileIndex")?;
                if index < 1 {
                    return Err(Fault::failed("fileIndex must be 1 or more"));
                }
                Method::ChangeUri {
                    gid,
                    file_index: index as usize,
                    del_uris: p.strings("delUris")?,
                    add_uris: p.strings("addUris")?,
                    position: p.position()?,
                }
            }
            "aria2.changeOption" => Method::ChangeOption {
                gid: p.gid()?,
                options: p.options()?,
            },
            "aria2.getGlobalOption" => Method::GetGlobalOption,
            "aria2.changeGlobalOption" => Method::ChangeGlobalOption {
                options: p.options()?,
            },
            "aria2.purgeDownloadResult" => Method::PurgeDownloadResult,
            "aria2.removeDownloadResult" => Method::RemoveDownloadResult { gid: p.gid()? },
            "aria2.getVersion" => Method::GetVersion,
            "aria2.getSessionInfo" => Method::GetSessionInfo,
            "aria2.shutdown" => Method::Shutdown { force: false },
            "aria2.forceShutdown" => Method::Shutdown { force: true },
            "aria2.getGlobalStat" => Method::GetGlobalStat,
            "aria2.saveSession" => Method::SaveSession,
            "system.multicall" => {
                let Some(Value::Array(calls)) = p.next() else {
                    return Err(Fault::failed("The parameter must be an array."));
                };
                Method::Multicall(calls.into_iter().map(nested).collect())
            }
            "system.listMethods" => Method::ListMethods,
            "system.listNotifications" => Method::ListNotifications,
            other => return Err(Fault::no_such_method(other)),
        })
    }
}

/// One `{methodName, params}` of a multicall.
fn nested(v: Value) -> Result<(String, Vec<Value>), Fault> {
    let Value::Object(mut o) = v else {
        return Err(Fault::failed("system.multicall expected struct."));
    };
    let Some(Value::String(name)) = o.remove("methodName") else {
        return Err(Fault::failed("Missing methodName."));
    };
    if name == "system.multicall" {
        return Err(Fault::failed("Recursive system.multicall forbidden."));
    }
    let params = match o.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(Fault::failed("params must be an array.")),
    };
    Ok((name, params))
}

/// `keys` filtering for `tellStatus` and the `tell*` lists: no keys, every key.
pub fn filter_keys(mut obj: Map<String, Value>, keys: &[String]) -> Map<String, Value> {
    if !keys.is_empty() {
        obj.retain(|k, _| keys.iter().any(|x| x == k));
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thirty_six_methods_each_parse_or_say_what_is_missing() {
        assert_eq!(METHODS.len(), 36);
        for name in METHODS {
            // With no parameters, a method either needs none or fails with a
            // message: never "No such method".
            if let Err(f) = Method::parse(name, vec![]) {
                assert!(!f.message.starts_with("No such method"), "{name}: {f}");
            }
        }
        assert_eq!(
            Method::parse("aria2.nope", vec![]),
            Err(Fault::no_such_method("aria2.nope"))
        );
    }

    #[test]
    fn add_uri_with_options_and_position() {
        let m = Method::parse(
            "aria2.addUri",
            vec![
                json!(["http://a/f", "http://b/f"]),
                json!({"split": "2", "header": ["A: 1", "B: 2"]}),
                json!(0),
            ],
        )
        .unwrap();
        assert_eq!(
            m,
            Method::AddUri {
                uris: vec!["http://a/f".into(), "http://b/f".into()],
                options: vec![
                    ("header".into(), "A: 1".into()),
                    ("header".into(), "B: 2".into()),
                    ("split".into(), "2".into())
                ],
                position: Some(0)
            }
        );
        assert_eq!(
            Method::parse("aria2.addUri", vec![json!(["u"]), json!({}), json!(-1)]),
            Err(Fault::failed(
                "Bad position. It must be a number greater or equal to 0."
            ))
        );
        assert_eq!(
            Method::parse("aria2.addUri", vec![json!(["u"]), json!({"split": 2})]),
            Err(Fault::failed(
                "option 'split' must be a string or a list of strings"
            ))
        );
    }

    #[test]
    fn windows_positions_and_multicall() {
        assert_eq!(
            Method::parse(
                "aria2.tellWaiting",
                vec![json!(-1), json!("3"), json!(["gid"])]
            ),
            Ok(Method::TellWaiting {
                offset: -1,
                num: 3,
                keys: vec!["gid".into()]
            })
        );
        assert_eq!(
            Method::parse(
                "aria2.changePosition",
                vec![json!("g"), json!(-2), json!("POS_CUR")]
            ),
            Ok(Method::ChangePosition {
                gid: "g".into(),
                pos: -2,
                how: How::Cur
            })
        );
        let Ok(Method::Multicall(calls)) = Method::parse(
            "system.multicall",
            vec![json!([
                {"methodName": "aria2.getVersion", "params": ["token:x"]},
                {"methodName": "system.multicall"},
                7
            ])],
        ) else {
            panic!("not a multicall")
        };
        assert_eq!(
            calls[0],
            Ok(("aria2.getVersion".into(), vec![json!("token:x")]))
        );
        assert_eq!(
            calls[1],
            Err(Fault::failed("Recursive system.multicall forbidden."))
        );
        assert!(calls[2].is_err());
        assert_eq!(
            Method::parse("aria2.addTorrent", vec![json!("%%%")]),
            Err(Fault::failed("Torrent data is not valid base64"))
        );
    }

    #[test]
    fn keys_filter() {
        let o = json!({"gid": "1", "status": "active", "dir": "/"});
        let Value::Object(o) = o else { unreachable!() };
        let f = filter_keys(o.clone(), &["gid".into(), "nope".into()]);
        assert_eq!(Value::Object(f), json!({"gid": "1"}));
        assert_eq!(filter_keys(o.clone(), &[]), o);
    }
}
