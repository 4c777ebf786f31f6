//! The placeholders a header's words may hold: `{tmpdir}` (a fresh directory filled
//! with a few files), `{port}` (a TCP port on 127.0.0.1 that was free when `flu test`
//! looked — for a test server a setup command starts), `{scriptdir}` (the script's
//! directory, for a helper beside it). Each value is found the first time a word asks
//! for it, and is the same in every word of a run.

use std::net::TcpListener;

pub const TMPDIR: &str = "{tmpdir}";
pub const PORT: &str = "{port}";
pub const SCRIPTDIR: &str = "{scriptdir}";

/// The values, found on first use.
pub struct Placeholders<'a> {
    scriptdir: String,
    make_tmpdir: Box<dyn FnMut() -> Result<String, String> + 'a>,
    tmpdir: Option<String>,
    port: Option<String>,
}

impl<'a> Placeholders<'a> {
    pub fn new(
        scriptdir: String,
        make_tmpdir: impl FnMut() -> Result<String, String> + 'a,
    ) -> Placeholders<'a> {
        Placeholders {
            scriptdir,
            make_tmpdir: Box::new(make_tmpdir),
            tmpdir: None,
            port: None,
        }
    }

    /// Whether `word` holds a placeholder.
    pub fn in_word(word: &str) -> bool {
        [TMPDIR, PORT, SCRIPTDIR].iter().any(|p| word.contains(p))
    }

    /// `word` with its placeholders replaced.
    pub fn fill(&mut self, word: &str) -> Result<String, String> {
        let mut word = word.replace(SCRIPTDIR, &self.scriptdir);
        if word.contains(TMPDIR) {
            if self.tmpdir.is_none() {
                self.tmpdir = Some((self.make_tmpdir)()?);
            }
            word = word.replace(TMPDIR, self.tmpdir.as_deref().unwrap_or_default());
        }
        if word.contains(PORT) {
            if self.port.is_none() {
                self.port = Some(free_port()?.to_string());
            }
            word = word.replace(PORT, self.port.as_deref().unwrap_or_default());
        }
        Ok(word)
    }

    /// Every word filled in.
    pub fn fill_all(&mut self, words: &[String]) -> Result<Vec<String>, String> {
        words.iter().map(|w| self.fill(w)).collect()
    }
}

/// A port the kernel chose as free on the loopback address (the listener is closed
/// again at once, for the test server to take).
fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port for {PORT}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_is_found_once_and_only_when_asked() {
        let mut made = 0;
        {
            let mut p = Placeholders::new("/ex".into(), || {
                made += 1;
                Ok("/tmp/t".into())
            });
            assert_eq!(p.fill("{scriptdir}/s.py").unwrap(), "/ex/s.py");
            assert_eq!(
                p.fill_all(&["{tmpdir}".into(), "a{tmpdir}b".into()])
                    .unwrap(),
                ["/tmp/t", "a/tmp/tb"]
            );
            let url = p.fill("http://127.0.0.1:{port}/").unwrap();
            let port: u16 = url
                .trim_start_matches("http://127.0.0.1:")
                .trim_end_matches('/')
                .parse()
                .unwrap();
            assert!(port > 0);
            assert_eq!(p.fill("{port}").unwrap(), port.to_string());
        }
        assert_eq!(made, 1);
        let mut p = Placeholders::new(".".into(), || Err("not asked".into()));
        assert_eq!(p.fill("plain").unwrap(), "plain");
        assert!(p.fill("{tmpdir}").unwrap_err().contains("not asked"));
        assert!(Placeholders::in_word("x{port}") && !Placeholders::in_word("{tmp}"));
    }
}
