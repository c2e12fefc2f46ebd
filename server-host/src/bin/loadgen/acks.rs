//! Acknowledged-operation records for crash trials (`--ack-log`, `--check-acks`).
//!
//! With `--ack-log FILE`, every operation inserts a unique token (`<client.seq>`) at the end of
//! the string and never deletes, and each acknowledged token is appended to `FILE` as
//! `model<TAB>token` the moment its ack arrives. Tokens are inserted whole at token boundaries,
//! so transformation only ever shifts them by whole tokens and none is ever split. After the
//! server is killed and restarted, `--check-acks FILE` opens every model named in the file
//! from a fresh connection and checks that each acknowledged token is in it exactly once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where acknowledged tokens are recorded.
pub struct AckLog(Mutex<std::fs::File>);

impl AckLog {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> Result<AckLog, String> {
        std::fs::File::create(path)
            .map(|f| AckLog(Mutex::new(f)))
            .map_err(|e| format!("cannot create {}: {e}", path.display()))
    }

    /// Records one acknowledged token (written at once: the server may die any moment).
    pub fn record(&self, model: &str, token: &str) -> Result<(), String> {
        let mut f = self.0.lock().map_err(|_| "ack log lock poisoned")?;
        f.write_all(format!("{model}\t{token}\n").as_bytes())
            .map_err(|e| format!("cannot record an ack: {e}"))
    }
}

/// The token client `index` inserts with its operation `seq`.
pub fn token(index: usize, seq: i32) -> String {
    format!("<{index}.{seq}>")
}

/// What `--check-acks` found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Acknowledged tokens in the file.
    pub acked: usize,
    /// Acknowledged tokens missing from their model.
    pub lost: usize,
    /// Acknowledged tokens present more than once.
    pub duplicated: usize,
    /// Models opened.
    pub models: usize,
    /// From the start of the check until the first model was open (the server may still be
    /// starting: the check retries connecting until `timeout`).
    pub first_open: Duration,
}

/// Checks every acknowledged token of the file at `path` against the server at `url`.
pub async fn check(url: &str, path: &Path, timeout: Duration) -> Result<Checked, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut by_model: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        // A line cut short (the load generator itself died) is no acknowledgement.
        if let Some((model, token)) = line.split_once('\t') {
            if token.ends_with('>') {
                by_model.entry(model).or_default().push(token);
            }
        }
    }
    let began = Instant::now();
    let mut out = Checked::default();
    for (model, tokens) in &by_model {
        let (mut ws, r) = loop {
            match crate::edit::connect_and_open(url, model, "", "loadgen-check").await {
                Ok(opened) => break opened,
                Err(e) if began.elapsed() > timeout => return Err(format!("open {model}: {e}")),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        if out.models == 0 {
            out.first_open = began.elapsed();
        }
        out.models += 1;
        let (_, content) = crate::edit::text_of(&r)?;
        let content = content.to_string_lossy();
        for token in tokens {
            out.acked += 1;
            match content.matches(&**token).count() {
                0 => {
                    out.lost += 1;
                    eprintln!("tandem-loadgen: model {model}: acknowledged {token} is lost");
                }
                1 => {}
                n => {
                    out.duplicated += 1;
                    eprintln!(
                        "tandem-loadgen: model {model}: acknowledged {token} is there {n} times"
                    );
                }
            }
        }
        let _ = futures_util::SinkExt::close(&mut ws).await;
    }
    Ok(out)
}
