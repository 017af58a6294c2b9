//! What a newcomer reads first: every `--help` screen, the shell completions and the
//! manual page, taken from the built binary as a person would run it.

mod serve_support;

use std::collections::BTreeMap;
use std::process::Command;

use serve_support::run;

/// A help screen split at its headings (`Options:`, `Auth options:`, `Examples:`), each
/// with the flags listed under it (`--auth-dir`, `-v`; the long name when there is one).
struct Help {
    text: String,
    sections: BTreeMap<String, Vec<String>>,
    /// The commands listed under `Commands:` or `Services:`, clap's `help` left out.
    commands: Vec<String>,
}

fn help(args: &[&str]) -> Help {
    let (status, text, err) = run(args);
    assert!(status.success(), "socklab {args:?}: {status:?}\n{err}");
    assert!(err.is_empty(), "socklab {args:?} wrote to stderr: {err}");
    let mut sections: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut commands = Vec::new();
    let mut heading = String::new();
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            // "Options every server takes (after ...):" is headed "Options every server takes".
            let name = line.trim_end_matches(':');
            heading = name.split(" (").next().unwrap().to_owned();
            sections.entry(heading.clone()).or_default();
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let item = line.trim_start();
        // Flag lines are indented 2 to 6 columns; wrapped help text much further.
        if !(2..=6).contains(&indent) {
            continue;
        }
        if item.starts_with('-') {
            let flags: Vec<&str> = item
                .split_whitespace()
                .take_while(|w| w.starts_with('-'))
                .map(|w| w.trim_end_matches(',').trim_end_matches("..."))
                .collect();
            let flag = flags.last().expect("a flag");
            sections.get_mut(&heading).unwrap().push((*flag).to_owned());
        } else if heading == "Commands" || heading == "Services" {
            let name = item.split_whitespace().next().unwrap();
            if name != "help" {
                commands.push(name.to_owned());
            }
        }
    }
    Help {
        text,
        sections,
        commands,
    }
}

impl Help {
    fn flags(&self, heading: &str) -> &[String] {
        self.sections
            .get(heading)
            .unwrap_or_else(|| panic!("no {heading:?} heading in:\n{}", self.text))
    }
}

/// Every command path, found the way a person finds them: by reading the lists of
/// commands in the help screens, from `socklab --help` down.
fn every_command() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut todo = vec![Vec::<String>::new()];
    while let Some(path) = todo.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        for sub in help(&args).commands {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
        found.push(path);
    }
    assert!(found.len() > 20, "only {found:?}");
    found
}

#[test]
fn every_help_screen_has_examples_and_no_section_numbers() {
    for path in every_command() {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let h = help(&args);
            // "§7" means something only to readers of PROTOCOLS.md.
            assert!(!h.text.contains('§'), "socklab {args:?}:\n{}", h.text);
            assert!(
                h.sections.contains_key("Examples"),
                "socklab {args:?} shows no examples:\n{}",
                h.text
            );
        }
    }
}

#[test]
fn serve_help_lists_the_flags_every_server_takes() {
    let serve = help(&["serve", "--help"]);
    let common = serve.flags("Options every server takes");
    for service in ["echo", "quiz", "files", "ident", "chat", "auth", "all"] {
        let own = help(&["serve", service, "--help"]);
        for flag in own.flags("Options") {
            if flag != "--help" {
                assert!(
                    common.contains(flag),
                    "serve {service} takes {flag}, which `serve --help` does not list:\n{}",
                    serve.text
                );
            }
        }
    }
    assert!(
        serve.text.contains("socklab serve all --port-auto"),
        "{}",
        serve.text
    );
    assert_eq!(
        serve.commands,
        ["echo", "quiz", "files", "ident", "chat", "auth", "all"]
    );
}

/// `serve all` takes each service's flags (some renamed `--<service>-<flag>`): each must
/// sit under that service's heading, as in `serve <service> --help`, and nowhere else.
#[test]
fn serve_all_help_puts_each_flag_under_its_service() {
    let all = help(&["serve", "all", "--help"]);
    assert!(all.flags("Auth options").contains(&"--auth-dir".to_owned()));
    assert!(
        all.flags("Ident options")
            .contains(&"--ident-db".to_owned())
    );
    assert!(
        all.flags("Ident options")
            .contains(&"--ident-max-names".to_owned())
    );
    for (service, heading) in [
        ("echo", "Echo options"),
        ("quiz", "Quiz options"),
        ("files", "Files options"),
        ("ident", "Ident options"),
        ("chat", "Chat options"),
        ("auth", "Auth options"),
    ] {
        let own = help(&["serve", service, "--help"]);
        let mut want: Vec<String> = own.flags(heading).to_vec();
        let mut got: Vec<String> = all
            .flags(heading)
            .iter()
            .map(|f| match f.strip_prefix(&format!("--{service}-")) {
                Some(rest) => format!("--{rest}"),
                None => f.clone(),
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{heading} of `serve all` vs `serve {service}`");
    }
}

#[test]
fn bash_completion_knows_the_commands() {
    let (status, script, err) = run(&["completions", "bash"]);
    assert!(status.success(), "{err}");
    for word in [
        "serve",
        "files",
        "login",
        "completions",
        "man",
        "--port-auto",
    ] {
        assert!(script.contains(word), "no {word} in the bash script");
    }
    for shell in ["zsh", "fish"] {
        let (status, script, err) = run(&["completions", shell]);
        assert!(status.success(), "{shell}: {err}");
        assert!(script.contains("serve"), "{shell}: {script}");
    }
    let (status, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("invalid value 'tcsh'"), "{err}");
}

/// The script must load in a real bash, as `source <(socklab completions bash)` in a
/// ~/.bashrc does, and register itself for `socklab`.
#[test]
fn bash_completion_loads_in_bash() {
    if Command::new("bash").arg("-c").arg("true").output().is_err() {
        eprintln!("bash is not installed: completion loading not checked");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_socklab");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{bin}' completions bash) && complete -p socklab"
        ))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("-F _socklab socklab"), "{stdout}");
}

#[test]
fn man_page_is_roff_naming_every_command() {
    let (status, page, err) = run(&["man"]);
    assert!(status.success(), "{err}");
    // clap_mangen's two-line preamble (the `\*(Aq` quote string), then the title.
    let title = page.lines().position(|l| l.starts_with(".TH socklab 1"));
    assert!(title.is_some_and(|i| i < 3), "no .TH at the top:\n{page}");
    for sub in [
        "serve",
        "echo",
        "files",
        "get",
        "login",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!("socklab\\-{sub}(1)")),
            "{sub} missing:\n{page}"
        );
    }
    let (status, page, err) = run(&["man", "serve", "all"]);
    assert!(status.success(), "{err}");
    assert!(page.contains(".TH socklab-serve-all 1"), "{page}");
    assert!(page.contains(".SH \"AUTH OPTIONS\""), "{page}");
    // Examples keep their columns: a section of their own, not filled as prose.
    assert!(
        page.contains(".SH \"EXAMPLES\"\n.nf\n  socklab serve all   "),
        "{page}"
    );
    let (status, page, err) = run(&["man", "serve"]);
    assert!(status.success(), "{err}");
    assert!(
        page.contains(".SH \"OPTIONS EVERY SERVER TAKES\"\n"),
        "{page}"
    );
    assert!(page.contains("\\-\\-port\\-auto"), "{page}");
    let (status, out, err) = run(&["man", "serve", "nope"]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(out, "");
    assert_eq!(
        err,
        "socklab: `socklab serve` has no command \"nope\" (see `socklab serve --help`)\n"
    );
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let (status, _, err) = run(&["man", "--dir", out.to_str().unwrap()]);
    assert!(status.success(), "{err}");
    for page in [
        "socklab.1",
        "socklab-serve.1",
        "socklab-serve-all.1",
        "socklab-files-put.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page}");
    }
    let n = std::fs::read_dir(&out).unwrap().count();
    assert_eq!(
        err,
        format!("wrote {n} manual pages to {}\n", out.display())
    );
}
