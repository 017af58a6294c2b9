//! The small part of URLs that `socklab get` needs: `http://host[:port][/path][?query]`,
//! and resolving a redirect's `Location` against the URL it came from (RFC 3986 §5.2,
//! for the forms servers actually send).

use std::fmt;
use std::net::Ipv6Addr;

/// A parsed `http://` URL. The fragment, if any, is dropped: it never goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Name or address, IPv6 without its brackets.
    pub host: String,
    /// The port, 80 unless given.
    pub port: u16,
    /// The request target: path (starting with `/`) and `?query`, percent-encoded
    /// where the URL held bytes that may not appear on the request line.
    pub target: String,
}

/// Why a URL cannot be fetched. The text is the whole message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

/// The scheme of `s` (`http` in `http://x`), if it starts with one (RFC 3986 §3.1).
fn scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let ok = chars.next()?.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some((scheme, rest))
}

impl Url {
    /// Parse a URL as a person types it. A missing scheme means `http://`, as in curl.
    pub fn parse(input: &str) -> Result<Url, UrlError> {
        let input = input.trim();
        let bad = |why: &str| UrlError(format!("bad URL {input:?}: {why}"));
        let rest = match scheme(input) {
            Some((s, rest)) if rest.starts_with("//") => {
                if s.eq_ignore_ascii_case("http") {
                    &rest[2..]
                } else if s.eq_ignore_ascii_case("https") {
                    return Err(UrlError(format!(
                        "https is not supported (no TLS in socklab; try the http:// URL): {input}"
                    )));
                } else {
                    return Err(UrlError(format!(
                        "{s}:// URLs are not supported, only http://: {input}"
                    )));
                }
            }
            _ => input,
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("user names and passwords in URLs are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("missing ] after the IPv6 address"))?;
            addr.parse::<Ipv6Addr>()
                .map_err(|_| bad("not an IPv6 address in brackets"))?;
            match after {
                "" => (addr, ""),
                _ => (
                    addr,
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| bad("junk after the IPv6 address"))?,
                ),
            }
        } else {
            match authority.split_once(':') {
                Some((_, p)) if p.contains(':') => {
                    return Err(bad(
                        "an IPv6 address must be in brackets: http://[::1]:8080/",
                    ));
                }
                Some((h, p)) => (h, p),
                None => (authority, ""),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            "" => 80,
            p => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            },
        };
        let target = match target {
            "" => "/".to_owned(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_owned(),
        };
        Ok(Url {
            host: host.to_owned(),
            port,
            target: encode(&target),
        })
    }

    /// The URL a redirect's `Location` points to, relative to this one.
    pub fn join(&self, location: &str) -> Result<Url, UrlError> {
        let location = location.trim().split('#').next().unwrap_or_default();
        if scheme(location).is_some_and(|(_, rest)| rest.starts_with("//")) {
            return Url::parse(location);
        }
        if location.starts_with("//") {
            return Url::parse(&format!("http:{location}"));
        }
        let (base_path, _) = split_query(&self.target);
        let target = if location.is_empty() {
            self.target.clone()
        } else if location.starts_with('?') {
            format!("{base_path}{location}")
        } else {
            let (path, query) = split_query(location);
            let path = if path.starts_with('/') {
                path.to_owned()
            } else {
                let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
                format!("{dir}{path}")
            };
            format!("{}{query}", remove_dot_segments(&path))
        };
        Ok(Url {
            host: self.host.clone(),
            port: self.port,
            target: encode(&target),
        })
    }

    /// `host:port` as [`display_addr`](crate::client::conn::display_addr) prints it.
    pub fn addr(&self) -> String {
        crate::client::conn::display_addr(&self.host, self.port)
    }

    /// The `Host` header: the port only when it is not 80, IPv6 in brackets.
    pub fn host_header(&self) -> String {
        if self.port == 80 {
            if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            }
        } else {
            self.addr()
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.host_header(), self.target)
    }
}

/// `("/a/b", "?q")` from `/a/b?q`.
fn split_query(target: &str) -> (&str, &str) {
    target.split_at(target.find('?').unwrap_or(target.len()))
}

/// RFC 3986 §5.2.4 for an absolute path: `.` segments vanish, `..` drops its parent.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." | ".." => {
                if *seg == ".." {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// Percent-encode the bytes that may not appear in a request target (controls, space,
/// non-ASCII and a few delimiters), so a URL typed with them still makes a valid request
/// line. Existing `%XX` escapes are left alone.
fn encode(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parses_the_forms_people_type() {
        let cases = [
            ("http://example.com", "example.com", 80, "/"),
            (
                "HTTP://Example.com:8080/a/b?x=1&y#frag",
                "Example.com",
                8080,
                "/a/b?x=1&y",
            ),
            ("http://127.0.0.1:8000?q", "127.0.0.1", 8000, "/?q"),
            ("http://[::1]:8080/", "::1", 8080, "/"),
            ("http://[::1]/x", "::1", 80, "/x"),
            ("localhost:9/p", "localhost", 9, "/p"),
            ("http://h:/", "h", 80, "/"),
            ("http://h/a b/é", "h", 80, "/a%20b/%C3%A9"),
        ];
        for (input, host, port, target) in cases {
            let u = url(input);
            assert_eq!(
                (u.host.as_str(), u.port, u.target.as_str()),
                (host, port, target),
                "{input}"
            );
        }
        assert_eq!(
            url("http://[::1]:8080/x").to_string(),
            "http://[::1]:8080/x"
        );
        assert_eq!(url("http://a:80/x").to_string(), "http://a/x");
        assert_eq!(url("http://[::1]/").host_header(), "[::1]");
    }

    #[test]
    fn refuses_what_it_cannot_fetch() {
        let https = Url::parse("https://example.com/").unwrap_err().0;
        assert!(https.starts_with("https is not supported"), "{https}");
        for bad in [
            "ftp://x/",
            "http://",
            "http:///x",
            "http://h:0/",
            "http://h:65536/",
            "http://h:+1/",
            "http://u:p@h/",
            "http://::1/",
            "http://[::1/",
            "http://[nothex]/",
            "http://[::1]x/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolves_locations() {
        let base = url("http://h:81/a/b/c?q=1");
        let cases = [
            ("/x", "http://h:81/x"),
            ("d", "http://h:81/a/b/d"),
            ("../d?z", "http://h:81/a/d?z"),
            ("./", "http://h:81/a/b/"),
            ("../../../../d", "http://h:81/d"),
            ("?n=2", "http://h:81/a/b/c?n=2"),
            ("", "http://h:81/a/b/c?q=1"),
            ("d#frag", "http://h:81/a/b/d"),
            ("//other:82/p", "http://other:82/p"),
            ("http://[::1]:9/", "http://[::1]:9/"),
            ("/a/./b/../c", "http://h:81/a/c"),
        ];
        for (loc, want) in cases {
            assert_eq!(base.join(loc).unwrap().to_string(), want, "{loc}");
        }
        assert!(
            base.join("https://h/")
                .unwrap_err()
                .0
                .starts_with("https is not supported")
        );
    }
}
